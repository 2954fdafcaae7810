"""Write-back log: what b2bsync wrote into BigCommerce, per order, with before and after.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from b2bsync.store.types, so this revision keeps
# creating the same schema whatever later code does.
TIMESTAMP = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "writebacks",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column(
            "order_id",
            sa.BigInteger(),
            nullable=True,
            comment="null for payment and invoice actions",
        ),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column(
            "source", sa.String(length=64), nullable=False, comment="the rule or action that wrote"
        ),
        sa.Column(
            "target",
            sa.String(length=128),
            nullable=False,
            comment="e.g. v2.staff_notes, b2b.po_number",
        ),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_writebacks")),
    )
    op.create_index(
        op.f("ix_writebacks_store_order_id_id"),
        "writebacks",
        ["store", "order_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_writebacks_store_order_id_id"), table_name="writebacks")
    op.drop_table("writebacks")
