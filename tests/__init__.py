"""The test suite. Settings are read once per process, when pipeline.queue is
first imported, so the environment the tests run with is set here, before
any test module (or conftest) imports the pipeline."""

import os

# Jobs run by the real worker read settings from the environment: keep fetch
# retries quick so a failing feed costs milliseconds, not seconds.
os.environ.setdefault("PIPELINE_FETCH_BACKOFF_MAX", "0.05")
# In-process workers run only the jobs a test defers; the periodic tasks are
# exercised by calling them, and by the acceptance tests' worker processes.
os.environ.setdefault("PIPELINE_PERIODIC_TASKS", "false")
