"""The loop back into the store: `writeback` (rules that set staff notes, status and B2B fields
on synced orders), `invoices` (Invoice Portal reconciliation and actions) and `inbound` (an
ERP's paid orders, shipments and invoices pushed into BigCommerce).

Nothing is imported here, so loading the write-back rules (as the configuration does) does not
load the other modules.
"""
