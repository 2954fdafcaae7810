"""The tables, as one `MetaData`; the Alembic migrations reproduce exactly this.

Every table carries `store` (the store hash) so many stores can share one database.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from b2bsync.store.types import BigId, JSONType, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

STORE = 64
"""Width of every `store` column: BigCommerce store hashes are ~10 characters."""

orders = Table(
    "orders",
    metadata,
    Column("store", String(STORE), nullable=False),
    Column("order_id", BigInteger, nullable=False),
    Column("order_type", String(32), nullable=True, comment="null while pending"),
    Column("sync_state", String(32), nullable=False),
    Column("status_id", Integer, nullable=False),
    Column("status", String(64), nullable=False),
    Column("company_id", BigInteger, nullable=True),
    Column("po_number", String(255), nullable=False),
    Column("invoice_ids", JSONType, nullable=False),
    Column("is_archived", Boolean, nullable=False),
    Column("date_created", UTCDateTime, nullable=False),
    Column("date_modified", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False, comment="0 = no version yet"),
    Column("content_hash", String(64), nullable=True),
    Column("record", JSONType, nullable=True),
    Column("classification_source", String(32), nullable=True),
    Column("classification_reason", Text, nullable=True),
    Column("signals", JSONType, nullable=False),
    Column("signals_seen_at", JSONType, nullable=False),
    Column("pending_since", UTCDateTime, nullable=True),
    Column("next_check_at", UTCDateTime, nullable=True),
    Column("check_attempts", Integer, nullable=False),
    Column("classification_deadline", UTCDateTime, nullable=True),
    Column("first_seen_via", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("store", "order_id"),
    Index(None, "store", "date_modified"),
    Index(None, "store", "date_created"),
    Index(None, "order_type", "date_created"),
    Index(None, "sync_state", "next_check_at"),
    Index(None, "company_id"),
    Index(None, "status_id"),
    # Revision 0005, for the dashboard: the list's newest-first order, the counts.
    Index(None, "date_created", "order_id", "store"),
    Index(None, "store", "order_type", "sync_state"),
)

order_versions = Table(
    "order_versions",
    metadata,
    Column("store", String(STORE), nullable=False),
    Column("order_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("order_type", String(32), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("record", JSONType, nullable=False),
    Column(
        "changed_fields",
        JSONType,
        nullable=True,
        comment="top-level fields that differ from the previous version; null for the first",
    ),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("store", "order_id", "version"),
    ForeignKeyConstraint(["store", "order_id"], [orders.c.store, orders.c.order_id]),
)

order_events = Table(
    "order_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("store", String(STORE), nullable=False),
    Column("order_id", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("event", String(32), nullable=False),
    Column("destination", String(64), nullable=True),
    Column("detail", JSONType, nullable=True),
    Index(None, "store", "order_id", "id"),
)

change_feed = Table(
    "change_feed",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("store", String(STORE), nullable=False),
    Column("order_id", BigInteger, nullable=False),
    Column("source", String(16), nullable=False),
    Column("scope", String(128), nullable=True),
    Column("webhook_hash", String(128), nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("processed_at", UTCDateTime, nullable=True),
    # NULL hashes never collide (both backends), so only webhook rows are deduplicated.
    UniqueConstraint("store", "webhook_hash"),
    Index(None, "store", "processed_at", "id"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("store", String(STORE), nullable=False),
    Column("stream", String(64), nullable=False),
    Column("watermark", UTCDateTime, nullable=True),
    Column("cursor", JSONType, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("store", "stream"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("store", String(STORE), nullable=False),
    Column("order_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("destination", String(64), nullable=False),
    Column("idempotency_key", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("payload", JSONType, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, comment="failed attempts since the last replay"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    UniqueConstraint("destination", "idempotency_key"),
    Index(None, "destination", "state", "next_attempt_at", "id"),
    Index(None, "store", "order_id", "destination", "version"),
    Index(None, "state", "id"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("outbox_id", BigId, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("duration_ms", Integer, nullable=True),
    ForeignKeyConstraint(["outbox_id"], [outbox.c.id], ondelete="CASCADE"),
    UniqueConstraint("outbox_id", "attempt"),
)

# Signal caches (revision 0002): what the signal streams learned, so a page of orders is
# composed from the V2 page plus these rows instead of one API call per order.

order_signals = Table(
    "order_signals",
    metadata,
    Column("store", String(STORE), nullable=False),
    Column("order_id", BigInteger, nullable=False),
    Column("metafield_value", String(255), nullable=True),
    Column("metafield_namespace", String(255), nullable=True),
    Column("metafield_seen_at", UTCDateTime, nullable=True),
    Column("b2b_order_id", BigInteger, nullable=True),
    Column("company_id", BigInteger, nullable=True),
    Column("po_number", String(255), nullable=False),
    Column("extra_fields", JSONType, nullable=False),
    Column("b2b_seen_at", UTCDateTime, nullable=True),
    Column(
        "is_invoice_order",
        Boolean,
        nullable=True,
        comment="isInvoiceOrder of the B2B order detail; null until a detail was fetched",
    ),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("store", "order_id"),
    Index(None, "store", "company_id"),
)

companies = Table(
    "companies",
    metadata,
    Column("store", String(STORE), nullable=False),
    Column("company_id", BigInteger, nullable=False),
    Column("name", String(255), nullable=False),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("seen_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("store", "company_id"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("store", String(STORE), nullable=False),
    Column("invoice_id", BigInteger, nullable=False),
    Column("number", String(255), nullable=False),
    Column("order_number", String(64), nullable=True, comment="the BigCommerce order it bills"),
    Column("company_id", BigInteger, nullable=True),
    Column("status", Integer, nullable=True),
    Column("currency", String(8), nullable=False),
    Column("original_balance", String(32), nullable=False, comment="a decimal, as text"),
    Column("open_balance", String(32), nullable=False, comment="a decimal, as text"),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("seen_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("store", "invoice_id"),
    Index(None, "store", "order_number"),
)

invoice_payments = Table(
    "invoice_payments",
    metadata,
    Column("store", String(STORE), nullable=False),
    Column("payment_id", BigInteger, nullable=False),
    Column("order_id", BigInteger, nullable=True, comment="moduleData.orderId of checkouts"),
    Column("company_id", BigInteger, nullable=True),
    Column("module_name", String(128), nullable=False),
    Column("processing_status", Integer, nullable=True),
    Column("currency", String(8), nullable=False),
    Column("total", String(32), nullable=False, comment="a decimal, as text"),
    Column("lines", JSONType, nullable=False, comment="[{invoice_id, invoice_number, amount}]"),
    Column("updated_at", UTCDateTime, nullable=True),
    Column("seen_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("store", "payment_id"),
    Index(None, "store", "order_id"),
)

order_drafts = Table(
    "order_drafts",
    metadata,
    Column("store", String(STORE), nullable=False),
    Column("order_id", BigInteger, nullable=False),
    Column(
        "draft",
        JSONType,
        nullable=False,
        comment="the latest V2 snapshot mapped to an OrderRecord, before signals are added",
    ),
    Column("date_modified", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("store", "order_id"),
)

# Write-back log (revision 0003): every change b2bsync made in BigCommerce, with before/after,
# so each order shows what we wrote and the engine can tell our own echo from real changes.

writebacks = Table(
    "writebacks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("store", String(STORE), nullable=False),
    Column("order_id", BigInteger, nullable=True, comment="null for payment and invoice actions"),
    Column("at", UTCDateTime, nullable=False),
    Column("source", String(64), nullable=False, comment="the rule or action that wrote"),
    Column("target", String(128), nullable=False, comment="e.g. v2.staff_notes, b2b.po_number"),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Index(None, "store", "order_id", "id"),
)

# Webhooks (revision 0004): authenticated callbacks the intake refused as malformed, and per store
# the installed hooks with the watchdog's last verdict.

webhook_rejects = Table(
    "webhook_rejects",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("store", String(STORE), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("reason", String(255), nullable=False),
    Column("scope", String(128), nullable=True),
    Column("body", Text, nullable=True, comment="the start of the body, for diagnosis"),
    Index(None, "store", "id"),
)

webhook_health = Table(
    "webhook_health",
    metadata,
    Column("store", String(STORE), primary_key=True),
    Column("destination", Text, nullable=False, comment="the intake URL the hooks call"),
    Column("hook_ids", JSONType, nullable=False),
    Column("installed_at", UTCDateTime, nullable=False),
    Column("checked_at", UTCDateTime, nullable=True),
    Column("healthy", Boolean, nullable=True, comment="null until the first watchdog check"),
    Column("reactivations", Integer, nullable=False),
    Column("report", JSONType, nullable=True, comment="the last check's findings"),
    Column("updated_at", UTCDateTime, nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("store", String(STORE), nullable=False),
    Column("stream", String(32), nullable=False),
    Column("record_key", String(128), nullable=False),
    Column("order_id", BigInteger, nullable=True),
    Column("reason", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("payload", Text, nullable=False, comment="the record's JSON, size-capped"),
    Column("payload_chars", Integer, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("times_seen", Integer, nullable=False),
    PrimaryKeyConstraint("store", "stream", "record_key"),
    Index(None, "store", "order_id"),
    Index(None, "last_seen_at"),
)

# Alerts (revision 0008): per alert, condition and store what was last said (a compare-and-set
# `revision` keeps concurrent evaluators from firing twice), and every firing with the state
# of its delivery to the alert's channels.

alert_state = Table(
    "alert_state",
    metadata,
    Column("alert", String(64), nullable=False),
    Column("condition", String(32), nullable=False),
    Column("store", String(STORE), nullable=False),
    Column("active", Boolean, nullable=False, comment="fired and not resolved since"),
    Column("last_fired_at", UTCDateTime, nullable=False),
    Column("revision", Integer, nullable=False, comment="bumped by every change"),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("alert", "condition", "store"),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("alert", String(64), nullable=False),
    Column("condition", String(32), nullable=False),
    Column("store", String(STORE), nullable=False),
    Column("state", String(16), nullable=False, comment="fired, repeated or resolved"),
    Column("message", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("delivery", String(16), nullable=False, comment="pending, sent or failed"),
    Column("attempts", Integer, nullable=False),
    Column("sent_to", JSONType, nullable=False, comment="keys of the channels that took it"),
    Column("last_error", Text, nullable=True, comment="channel labels only, never URLs"),
    Column("claimed_until", UTCDateTime, nullable=True),
    Index(None, "store", "id"),
    Index(None, "delivery", "id"),
)
