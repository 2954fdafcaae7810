"""The outbox claim walks its index in the claim's own order: (destination, state,
next_attempt_at, id) replaces (destination, state, next_attempt_at), so `ORDER BY
next_attempt_at, id LIMIT n` stops after n claimable rows instead of sorting every due row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_outbox_destination_state_next_attempt_at_id"),
        "outbox",
        ["destination", "state", "next_attempt_at", "id"],
        unique=False,
    )
    op.drop_index(op.f("ix_outbox_destination_state_next_attempt_at"), table_name="outbox")


def downgrade() -> None:
    op.create_index(
        op.f("ix_outbox_destination_state_next_attempt_at"),
        "outbox",
        ["destination", "state", "next_attempt_at"],
        unique=False,
    )
    op.drop_index(op.f("ix_outbox_destination_state_next_attempt_at_id"), table_name="outbox")
