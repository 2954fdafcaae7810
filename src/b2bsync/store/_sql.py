"""Small SQL helpers that hide the few differences between SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import CTE, Select, Table, Update, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

T = TypeVar("T")

INSERT_CHUNK = 500
"""Rows per multi-row INSERT; keeps SQLite under its bound-parameter limit."""


def insert_ignoring_conflicts(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]
) -> Insert:
    """`INSERT ... ON CONFLICT (conflict) DO NOTHING` for the connection's backend."""
    if conn.dialect.name == "postgresql":
        return (
            postgresql.insert(table)
            .values(list(rows))
            .on_conflict_do_nothing(index_elements=list(conflict))
        )
    return (
        sqlite.insert(table)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=list(conflict))
    )


def chunks(items: Sequence[T], size: int = INSERT_CHUNK) -> list[Sequence[T]]:
    """`items` cut into consecutive slices of at most `size`."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def locked_candidates(conn: AsyncConnection, candidates: Select[Any], name: str) -> CTE:
    """`candidates` (a `FOR UPDATE SKIP LOCKED ... LIMIT n` id query) as a CTE evaluated once.

    PostgreSQL may re-run a LIMIT subquery inside `IN (...)` during the join and so lock and
    return more than `n` rows; a MATERIALIZED CTE is computed exactly once.
    """
    picked = candidates.cte(name)
    return picked.prefix_with("MATERIALIZED") if conn.dialect.name == "postgresql" else picked


@functools.cache
def _update_by_key(table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> Update:
    return (
        update(table)
        .where(*(table.c[key] == bindparam(f"k_{key}") for key in keys))
        .values({column: bindparam(f"v_{column}") for column in columns})
    )


async def update_many(
    conn: AsyncConnection, table: Table, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """`UPDATE table SET ... WHERE keys` once per row, as one executemany of one cached
    statement. Every row names the same columns; `keys` are among them."""
    if not rows:
        return
    key_names = tuple(keys)
    columns = tuple(sorted(set(rows[0]) - set(key_names)))
    statement = _update_by_key(table, key_names, columns)
    await conn.execute(
        statement,
        [
            {**{f"k_{key}": row[key] for key in key_names}, **{f"v_{c}": row[c] for c in columns}}
            for row in rows
        ],
    )


@functools.cache
def _insert_ignoring(dialect: str, table: Table, conflict: tuple[str, ...]) -> Insert:
    statement = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return statement.on_conflict_do_nothing(index_elements=list(conflict))


def insert_many_ignoring_conflicts(
    conn: AsyncConnection, table: Table, conflict: Sequence[str]
) -> Insert:
    """`INSERT ... ON CONFLICT (conflict) DO NOTHING` without values, for executemany: one
    cached statement whatever the number of rows (`insert_ignoring_conflicts` renders the
    rows into the statement, which SQLAlchemy compiles anew each time)."""
    return _insert_ignoring(conn.dialect.name, table, tuple(conflict))
