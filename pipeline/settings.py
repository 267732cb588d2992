"""Every knob of the pipeline, read from the environment (``PIPELINE_*``) with a default.

Only ``cli.py``, ``queue.py`` and this module read settings; everything else is
handed values as arguments.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("dealer-price-pipeline"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIPELINE_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "PIPELINE_DATABASE_URL"),
        description="PostgreSQL URL; unset means the embedded server under data_dir.",
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=10, ge=1)

    fetch_connect_timeout: float = Field(default=10.0, gt=0)
    fetch_read_timeout: float = Field(default=30.0, gt=0)
    fetch_total_timeout: float = Field(default=300.0, gt=0)
    fetch_max_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    fetch_retries: int = Field(default=3, ge=0)
    fetch_backoff_base: float = Field(default=0.5, ge=0)
    fetch_backoff_max: float = Field(default=10.0, ge=0)

    parse_max_columns: int = Field(default=1000, ge=1)
    copy_batch_rows: int = Field(default=5000, ge=1)

    job_retry_attempts: int = Field(default=5, ge=0)
    job_retry_wait: float = Field(default=30.0, ge=0)
    match_defer_delay: float = Field(default=0.0, ge=0)
    match_accept_score: float = Field(default=0.45, ge=0, le=1)
    match_review_score: float = Field(default=0.2, ge=0, le=1)
    match_margin: float = Field(default=0.05, ge=0, le=1)
    benchmark_defer_delay: float = Field(default=0.0, ge=0)
    benchmark_page_size: int = Field(default=1000, ge=1)
    benchmark_lookback_days: int = Field(default=7, ge=1)
    benchmark_trim_min_points: int = Field(default=5, ge=4)
    insight_medium_pct: float = Field(default=8.0, gt=0)
    insight_medium_sellers: int = Field(default=2, ge=0)
    insight_high_pct: float = Field(default=15.0, gt=0)
    insight_high_sellers: int = Field(default=3, ge=0)
    insight_scarce_sellers: int = Field(default=2, ge=0)
    insight_carriers: int = Field(default=3, ge=1)

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"


@functools.cache
def get() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
