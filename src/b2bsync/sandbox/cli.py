"""`b2bsync sandbox ...` commands (being built)."""

import typer

sandbox_app = typer.Typer(help="Run the bundled BigCommerce + B2B Edition sandbox store.")
