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
    insight_not_carried: int = Field(default=20, ge=0)

    # Scheduling. The tick is a procrastinate periodic task (cron with seconds).
    # periodic_tasks=false: this process's workers defer no periodic job (tests).
    periodic_tasks: bool = True
    scheduler_cron: str = "*/5 * * * * *"
    scheduler_batch: int = Field(default=500, ge=1)
    scheduler_max_jitter: float = Field(default=5.0, ge=0)
    feed_poll_interval: float = Field(default=300.0, gt=0)
    feed_min_poll_interval: float = Field(default=60.0, ge=1)
    feed_max_poll_interval: float = Field(default=86400.0, ge=1)
    feed_failing_after: int = Field(default=3, ge=1)
    feed_backoff_cap: float = Field(default=3600.0, gt=0)

    # Workers: heartbeats, stalled jobs, shutdown.
    worker_concurrency: int = Field(default=1, ge=1)
    worker_heartbeat_interval: float = Field(default=10.0, gt=0)
    stalled_after: float = Field(default=60.0, gt=0)
    stalled_cron: str = "* * * * *"
    shutdown_timeout: float = Field(default=30.0, ge=0)

    # Retention (days); pruned hourly in batches.
    retention_cron: str = "17 * * * *"
    retention_batch: int = Field(default=5000, ge=1)
    keep_jobs_days: float = Field(default=7.0, gt=0)
    keep_feed_runs_days: float = Field(default=30.0, gt=0)
    keep_quarantine_days: float = Field(default=30.0, gt=0)
    keep_price_history_days: float = Field(default=365.0, gt=0)

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"


@functools.cache
def get() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
