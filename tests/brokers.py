"""Where the tests find the Redis this machine runs as a service (`.ci/run` starts it). Tests
that use it fail, never skip, when it is down: a green run means they ran."""

from __future__ import annotations

import os

REDIS_URL = os.environ.get("B2BSYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
