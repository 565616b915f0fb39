"""The read path's connections: every GET and the token check run here, on the driver itself.

Statements are built with SQLAlchemy and compiled once per shape (`compiled.py`); this module
owns the connections they run on. Domain code never sees it: it reads through `reads.Reads`.

- PostgreSQL: a `psycopg_pool` pool of autocommit connections (time zone UTC), separate from the
  sessions' pool. A single statement holds a connection only while it runs; a snapshot (several
  statements that must agree) holds one in a `REPEATABLE READ READ ONLY` transaction. The
  statements are sent through libpq itself (`libpq.py`), not psycopg's cursors.
- SQLite: plain `sqlite3` connections (WAL, `query_only`) used directly on the event loop: a WAL
  reader never waits for a writer, and the work holds the GIL either way, so nothing else could
  have run meanwhile. A statement or snapshot takes an idle connection and gives it back, so a
  snapshot that waits on something else never shares its transaction with another request.
  Write sessions stay on aiosqlite threads (AsyncSession), because they can wait on the write
  lock.

`transaction()` is the write path of `writes.Writes` (a change of a few statements, answered
from what it wrote): on PostgreSQL a read-write transaction on the same pool, its BEGIN sent with
its first statement; on SQLite a writer connection of its own (foreign keys on, not
`query_only`) whose BEGIN IMMEDIATE is tried on the event loop without waiting, and waits for
the write lock on a worker thread only when another process holds it (the event loop must not
wait). Once the lock is held nothing can make a statement wait, so the statements and the
COMMIT run on the event loop, as reads do: each hand-off to a thread and back cost more than
the statement (bench/README.md, nineteenth session). Checkpoints, which copy the WAL into the
database and sync it, run on a thread of their own (`SqliteDriver._checkpoint`).

Driver errors are raised as SQLAlchemy's exception classes, so a lost database is the same 503
whichever path noticed it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import select as sockets  # poll(), not SQLAlchemy's select
import sqlite3
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool
from pydantic_core import from_json
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Dialect

from app.core import libpq
from app.core.compiled import Row, Shape, StatementCache, StatementListener, to_dicts
from app.core.errors import CommitFailed
from app.core.sql import AnySelect, AnyStatement

Fetch = Callable[[str, Any], Any]  # async (sql, args) -> rows

log = logging.getLogger("peercoach.db")


@dataclass
class Batch:
    """A write transaction's channel to its connection: `fetch` runs a statement now (after
    those deferred, in the same round trip), `later` holds statements deferred to the next."""

    fetch: Fetch
    later: list[tuple[str, Any]] = field(default_factory=list)

    def take(self) -> list[tuple[str, Any]]:
        """The deferred statements, now on their way (no longer deferred)."""
        taken, self.later = self.later, []
        return taken


@dataclass
class _Each:
    """The values of one statement run for each of them (`SqliteDriver._many`)."""

    values: list[Any]


def _rows_of(cur: sqlite3.Cursor) -> list[Any]:
    """A cursor's rows, or none for a statement that returns none (an INSERT without
    RETURNING)."""
    return cur.fetchall() if cur.description is not None else []


class Slots:
    """At most `count` holders at once (per event loop: tests run several); one waits up to
    `wait` seconds for a slot, then the request answers 503 "busy" (SQLAlchemy's pool timeout
    error, as a full pool answers). `what` names the connections in that error."""

    def __init__(self, count: int, wait: float, what: str) -> None:
        self.count = count
        self.wait = wait
        self.what = what
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.count))
        return self._slots[1]

    async def take(self) -> None:
        slot = self._semaphore()
        if not slot.locked():  # free: taken at once, without a timer
            await slot.acquire()
            return
        try:
            async with asyncio.timeout(self.wait):
                await slot.acquire()
        except TimeoutError as exc:
            raise sa_exc.TimeoutError(
                f"all {self.count} {self.what} connections were busy for {self.wait} s"
            ) from exc

    def give(self) -> None:
        self._semaphore().release()

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        await self.take()
        try:
            yield
        finally:
            self.give()


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
            listener(sql, args)
        return to_dicts(shape, await (on or self._fetch)(sql, args), raw)

    def snapshot(self) -> Any:
        """An async context manager giving a `Fetch` whose statements all see one snapshot."""
        raise NotImplementedError

    def transaction(self) -> Any:
        """An async context manager giving a `Batch`: statements of one read-write
        transaction, committed when the block ends without an exception (rolled back
        otherwise). A commit that fails for any reason but a refused statement raises
        `CommitFailed`: the change was probably not saved."""
        raise NotImplementedError

    def _prepared(
        self, stmt: AnyStatement, params: Mapping[str, Any] | None, fixed: bool
    ) -> tuple[Shape, str, Any]:
        shape, sql, args = self.statements.prepare(stmt, params, fixed=fixed)
        for listener in self.listeners:
            listener(sql, args)
        return shape, sql, args

    async def write_rows(
        self,
        stmt: AnyStatement,
        params: Mapping[str, Any] | None,
        fixed: bool = False,
        *,
        on: Batch,
    ) -> list[Row]:
        """Run a statement of a `transaction()` now (a select, or an INSERT, UPDATE or DELETE
        whose RETURNING the caller needs): its rows as dicts of typed values. Statements
        deferred before it go in the same round trip."""
        shape, sql, args = self._prepared(stmt, params, fixed)
        return to_dicts(shape, await on.fetch(sql, args), False)

    def write_later(
        self, stmt: AnyStatement, params: Mapping[str, Any] | None, fixed: bool, *, on: Batch
    ) -> None:
        """Defer a statement whose result nobody reads (an INSERT) to the transaction's next
        round trip: the next statement run now, or the COMMIT. A refusal (a constraint) is
        raised there."""
        _, sql, args = self._prepared(stmt, params, fixed)
        on.later.append((sql, args))

    def write_many(
        self, stmt: AnyStatement, rows: Sequence[Mapping[str, Any]], *, on: Batch
    ) -> None:
        """Defer a statement built once (a template, as `fixed`) run once for each of `rows`
        (the values of its bind parameters), as `write_later` would each: the journal's
        batches (core/journal.py). Not shown to statement listeners: no request runs them."""
        prepared = [self.statements.prepare(stmt, row, fixed=True) for row in rows]
        on.later.extend(self._many([(sql, args) for _, sql, args in prepared]))

    def _many(self, statements: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """Statements of one text with different values, as the transaction runs them: each
        in the round trip (PostgreSQL's pipeline)."""
        return statements

    async def _fetch(self, sql: str, args: Any) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def probe(self) -> str | None:
        raise NotImplementedError


def _sqlite_error(sql: str, args: Any, exc: sqlite3.Error) -> sa_exc.StatementError:
    return sa_exc.DBAPIError.instance(sql, args, exc, sqlite3.Error, hide_parameters=True)


# Descriptors of WAL indexes (`-shm` files), one per file, opened once per process and never
# closed. SQLite locks that file with POSIX advisory locks, and a process loses all of its
# locks on a file when it closes *any* descriptor of it: a descriptor of ours closed while a
# connection of this process held the write lock or a read mark let another process write over
# the WAL under it (seen: a created school answered 201 and not stored, with two workers).
_WAL_INDEXES: dict[str, int] = {}
_WAL_INDEXES_LOCK = threading.Lock()


def _wal_index_descriptor(path: str) -> int | None:
    """A read-only descriptor of the database's WAL index, kept for the process. When the file
    was replaced (SQLite deletes it with a database's last connection, and the next connection
    makes a new one), the old descriptor is closed: no connection anywhere had it open when it
    was deleted, and none can open it since, so no lock of this process is on it."""
    shm = f"{path}-shm"
    with _WAL_INDEXES_LOCK:
        try:
            now = os.stat(shm)
        except OSError:
            return None
        fd = _WAL_INDEXES.get(shm)
        if fd is not None:
            kept = os.fstat(fd)
            if (kept.st_dev, kept.st_ino) == (now.st_dev, now.st_ino):
                return fd
            os.close(fd)
            del _WAL_INDEXES[shm]
        try:
            fd = os.open(shm, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None
        _WAL_INDEXES[shm] = fd
        return fd


class SqliteDriver(Driver):
    IDLE = 8  # connections kept open between requests
    # A writer's COMMIT that took SQLite's automatic checkpoint (at 1,000 pages of WAL) copied
    # the WAL into the database and synced it there, on the event loop: up to 16 ms on the
    # bench machine, a third of all COMMIT time. The driver's writers run a passive checkpoint
    # on a thread of their own every CHECKPOINT_EVERY commits instead (a checkpoint and a
    # writer run side by side in WAL mode), and keep the automatic one only as a backstop.
    CHECKPOINT_EVERY = 64
    WRITER_AUTOCHECKPOINT = 10_000

    def __init__(
        self,
        dialect: Dialect,
        path: str,
        busy_timeout_ms: int,
        mmap_bytes: int = 0,
    ) -> None:
        super().__init__(dialect)
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self.mmap_bytes = mmap_bytes
        self._idle: list[sqlite3.Connection] = []
        self._writers: list[sqlite3.Connection] = []  # idle writer connections
        self._open: set[sqlite3.Connection] = set()
        # One write transaction at a time, on one thread; the others wait for the slot in turn,
        # as long as they would for the lock itself (the busy timeout). SQLite has one write
        # lock, so a second transaction of this process could only wait for it in SQLite's busy
        # handler, which sleeps in growing steps (up to 100 ms) and does not notice the lock
        # come free: with five, 32 connections creating events answered 181 a second with a
        # p99 of 1.1 s; with one, 217 and 229 ms (bench/README.md, thirteenth session). Other
        # processes' writers and this process's sessions still meet it on the busy timeout.
        self._write_slots = Slots(1, busy_timeout_ms / 1000, "write")
        self._threads = self._new_threads()
        # Passive checkpoints, off the event loop (`_after_commit`).
        self._checkpoints = self._new_checkpoints()
        self._checkpointer: sqlite3.Connection | None = None
        self._checkpointing = False
        self._commits = 0
        self.checkpoints = 0  # checkpoints run (tests)
        # PRAGMA data_version only compares within one connection: it gets its own.
        self._versions: sqlite3.Connection | None = None
        self._wal_index: int | None = None  # a descriptor of the WAL index (`commit_marker`)
        self._wal_index_missing = False  # tried once the connection was open, and not there
        # The event loop is single-threaded, but tests and the CLI may use one app from two.
        self._lock = threading.Lock()

    def _connect(self, *, writer: bool = False) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout_ms / 1000,
            isolation_level=None,  # autocommit: each statement reads the latest commit
            check_same_thread=False,
        )
        # WAL is what lets these reads run on the event loop: readers never wait for the
        # writer. It is a property of the file (the session engine sets it too); make sure.
        conn.execute("PRAGMA journal_mode=WAL")
        if writer:  # as the session engine's connections (db.configure_sqlite)
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            # Its statements run on the event loop, which must never wait for a lock: BEGIN
            # IMMEDIATE waits on a worker thread instead (`_begin`), the busy timeout set there.
            conn.execute("PRAGMA busy_timeout=0")
            # Checkpoints are `_checkpoint`'s; past this many pages of WAL a COMMIT still runs
            # one itself, should that thread fall behind.
            conn.execute(f"PRAGMA wal_autocheckpoint={self.WRITER_AUTOCHECKPOINT}")
        else:
            conn.execute("PRAGMA query_only=ON")
        conn.execute(f"PRAGMA mmap_size={int(self.mmap_bytes)}")
        return conn

    def _take(self, *, writer: bool = False) -> sqlite3.Connection:
        idle = self._writers if writer else self._idle
        with self._lock:
            if idle:
                return idle.pop()
        try:
            conn = self._connect(writer=writer)
        except sqlite3.Error as exc:
            raise _sqlite_error("connect", (), exc) from exc
        with self._lock:
            self._open.add(conn)
        return conn

    def _give(self, conn: sqlite3.Connection, *, writer: bool = False) -> None:
        idle = self._writers if writer else self._idle
        with self._lock:
            if conn in self._open and len(idle) < self.IDLE:
                idle.append(conn)
                return
            self._open.discard(conn)
        conn.close()

    def _drop(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            self._open.discard(conn)
        with suppress(sqlite3.Error):
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

    def _new_threads(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(self._write_slots.count, thread_name_prefix="sqlite-writes")

    def _new_checkpoints(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(1, thread_name_prefix="sqlite-checkpoints")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Batch]:
        async with self._write_slots.held(), self._transaction() as batch:
            yield batch

    def _many(self, statements: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """One `executemany` for each text (on the event loop, as every statement of a write
        transaction: a batch of the journal on a thread of its own contended with the requests
        for the interpreter at each row)."""
        out: list[tuple[str, Any]] = []
        for sql, args in statements:
            if out and out[-1][0] == sql:
                out[-1][1].values.append(args)
            else:
                out.append((sql, _Each([args])))
        return out

    def _begin(self, conn: sqlite3.Connection) -> None:
        """On a worker thread: BEGIN IMMEDIATE, waiting for another process's write lock on
        the busy timeout (nothing is written if it runs out)."""
        conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
        try:
            conn.execute("BEGIN IMMEDIATE")
        finally:
            conn.execute("PRAGMA busy_timeout=0")

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Batch]:
        conn = self._take(writer=True)
        began = False
        waited = False  # BEGIN went to the worker thread (it may still be running there)
        loop = asyncio.get_running_loop()

        async def begin() -> None:
            nonlocal began, waited
            try:
                try:
                    conn.execute("BEGIN IMMEDIATE")  # the write lock, if it is free now
                except sqlite3.OperationalError as exc:
                    if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                        raise
                    waited = True  # another process holds it: wait off the event loop
                    await loop.run_in_executor(self._threads, self._begin, conn)
            except sqlite3.Error as exc:  # the busy timeout ran out: nothing was written
                raise _sqlite_error("BEGIN IMMEDIATE", (), exc) from exc
            began = True

        def run(statements: list[tuple[str, Any]], commit: bool) -> list[Any]:
            """The statements in order (the write lock held), the last one's rows."""
            rows: list[Any] = []
            for sql, args in statements:
                try:
                    if isinstance(args, _Each):
                        conn.executemany(sql, args.values)
                        rows = []
                    else:
                        rows = _rows_of(conn.execute(sql, args))
                except sqlite3.Error as exc:
                    raise _sqlite_error(sql, args, exc) from exc
            if commit:
                try:
                    conn.execute("COMMIT")
                except sqlite3.IntegrityError as exc:  # a deferred constraint: a conflict
                    raise _sqlite_error("COMMIT", (), exc) from exc
                except sqlite3.Error as exc:
                    raise CommitFailed(exc) from exc
            return rows

        def roll_back() -> None:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

        async def fetch(sql: str, args: Any) -> Sequence[Sequence[Any]]:
            if not began:
                await begin()
            return run([*batch.take(), (sql, args)], False)

        batch = Batch(fetch)
        try:
            yield batch
            if batch.later or began:
                if not began:
                    await begin()
                run(batch.take(), True)
        except BaseException:
            try:
                if waited:  # after the BEGIN, on the thread it may still be running on
                    await loop.run_in_executor(self._threads, roll_back)
                else:
                    roll_back()
            except sqlite3.Error:
                self._drop(conn)
                raise
            self._give(conn, writer=True)
            raise
        self._give(conn, writer=True)
        if began:
            self._after_commit()

    def _after_commit(self) -> None:
        """Count a commit; every CHECKPOINT_EVERY, a passive checkpoint on its thread (unless
        one is still running)."""
        self._commits += 1
        if self._commits % self.CHECKPOINT_EVERY == 0 and not self._checkpointing:
            self._checkpointing = True
            self._checkpoints.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        """On the checkpoint thread: copy what the WAL holds into the database, as far as no
        reader still needs it (PASSIVE: it waits for nobody and nobody waits for it). A
        failure is left to the next one, or to a writer's automatic checkpoint."""
        try:
            if self._checkpointer is None:
                self._checkpointer = self._connect(writer=True)
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error:
            log.warning("SQLite checkpoint failed; the next one or a writer will do it")
        finally:
            self._checkpointing = False

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

    # The WAL index's header (the first of its two copies), as SQLite documents the file
    # (https://www.sqlite.org/walformat.html, "The WAL-Index Header"): its first field is the
    # format's version, 3007000 since WAL began; another version is not read.
    WAL_INDEX_HEADER = 48
    WAL_INDEX_VERSION = 3007000

    def commit_marker(self) -> bytes | None:
        """The header of the WAL index (the `-shm` file), as it stands: every commit, by any
        connection of any process, rewrites it (its change counter, the WAL's last frame, and
        its salts when the WAL starts over), so an equal marker means nothing was committed in
        between. One `pread` (about a microsecond), where `data_version` is a statement (11 us
        inside a request on the bench machine). None until `data_version` has opened its
        connection (which keeps the file in place: SQLite deletes it only with the last
        connection), for a database without one (in memory), and for a header of another
        format."""
        fd = self._wal_index
        if fd is None:
            if self._versions is None or self._wal_index_missing:
                return None
            fd = self._wal_index = _wal_index_descriptor(self.path)
            if fd is None:
                self._wal_index_missing = True
                return None
        try:
            header = os.pread(fd, self.WAL_INDEX_HEADER, 0)
        except OSError:
            return None
        if (
            len(header) < self.WAL_INDEX_HEADER
            or int.from_bytes(header[:4], sys.byteorder) != self.WAL_INDEX_VERSION
        ):
            return None
        return header

    def peek(self, stmt: AnySelect, params: Mapping[str, Any] | None = None) -> list[Row]:
        """A fixed statement's rows, read at once on the connection `data_version` reads
        (synchronously: for a check that cannot wait, as the principal cache's before each
        lookup). Like `data_version`, not one of a request's statements: listeners do not see
        it."""
        shape, sql, args = self.statements.prepare(stmt, params, fixed=True)
        with self._lock:
            try:
                if self._versions is None:
                    self._versions = self._connect()
                found = self._versions.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise _sqlite_error(sql, args, exc) from exc
        return to_dicts(shape, found, False)

    async def close(self) -> None:
        with self._lock:
            conns = [*self._open, *([self._versions] if self._versions else [])]
            self._idle.clear()
            self._writers.clear()
            self._open.clear()
            self._versions = None
            self._wal_index = None  # (the descriptor stays open: `_wal_index_descriptor`)
            threads = self._threads
            self._threads = self._new_threads()
            checkpoints = self._checkpoints
            self._checkpoints = self._new_checkpoints()
        for conn in conns:
            conn.close()
        threads.shutdown(wait=False)
        # A checkpoint under way finishes first (it holds its own connection).
        await asyncio.get_running_loop().run_in_executor(None, checkpoints.shutdown)
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None

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
    # A connection given back idle (no transaction open) waits in `_ready`, and the next
    # statement takes it from there before asking the pool: psycopg_pool's getconn and putconn
    # (a lock each, statistics, log calls, the checks of a returned connection) were about
    # 43,000 of a one-statement read's 750,000 instructions in the app (bench/README.md,
    # twenty-fifth session). The pool counts such a connection as in use; each goes back to it
    # once it has been out HAND_BACK seconds (given back then, or found waiting by the sweep
    # that runs with a give-back at most every SWEEP seconds), where the pool's rules apply to
    # it as before (its lifetime, its idle time, a connection found broken), and anything not
    # idle (broken, given back inside a transaction) goes straight back.
    HAND_BACK = 30.0
    SWEEP = 1.0

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
        # Write transactions share the pool with reads but take at most half of it (rounded
        # up): a burst of writers, some waiting on a lock, never leaves the reads (and every
        # request's account check) without a connection.
        self._write_slots = Slots(max(1, (size + 1) // 2), timeout, "write")
        # Every connection taken from the pool holds one of these first, so the pool itself
        # never has a waiter: psycopg_pool hands a returned connection to a waiting task
        # through a condition, a lock and a future of its own each (under 32 connections'
        # load, a third of a one-statement read's time in the driver went there); a
        # semaphore's waiter is one future.
        self._read_slots = Slots(size, timeout, "read")
        self._ready: list[psycopg.AsyncConnection[Any]] = []  # most recently given back last
        self._out_since: dict[psycopg.AsyncConnection[Any], float] = {}  # taken from the pool
        self._next_sweep = 0.0

    async def _get_pool(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop:
            # A pool belongs to one event loop (tests run several); a new loop gets a new pool.
            self._loop = loop
            self._ready, self._out_since = [], {}
            self._pool = AsyncConnectionPool(
                self.conninfo,
                min_size=1,
                max_size=self.size,
                timeout=self.timeout,
                open=False,
                name="peercoach-reads",
                configure=_configure,
                kwargs={
                    "autocommit": True,
                    "connect_timeout": self.connect_timeout,
                    # UTF-8 whatever the database's default: libpq.py writes and reads text
                    # as UTF-8.
                    "options": "-c TimeZone=UTC -c client_encoding=UTF8",
                },
            )
        if self._pool.closed:  # not opened yet (opening an open pool takes its lock again)
            await self._pool.open()
        return self._pool

    async def _getconn(
        self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]], sql: str, args: Any
    ) -> psycopg.AsyncConnection[Any]:
        """A connection of the pool, with a read slot (`_putconn` gives both back)."""
        await self._read_slots.take()
        if self._ready:
            return self._ready.pop()
        try:
            conn = await pool.getconn()
            self._out_since[conn] = time.monotonic()
            return conn
        except psycopg.Error as exc:  # PoolTimeout: none free, or the database is down
            self._read_slots.give()
            stats = pool.get_stats()
            if stats.get("pool_size", 0) >= self.size and not stats.get("pool_available"):
                # Every connection is open and in use: busy, not down (the same error
                # SQLAlchemy's own pool raises when it times out).
                raise sa_exc.TimeoutError(
                    f"all {self.size} read connections were busy for {self.timeout} s"
                ) from exc
            raise _pg_error(sql, args, exc) from exc
        except BaseException:
            self._read_slots.give()
            raise

    async def _putconn(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Give back a connection `_getconn` gave: to `_ready` while it is idle and has been
        out of the pool less than HAND_BACK seconds, else to the pool."""
        try:
            since = self._out_since.get(conn)
            now = time.monotonic()
            if (
                since is not None
                and conn.pgconn.transaction_status == pq.TransactionStatus.IDLE
                and now - since < self.HAND_BACK
            ):
                self._ready.append(conn)
                if now >= self._next_sweep:
                    await self._hand_back_waiting(now)
                return
            self._out_since.pop(conn, None)
            await (await self._get_pool()).putconn(conn)
        finally:
            self._read_slots.give()

    async def _hand_back_waiting(self, now: float) -> None:
        """Give the pool back the waiting connections out of it HAND_BACK seconds or more: one
        not taken again since (the last in `_ready` is taken first) would otherwise stay."""
        self._next_sweep = now + self.SWEEP
        old = [c for c in self._ready if now - self._out_since[c] >= self.HAND_BACK]
        if not old:
            return
        self._ready = [c for c in self._ready if c not in old]
        pool = await self._get_pool()
        for conn in old:
            del self._out_since[conn]
            await pool.putconn(conn)

    async def _run(
        self,
        sql: str,
        args: Any,
        *,
        begin: str | None,
        before: Sequence[tuple[str, Any]] = (),
    ) -> tuple[psycopg.AsyncConnection[Any], Sequence[Sequence[Any]]]:
        """Run the statement on a pooled connection (in a new transaction opened by `begin`,
        if given) and return the connection, still taken, with the rows.

        A connection the database dropped (a restart, a network cut) fails at once; nothing has
        been read or written yet (a transaction's first statement went with its BEGIN), so the
        next one is tried. The pool replaces the broken ones."""
        pool = await self._get_pool()
        last: Exception = Exception("database connections keep failing")
        for _attempt in range(self.size + 1):
            conn = await self._getconn(pool, sql, args)
            try:
                # Binary results: the server skips formatting each value as text (timestamps
                # above all) and psycopg skips parsing it; measured about 10 % less server CPU
                # and 2-4 % fewer app instructions for a 50-row staff page. A transaction's
                # BEGIN goes out with its first statement (and those deferred before it), in
                # one round trip (pipeline mode).
                opening = [] if begin is None else [(begin, None), *before]
                return conn, await _pipelined(conn, opening, sql, args)
            except psycopg.Error as exc:
                broken = conn.broken or conn.closed
                await self._putconn(conn)
                if broken:
                    last = exc
                    continue
                raise _pg_error(sql, args, exc) from exc
            except BaseException:
                await self._putconn(conn)
                raise
        raise _pg_error(sql, args, last)

    async def _fetch(self, sql: str, args: Any) -> Sequence[Sequence[Any]]:
        conn, rows = await self._run(sql, args, begin=None)
        await self._putconn(conn)
        return rows

    def _opened_by(self, begin: str, taken: list[psycopg.AsyncConnection[Any]]) -> Batch:
        """A `Batch` whose first statement opens a transaction (`begin`) on a pooled
        connection, put in `taken`, and whose later ones run on it; statements deferred go
        with the next one, in the same round trip."""

        async def fetch(sql: str, args: Any) -> Sequence[Sequence[Any]]:
            before = batch.take()
            if not taken:
                conn, rows = await self._run(sql, args, begin=begin, before=before)
                taken.append(conn)
                return rows
            try:
                return await _pipelined(taken[0], before, sql, args)
            except psycopg.Error as exc:
                raise _pg_error(sql, args, exc) from exc

        batch = Batch(fetch)
        return batch

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Fetch]:
        taken: list[psycopg.AsyncConnection[Any]] = []
        fetch = self._opened_by("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", taken).fetch
        try:
            yield fetch
        finally:
            if taken:
                conn = taken[0]
                # Read only: ending it either way loses nothing. The pool rolls back (and
                # discards a broken connection) when the connection comes back in a transaction.
                if not (conn.broken or conn.closed):
                    with suppress(psycopg.Error):
                        await libpq.run(conn, [("COMMIT", None)])
                await self._putconn(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Batch]:
        async with self._write_slots.held(), self._transaction() as batch:
            yield batch

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Batch]:
        taken: list[psycopg.AsyncConnection[Any]] = []
        batch = self._opened_by("BEGIN", taken)
        try:
            yield batch
        except BaseException:
            if taken:  # a refusal (409, 422) is routine: roll back here, not in the pool
                conn = taken[0]
                if not (conn.broken or conn.closed):
                    with suppress(psycopg.Error):
                        await libpq.run(conn, [("ROLLBACK", None)])
                await self._putconn(conn)
            raise
        if taken or batch.later:
            await self._commit(taken, batch.take())

    async def _commit(
        self, taken: list[psycopg.AsyncConnection[Any]], later: list[tuple[str, Any]]
    ) -> None:
        """COMMIT, after what was deferred, in one round trip. A transaction that ran nothing
        yet is sent whole (BEGIN, its statements, COMMIT); one of a single statement runs it
        alone, in autocommit. A statement the database refuses raises as itself (nothing was
        saved); a COMMIT it did not confirm raises `CommitFailed`."""
        pool = await self._get_pool()
        if taken:
            conn = taken[0]
        else:
            conn = await self._getconn(pool, "COMMIT", ())
            if conn.broken or conn.closed or closed_by_server(conn.fileno()):
                await conn.close()  # given back closed: the pool replaces it
                await self._putconn(conn)
                conn = await self._getconn(pool, "COMMIT", ())
        try:
            if not taken and len(later) == 1:
                await libpq.run(conn, later)
            else:
                statements = later if taken else [("BEGIN", None), *later]
                await _pipelined(conn, statements, "COMMIT", None)
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise CommitFailed(exc) from exc
        except psycopg.Error as exc:
            raise _pg_error("COMMIT", (), exc) from exc
        finally:
            await self._putconn(conn)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        ready, self._ready, self._out_since = self._ready, [], {}
        if pool is not None and self._loop is asyncio.get_running_loop():
            for conn in ready:  # the pool closes them with its own
                await pool.putconn(conn)
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


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    """A new pooled connection parses JSON with pydantic-core's parser, as SQLite's reads do
    (compiled.py): a page's nested lists and objects in a quarter of `json.loads`'s time.

    psycopg prepares nothing itself: statements are prepared by `libpq.py`, and psycopg's own
    bookkeeping, having prepared something, answers the pool's rollback of a connection given
    back in a transaction with DEALLOCATE ALL, which would drop those too."""
    set_json_loads(from_json, conn)
    conn.prepare_threshold = None


async def _pipelined(
    conn: psycopg.AsyncConnection[Any], before: Sequence[tuple[str, Any]], sql: str, args: Any
) -> list[Any]:
    """`before` and then the statement in one round trip, on libpq itself (`libpq.py`): the
    statement's rows."""
    return await libpq.run(conn, [*before, (sql, args)])


def closed_by_server(fileno: int) -> bool:
    """Whether the server closed this idle connection (a restart, an idle timeout): its socket
    is readable, with the server's goodbye or the end of the stream, where an idle connection
    of ours has nothing to read. A `poll()` with no wait (`select()` refuses descriptors past
    1023, which a busy server has). Checked before use by the sessions' pool
    (`db.check_before_use`) and before a COMMIT sent with its transaction, which cannot be
    retried once sent: whether it committed would be unknown."""
    idle = sockets.poll()
    idle.register(fileno, sockets.POLLIN)
    return bool(idle.poll(0))


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
            dialect,
            path,
            settings.sqlite_busy_timeout_ms,
            settings.sqlite_mmap_bytes,
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
