"""Routes of the sandbox (being built)."""

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
