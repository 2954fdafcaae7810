"""b2bsync's own web app, one ASGI app: the webhook intake, the ERP push endpoint, the dashboard
and its JSON admin API, `/metrics`, `/healthz` and `/readyz`."""

from b2bsync.web.app import create_app

__all__ = ["create_app"]
