"""Exceptions for a feed that cannot be loaded as a whole.

Each class's docstring is its default message. A row that cannot be loaded is
not an exception: it is a ``records.Quarantined`` value.
"""

from __future__ import annotations


class PipelineError(Exception):
    """The pipeline failed."""

    retryable: bool = False

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class ConfigError(PipelineError):
    """The configuration is invalid."""


class DatabaseUnavailable(PipelineError):
    """The database cannot be reached or started."""


class MigrationError(PipelineError):
    """The schema migrations cannot be applied."""


class FeedError(PipelineError):
    """The feed cannot be loaded."""


class FetchError(FeedError):
    """The feed cannot be fetched."""

    retryable = True


class FetchTimeout(FetchError):
    """The feed server did not answer in time."""


class FeedTooLarge(FetchError):
    """The feed is larger than the configured byte cap."""

    retryable = False


class FeedHTTPError(FetchError):
    """The feed server answered with an error status."""


class FeedParseError(FeedError):
    """The feed cannot be parsed."""


class EmptyFeed(FeedParseError):
    """The feed has no data rows."""
