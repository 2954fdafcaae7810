"""Where the tests find the RabbitMQ and Redis this machine runs as services (`.ci/run` starts
them). Tests that use them fail, never skip, when they are down: a green run means they ran."""

from __future__ import annotations

import os

AMQP_URL = os.environ.get("B2BSYNC_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("B2BSYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
