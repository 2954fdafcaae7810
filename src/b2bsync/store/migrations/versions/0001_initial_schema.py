"""Initial schema: ledger, versions, order history, change feed, checkpoints, outbox, attempts.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from b2bsync.store.types, so this revision keeps
# creating the same schema whatever later code does.
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "change_feed",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=128), nullable=True),
        sa.Column("webhook_hash", sa.String(length=128), nullable=True),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("claimed_until", TIMESTAMP, nullable=True),
        sa.Column("processed_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_feed")),
        sa.UniqueConstraint(
            "store", "webhook_hash", name=op.f("uq_change_feed_store_webhook_hash")
        ),
    )
    op.create_index(
        op.f("ix_change_feed_store_processed_at_id"),
        "change_feed",
        ["store", "processed_at", "id"],
        unique=False,
    )
    op.create_table(
        "checkpoints",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("watermark", TIMESTAMP, nullable=True),
        sa.Column("cursor", JSON, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("store", "stream", name=op.f("pk_checkpoints")),
    )
    op.create_table(
        "order_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=True),
        sa.Column("detail", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    op.create_index(
        op.f("ix_order_events_store_order_id_id"),
        "order_events",
        ["store", "order_id", "id"],
        unique=False,
    )
    op.create_table(
        "orders",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("order_type", sa.String(length=32), nullable=True, comment="null while pending"),
        sa.Column("sync_state", sa.String(length=32), nullable=False),
        sa.Column("status_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=True),
        sa.Column("po_number", sa.String(length=255), nullable=False),
        sa.Column("invoice_ids", JSON, nullable=False),
        sa.Column("is_archived", sa.Boolean(), nullable=False),
        sa.Column("date_created", TIMESTAMP, nullable=False),
        sa.Column("date_modified", TIMESTAMP, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, comment="0 = no version yet"),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("record", JSON, nullable=True),
        sa.Column("classification_source", sa.String(length=32), nullable=True),
        sa.Column("classification_reason", sa.Text(), nullable=True),
        sa.Column("signals", JSON, nullable=False),
        sa.Column("signals_seen_at", JSON, nullable=False),
        sa.Column("pending_since", TIMESTAMP, nullable=True),
        sa.Column("next_check_at", TIMESTAMP, nullable=True),
        sa.Column("check_attempts", sa.Integer(), nullable=False),
        sa.Column("classification_deadline", TIMESTAMP, nullable=True),
        sa.Column("first_seen_via", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("store", "order_id", name=op.f("pk_orders")),
    )
    op.create_index(op.f("ix_orders_company_id"), "orders", ["company_id"], unique=False)
    op.create_index(
        op.f("ix_orders_order_type_date_created"),
        "orders",
        ["order_type", "date_created"],
        unique=False,
    )
    op.create_index(op.f("ix_orders_status_id"), "orders", ["status_id"], unique=False)
    op.create_index(
        op.f("ix_orders_store_date_created"), "orders", ["store", "date_created"], unique=False
    )
    op.create_index(
        op.f("ix_orders_store_date_modified"), "orders", ["store", "date_modified"], unique=False
    )
    op.create_index(
        op.f("ix_orders_sync_state_next_check_at"),
        "orders",
        ["sync_state", "next_check_at"],
        unique=False,
    )
    op.create_table(
        "outbox",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column(
            "attempts",
            sa.Integer(),
            nullable=False,
            comment="failed attempts since the last replay",
        ),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("claimed_until", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("delivered_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint(
            "destination", "idempotency_key", name=op.f("uq_outbox_destination_idempotency_key")
        ),
    )
    op.create_index(
        op.f("ix_outbox_destination_state_next_attempt_at"),
        "outbox",
        ["destination", "state", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_outbox_store_order_id_destination_version"),
        "outbox",
        ["store", "order_id", "destination", "version"],
        unique=False,
    )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("outbox_id", BIG_ID, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_delivery_attempts_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
        sa.UniqueConstraint(
            "outbox_id", "attempt", name=op.f("uq_delivery_attempts_outbox_id_attempt")
        ),
    )
    op.create_table(
        "order_versions",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("order_type", sa.String(length=32), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("record", JSON, nullable=False),
        sa.Column(
            "changed_fields",
            JSON,
            nullable=True,
            comment="top-level fields that differ from the previous version; null for the first",
        ),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["store", "order_id"],
            ["orders.store", "orders.order_id"],
            name=op.f("fk_order_versions_store_order_id_orders"),
        ),
        sa.PrimaryKeyConstraint("store", "order_id", "version", name=op.f("pk_order_versions")),
    )


def downgrade() -> None:
    op.drop_table("order_versions")
    op.drop_table("delivery_attempts")
    op.drop_table("outbox")
    op.drop_table("orders")
    op.drop_table("order_events")
    op.drop_table("checkpoints")
    op.drop_table("change_feed")
