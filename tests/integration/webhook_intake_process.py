"""The intake alone in its own process, to be killed: `python -m
tests.integration.webhook_intake_process DB_URL STORE SECRET PORT`. Nothing processes the
change feed here, so whatever it acknowledged must be found there after a SIGKILL."""

from __future__ import annotations

import asyncio
import sys

import uvicorn

from b2bsync.store import Database
from b2bsync.sync.webhooks.intake import IntakeSettings, WebhookIntake
from b2bsync.web import create_app


async def main(url: str, store: str, secret: str, port: int) -> None:
    """Serve the intake until killed."""
    db = Database(url)
    intake = WebhookIntake(db, IntakeSettings(store=store, secret=secret))
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(intakes=[intake]), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    await server.serve()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
