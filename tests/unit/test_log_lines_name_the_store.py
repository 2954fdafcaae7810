"""Every log line of work done for a store names it (`store=`), so the logs of a process that
syncs many stores can be split per store. Found by reading the source: a call added without
`store=` fails here, naming its file and line."""

from __future__ import annotations

import ast
from pathlib import Path

import b2bsync

SOURCE = Path(b2bsync.__file__).parent
LEVELS = {"debug", "info", "warning", "error", "exception"}
PROCESS_WIDE = {
    "web.service_crashed",  # a background task of the web app, whatever it serves
    "web.not_ready",  # the ledger database, shared by every store
    "destination.jsonl.torn_line_truncated",  # a destination's file, shared by every store
    "config.environment_ignored",  # the configuration, read once for the whole process
}
"""Events about the process or shared resources, not one store."""


def _log_calls(path: Path) -> list[tuple[int, str, set[str | None]]]:
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in LEVELS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "log"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            calls.append((node.lineno, str(node.args[0].value), {k.arg for k in node.keywords}))
    return calls


def test_every_log_line_of_store_work_carries_the_store() -> None:
    missing = [
        f"{path.relative_to(SOURCE)}:{line} {event}"
        for path in sorted(SOURCE.rglob("*.py"))
        if "sandbox" not in path.relative_to(SOURCE).parts
        for line, event, keywords in _log_calls(path)
        # `**fields` may carry it: those are checked by the destinations' own tests.
        if "store" not in keywords and None not in keywords and event not in PROCESS_WIDE
    ]
    assert missing == []
    assert sum(len(_log_calls(path)) for path in SOURCE.rglob("*.py")) > 20
