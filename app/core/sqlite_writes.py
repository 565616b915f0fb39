"""SQLite write sessions with one trip to the driver's thread per statement.

Write sessions on SQLite run on SQLAlchemy's aiosqlite dialect: aiosqlite keeps each sqlite3
connection on a thread of its own and hands it every call. SQLAlchemy's cursor makes four such
calls per statement (create a cursor, execute, fetch, close), and each hand-off wakes the thread
and then the event loop: measured on the bench machine, a transaction of one `SELECT 1` cost
1.9 ms through the session against 0.2 ms for the same work on sqlite3 itself, and creating an
event (seven statements) made 27 hand-offs.

`connect` gives the engine (`create_async_engine(async_creator=...)`, public API) an aiosqlite
connection whose cursors run a statement and fetch its rows in one hand-off, then answer
`fetch*`, `description`, `rowcount` and `lastrowid` from what that call returned. Everything
else (transactions, commit, rollback, closing, errors) is aiosqlite's own.

What this relies on beyond aiosqlite's documented API: `Connection._execute` (queue a function
for the connection's thread) and `Connection._conn` (the sqlite3 connection, used only on that
thread). `TESTED_AIOSQLITE` names the releases this was checked against; a test fails on any
other, and the pin in pyproject.toml keeps installs within it.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from importlib.metadata import version
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager

# [from, to) as (major, minor, patch). Keep in step with the pin in pyproject.toml.
TESTED_AIOSQLITE = ((0, 22, 0), (0, 23, 0))


def is_tested(release: str | None = None) -> bool:
    parts = tuple(int(p) for p in (release or version("aiosqlite")).split(".")[:3])
    low, high = TESTED_AIOSQLITE
    return low <= parts < high


_Outcome = tuple[list[Any], Any, int, int | None]


def _run(db: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: the statement, its rows and what the cursor says of it."""
    cursor = db.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return rows, cursor.description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(aiosqlite.Cursor):
    """A cursor whose statement runs and fetches in one call on the connection's thread."""

    def __init__(self, conn: OneTripConnection) -> None:
        self.iter_chunk_size = conn._iter_chunk_size
        self._conn = conn
        self._rows: deque[Any] = deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    async def _go(self, sql: str, parameters: Any, many: bool) -> OneTripCursor:
        db = self._conn._conn
        outcome = await self._conn._execute(_run, db, sql, parameters, many)
        rows, self._description, self._rowcount, self._lastrowid = outcome
        self._rows = deque(rows)
        return self

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> OneTripCursor:
        return await self._go(sql, () if parameters is None else parameters, False)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> OneTripCursor:
        return await self._go(sql, parameters, True)

    async def executescript(self, sql_script: str) -> OneTripCursor:
        db = self._conn._conn
        await self._conn._execute(partial(db.executescript, sql_script))
        self._rows, self._description = deque(), None
        return self

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = self._arraysize if size is None else size
        return [self._rows.popleft() for _ in range(min(count, len(self._rows)))]

    async def fetchall(self) -> Sequence[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    @property
    def description(self) -> Any:
        return self._description


class OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection, with cursors that cost no hand-off of their own."""

    @contextmanager
    async def cursor(self) -> aiosqlite.Cursor:
        return OneTripCursor(self)


def creator(path: str, timeout_seconds: float) -> Callable[[], Awaitable[OneTripConnection]]:
    """The session engine's `async_creator`: connections opened as SQLAlchemy's aiosqlite
    dialect opens them (`check_same_thread=False`, the busy timeout)."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(path, timeout=timeout_seconds, check_same_thread=False)

    async def connect() -> OneTripConnection:
        connection = OneTripConnection(connector, iter_chunk_size=64)
        await connection  # starts its thread and opens the file there
        return connection

    return connect
