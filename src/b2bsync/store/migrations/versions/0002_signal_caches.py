"""Signal caches: order signals, companies, invoices, invoice payments, order drafts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from b2bsync.store.types, so this revision keeps
# creating the same schema whatever later code does.
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
DECIMAL_TEXT = "a decimal, as text"


def upgrade() -> None:
    op.create_table(
        "order_signals",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("metafield_value", sa.String(length=255), nullable=True),
        sa.Column("metafield_namespace", sa.String(length=255), nullable=True),
        sa.Column("metafield_seen_at", TIMESTAMP, nullable=True),
        sa.Column("b2b_order_id", sa.BigInteger(), nullable=True),
        sa.Column("company_id", sa.BigInteger(), nullable=True),
        sa.Column("po_number", sa.String(length=255), nullable=False),
        sa.Column("extra_fields", JSON, nullable=False),
        sa.Column("b2b_seen_at", TIMESTAMP, nullable=True),
        sa.Column(
            "is_invoice_order",
            sa.Boolean(),
            nullable=True,
            comment="isInvoiceOrder of the B2B order detail; null until a detail was fetched",
        ),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("store", "order_id", name=op.f("pk_order_signals")),
    )
    op.create_index(
        op.f("ix_order_signals_store_company_id"),
        "order_signals",
        ["store", "company_id"],
        unique=False,
    )
    op.create_table(
        "companies",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("store", "company_id", name=op.f("pk_companies")),
    )
    op.create_table(
        "invoices",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(length=255), nullable=False),
        sa.Column(
            "order_number",
            sa.String(length=64),
            nullable=True,
            comment="the BigCommerce order it bills",
        ),
        sa.Column("company_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("original_balance", sa.String(length=32), nullable=False, comment=DECIMAL_TEXT),
        sa.Column("open_balance", sa.String(length=32), nullable=False, comment=DECIMAL_TEXT),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("store", "invoice_id", name=op.f("pk_invoices")),
    )
    op.create_index(
        op.f("ix_invoices_store_order_number"), "invoices", ["store", "order_number"], unique=False
    )
    op.create_table(
        "invoice_payments",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "order_id",
            sa.BigInteger(),
            nullable=True,
            comment="moduleData.orderId of checkouts",
        ),
        sa.Column("company_id", sa.BigInteger(), nullable=True),
        sa.Column("module_name", sa.String(length=128), nullable=False),
        sa.Column("processing_status", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("total", sa.String(length=32), nullable=False, comment=DECIMAL_TEXT),
        sa.Column(
            "lines",
            JSON,
            nullable=False,
            comment="[{invoice_id, invoice_number, amount}]",
        ),
        sa.Column("updated_at", TIMESTAMP, nullable=True),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("store", "payment_id", name=op.f("pk_invoice_payments")),
    )
    op.create_index(
        op.f("ix_invoice_payments_store_order_id"),
        "invoice_payments",
        ["store", "order_id"],
        unique=False,
    )
    op.create_table(
        "order_drafts",
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "draft",
            JSON,
            nullable=False,
            comment="the latest V2 snapshot mapped to an OrderRecord, before signals are added",
        ),
        sa.Column("date_modified", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("store", "order_id", name=op.f("pk_order_drafts")),
    )


def downgrade() -> None:
    op.drop_table("order_drafts")
    op.drop_index(op.f("ix_invoice_payments_store_order_id"), table_name="invoice_payments")
    op.drop_table("invoice_payments")
    op.drop_index(op.f("ix_invoices_store_order_number"), table_name="invoices")
    op.drop_table("invoices")
    op.drop_table("companies")
    op.drop_index(op.f("ix_order_signals_store_company_id"), table_name="order_signals")
    op.drop_table("order_signals")
