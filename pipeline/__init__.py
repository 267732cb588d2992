"""Dealer price pipeline: Postgres-native ingest, match, benchmark and insight."""

__version__ = "0.1.0"
