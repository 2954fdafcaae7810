"""Dashboard reads at 100,000 orders: the order list's newest-first order, the counts by type
and state, and the dead letters, each served by an index instead of a scan and sort.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_orders_date_created_order_id_store"),
        "orders",
        ["date_created", "order_id", "store"],
        unique=False,
    )
    op.create_index(
        op.f("ix_orders_store_order_type_sync_state"),
        "orders",
        ["store", "order_type", "sync_state"],
        unique=False,
    )
    op.create_index(op.f("ix_outbox_state_id"), "outbox", ["state", "id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_state_id"), table_name="outbox")
    op.drop_index(op.f("ix_orders_store_order_type_sync_state"), table_name="orders")
    op.drop_index(op.f("ix_orders_date_created_order_id_store"), table_name="orders")
