"""The hot read path: the token check of every request and every list page, on the driver itself.

Statements are built and compiled by SQLAlchemy as everywhere else (compiled once per statement
shape, keyed by SQLAlchemy's own cache key); only the execution and the conversion of rows are
done here, because they were most of a list request's cost (see bench/README.md):

- PostgreSQL: SQLAlchemy's async execution cost about 1 ms of CPU per statement on the bench
  machine, three times psycopg's own. Reads use a separate `psycopg_pool` pool of autocommit
  connections (time zone UTC); a connection is held only while one statement runs.
- SQLite: every aiosqlite call is a hand-off to the connection's thread and back. Reads use one
  `sqlite3` connection (WAL, `query_only`) directly on the event loop: a WAL reader never waits for
  a writer, and the work holds the GIL either way, so nothing else could have run meanwhile.
  Writes stay on aiosqlite threads (AsyncSession), because they can wait on the write lock.

Rows come back as dicts. `typed` rows carry the same Python values an AsyncSession returns (UUID,
aware UTC datetimes, bool, parsed JSON); `raw` rows are for pages validated straight into API
schemas and leave what pydantic parses faster itself as the driver returned it (SQLite UUIDs as
hex strings, timestamps as ISO strings marked UTC).

Driver errors are raised as SQLAlchemy's exception classes, so a lost database is the same 503
whichever path noticed it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import JSON, Boolean, Uuid
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.sql import Select
from sqlalchemy.sql.compiler import SQLCompiler

Convert = Callable[[Any], Any]
Row = dict[str, Any]
StatementListener = Callable[[str], None]

CACHE_SIZE = 500


RowToDict = Callable[[Sequence[Any]], Row]


def _row_to_dict(keys: Sequence[str], converters: Sequence[Convert | None]) -> RowToDict:
    """A function turning one driver row into a dict, converting the columns that need it.

    Generated once per statement shape (as dataclasses generate `__init__`): one dict display
    runs in a fraction of the time of copying each row to a list, converting in place and
    zipping it with the keys, and a page of fifty rows calls it fifty times. Only column
    positions, `repr()`-quoted labels and converter names go into the source."""
    namespace: dict[str, Any] = {"__builtins__": {}}
    items = []
    for i, (key, convert) in enumerate(zip(keys, converters, strict=True)):
        if convert is None:
            items.append(f"{key!r}: r[{i}]")
        else:
            namespace[f"c{i}"] = convert
            items.append(f"{key!r}: c{i}(r[{i}])")
    return cast(RowToDict, eval(f"lambda r: {{{', '.join(items)}}}", namespace))


@dataclass(frozen=True)
class _Shape:
    """One compiled statement shape: its SQL, how to bind its parameters, and how to turn the
    driver's rows into dicts of typed or raw values."""

    compiled: SQLCompiler
    source: Select[Any] | None  # the statement itself, for fixed statements
    # The compiled statement's bind processors (UUID to hex on SQLite, UTCDateTime's checks).
    processors: Mapping[str, Convert]
    # (name, bind processor) in the driver's order, when no parameter changes the SQL at
    # execution time (no expanding IN); None otherwise.
    binds: tuple[tuple[str, Convert | None], ...] | None
    positional: bool
    typed: RowToDict
    raw: RowToDict


def _utc_from_sqlite(value: Any) -> Any:
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _utc_text_from_sqlite(value: Any) -> Any:
    # "2026-11-22 15:00:00.000000" (naive UTC, as UTCDateTime stores it) -> an ISO string in UTC.
    return None if value is None else value + "Z"


def _uuid_from_hex(value: Any) -> Any:
    return None if value is None else uuid.UUID(hex=value)


def _json_from_text(value: Any) -> Any:
    return None if value is None else json.loads(value)


def _bool_from_int(value: Any) -> Any:
    return None if value is None else bool(value)


def _converters(column_type: Any, dialect: Dialect) -> tuple[Convert | None, Convert | None]:
    """(typed, raw) converters for one result column of this dialect's driver."""
    from app.core.db import UTCDateTime  # db.py imports this module

    if dialect.name == "postgresql":
        # psycopg returns UUIDs, aware datetimes (the connections run in UTC), parsed JSON and
        # bools itself.
        if isinstance(column_type, UTCDateTime | Uuid | JSON | Boolean):
            return None, None
    elif dialect.name == "sqlite":
        if isinstance(column_type, UTCDateTime):
            return _utc_from_sqlite, _utc_text_from_sqlite
        if isinstance(column_type, Uuid):
            return _uuid_from_hex, None
        if isinstance(column_type, JSON):
            return _json_from_text, _json_from_text
        if isinstance(column_type, Boolean):
            return _bool_from_int, _bool_from_int
    # Anything else: SQLAlchemy's own result processing for the type (None for plain strings
    # and numbers, which the drivers already return as Python values).
    process = column_type.dialect_impl(dialect).result_processor(dialect, None)
    return process, process


class StatementCache:
    """Compiled statements by SQLAlchemy cache key, with their parameters filled in per call."""

    def __init__(self, dialect: Dialect, size: int = CACHE_SIZE) -> None:
        self.dialect = dialect
        self.size = size
        self._shapes: dict[Any, _Shape] = {}

    def _shape(self, stmt: Select[Any], key: Any, *, fixed: bool = False) -> _Shape:
        compiled = stmt.compile(dialect=self.dialect, cache_key=key)
        assert isinstance(compiled, SQLCompiler)
        pairs = [_converters(c.type, self.dialect) for c in stmt.selected_columns]
        keys = tuple(stmt.selected_columns.keys())
        processors = cast(Mapping[str, Convert], compiled._bind_processors)
        binds = None
        if not (
            compiled.post_compile_params
            or compiled.literal_execute_params
            or compiled.escaped_bind_names
        ):
            order = compiled.positiontup or list(compiled.bind_names.values())
            binds = tuple((name, processors.get(name)) for name in order)
        return _Shape(
            compiled=compiled,
            source=stmt if fixed else None,
            processors=processors,
            binds=binds,
            positional=compiled.positiontup is not None,
            typed=_row_to_dict(keys, [p[0] for p in pairs]),
            raw=_row_to_dict(keys, [p[1] for p in pairs]),
        )

    def _remember(self, key: Any, shape: _Shape) -> None:
        if len(self._shapes) >= self.size:
            self._shapes.pop(next(iter(self._shapes)))
        self._shapes[key] = shape

    def prepare(
        self, stmt: Select[Any], params: Mapping[str, Any] | None = None, *, fixed: bool = False
    ) -> tuple[_Shape, str, Any]:
        """The statement's shape, its final SQL and the driver's parameters.

        `fixed`: the statement object is built once and reused for every call (a module-level
        or cached template) and everything that varies per call is a named bind parameter in
        `params`. Its shape is then found by the object's identity, skipping SQLAlchemy's cache
        key, whose generation and comparison cost more than running a small query."""
        if fixed:
            found = self._shapes.get(id(stmt))
            if found is None or found.source is not stmt:
                found = self._shape(stmt, None, fixed=True)
                self._remember(id(stmt), found)
            shape = found
            values = shape.compiled.construct_params(params)
        elif (key := stmt._generate_cache_key()) is None:  # not cacheable (rare): compile it
            shape = self._shape(stmt, None)
            values = shape.compiled.construct_params(params)
        else:
            shape_or_none = self._shapes.get(key.key)
            if shape_or_none is None:
                shape_or_none = self._shape(stmt, key)
                self._remember(key.key, shape_or_none)
            shape = shape_or_none
            values = shape.compiled.construct_params(params, extracted_parameters=key.bindparams)
        if shape.binds is not None:  # the SQL is final: bind the values in the driver's order
            if shape.positional:
                args: Any = tuple(
                    values[name] if proc is None else proc(values[name])
                    for name, proc in shape.binds
                )
            else:
                args = {
                    name: values[name] if proc is None else proc(values[name])
                    for name, proc in shape.binds
                }
            return shape, shape.compiled.string, args
        state = shape.compiled.construct_expanded_state(values)
        # As SQLAlchemy's execution context does: the statement's bind processors plus those of
        # expanded IN parameters.
        processors = shape.processors
        if state.processors:
            processors = {**processors, **state.processors}
        bound = {
            name: (processors[name](value) if name in processors else value)
            for name, value in state.parameters.items()
        }
        if state.positiontup is not None:
            return shape, state.statement, tuple(bound[name] for name in state.positiontup)
        return shape, state.statement, bound


def _to_dicts(shape: _Shape, rows: Sequence[Sequence[Any]], raw: bool) -> list[Row]:
    return list(map(shape.raw if raw else shape.typed, rows))


class Reader:
    """Runs read-only selects for one app instance (see the module docstring)."""

    def __init__(self, dialect: Dialect) -> None:
        self.statements = StatementCache(dialect)
        self.listeners: list[StatementListener] = []

    async def rows(
        self,
        stmt: Select[Any],
        params: Mapping[str, Any] | None = None,
        *,
        raw: bool = False,
        fixed: bool = False,
    ) -> list[Row]:
        shape, sql, args = self.statements.prepare(stmt, params, fixed=fixed)
        for listener in self.listeners:
            listener(sql)
        return _to_dicts(shape, await self._fetch(sql, args), raw)

    async def scalar(
        self, stmt: Select[Any], params: Mapping[str, Any] | None = None, *, fixed: bool = False
    ) -> Any:
        rows = await self.rows(stmt, params, fixed=fixed)
        return next(iter(rows[0].values())) if rows else None

    async def _fetch(self, sql: str, args: Any) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def probe(self) -> str | None:
        raise NotImplementedError


class SqliteReader(Reader):
    def __init__(self, dialect: Dialect, path: str, busy_timeout_ms: int) -> None:
        super().__init__(dialect)
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._conn: sqlite3.Connection | None = None
        # The event loop is single-threaded, but tests and the CLI may use one app from two.
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_ms / 1000,
                isolation_level=None,  # autocommit: each statement reads the latest commit
                check_same_thread=False,
            )
            # WAL is what lets this reader run on the event loop: readers never wait for the
            # writer. It is a property of the file (the session engine sets it too); make sure.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA query_only=ON")
            self._conn = conn
        return self._conn

    async def _fetch(self, sql: str, args: Any) -> Sequence[Sequence[Any]]:
        with self._lock:
            try:
                return self._connection().execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise sa_exc.DBAPIError.instance(
                    sql, args, exc, sqlite3.Error, hide_parameters=True
                ) from exc

    def data_version(self) -> int:
        """SQLite's count of commits by other connections (PRAGMA data_version): a change of
        this number means the database changed, whichever process wrote."""
        with self._lock:
            try:
                row = self._connection().execute("PRAGMA data_version").fetchone()
            except sqlite3.Error as exc:
                raise sa_exc.DBAPIError.instance(
                    "PRAGMA data_version", (), exc, sqlite3.Error, hide_parameters=True
                ) from exc
            return int(row[0])

    async def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    async def probe(self) -> str | None:
        """The schema's migration on a connection of its own (readiness must not wait behind
        anything): None if the database was never migrated. Raises if it cannot be opened."""

        def read() -> str | None:
            if not Path(self.path).exists():
                return None  # `peercoach migrate` creates it
            uri = f"{Path(self.path).absolute().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=1)
            try:
                return _migration(conn.execute, sqlite3.OperationalError)
            finally:
                conn.close()

        return await asyncio.to_thread(read)


class PostgresReader(Reader):
    def __init__(
        self,
        dialect: Dialect,
        conninfo: str,
        *,
        size: int,
        timeout: float,
        connect_timeout: int,
    ) -> None:
        super().__init__(dialect)
        self.conninfo = conninfo
        self.size = size
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _get_pool(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop:
            # A pool belongs to one event loop (tests run several); a new loop gets a new pool.
            self._loop = loop
            self._pool = AsyncConnectionPool(
                self.conninfo,
                min_size=1,
                max_size=self.size,
                timeout=self.timeout,
                open=False,
                name="peercoach-reads",
                kwargs={
                    "autocommit": True,
                    "connect_timeout": self.connect_timeout,
                    "options": "-c TimeZone=UTC",
                },
            )
        await self._pool.open()
        return self._pool

    async def _fetch(self, sql: str, args: Any) -> Sequence[Sequence[Any]]:
        pool = await self._get_pool()
        last: Exception = Exception("database connections keep failing")
        # A connection the database dropped (a restart, a network cut) fails at once; reads are
        # safe to repeat, so try the next one. The pool replaces the broken ones.
        for _attempt in range(self.size + 1):
            try:
                conn = await pool.getconn()
            except psycopg.Error as exc:  # PoolTimeout: none free, or the database is down
                stats = pool.get_stats()
                if stats.get("pool_size", 0) >= self.size and not stats.get("pool_available"):
                    # Every connection is open and in use: busy, not down (the same error
                    # SQLAlchemy's own pool raises when it times out).
                    raise sa_exc.TimeoutError(
                        f"all {self.size} read connections were busy for {self.timeout} s"
                    ) from exc
                raise sa_exc.DBAPIError.instance(
                    sql, args, exc, psycopg.Error, hide_parameters=True
                ) from exc
            try:
                # Binary results: the server skips formatting each value as text (timestamps
                # above all) and psycopg skips parsing it; measured about 10 % less server CPU
                # and 2-4 % fewer app instructions for a 50-row staff page.
                async with conn.cursor(binary=True) as cur:
                    await cur.execute(sql, args)
                    return await cur.fetchall()
            except psycopg.Error as exc:
                if conn.broken or conn.closed:
                    last = exc
                    continue
                raise sa_exc.DBAPIError.instance(
                    sql, args, exc, psycopg.Error, hide_parameters=True
                ) from exc
            finally:
                await pool.putconn(conn)
        raise sa_exc.DBAPIError.instance(sql, args, last, psycopg.Error, hide_parameters=True)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None and self._loop is asyncio.get_running_loop():
            await pool.close()

    async def probe(self) -> str | None:
        """As SqliteReader.probe: a connection of its own, never one of the pool's, so a busy
        pool does not read as a database that cannot be reached."""
        async with await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, connect_timeout=self.connect_timeout
        ) as conn:
            try:
                cur = await conn.execute("SELECT version_num FROM alembic_version")
            except psycopg.errors.UndefinedTable:
                return None
            row = await cur.fetchone()
            return None if row is None else str(row[0])


def _migration(execute: Callable[[str], Any], missing: type[Exception]) -> str | None:
    try:
        row = execute("SELECT version_num FROM alembic_version").fetchone()
    except missing as exc:
        if "no such table" in str(exc):
            return None
        raise
    return None if row is None else str(row[0])


def make_reader(url: URL, dialect: Dialect, settings: Any) -> Reader:
    if url.get_backend_name() == "sqlite":
        path = url.database
        if not path or path == ":memory:":
            raise ValueError(
                "SQLite needs a database file (an in-memory database is per connection)"
            )
        return SqliteReader(dialect, path, settings.sqlite_busy_timeout_ms)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresReader(
        dialect,
        conninfo,
        size=settings.db_pool_size,
        timeout=settings.db_pool_timeout,
        connect_timeout=settings.db_connect_timeout,
    )
