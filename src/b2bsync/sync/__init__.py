"""The sync engine: signal streams into local caches, the V2 poller, classification and
versioning, re-checks of pending orders, and delivery through the outbox.

The services are plain async functions over a `SyncContext`, so a scheduler or a task queue
can run them as well as `run_once`/`run_forever`. The engine's modules sit here; the webhook
path is `sync.webhooks` and the loop back into the store (write-back, invoices, ERP push)
`sync.loopback`.
"""

from b2bsync.sync.backfill import BackfillSummary, ScanScope, backfill, scan_scope
from b2bsync.sync.calls import CallCounter
from b2bsync.sync.context import DEFAULT_RETRY, SyncContext, SyncSettings
from b2bsync.sync.delivery import (
    DeliverySummary,
    ReplayReport,
    deliver_due,
    replay,
    replay_now,
    skip_dead,
)
from b2bsync.sync.engine import ProcessSummary, process_changes, process_drafts, process_page
from b2bsync.sync.poller import PollSummary, poll_store
from b2bsync.sync.quarantine import QuarantineRetry, retry_quarantined
from b2bsync.sync.rechecks import RecheckSummary, recheck_pending
from b2bsync.sync.runner import RunSummary, run_forever, run_once

__all__ = [
    "DEFAULT_RETRY",
    "BackfillSummary",
    "CallCounter",
    "DeliverySummary",
    "PollSummary",
    "ProcessSummary",
    "QuarantineRetry",
    "RecheckSummary",
    "ReplayReport",
    "RunSummary",
    "ScanScope",
    "SyncContext",
    "SyncSettings",
    "backfill",
    "deliver_due",
    "poll_store",
    "process_changes",
    "process_drafts",
    "process_page",
    "recheck_pending",
    "replay",
    "replay_now",
    "retry_quarantined",
    "run_forever",
    "run_once",
    "scan_scope",
    "skip_dead",
]
