"""A destination delivering in a child process, SIGKILLed mid-stream: what the crash tests of
the destinations that must not duplicate a key share."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def deliver_until_killed(script: str, args: Sequence[str], kill_after: int) -> int:
    """Run `script` (which prints the highest order id of each batch it delivered) with `args`,
    SIGKILL it after `kill_after` acknowledged batches; return the highest id acknowledged."""
    writer = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert writer.stdout is not None
    acknowledged = 0
    try:
        for _ in range(kill_after):
            acknowledged = int(writer.stdout.readline())
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
    return acknowledged
