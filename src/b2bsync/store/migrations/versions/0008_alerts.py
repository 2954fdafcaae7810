"""Alerts: what each alert last said per condition and store, and every firing with its
delivery state.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from b2bsync.store.types, so this revision keeps
# creating the same schema whatever later code does.
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "alert_state",
        sa.Column("alert", sa.String(length=64), nullable=False),
        sa.Column("condition", sa.String(length=32), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, comment="fired and not resolved since"),
        sa.Column("last_fired_at", TIMESTAMP, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False, comment="bumped by every change"),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("alert", "condition", "store", name=op.f("pk_alert_state")),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("alert", sa.String(length=64), nullable=False),
        sa.Column("condition", sa.String(length=32), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column(
            "state", sa.String(length=16), nullable=False, comment="fired, repeated or resolved"
        ),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column(
            "delivery", sa.String(length=16), nullable=False, comment="pending, sent or failed"
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_to", JSON, nullable=False, comment="keys of the channels that took it"),
        sa.Column(
            "last_error", sa.Text(), nullable=True, comment="channel labels only, never URLs"
        ),
        sa.Column("claimed_until", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
    )
    op.create_index(op.f("ix_alert_events_store_id"), "alert_events", ["store", "id"], unique=False)
    op.create_index(
        op.f("ix_alert_events_delivery_id"), "alert_events", ["delivery", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_alert_events_delivery_id"), table_name="alert_events")
    op.drop_index(op.f("ix_alert_events_store_id"), table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_table("alert_state")
