"""The read path's connections: every GET and the token check run here, on the driver itself.

Statements are built with SQLAlchemy and compiled once per shape (`compiled.py`); this module
owns the connections they run on. Domain code never sees it: it reads through `reads.Reads`.

- PostgreSQL: a `psycopg_pool` pool of autocommit connections (time zone UTC), separate from the
  sessions' pool. A single statement holds a connection only while it runs; a snapshot (several
  statements that must agree) holds one in a `REPEATABLE READ READ ONLY` transaction.
- SQLite: plain `sqlite3` connections (WAL, `query_only`) used directly on the event loop: a WAL
  reader never waits for a writer, and the work holds the GIL either way, so nothing else could
  have run meanwhile. A statement or snapshot takes an idle connection and gives it back, so a
  snapshot that waits on something else never shares its transaction with another request.
  Writes stay on aiosqlite threads (AsyncSession), because they can wait on the write lock.

Driver errors are raised as SQLAlchemy's exception classes, so a lost database is the same 503
whichever path noticed it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Dialect

from app.core.compiled import Row, StatementCache, StatementListener, to_dicts
from app.core.sql import AnySelect

Fetch = Callable[[str, Any], Any]  # async (sql, args) -> rows


class Driver:
    """Runs read-only selects for one app instance (see the module docstring)."""

    def __init__(self, dialect: Dialect) -> None:
        self.statements = StatementCache(dialect)
        self.listeners: list[StatementListener] = []

    async def rows(
        self,
        stmt: AnySelect,
        params: Mapping[str, Any] | None = None,
        *,
        raw: bool = False,
        fixed: bool = False,
        on: Fetch | None = None,
    ) -> list[Row]:
        """The statement's rows as dicts (see `compiled.py` for `raw` and `fixed`), on its own
        (autocommit) or on the connection of a snapshot (`on`)."""
        shape, sql, args = self.statements.prepare(stmt, params, fixed=fixed)
        for listener in self.listeners:
            listener(sql)
        return to_dicts(shape, await (on or self._fetch)(sql, args), raw)

    def snapshot(self) -> Any:
        """An async context manager giving a `Fetch` whose statements all see one snapshot."""
        raise NotImplementedError

    async def _fetch(self, sql: str, args: Any) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def probe(self) -> str | None:
        raise NotImplementedError


def _sqlite_error(sql: str, args: Any, exc: sqlite3.Error) -> sa_exc.StatementError:
    return sa_exc.DBAPIError.instance(sql, args, exc, sqlite3.Error, hide_parameters=True)


class SqliteDriver(Driver):
    IDLE = 8  # connections kept open between requests

    def __init__(
        self, dialect: Dialect, path: str, busy_timeout_ms: int, mmap_bytes: int = 0
    ) -> None:
        super().__init__(dialect)
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self.mmap_bytes = mmap_bytes
        self._idle: list[sqlite3.Connection] = []
        self._open: set[sqlite3.Connection] = set()
        # PRAGMA data_version only compares within one connection: it gets its own.
        self._versions: sqlite3.Connection | None = None
        # The event loop is single-threaded, but tests and the CLI may use one app from two.
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout_ms / 1000,
            isolation_level=None,  # autocommit: each statement reads the latest commit
            check_same_thread=False,
        )
        # WAL is what lets these reads run on the event loop: readers never wait for the
        # writer. It is a property of the file (the session engine sets it too); make sure.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA query_only=ON")
        conn.execute(f"PRAGMA mmap_size={int(self.mmap_bytes)}")
        return conn

    def _take(self) -> sqlite3.Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            raise _sqlite_error("connect", (), exc) from exc
        with self._lock:
            self._open.add(conn)
        return conn

    def _give(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            if conn in self._open and len(self._idle) < self.IDLE:
                self._idle.append(conn)
                return
            self._open.discard(conn)
        conn.close()

    async def _fetch(self, sql: str, args: Any) -> Sequence[Sequence[Any]]:
        conn = self._take()
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise _sqlite_error(sql, args, exc) from exc
        finally:
            self._give(conn)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Fetch]:
        conn = self._take()

        async def fetch(sql: str, args: Any) -> Sequence[Sequence[Any]]:
            try:
                return conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise _sqlite_error(sql, args, exc) from exc

        try:
            # DEFERRED: the snapshot is taken at the first read, and held until COMMIT.
            conn.execute("BEGIN")
            yield fetch
        finally:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error:
                conn.close()
                with self._lock:
                    self._open.discard(conn)
            else:
                self._give(conn)

    def data_version(self) -> int:
        """SQLite's count of commits by other connections (PRAGMA data_version): a change of
        this number means the database changed, whichever process wrote."""
        with self._lock:
            try:
                if self._versions is None:
                    self._versions = self._connect()
                row = self._versions.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error as exc:
                raise _sqlite_error("PRAGMA data_version", (), exc) from exc
            return int(row[0])

    async def close(self) -> None:
        with self._lock:
            conns = [*self._open, *([self._versions] if self._versions else [])]
            self._idle.clear()
            self._open.clear()
            self._versions = None
        for conn in conns:
            conn.close()

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


class PostgresDriver(Driver):
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

    async def _getconn(
        self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]], sql: str, args: Any
    ) -> psycopg.AsyncConnection[Any]:
        try:
            return await pool.getconn()
        except psycopg.Error as exc:  # PoolTimeout: none free, or the database is down
            stats = pool.get_stats()
            if stats.get("pool_size", 0) >= self.size and not stats.get("pool_available"):
                # Every connection is open and in use: busy, not down (the same error
                # SQLAlchemy's own pool raises when it times out).
                raise sa_exc.TimeoutError(
                    f"all {self.size} read connections were busy for {self.timeout} s"
                ) from exc
            raise _pg_error(sql, args, exc) from exc

    async def _run(
        self, sql: str, args: Any, *, begin: bool
    ) -> tuple[psycopg.AsyncConnection[Any], Sequence[Sequence[Any]]]:
        """Run the statement on a pooled connection (in a new read-only snapshot if `begin`)
        and return the connection, still taken, with the rows.

        A connection the database dropped (a restart, a network cut) fails at once; nothing has
        been read yet, so the next one is tried. The pool replaces the broken ones."""
        pool = await self._get_pool()
        last: Exception = Exception("database connections keep failing")
        for _attempt in range(self.size + 1):
            conn = await self._getconn(pool, sql, args)
            try:
                # Binary results: the server skips formatting each value as text (timestamps
                # above all) and psycopg skips parsing it; measured about 10 % less server CPU
                # and 2-4 % fewer app instructions for a 50-row staff page.
                async with conn.cursor(binary=True) as cur:
                    if not begin:
                        await cur.execute(sql, args)
                        return conn, await cur.fetchall()
                    # The snapshot's BEGIN goes out with its first statement, in one round
                    # trip (pipeline mode) instead of two.
                    async with conn.pipeline():
                        await cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                        await cur.execute(sql, args)
                        return conn, await cur.fetchall()
            except psycopg.Error as exc:
                broken = conn.broken or conn.closed
                await pool.putconn(conn)
                if broken:
                    last = exc
                    continue
                raise _pg_error(sql, args, exc) from exc
            except BaseException:
                await pool.putconn(conn)
                raise
        raise _pg_error(sql, args, last)

    async def _fetch(self, sql: str, args: Any) -> Sequence[Sequence[Any]]:
        conn, rows = await self._run(sql, args, begin=False)
        await (await self._get_pool()).putconn(conn)
        return rows

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Fetch]:
        taken: list[psycopg.AsyncConnection[Any]] = []

        async def fetch(sql: str, args: Any) -> Sequence[Sequence[Any]]:
            if not taken:  # the first statement opens the snapshot
                conn, rows = await self._run(sql, args, begin=True)
                taken.append(conn)
                return rows
            try:
                async with taken[0].cursor(binary=True) as cur:
                    await cur.execute(sql, args)
                    return await cur.fetchall()
            except psycopg.Error as exc:
                raise _pg_error(sql, args, exc) from exc

        try:
            yield fetch
        finally:
            if taken:
                conn = taken[0]
                # Read only: ending it either way loses nothing. The pool rolls back (and
                # discards a broken connection) when the connection comes back in a transaction.
                if not (conn.broken or conn.closed):
                    with suppress(psycopg.Error):
                        await conn.execute("COMMIT")
                await (await self._get_pool()).putconn(conn)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None and self._loop is asyncio.get_running_loop():
            await pool.close()

    async def probe(self) -> str | None:
        """As SqliteDriver.probe: a connection of its own, never one of the pool's, so a busy
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


def _pg_error(sql: str, args: Any, exc: Exception) -> sa_exc.StatementError:
    return sa_exc.DBAPIError.instance(sql, args, exc, psycopg.Error, hide_parameters=True)


def _migration(execute: Callable[[str], Any], missing: type[Exception]) -> str | None:
    try:
        row = execute("SELECT version_num FROM alembic_version").fetchone()
    except missing as exc:
        if "no such table" in str(exc):
            return None
        raise
    return None if row is None else str(row[0])


def make_driver(url: URL, dialect: Dialect, settings: Any) -> Driver:
    if url.get_backend_name() == "sqlite":
        path = url.database
        if not path or path == ":memory:":
            raise ValueError(
                "SQLite needs a database file (an in-memory database is per connection)"
            )
        return SqliteDriver(
            dialect, path, settings.sqlite_busy_timeout_ms, settings.sqlite_mmap_bytes
        )
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresDriver(
        dialect,
        conninfo,
        size=settings.db_pool_size,
        timeout=settings.db_pool_timeout,
        connect_timeout=settings.db_connect_timeout,
    )


__all__ = ["Driver", "PostgresDriver", "Row", "SqliteDriver", "make_driver"]
