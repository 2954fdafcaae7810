"""Webhooks, the engine's fast path: `intake` (verify and record each callback in the change
feed), `microbatch` (turn bursts into incremental scans within `quota`, a share of the store
API), `watchdog` (check the store still sends them) and `install` (register the hooks).

Nothing is imported here, so loading one of these modules does not load the others (the
intake pulls in FastAPI).
"""
