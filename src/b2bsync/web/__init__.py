"""b2bsync's own web app: the webhook intake now, the dashboard later, one ASGI app."""

from b2bsync.web.app import create_app

__all__ = ["create_app"]
