"""The write path on the driver (`app/core/writes.py`): a transaction commits whole when its
block ends, or not at all; deferred statements reach the database before the next statement
and refuse at COMMIT; the tables it wrote reach `Database.after_commit`; the CLI's variant
joins a session's transaction. Both engines."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import Engine, bindparam, func, literal, select, update
from sqlalchemy import exc as sa_exc
from sqlmodel import col

from app.core.db import Database
from app.core.errors import CommitFailed
from app.core.reads import Bound
from app.core.writes import Change, Writes, new_row
from app.reflections.models import Reflection, Visibility
from app.users.models import Role, User
from tests.dbsetup import on_database


class Count(BaseModel):
    n: int


def _count(title: str) -> Any:
    return select(func.count().label("n")).where(col(Reflection.title) == title)


def _stored(engine: Engine, title: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(_count(title)).scalar_one())


def _post(author: User, title: str, **values: Any) -> dict[str, Any]:
    return new_row(
        Reflection,
        author_id=author.id,
        title=title,
        body="b",
        visibility=Visibility.private,
        **values,
    )


@pytest.fixture
def author(factory) -> User:
    return factory.user(Role.teacher)


def test_a_new_row_takes_the_models_defaults():
    author = uuid.uuid4()
    row = new_row(Reflection, author_id=author, title="t", body="b", visibility="private")
    assert isinstance(row["id"], uuid.UUID)
    assert row["version"] == 1
    assert row["created_at"].tzinfo is not None
    assert row["team_id"] is None
    assert row["author_id"] == author
    assert (
        new_row(Reflection, author_id=author, title="t", body="b", visibility="x")["id"]
        != (row["id"])
    )
    with pytest.raises(ValueError, match="title"):
        new_row(Reflection, author_id=author, body="b", visibility="private")


def test_a_transaction_commits_what_it_wrote_and_deferred_rows_precede_later_statements(
    settings, sync_engine, author
):
    renamed = update(Reflection).where(col(Reflection.title) == bindparam("old"))
    renamed = renamed.values(title=bindparam("new"))

    async def work(db: Database) -> int | None:
        async with Writes(db).transaction() as tx:
            await tx.insert(Reflection, _post(author, "Deferred"))
            await tx.insert(Reflection, _post(author, "Deferred"))
            await tx.insert(Reflection, _post(author, "Renamed later"))
            await tx.later(Change(renamed, {"old": "Renamed later", "new": "Deferred"}))
            # A statement run now sees what was deferred before it (sent first, same trip).
            seen = await tx.one(Count, _count("Deferred"))
            await tx.insert(Reflection, _post(author, "With the commit"))
        return None if seen is None else seen.n

    assert on_database(settings, work) == 3
    assert _stored(sync_engine, "Deferred") == 3
    assert _stored(sync_engine, "With the commit") == 1


def test_a_refused_deferred_row_refuses_the_whole_transaction(settings, sync_engine, author):
    """The second insert repeats the first one's id: the refusal comes at COMMIT, as a
    conflict (409 in the API), and neither row is saved."""
    first = _post(author, "Refused")

    async def work(db: Database) -> None:
        async with Writes(db).transaction() as tx:
            await tx.insert(Reflection, first)
            await tx.insert(Reflection, {**_post(author, "Refused"), "id": first["id"]})

    with pytest.raises(sa_exc.IntegrityError):
        on_database(settings, work)
    assert _stored(sync_engine, "Refused") == 0


def test_an_error_after_a_statement_rolls_everything_back(settings, sync_engine, author, caplog):
    """A refusal after the transaction opened on the server (a 409, a 422) rolls it back
    itself: the connection goes back to the pool clean, and the pool has nothing to warn of."""

    async def work(db: Database) -> None:
        async with Writes(db).transaction() as tx:
            await tx.insert(Reflection, _post(author, "Rolled back"))
            await tx.one(Count, _count("Rolled back"))  # the transaction is open on the server
            await tx.insert(Reflection, _post(author, "Rolled back"))
            raise RuntimeError("the service refused after writing")

    with pytest.raises(RuntimeError):
        on_database(settings, work)
    assert _stored(sync_engine, "Rolled back") == 0

    # The connection went back clean: the next transaction on the same driver commits.
    async def again(db: Database) -> None:
        with pytest.raises(RuntimeError):
            await _abandoned(db, author, "Rolled back", read_first=True)
        async with Writes(db).transaction() as tx:
            await tx.one(Count, _count("After"))
            await tx.insert(Reflection, _post(author, "After"))

    on_database(settings, again)
    assert _stored(sync_engine, "Rolled back") == 0
    assert _stored(sync_engine, "After") == 1
    assert not [r for r in caplog.records if "rolling back" in r.getMessage()], caplog.text


async def _abandoned(db: Database, author: User, title: str, *, read_first: bool) -> None:
    """A transaction that writes and then fails (after a statement opened it on the server, if
    `read_first`)."""
    async with Writes(db).transaction() as tx:
        if read_first:
            await tx.one(Count, _count(title))
        await tx.insert(Reflection, _post(author, title))
        raise RuntimeError("the service refused after writing")


def test_an_update_returning_answers_the_written_row(settings, sync_engine, author):
    row = _post(author, "Before")

    class Titled(BaseModel):
        title: str
        version: int

    async def work(db: Database) -> Titled | None:
        async with Writes(db).transaction() as tx:
            await tx.insert(Reflection, row)
            stmt = (
                update(Reflection)
                .where(col(Reflection.id) == row["id"])
                .values(title="After", version=Reflection.version + 1)
                .returning(col(Reflection.title), col(Reflection.version))
            )
            return await tx.one(Titled, stmt)

    assert on_database(settings, work) == Titled(title="After", version=2)
    assert _stored(sync_engine, "After") == 1


def test_the_tables_written_reach_after_commit_once_committed(settings, author):
    seen: list[set[str]] = []

    async def work(db: Database) -> None:
        db.after_commit.append(lambda tables: seen.append(set(tables)))
        async with Writes(db).transaction() as tx:
            await tx.one(Count, _count("Hooks"))  # a read writes nothing
        assert seen == []
        with pytest.raises(RuntimeError):
            await _abandoned(db, author, "Hooks", read_first=False)
        assert seen == []  # rolled back: nothing to tell
        async with Writes(db).transaction() as tx:
            await tx.insert(Reflection, _post(author, "Hooks"))
        assert seen == [{"reflection"}]

    on_database(settings, work)


def test_in_a_session_the_statements_commit_or_roll_back_with_it(settings, sync_engine, author):
    async def work(db: Database, fail: bool) -> None:
        async with db.session() as session:
            async with Writes.in_session(session).transaction() as tx:
                await tx.insert(Reflection, _post(author, "Renamed in session"))
                renamed = update(Reflection).where(col(Reflection.title) == "Renamed in session")
                await tx.later(renamed.values(title=f"In session {fail}"))
                seen = await tx.one(Count, Bound(_count(f"In session {fail}"), {}))
                assert seen is not None
                assert seen.n == 1
            if fail:
                raise RuntimeError("the session's later work failed")

    on_database(settings, lambda db: work(db, False))
    with pytest.raises(RuntimeError):
        on_database(settings, lambda db: work(db, True))
    assert _stored(sync_engine, "In session False") == 1
    assert _stored(sync_engine, "In session True") == 0


def test_a_commit_the_database_did_not_confirm_raises_commit_failed(
    settings, sync_engine, author, monkeypatch
):
    """The connection is lost as the COMMIT goes out: the API answers 503 "probably not
    saved" (tests/test_faults.py kills real connections under load)."""

    async def work(db: Database) -> None:
        driver: Any = db.driver
        if db.backend == "postgresql":  # the round trip carrying the COMMIT fails
            import psycopg

            from app.core import drivers

            real_pipelined = drivers._pipelined

            async def lost(conn: Any, before: Any, sql: str, args: Any) -> Any:
                if sql == "COMMIT":
                    raise psycopg.OperationalError("server closed the connection unexpectedly")
                return await real_pipelined(conn, before, sql, args)

            monkeypatch.setattr(drivers, "_pipelined", lost)
        else:  # SQLite: COMMIT fails on the writer connection
            import sqlite3

            class Failing(sqlite3.Connection):
                def execute(self, sql: str, *args: Any) -> Any:
                    if sql == "COMMIT":
                        raise sqlite3.OperationalError("disk I/O error")
                    return super().execute(sql, *args)

            monkeypatch.setattr(driver, "_connect", _connecting(driver._connect, Failing))
        async with Writes(db).transaction() as tx:
            await tx.insert(Reflection, _post(author, "Unconfirmed"))
            await tx.insert(Reflection, _post(author, "Unconfirmed"))

    with pytest.raises(CommitFailed):
        on_database(settings, work)
    assert _stored(sync_engine, "Unconfirmed") == 0


def _connecting(connect: Callable[..., Any], factory: type) -> Callable[..., Any]:
    import sqlite3

    def opened(*, writer: bool = False) -> Any:
        conn = connect(writer=writer)
        if not writer:
            return conn
        path = conn.execute("PRAGMA database_list").fetchone()[2]
        conn.close()
        replaced = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, factory=factory
        )
        replaced.execute("PRAGMA foreign_keys=ON")
        return replaced

    return opened


def test_no_route_writes_through_both_a_session_and_the_driver():
    """On SQLite a session holds the write lock from its first statement: a driver transaction
    in the same request would wait for it until the busy timeout."""
    from fastapi.routing import APIRoute, iter_route_contexts

    from app.core.deps import get_session, get_writes
    from app.main import create_app

    def calls(dependant: Any) -> set[Any]:
        found = {d.call for d in dependant.dependencies}
        for d in dependant.dependencies:
            found |= calls(d)
        return found

    routes = [
        ctx.original_route
        for ctx in iter_route_contexts(create_app().routes)
        if isinstance(ctx.original_route, APIRoute)
    ]
    both = [r.path for r in routes if {get_session, get_writes} <= calls(r.dependant)]
    assert both == []
    assert any(get_writes in calls(r.dependant) for r in routes)  # the test can fail


def test_a_post_through_the_api_is_stored_and_answered_from_what_was_written(
    client, world, auth, sync_engine
):
    h = auth(world.teacher_a)
    r = client.post("/api/v1/reflections", headers=h, json={"title": "Through", "body": "b"})
    assert r.status_code == 201, r.text
    assert _stored(sync_engine, "Through") == 1
    read = client.get(f"/api/v1/reflections/{r.json()['id']}", headers=h)
    assert read.json() == r.json()
    assert read.headers["etag"] == r.headers["etag"]


def test_writers_at_once_queue_and_all_commit(settings, sync_engine, author):
    """Thirty-two transactions at once, each holding its lock across two round trips: on
    SQLite they take turns (one writer thread), on PostgreSQL they run side by side; none
    fails, none is lost."""

    async def one(db: Database, i: int) -> None:
        async with Writes(db).transaction() as tx:
            await tx.insert(Reflection, _post(author, "At once"))
            await tx.one(Count, _count("At once"))
            await tx.insert(Reflection, _post(author, f"At once {i}"))

    async def work(db: Database) -> None:
        await asyncio.gather(*(one(db, i) for i in range(32)))

    on_database(settings, work)
    assert _stored(sync_engine, "At once") == 32


def test_sqlite_writers_of_a_worker_take_turns_in_arrival_order(settings, sync_engine, author):
    """On SQLite a worker runs one write transaction at a time: the next starts when the last
    has committed, in the order they came, instead of waiting for the write lock in SQLite's
    busy handler (which sleeps and does not notice the lock come free)."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's writers run side by side")
    order: list[str] = []
    first_inside = asyncio.Event()
    let_go = asyncio.Event()

    async def writer(db: Database, name: str) -> None:
        async with Writes(db).transaction() as tx:
            order.append(f"{name} began")
            await tx.one(Count, _count(f"Turns {name}"))  # holds the write lock from here
            if name == "a":
                first_inside.set()
                await let_go.wait()
            await tx.insert(Reflection, _post(author, f"Turns {name}"))
        order.append(f"{name} committed")

    async def work(db: Database) -> None:
        first = asyncio.create_task(writer(db, "a"))
        await first_inside.wait()
        later = [asyncio.create_task(writer(db, n)) for n in ("b", "c")]
        await asyncio.sleep(0.2)  # b and c have arrived and wait
        assert order == ["a began"]
        let_go.set()
        await asyncio.gather(first, *later)

    on_database(settings, work)
    assert order == ["a began", "a committed", "b began", "b committed", "c began", "c committed"]
    assert sum(_stored(sync_engine, f"Turns {n}") for n in "abc") == 3


def test_writers_leave_connections_to_the_reads(settings, sync_engine, author):
    """Write transactions take at most half the read path's connections (rounded up): with two,
    a writer holding one (as one waiting on a lock does) leaves the other to every read, and a
    second writer waits for the first instead of taking it. Both writers commit."""
    if settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite's reads never take a writer's connection")
    narrow = settings.model_copy(update={"db_pool_size": 2})
    order: list[str] = []

    inside = asyncio.Event()

    async def writer(db: Database, name: str, held: asyncio.Event | None) -> None:
        async with Writes(db).transaction() as tx:
            await tx.one(Count, _count(f"Narrow {name}"))  # the transaction holds a connection
            order.append(f"{name} in")
            inside.set()
            if held is not None:
                await held.wait()
            await tx.insert(Reflection, _post(author, f"Narrow {name}"))
        order.append(f"{name} out")

    async def work(db: Database) -> None:
        release = asyncio.Event()
        first = asyncio.create_task(writer(db, "first", release))
        await inside.wait()
        second = asyncio.create_task(writer(db, "second", None))
        for _ in range(5):  # reads are answered while a writer holds a connection
            found = await db.driver.rows(_count("Narrow first"))
            assert found == [{"n": 0}]
        await asyncio.sleep(0.05)
        assert "second in" not in order  # waiting for the first writer's slot
        release.set()
        await asyncio.gather(first, second)

    on_database(narrow, work)
    assert order == ["first in", "first out", "second in", "second out"]
    assert _stored(sync_engine, "Narrow first") == 1
    assert _stored(sync_engine, "Narrow second") == 1


def test_a_refused_statement_leaves_the_connection_answering_the_next(settings):
    """Each PostgreSQL connection keeps one cursor for its statements (drivers.py): a statement
    the database refuses, alone or in a write transaction, leaves it answering the next ones,
    on one connection (a pool of one), read or written, and rows of the right statement."""
    one = settings.model_copy(update={"db_pool_size": 1})
    # Refused when it runs (not JSON): SQLite's json() and PostgreSQL's cast to json.
    refused = select(func.json(literal("not json")).label("n"))

    async def work(db: Database) -> None:
        assert await db.driver.rows(_count("Kept cursor")) == [{"n": 0}]
        with pytest.raises(sa_exc.DBAPIError):
            await db.driver.rows(refused)
        assert await db.driver.rows(_count("Kept cursor")) == [{"n": 0}]
        with pytest.raises(sa_exc.DBAPIError):
            async with Writes(db).transaction() as tx:
                await tx.one(Count, refused)
        assert await db.driver.rows(select(func.count().label("n"))) == [{"n": 1}]
        assert await db.driver.rows(_count("Kept cursor")) == [{"n": 0}]
        async with db.driver.snapshot() as fetch:
            rows = await db.driver.rows(_count("Kept cursor"), on=fetch)
            assert rows == [{"n": 0}]
            with pytest.raises(sa_exc.DBAPIError):
                await db.driver.rows(refused, on=fetch)
        assert await db.driver.rows(_count("Kept cursor")) == [{"n": 0}]

    on_database(one, work)


def test_a_sqlite_writer_waits_for_another_process_off_the_event_loop(
    settings, sync_engine, author
):
    """The driver's SQLite writes run on the event loop once the write lock is held; while
    another process holds it (a roster import from the command line), the BEGIN waits on a
    worker thread: the event loop keeps turning and reads answer. The writer commits once
    the lock comes free; past the busy timeout it fails with nothing written, and the next
    transaction on that connection commits."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite's single write lock")
    patient = settings.model_copy(update={"sqlite_busy_timeout_ms": 5000})
    impatient = settings.model_copy(update={"sqlite_busy_timeout_ms": 200})

    async def write(db: Database, title: str) -> None:
        async with Writes(db).transaction() as tx:
            await tx.insert(Reflection, _post(author, title))

    async def held_while(db: Database, title: str, seconds: float) -> tuple[int, bool]:
        """Write `title` while another connection holds the lock for `seconds`: the event
        loop's turns meanwhile, and whether the writer was still waiting at the end."""
        holder = sync_engine.raw_connection()
        holder.execute("BEGIN IMMEDIATE")
        turns = 0
        try:
            writer = asyncio.create_task(write(db, title))
            deadline = asyncio.get_running_loop().time() + seconds
            while asyncio.get_running_loop().time() < deadline:
                assert await db.driver.rows(_count(title)) == [{"n": 0}]
                await asyncio.sleep(0.01)
                turns += 1
            waiting = not writer.done()
        finally:
            holder.rollback()
            holder.close()
        await writer
        return turns, waiting

    async def waits(db: Database) -> tuple[int, bool]:
        return await held_while(db, "Waited", 0.4)

    turns, waiting = on_database(patient, waits)
    assert waiting
    assert turns >= 10  # ten turns at least in 0.4 s: the loop was not blocked
    assert _stored(sync_engine, "Waited") == 1

    async def gives_up(db: Database) -> None:
        with pytest.raises(sa_exc.OperationalError, match="locked"):
            await held_while(db, "Gave up", 0.4)
        await write(db, "After giving up")  # the connection, back in the pool, still writes

    on_database(impatient, gives_up)
    assert _stored(sync_engine, "Gave up") == 0
    assert _stored(sync_engine, "After giving up") == 1


def test_sqlite_checkpoints_run_beside_the_writers(settings, sync_engine, author):
    """A COMMIT no longer copies the WAL into the database itself at SQLite's threshold (it
    ran on the event loop): every CHECKPOINT_EVERY commits a passive checkpoint runs on a
    thread of its own, and the writers' own automatic checkpoint is only a backstop."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite's write-ahead log")
    from app.core.drivers import SqliteDriver

    async def work(db: Database) -> tuple[int, int, int, int]:
        driver = db.driver
        assert isinstance(driver, SqliteDriver)
        for i in range(driver.CHECKPOINT_EVERY):
            async with Writes(db).transaction() as tx:
                await tx.insert(Reflection, _post(author, f"Checkpointed {i}"))
        for _ in range(200):  # the checkpoint thread's turn
            if driver.checkpoints:
                break
            await asyncio.sleep(0.01)
        writer = driver._take(writer=True)
        try:
            automatic = writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            busy = writer.execute("PRAGMA busy_timeout").fetchone()[0]
        finally:
            driver._give(writer, writer=True)
        # What the log still holds that the database does not (a passive checkpoint that
        # copies nothing answers how far the last one got).
        probe = sync_engine.raw_connection()
        try:
            _, logged, copied = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            probe.close()
        return driver.checkpoints, automatic, busy, logged - copied

    checkpoints, automatic, busy, behind = on_database(settings, work)
    assert checkpoints == 1
    assert automatic == SqliteDriver.WRITER_AUTOCHECKPOINT
    assert busy == 0  # the event loop never waits in SQLite's busy handler
    assert behind == 0
    assert sum(_stored(sync_engine, f"Checkpointed {i}") for i in range(64)) == 64


def test_a_row_read_as_its_table_model_is_the_model_built_from_it():
    """`as_model` makes what `Model(**row)` makes from column values read from the database
    (the same fields, read the same way), as the ORM makes a loaded one: transient, nothing
    changed, so no session would write it back or count it as new by accident."""
    from sqlalchemy import inspect

    from app.core.writes import as_model
    from app.school_years.models import SchoolYear
    from app.teams.models import Team

    team = new_row(Team, name="Readers", school_year="2026-2027")
    year = new_row(
        SchoolYear,
        label="2026-2027",
        starts_on=date(2026, 8, 20),
        ends_on=date(2027, 6, 4),
    )
    for model, row in ((Team, team), (SchoolYear, year)):
        made, built = as_model(model, row), model(**row)
        assert type(made) is model
        assert made.model_dump() == built.model_dump() == row
        assert made.id == row["id"]
        state = inspect(made)
        assert state.transient
        assert not state.modified
        assert made.model_fields_set == set()
