"""Where the tests find the Redis and the RabbitMQ this machine runs as services (`.ci/run`
starts them). Tests that use one fail, never skip, when it is down: a green run means they ran."""

from __future__ import annotations

import os

REDIS_URL = os.environ.get("B2BSYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("B2BSYNC_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
