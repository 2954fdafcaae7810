"""Alembic migrations of b2bsync's schema, shipped inside the package."""
