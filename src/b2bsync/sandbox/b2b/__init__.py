"""B2B Edition inside the sandbox: companies, B2B order records and the Invoice Portal, one module
per resource as `routes/b2b_*.py` serve them.

Services only, no HTTP: the routes parse requests and call these; the seed and the simulator call
them directly. Every refusal is a `B2BError` carrying the status and the `errMsg` B2B Edition
answers with. Money is Decimal, times are aware UTC datetimes.
"""
