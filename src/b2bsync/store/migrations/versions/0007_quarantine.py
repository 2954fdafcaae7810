"""Quarantine: records an API returned that could not be parsed or mapped, kept per store,
stream and record with the reason and the start of the payload until a clean read releases them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from b2bsync.store.types, so this revision keeps
# creating the same schema whatever later code does.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "quarantine",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=32), nullable=False),
        sa.Column("record_key", sa.String(length=128), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False, comment="the record's JSON, size-capped"),
        sa.Column("payload_chars", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", TIMESTAMP, nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store", "stream", "record_key", name=op.f("pk_quarantine")),
    )
    op.create_index(
        op.f("ix_quarantine_store_order_id"), "quarantine", ["store", "order_id"], unique=False
    )
    op.create_index(
        op.f("ix_quarantine_last_seen_at"), "quarantine", ["last_seen_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_quarantine_last_seen_at"), table_name="quarantine")
    op.drop_index(op.f("ix_quarantine_store_order_id"), table_name="quarantine")
    op.drop_table("quarantine")
