"""Database engine, sessions and the column types every table shares.

One `DATABASE_URL` configures everything: the app derives the async driver from it (aiosqlite or
psycopg 3 in async mode) and Alembic the sync one.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, MetaData, Table, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, declared_attr
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

from app.core import sqlite_writes
from app.core.config import Settings
from app.core.drivers import Driver, closed_by_server, make_driver
from app.core.errors import CommitFailed
from app.core.kept import KeptDocuments

# Stable constraint names, so migrations can drop and alter them on both engines.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata


def columns_of(row: Any) -> dict[str, Any]:
    """A table row's column values as a dict (model_dump would re-serialize enum columns that
    load as plain strings, with warnings)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def table_of(model: type[SQLModel]) -> Table:
    """A table model's `Table` (SQLModel does not declare `__table__` to type checkers)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def time_ordered_id() -> uuid.UUID:
    """A UUID of version 7 (RFC 9562, section 5.7): the Unix time in milliseconds, then 74
    random bits. For rows that are only ever appended (the audit trail, the confidential-read
    log, notifications): a new row's id lands at the end of its primary key's index, where a
    random one dirtied a page of it anywhere. A batch of 1,000 confidential reads at district
    scale (SQLite) cost 53 ms of CPU with random ids, most of it the COMMIT writing the pages
    to the WAL, and 17 ms with these."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits: 12 for rand_a, 62 for rand_b
    value = (
        (millis & (1 << 48) - 1) << 80
        | 0x7 << 76  # version 7
        | (rand >> 68) << 64
        | 0b10 << 62  # the RFC's variant
        | rand & (1 << 62) - 1
    )
    return uuid.UUID(int=value)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both engines.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so values are stored as naive UTC
    and given their zone back on load. Naive values are refused: they are a bug, never a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def one_of(column: str, choices: type[StrEnum]) -> CheckConstraint:
    """The CHECK that `column` holds one of the enum's values, generated from the enum itself
    (named after the column), so the two cannot drift apart."""
    values = ", ".join(f"'{c.value}'" for c in choices)
    return CheckConstraint(f"{column} IN ({values})", name=column)


def version_checked() -> Any:
    """`__mapper_args__` for a table with a `version` column (the ETag of its rows).

    Every UPDATE of such a row carries `WHERE version = <the version this transaction read>`,
    so checking `If-Match` against what was read and writing the change are one atomic step:
    if another transaction changed the row in between, nothing is written and the flush raises
    `StaleDataError` (answered 412, or 409 without `If-Match`). PostgreSQL re-checks the
    condition after waiting for the other writer's row lock, so two requests that both passed
    the `If-Match` check can never both save. The services still set the new version
    themselves (`version_id_generator=False`), so a change that does not bump it is possible."""

    @declared_attr.directive
    def mapper_args(cls: Any) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version, "version_id_generator": False}

    return mapper_args


def _normalise(url: str) -> URL:
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    return make_url(url)


def async_url(url: str) -> URL:
    u = _normalise(url)
    if u.get_backend_name() == "sqlite":
        return u.set(drivername="sqlite+aiosqlite")
    if u.get_backend_name() == "postgresql":
        return u.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database: {u.get_backend_name()} (use sqlite or postgresql)")


def sync_url(url: str) -> URL:
    u = _normalise(url)
    if u.get_backend_name() == "sqlite":
        return u.set(drivername="sqlite")
    if u.get_backend_name() == "postgresql":
        return u.set(drivername="postgresql+psycopg")
    raise ValueError(f"unsupported database: {u.get_backend_name()} (use sqlite or postgresql)")


def configure_sqlite(sync_engine: Any, busy_timeout_ms: int, mmap_bytes: int = 0) -> None:
    """WAL, foreign keys, a busy timeout, and explicit BEGIN so writers can lock up front.

    pysqlite's own transaction handling starts transactions lazily and cannot take the write
    lock at BEGIN; we switch it off and emit BEGIN ourselves, IMMEDIATE for write sessions
    (execution option `sqlite_begin`), so concurrent writers queue on the busy timeout instead
    of failing with "database is locked" when a read lock cannot be upgraded.
    """

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA mmap_size={int(mmap_bytes)}")
        cur.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode != "NONE":  # read sessions run in autocommit, like PostgreSQL's (see Database)
            conn.exec_driver_sql(f"BEGIN {mode}")


class TrackingSession(Session):
    """A session that notes which tables its transaction writes and, after each commit, calls
    the hooks in `info["after_commit"]` with them (`Database.after_commit`). Seen: ORM flushes
    and DML statements (`insert(...)`, `update(...)`, `delete(...)`) run through the session."""


def _written(session: Session) -> set[str]:
    written: set[str] = session.info.setdefault("written", set())
    return written


@event.listens_for(TrackingSession, "after_flush")
def _note_flush(session: Session, _flush: UOWTransaction) -> None:
    tables = {
        getattr(obj, "__table__", None) for obj in (*session.new, *session.dirty, *session.deleted)
    }
    _written(session).update(t.name for t in tables if t is not None)


@event.listens_for(TrackingSession, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        _written(state.session).add(getattr(table, "name", "*"))


@event.listens_for(TrackingSession, "after_commit")
def _committed(session: Session) -> None:
    written = session.info.pop("written", None)
    if written:
        for hook in session.info.get("after_commit", ()):
            hook(written)


@event.listens_for(TrackingSession, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop("written", None)


async def _commit(session: AsyncSession) -> None:
    try:
        await session.commit()
    except sa_exc.IntegrityError:
        raise  # a constraint refused the change: a conflict, answered 409
    except sa_exc.DBAPIError as exc:
        with contextlib.suppress(Exception):
            await session.rollback()
        raise CommitFailed(exc.orig or exc) from exc


# A pooled PostgreSQL connection idle longer than this is pinged before use; one used more
# recently is only checked for what the server sent it while it sat in the pool.
PING_AFTER_IDLE_SECONDS = 10.0


def check_before_use(sync_engine: Any, ping_after: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Replace dropped PostgreSQL connections at checkout, as `pool_pre_ping` does, without a
    round trip for connections in steady use.

    `pool_pre_ping` runs `SELECT 1` at every checkout: a round trip costing about 0.15 ms of
    CPU on every write (bench/README.md). A connection the server closed while it sat in the
    pool (a restart, `pg_terminate_backend`, an idle timeout) has its socket readable: the
    server's goodbye or the end of the stream, where an idle connection of ours has nothing to
    read (sessions never LISTEN). That test costs a `poll()` with no wait. A connection idle
    longer than `ping_after` is pinged as well, for drops that send nothing (a firewall
    forgetting the flow). A failed check raises `DisconnectionError`, on which the pool
    discards the connection and takes another."""
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "checkin")
    def _note_use(_dbapi: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _check(dbapi: Any, record: Any, _proxy: Any) -> None:
        driver = record.driver_connection
        if driver.closed or driver.broken:
            raise sa_exc.DisconnectionError("the connection is closed")
        if closed_by_server(driver.fileno()):
            raise sa_exc.DisconnectionError("the server closed the connection while it was idle")
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since > ping_after:
            try:
                alive = dialect.do_ping(dbapi)
            except dialect.loaded_dbapi.Error as exc:
                raise sa_exc.DisconnectionError(str(exc)) from exc
            if not alive:
                raise sa_exc.DisconnectionError("the connection did not answer a ping")


# Rows ANALYZE samples per index (SQLite's recommended bound for a quick, good-enough estimate).
SQLITE_ANALYSIS_LIMIT = 1000


class Database:
    """The engine and session factories of one app instance."""

    def __init__(self, settings: Settings) -> None:
        url = async_url(settings.database_url)
        self.backend = url.get_backend_name()
        # Called with the tables a write transaction changed, once it has committed.
        self.after_commit: list[Callable[[Iterable[str]], None]] = []
        kwargs: dict[str, Any] = {
            "pool_size": settings.db_pool_size,
            "max_overflow": 0,
            "pool_timeout": settings.db_pool_timeout,
            # Errors and their logs never carry bind values (login names, notes).
            "hide_parameters": True,
        }
        if self.backend == "sqlite":
            # One hand-off to the connection's thread per statement (sqlite_writes.py).
            kwargs["async_creator"] = sqlite_writes.creator(
                url.database or "", settings.sqlite_busy_timeout_ms / 1000
            )
        else:
            # A black-holed server must become a 503 in seconds, not a hung request.
            kwargs["connect_args"] = {"connect_timeout": settings.db_connect_timeout}
        # Sessions are for writes: a real transaction, and on SQLite the write lock taken at
        # BEGIN. Reads (every GET, the token check) run on the driver (drivers.py, reads.py).
        if self.backend == "sqlite":
            # A writer waiting for SQLite's one write lock holds a connection: writers wait for
            # a connection as long as for the lock itself. A connection is taken at a
            # transaction's first statement, so work done before it (hashing a password) holds
            # neither.
            busy = settings.sqlite_busy_timeout_ms / 1000
            kwargs["pool_timeout"] = max(busy, settings.db_pool_timeout)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        write_engine = self.engine
        if self.backend == "sqlite":
            configure_sqlite(
                self.engine.sync_engine,
                settings.sqlite_busy_timeout_ms,
                settings.sqlite_mmap_bytes,
            )
            write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        elif settings.db_pool_pre_ping:
            # Finds connections a database restart killed; a local SQLite file has none.
            check_before_use(self.engine.sync_engine)
        self.driver: Driver = make_driver(url, self.engine.dialect, settings)
        # Composite documents this worker keeps (kept.py), shared by its requests' reads.
        self.kept = KeptDocuments(
            settings.kept_documents, max_bytes=int(settings.kept_documents_mb * 1_000_000)
        )
        self._write = async_sessionmaker(
            write_engine,
            class_=AsyncSession,
            sync_session_class=TrackingSession,
            expire_on_commit=False,
            info={"after_commit": self.after_commit},
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits when the block ends without an exception.

        A commit that fails for any reason but a conflict (the connection dropped, the server
        went away mid-COMMIT) raises `CommitFailed`: the caller must not report success."""
        async with self._write() as session:
            try:
                yield session
            except BaseException as exc:
                # Some refusals must still keep what they recorded (a failed login's count).
                if getattr(exc, "persist", False):
                    await _commit(session)
                else:
                    with contextlib.suppress(Exception):  # a dead connection cannot roll back
                        await session.rollback()
                raise
            await _commit(session)

    async def refresh_statistics(self) -> None:
        """Give SQLite's query planner the statistics PostgreSQL's autovacuum keeps by itself:
        without them it guesses join orders, and at district scale a year-end report page took
        220 ms instead of 14 (bench/README.md). A sampled ANALYZE (about 15 ms for 20,000
        staff and 2,000 teams), run at start-up and after each roster import. PostgreSQL:
        nothing to do."""
        if self.backend != "sqlite":
            return
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
            await conn.exec_driver_sql("ANALYZE")
            await conn.commit()

    async def dispose(self) -> None:
        await self.driver.close()
        await self.engine.dispose()
