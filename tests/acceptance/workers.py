"""Real worker processes for the acceptance tests: ``procrastinate worker`` on the test database.

Each worker is the command users run on a replica, with the settings that make
seconds of wall time enough: a tick every second, heartbeats every half second,
a worker silent for two seconds counted as stalled.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

FAST = {
    "PIPELINE_PERIODIC_TASKS": "true",
    "PIPELINE_SCHEDULER_CRON": "* * * * * *",
    "PIPELINE_SCHEDULER_MAX_JITTER": "0",
    "PIPELINE_STALLED_CRON": "* * * * * *",
    "PIPELINE_STALLED_AFTER": "2",
    "PIPELINE_WORKER_HEARTBEAT_INTERVAL": "0.5",
    "PIPELINE_SHUTDOWN_TIMEOUT": "10",
    "PIPELINE_FETCH_RETRIES": "0",
    "PIPELINE_JOB_RETRY_WAIT": "0",
    "PIPELINE_POOL_MAX_SIZE": "3",
    "PIPELINE_LOG_FORMAT": "json",
}


class Worker:
    """One ``procrastinate --app=pipeline.queue.app worker`` process; its log in ``log``."""

    def __init__(self, dsn: str, log: Path, **settings: str) -> None:
        env = {**os.environ, **FAST, "DATABASE_URL": dsn}
        env.update({f"PIPELINE_{k.upper()}": v for k, v in settings.items()})
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "procrastinate", "--app=pipeline.queue.app", "worker"],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    async def terminate(self, within: float = 30) -> int:
        """SIGTERM, as an orchestrator stops a replica; the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return await self.exited(within)

    async def exited(self, within: float) -> int:
        deadline = time.monotonic() + within
        while (code := self.process.poll()) is None:
            if time.monotonic() > deadline:
                self.process.kill()
                raise AssertionError(f"worker still running after {within} s; see {self.log}")
            await asyncio.sleep(0.05)
        return code


async def until(
    check: Callable[[], Awaitable[object]], *, within: float = 30, every: float = 0.05
) -> object:
    """Poll ``check`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not (value := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(every)
    return value


async def scalar(conn: asyncpg.Connection, query: str, *args: object) -> object:
    return await conn.fetchval(query, *args)
