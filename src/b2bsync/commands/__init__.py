"""Typer sub-commands of the `b2bsync` CLI, one module per command group."""
