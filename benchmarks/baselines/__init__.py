"""The scripts users write instead of b2bsync, as they usually write them: plain httpx, one
request at a time, waiting out a 429 for as long as the store says. The benchmarks measure
b2bsync against them on the same sandbox and data."""
