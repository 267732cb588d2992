"""``make bench``: the dealer tiers end to end, next to the floor and the naive way.

Settings are read once per process, when ``pipeline.queue`` is first imported,
so the bench's environment is set here, before any bench module imports the
pipeline: its in-process workers run only the jobs the bench defers, never the
periodic scheduler (which would poll the bench's feeds on its own clock).
"""

import os

os.environ.setdefault("PIPELINE_PERIODIC_TASKS", "false")
