"""Webhooks: refused callbacks, and per store the installed hooks with the watchdog's verdict.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from b2bsync.store.types, so this revision keeps
# creating the same schema whatever later code does.
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "webhook_rejects",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("scope", sa.String(length=128), nullable=True),
        sa.Column("body", sa.Text(), nullable=True, comment="the start of the body, for diagnosis"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_rejects")),
    )
    op.create_index(
        op.f("ix_webhook_rejects_store_id"), "webhook_rejects", ["store", "id"], unique=False
    )
    op.create_table(
        "webhook_health",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column(
            "destination", sa.Text(), nullable=False, comment="the intake URL the hooks call"
        ),
        sa.Column("hook_ids", JSON, nullable=False),
        sa.Column("installed_at", TIMESTAMP, nullable=False),
        sa.Column("checked_at", TIMESTAMP, nullable=True),
        sa.Column(
            "healthy", sa.Boolean(), nullable=True, comment="null until the first watchdog check"
        ),
        sa.Column("reactivations", sa.Integer(), nullable=False),
        sa.Column("report", JSON, nullable=True, comment="the last check's findings"),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("store", name=op.f("pk_webhook_health")),
    )


def downgrade() -> None:
    op.drop_table("webhook_health")
    op.drop_index(op.f("ix_webhook_rejects_store_id"), table_name="webhook_rejects")
    op.drop_table("webhook_rejects")
