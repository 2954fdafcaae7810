"""Small SQL helpers that hide the few differences between SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from psycopg import sql as pg_sql
from sqlalchemy import CTE, Select, Table, Update, any_, bindparam, func, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert, ValuesBase
from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")

INSERT_CHUNK = 500
"""Rows per multi-row INSERT; keeps SQLite under its bound-parameter limit."""


def ignoring_conflicts(conn: AsyncConnection, table: Table, conflict: Sequence[str]) -> Insert:
    """`INSERT ... ON CONFLICT (conflict) DO NOTHING` for the connection's backend, without
    values: execute it with the rows (`execute_many`); the statement is built once per table
    and conflict target."""
    return _ignoring_conflicts(conn.dialect.name, table, tuple(conflict))


@functools.cache
def _ignoring_conflicts(dialect_name: str, table: Table, conflict: tuple[str, ...]) -> Insert:
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict))


def merging(
    conn: AsyncConnection, table: Table, conflict: Sequence[str], columns: Sequence[str]
) -> Insert:
    """`INSERT ... ON CONFLICT (conflict) DO UPDATE SET` each of `columns` to the new row's value
    where it has one (`COALESCE(new, stored)`): two writers inserting one key at once, each
    with part of a row, both keep their part. Execute it with the rows (`execute_many`); the
    statement is built once per shape."""
    return _merging(conn.dialect.name, table, tuple(conflict), tuple(columns))


@functools.cache
def _merging(
    dialect_name: str, table: Table, conflict: tuple[str, ...], columns: tuple[str, ...]
) -> Insert:
    insert_: postgresql.Insert | sqlite.Insert = (
        postgresql.insert(table) if dialect_name == "postgresql" else sqlite.insert(table)
    )
    return insert_.on_conflict_do_update(
        index_elements=list(conflict),
        set_={name: func.coalesce(insert_.excluded[name], table.c[name]) for name in columns},
    )


def upserting(
    conn: AsyncConnection, table: Table, conflict: Sequence[str], updated: Sequence[str]
) -> Insert:
    """`INSERT ... ON CONFLICT (conflict) DO UPDATE SET` each of `updated` to the new row's
    value, for the connection's backend; execute it with the rows (cached like any insert)."""
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table)
        return pg.on_conflict_do_update(
            index_elements=list(conflict), set_={name: pg.excluded[name] for name in updated}
        )
    lite = sqlite.insert(table)
    return lite.on_conflict_do_update(
        index_elements=list(conflict), set_={name: lite.excluded[name] for name in updated}
    )


def insert_ignoring_conflicts(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]
) -> Insert:
    """`INSERT ... ON CONFLICT (conflict) DO NOTHING` for the connection's backend."""
    return ignoring_conflicts(conn, table, conflict).values(list(rows))


async def insert_rows(
    conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `rows` (all with the same columns) in one go: `COPY ... FROM STDIN` on PostgreSQL
    (one stream instead of a statement per row), one driver executemany elsewhere. Values go
    through each column's own bind processing, so they are stored exactly as an INSERT would
    store them."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        await execute_many(conn, _plain_insert(table), rows)
        return
    columns = list(rows[0])
    dialect = conn.dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    statement = pg_sql.SQL("COPY {} ({}) FROM STDIN").format(
        pg_sql.Identifier(table.name), pg_sql.SQL(", ").join(map(pg_sql.Identifier, columns))
    )
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    async with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            await copy.write_row(
                [
                    process(row[name]) if process is not None else row[name]
                    for name, process in zip(columns, processors, strict=True)
                ]
            )


@functools.cache
def _plain_insert(table: Table) -> Insert:
    return insert(table)


@dataclass(frozen=True, slots=True)
class _DriverStatement:
    """A statement compiled for one dialect and one row shape, with each parameter's bind
    processor, ready for the driver's own executemany."""

    sql: str
    names: tuple[str, ...]
    """The row keys of the parameters, in their order in `sql` when it is positional."""
    processors: tuple[Callable[[Any], Any] | None, ...]
    placeholders: tuple[str, ...] | None
    """The parameters' names as `sql` spells them (named styles), None when positional."""

    def parameters(self, row: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        values = [
            value if process is None else process(value)
            for value, process in zip(
                map(row.__getitem__, self.names), self.processors, strict=True
            )
        ]
        if self.placeholders is None:
            return tuple(values)
        return dict(zip(self.placeholders, values, strict=True))


@functools.lru_cache(maxsize=256)
def _driver_statement(
    statement: ValuesBase, dialect: Dialect, keys: tuple[str, ...]
) -> _DriverStatement:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
    unknown = [name for name in names if name not in keys]
    if unknown:
        raise ValueError(f"execute_many: the rows do not give {', '.join(unknown)}")
    processors = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    escaped = compiled.escaped_bind_names
    placeholders = None if compiled.positional else tuple(escaped.get(name, name) for name in names)
    return _DriverStatement(str(compiled), names, processors, placeholders)


async def execute_many(
    conn: AsyncConnection, statement: ValuesBase, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Execute `statement` once per row as one executemany of the driver; returns the rows it
    changed (summed over the rows: an insert that gave way to a conflict changed none).

    What SQLAlchemy does per row of an executemany (assembling each parameter set through the
    compiled statement) was the largest cost of writing a page; here the statement is compiled
    once per row shape and each row only goes through its parameters' bind processors, so
    values are stored exactly as SQLAlchemy would store them. Every row names the same keys and
    every parameter comes from them; build `statement` once (cached), since its compiled form
    is kept by identity.
    """
    if not rows:
        return 0
    prepared = _driver_statement(statement, conn.dialect, tuple(rows[0]))
    result = await conn.exec_driver_sql(prepared.sql, [prepared.parameters(row) for row in rows])
    return result.rowcount


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
    """`UPDATE table SET ... WHERE keys` once per row, one driver executemany per set of
    columns (rows may name different columns; `keys` are among each row's)."""
    key_names = tuple(keys)
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        columns = tuple(sorted(set(row) - set(key_names)))
        shapes.setdefault(columns, []).append(
            {**{f"k_{key}": row[key] for key in key_names}, **{f"v_{c}": row[c] for c in columns}}
        )
    for columns, parameters in shapes.items():
        await execute_many(conn, _update_by_key(table, key_names, columns), parameters)


def among(
    conn: AsyncConnection, column: ColumnElement[Any], values: Iterable[Any]
) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(values)` with the values as one array
    parameter. An IN list has a parameter per value, and psycopg parses a statement of more
    than 50 parameters anew on every execution (a third of a page's CPU time); one array
    parameter keeps the statement the same whatever the number of values."""
    listed = list(values)
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, listed, type_=postgresql.ARRAY(column.type)))
    return column.in_(listed)


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
