"""The write path of a change made of a few statements, on the driver itself as reads are.

A write through a session (`deps.SessionDep`) pays SQLAlchemy's async session and ORM: the unit
of work, a greenlet hop per statement, BEGIN and COMMIT each a round trip. On the bench machine
a transaction inserting one row cost about 0.9-1.1 ms of CPU that way, and 0.25-0.35 ms on
psycopg itself with its BEGIN sent with the INSERT (bench/README.md). A service whose change is
a few statements it can build ahead (a post, a comment) writes through `Writes` instead:

    async with writes.transaction() as tx:
        await tx.insert(Reflection, row)           # a new row: `new_row(Reflection, ...)`
        await tx.later(Change(FORGET, values))     # an UPDATE or DELETE nobody reads
        await tx.lock(names)                       # names held until the transaction ends
        found = await tx.one(Schema, statement)    # a check, or an UPDATE .. RETURNING

`insert` and `later` are sent with the transaction's next round trip: the next statement whose
answer the service waits for, or the COMMIT (on PostgreSQL a transaction of only those is one
round trip: BEGIN, the statements and COMMIT pipelined). A refusal among them (a constraint) is
raised there, and nothing of the transaction is saved.

Statements are SQLAlchemy Core, compiled once per shape (`compiled.py`, shared with the read
path), and run on the read path's driver (`drivers.py`): on PostgreSQL one read-write
transaction on a pooled connection, BEGIN sent with its first statement; on SQLite one
transaction at a time per worker (the others wait their turn) on a writer connection (foreign
keys on), its statements on a worker thread, the write lock taken at the first (BEGIN
IMMEDIATE: other processes' writers queue on the busy timeout, never fail at COMMIT for having
read first). The transaction commits when the block ends, inside the handler, so before the
answer is sent; an exception rolls it back, and a COMMIT the database did not confirm raises
`CommitFailed` (503, "probably not saved"), as a session's does. After the commit the tables it
wrote are handed to `Database.after_commit`, as a session's are (the signed-in account cache).

Rows go in and come out as plain values: `new_row` fills a new row's defaults from its table
model (ids, timestamps, version 1) without building the model, and answers are validated into
the caller's schema. Nothing here knows a domain; services build the statements and decide.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from sqlalchemy import Insert, Text, bindparam, func, insert, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlmodel import SQLModel

from app.core.compiled import loaded
from app.core.db import table_of
from app.core.reads import Bound
from app.core.sql import AnyStatement

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.core.db import Database
    from app.core.drivers import Batch, Driver

T = TypeVar("T", bound=BaseModel)
M = TypeVar("M", bound=SQLModel)


@dataclass(frozen=True, slots=True)
class Change:
    """An INSERT, UPDATE or DELETE built once (a template, as `reads.Bound` is for selects)
    with the values of its bind parameters for this call: found compiled by identity."""

    stmt: AnyStatement
    values: Mapping[str, Any]


@functools.cache
def _defaults(model: type[SQLModel]) -> tuple[tuple[str, Any, bool], ...]:
    """(column, default, is a factory) for each of the table model's columns."""
    found = []
    for column in table_of(model).columns:
        field = model.model_fields[column.key]
        if field.default_factory is not None:
            found.append((column.key, field.default_factory, True))
        elif field.default is not PydanticUndefined:
            found.append((column.key, field.default, False))
    return tuple(found)


def new_row(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """The column values of a new row of `model`: `values`, and the model's default for each
    column they leave out (a new id, now, version 1). Raises for a column with neither, as
    building the model would."""
    row = {}
    for key, default, factory in _defaults(model):
        if key not in values:
            row[key] = default() if factory else default
    row.update(values)
    missing = [c.key for c in table_of(model).columns if c.key not in row]
    if missing:
        raise ValueError(f"a new {model.__name__} needs {missing}")
    return row


def as_model(model: type[M], row: Mapping[str, Any]) -> M:
    """Column values a transaction read (`Transaction.execute`, every column of `model`) as
    the table model, for rules written for the model (`TeamAccess` holds a `Team`). Not
    validated, as the ORM does not validate what it loads: the values came from the database."""
    return loaded(model, row)


@functools.cache
def _inserting(model: type[SQLModel]) -> Insert:
    """An INSERT of every column of `model`'s table, each a bind parameter named after it."""
    table = table_of(model)
    return insert(table).values({c.key: bindparam(c.key, type_=c.type) for c in table.columns})


class Transaction:
    """The statements of one write transaction (`Writes.transaction()`): on the driver, or in a
    session (`Writes.in_session`)."""

    def __init__(
        self,
        *,
        driver: Driver | None = None,
        batch: Batch | None = None,
        session: AsyncSession | None = None,
    ) -> None:
        self._on = (driver, batch) if driver is not None and batch is not None else None
        self._session = session
        self.written: set[str] = set()

    def _in(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("a transaction runs on the driver or in a session")
        return self._session

    def _note(self, stmt: AnyStatement) -> None:
        table = getattr(stmt, "table", None)  # an INSERT, UPDATE or DELETE
        if table is not None:
            self.written.add(table.name)

    async def _rows(
        self, stmt: AnyStatement | Bound | Change, values: Mapping[str, Any] | None
    ) -> list[dict[str, Any]]:
        """A `Bound` is a template (built once, everything per call a bind parameter), found
        by identity (`compiled.py`); a statement built per call by SQLAlchemy's cache key."""
        run, values, fixed = _unbound(stmt, values)
        self._note(run)
        if self._on is None:
            return await _in_session(self._in(), run, values)
        driver, batch = self._on
        return await driver.write_rows(run, values, fixed, on=batch)

    async def insert(self, model: type[SQLModel], row: Mapping[str, Any]) -> None:
        """Insert a new row of `model` (every column: `new_row`). It goes to the database with
        the transaction's next round trip (the next statement that answers, or the COMMIT), and
        a refusal (a conflict) is raised there."""
        await self.later(Change(_inserting(model), row))

    async def later(
        self, stmt: AnyStatement | Bound | Change, values: Mapping[str, Any] | None = None
    ) -> None:
        """Run a statement whose result nobody reads (an UPDATE, a DELETE) with the
        transaction's next round trip, as `insert` does (in a session: at once)."""
        run, values, fixed = _unbound(stmt, values)
        self._note(run)
        if self._on is None:
            await _in_session(self._in(), run, values)
            return
        driver, batch = self._on
        driver.write_later(run, values, fixed, on=batch)

    async def lock(self, keys: Iterable[str]) -> None:
        """Hold these names until the transaction ends, for a check that no index can make
        (two bookings of one person at overlapping times): a second transaction locking any of
        them waits here. Sent with the next round trip, as `later` is. PostgreSQL: advisory
        transaction locks, taken in sorted order so two transactions never wait on each other
        crosswise; SQLite: nothing to do, its writers hold the whole database in turn."""
        if self._dialect() != "postgresql":
            return
        await self.later(Change(_LOCK_NAMES, {"lock_keys": sorted(set(keys))}))

    def _dialect(self) -> str:
        if self._on is not None:
            return self._on[0].statements.dialect.name
        return self._in().get_bind().dialect.name

    async def one(
        self,
        schema: type[T],
        stmt: AnyStatement | Bound | Change,
        values: Mapping[str, Any] | None = None,
    ) -> T | None:
        """The statement's first row as `schema` (a select, or RETURNING), None if none."""
        rows = await self._rows(stmt, values)
        return schema.model_validate(rows[0]) if rows else None

    async def execute(
        self, stmt: AnyStatement | Bound | Change, values: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run the statement now; its rows as dicts of typed values (none without
        RETURNING)."""
        return await self._rows(stmt, values)


class Writes:
    """The write transactions of one request (see the module docstring; `deps.WritesDep`), or
    of a session's transaction (`in_session`)."""

    def __init__(self, db: Database | None, session: AsyncSession | None = None) -> None:
        self._db = db
        self._session = session

    @classmethod
    def in_session(cls, session: AsyncSession) -> Writes:
        """For the CLI and the demo loader, which make many changes in one session: the
        statements join the session's transaction and commit with it (a second connection
        would wait for the session's own write lock on SQLite)."""
        return cls(None, session)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One transaction, committed when the block ends without an exception (in a session:
        part of the session's, committed with it)."""
        if self._session is not None:
            yield Transaction(session=self._session)
            return
        db = self._db
        assert db is not None
        async with db.driver.transaction() as batch:
            tx = Transaction(driver=db.driver, batch=batch)
            yield tx
        if tx.written:
            for hook in db.after_commit:
                hook(tx.written)


# Advisory locks on names: one statement, each name hashed to the lock's 64-bit key, taken in the
# array's order (WITH ORDINALITY: unnest's order is not otherwise promised).
_NAMES = (
    func.unnest(bindparam("lock_keys", type_=postgresql.ARRAY(Text)))
    .table_valued("k", with_ordinality="n")
    .render_derived(name="locks")
)
_LOCK_NAMES = (
    select(func.pg_advisory_xact_lock(func.hashtextextended(_NAMES.c.k, literal_column("0"))))
    .select_from(_NAMES)
    .order_by(_NAMES.c.n)
)


def _unbound(
    stmt: AnyStatement | Bound | Change, values: Mapping[str, Any] | None
) -> tuple[AnyStatement, Mapping[str, Any] | None, bool]:
    """The statement, its values and whether it is a template (a `Bound` or a `Change`)."""
    if isinstance(stmt, Bound | Change):
        return stmt.stmt, {**stmt.values, **(values or {})}, True
    return stmt, values, False


async def _in_session(
    session: AsyncSession, stmt: AnyStatement, values: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    result = await session.execute(stmt, dict(values or {}))
    if not stmt.exported_columns:  # an INSERT, UPDATE or DELETE without RETURNING
        return []
    return [dict(row._mapping) for row in result]
