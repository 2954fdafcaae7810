"""Persistence: the ledger, the outbox, the change feed and checkpoints, on SQLite or PostgreSQL.

Open a `Database`, then work inside `async with db.transaction() as tx:` through
`tx.ledger`, `tx.outbox`, `tx.feed` and `tx.checkpoints`; everything in one block commits
together or not at all.
"""

from b2bsync.store.change_feed import ChangeFeedRepository, ChangeItem, ChangeSource
from b2bsync.store.checkpoints import Checkpoint, CheckpointRepository
from b2bsync.store.database import (
    DATABASE_URL_ENV,
    DEFAULT_DATABASE_URL,
    Database,
    Transaction,
    create_engine,
    display_url,
    head_revision,
)
from b2bsync.store.errors import LedgerError, StoreError, UnsupportedDatabaseURL
from b2bsync.store.events import OrderEvent
from b2bsync.store.ledger import (
    EventEntry,
    LedgerEntry,
    LedgerQuery,
    LedgerRepository,
    ObservedOrder,
    OrderDetail,
    OrderSummary,
    Page,
    SeenVia,
    VersionEntry,
    changed_fields,
)
from b2bsync.store.outbox import (
    AttemptEntry,
    FailingDestination,
    OutboxRepository,
    OutboxRow,
    OutboxState,
)
from b2bsync.store.schema import metadata
from b2bsync.store.signals import (
    B2BOrderSignal,
    CompanyRow,
    InvoiceRow,
    MetafieldSignal,
    OrderSignalRow,
    PaymentLineRow,
    PaymentRow,
    SignalBundle,
    SignalRepository,
)

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE_URL",
    "AttemptEntry",
    "B2BOrderSignal",
    "ChangeFeedRepository",
    "ChangeItem",
    "ChangeSource",
    "Checkpoint",
    "CheckpointRepository",
    "CompanyRow",
    "Database",
    "EventEntry",
    "FailingDestination",
    "InvoiceRow",
    "LedgerEntry",
    "LedgerError",
    "LedgerQuery",
    "LedgerRepository",
    "MetafieldSignal",
    "ObservedOrder",
    "OrderDetail",
    "OrderEvent",
    "OrderSignalRow",
    "OrderSummary",
    "OutboxRepository",
    "OutboxRow",
    "OutboxState",
    "Page",
    "PaymentLineRow",
    "PaymentRow",
    "SeenVia",
    "SignalBundle",
    "SignalRepository",
    "StoreError",
    "Transaction",
    "UnsupportedDatabaseURL",
    "VersionEntry",
    "changed_fields",
    "create_engine",
    "display_url",
    "head_revision",
    "metadata",
]
