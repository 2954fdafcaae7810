"""HTTP routes of the sandbox, one module per API resource family."""
