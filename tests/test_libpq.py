"""PostgreSQL statements on libpq itself (app/core/libpq.py): what a cursor would answer and
raise, on a connection left usable, or closed when a round trip was cut short."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import make_url

from app.core import libpq
from app.core.config import Settings
from tests.conftest import ENGINE

# The placeholders SQLAlchemy's psycopg dialect writes, in PostgreSQL's.


def test_named_placeholders_become_numbered_once_each():
    sql = "SELECT %(a)s, %(b)s WHERE x = %(a)s AND y LIKE 'a%%'"
    assert libpq.converted(sql) == (b"SELECT $1, $2 WHERE x = $1 AND y LIKE 'a%'", ("a", "b"))


def test_positional_placeholders_are_counted():
    assert libpq.converted("SELECT %s, %s") == (b"SELECT $1, $2", 2)
    assert libpq.converted("COMMIT") == (b"COMMIT", 0)


@pytest.mark.parametrize("sql", ["SELECT %(a)s, %s", "SELECT 5 % 3", "SELECT %(a)b"])
def test_placeholders_the_dialect_does_not_write_are_refused(sql):
    with pytest.raises(ValueError, match="placeholder"):
        libpq.converted(sql)


needs_postgres = pytest.mark.skipif(ENGINE != "postgres", reason="PostgreSQL's libpq")


def _connected(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        url = make_url(settings.database_url).set(drivername="postgresql")
        conn = await psycopg.AsyncConnection.connect(
            url.render_as_string(hide_password=False),
            autocommit=True,
            options="-c TimeZone=UTC -c client_encoding=UTF8",
        )
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


@needs_postgres
def test_rows_and_types_are_a_cursors(settings):
    async def work(conn: Any) -> None:
        sql = "SELECT %(n)s::int + 1 AS n, %(t)s::text AS t, %(j)s::jsonb AS j, NULL AS none"
        values = {"n": 41, "t": "é", "j": psycopg.types.json.Jsonb({"a": [1]})}
        cur = conn.cursor(binary=True)
        await cur.execute(sql, values)
        expected = await cur.fetchall()
        for _ in range(3):  # unprepared, then prepared by the first run
            assert await libpq.run(conn, [(sql, values)]) == expected
        assert await libpq.run(conn, [("SELECT 1 WHERE false", None)]) == []
        assert await libpq.run(conn, [("SET TIME ZONE 'UTC'", None)]) == []

    _connected(settings, work)


@needs_postgres
def test_a_refused_statement_raises_as_a_cursor_would_and_skips_the_rest(settings):
    """The second of four statements in one round trip is refused: its error class is a
    cursor's, the later ones did not run, the transaction is left for the caller to roll
    back, and the statements whose preparation was skipped are prepared again later."""

    async def work(conn: Any) -> None:
        await conn.execute("CREATE TEMPORARY TABLE t (id int PRIMARY KEY)")
        insert = "INSERT INTO t (id) VALUES (%(id)s)"
        count = "SELECT count(*) FROM t"
        with pytest.raises(errors.UniqueViolation):
            await libpq.run(
                conn,
                [
                    ("BEGIN", None),
                    (insert, {"id": 1}),
                    (insert, {"id": 1}),
                    ("INSERT INTO t (id) SELECT %(id)s", {"id": 2}),
                ],
            )
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        await conn.execute("ROLLBACK")
        assert await libpq.run(conn, [(count, None)]) == [(0,)]
        rows = await libpq.run(
            conn,
            [
                ("BEGIN", None),
                (insert, {"id": 1}),
                ("INSERT INTO t (id) SELECT %(id)s", {"id": 2}),
                ("COMMIT", None),
            ],
        )
        assert rows == []
        assert await libpq.run(conn, [(count, None)]) == [(2,)]
        with pytest.raises(errors.SyntaxError):
            await libpq.run(conn, [("SELEC %(id)s", {"id": 1})])
        assert await libpq.run(conn, [(count, None)]) == [(2,)]

    _connected(settings, work)


@needs_postgres
def test_past_the_prepared_limit_statements_go_unnamed(settings, monkeypatch):
    monkeypatch.setattr(libpq, "PREPARED", 2)

    async def work(conn: Any) -> None:
        for n in range(5):
            sql = f"SELECT %(v)s::int + {n}"
            assert await libpq.run(conn, [(sql, {"v": 1})]) == [(1 + n,)]
            assert await libpq.run(conn, [(sql, {"v": 2})]) == [(2 + n,)]
        cur = await conn.execute("SELECT count(*) FROM pg_prepared_statements")
        assert (await cur.fetchone())[0] == 2

    _connected(settings, work)


@needs_postgres
def test_a_parameter_larger_than_the_socket_takes_is_sent_whole(settings):
    big = "x" * (8 * 1024 * 1024)

    async def work(conn: Any) -> None:
        statements = [("SELECT 1", None), ("SELECT length(%(s)s::text)", {"s": big})]
        assert await libpq.run(conn, statements) == [(len(big),)]

    _connected(settings, work)


@needs_postgres
def test_a_round_trip_cut_short_closes_the_connection(settings):
    """Cancelled while the server is still answering: what it sends next could be taken for
    the next caller's answer, so the connection is closed (the pool replaces it)."""

    async def work(conn: Any) -> None:
        task = asyncio.create_task(libpq.run(conn, [("SELECT pg_sleep(5)", None)]))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert conn.broken or conn.closed

    _connected(settings, work)


@needs_postgres
def test_what_is_kept_per_connection_goes_with_it(settings):
    async def work(conn: Any) -> weakref.ref[Any]:
        await libpq.run(conn, [("SELECT %(v)s::int", {"v": 1})])
        assert conn in libpq._KEPT
        return weakref.ref(conn)

    gone = _connected(settings, work)
    gc.collect()
    assert gone() is None


@needs_postgres
def test_statements_dropped_behind_its_back_are_prepared_again(settings):
    """DEALLOCATE ALL (psycopg's own answer to a ROLLBACK once it has prepared something,
    which the pool's connections no longer let it do) drops the connection's statements:
    outside a transaction the next run prepares again and answers; inside one the error is
    raised (the transaction is lost either way), and the run after it prepares again."""
    sql = "SELECT %(v)s::int * 2"

    async def work(conn: Any) -> None:
        assert await libpq.run(conn, [(sql, {"v": 2})]) == [(4,)]
        await conn.execute("DEALLOCATE ALL")
        assert await libpq.run(conn, [(sql, {"v": 3})]) == [(6,)]
        await conn.execute("DEALLOCATE ALL")
        await conn.execute("BEGIN")
        with pytest.raises(errors.InvalidSqlStatementName):
            await libpq.run(conn, [(sql, {"v": 4})])
        await conn.execute("ROLLBACK")
        assert await libpq.run(conn, [(sql, {"v": 5})]) == [(10,)]

    _connected(settings, work)


@needs_postgres
def test_the_pools_connections_leave_preparing_to_this_module(settings):
    """A pooled connection never prepares through psycopg: once psycopg has prepared
    something (a statement run through it often enough, as the pool's health checks or a
    later change might), its rollback (the pool's, of a connection given back in a
    transaction) answers with DEALLOCATE ALL, dropping this module's statements too. Reads
    keep answering through many of each."""
    from sqlalchemy import literal, select

    from app.core.db import Database

    async def work() -> None:
        db = Database(settings.model_copy(update={"db_pool_size": 1}))
        try:
            one = select(literal(1).label("n"))
            for _ in range(3):
                for _ in range(6):  # psycopg would prepare a statement run five times
                    assert await db.driver.rows(one) == [{"n": 1}]
                    async with db.driver.snapshot() as fetch:
                        assert await db.driver.rows(one, on=fetch) == [{"n": 1}]
                    conn = await _taken(db.driver)
                    await conn.execute("SELECT 1")  # through psycopg itself
                    await db.driver._putconn(conn)  # type: ignore[attr-defined]
                conn = await _taken(db.driver)
                await conn.execute("BEGIN")
                # Given back in a transaction: to the pool, which rolls back.
                await db.driver._putconn(conn)  # type: ignore[attr-defined]
                assert conn.prepare_threshold is None
        finally:
            await db.dispose()

    asyncio.run(work())


async def _taken(driver: Any) -> Any:
    """A connection as the driver's reads take one (from its ready ones, else the pool's)."""
    return await driver._getconn(await driver._get_pool(), "", None)


@needs_postgres
def test_an_answer_in_after_a_turn_of_the_loop_is_read_without_watching_the_socket(
    settings, monkeypatch
):
    """While other work holds the loop, the server answers: the statement's task finds the
    answer after one turn and never watches the socket. With nothing else to run it watches
    the socket, and the answers are the same either way."""
    watched: list[int] = []
    original = libpq._ready

    async def counted(loop: Any, fd: int, *, write: bool) -> None:
        watched.append(fd)
        await original(loop, fd, write=write)

    monkeypatch.setattr(libpq, "_ready", counted)

    async def work(conn: Any) -> None:
        sql = [("SELECT pg_sleep(%(s)s), %(n)s::int", {"s": 0.02, "n": 7})]

        async def busy() -> None:
            time.sleep(0.2)  # noqa: ASYNC251 (holds the loop past the server's answer)

        for _ in range(2):  # prepared with its first run (a pipeline), then alone
            answered, _ = await asyncio.gather(libpq.run(conn, sql), busy())
            assert answered[0][1] == 7
        assert watched == []
        assert (await libpq.run(conn, sql))[0][1] == 7  # nothing else to run: watched
        assert watched

    _connected(settings, work)


@needs_postgres
def test_reads_beyond_the_pool_wait_for_a_slot_never_in_the_pool(settings):
    """Twenty reads at once on a pool of two: all answered, none of them queued inside
    psycopg_pool (they waited for a slot of the driver's); with both connections held past
    the timeout, the next read answers "busy", and the slots come back after."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import func, literal, select

    from app.core.db import Database

    async def work() -> None:
        db = Database(settings.model_copy(update={"db_pool_size": 2, "db_pool_timeout": 0.3}))
        driver = db.driver
        try:
            nap = select(func.pg_sleep(0.01), literal(1).label("n"))
            async with driver.snapshot() as one, driver.snapshot() as two:  # both opened
                await driver.rows(nap, on=one)
                await driver.rows(nap, on=two)
            pool = await driver._get_pool()  # type: ignore[attr-defined]
            pool.pop_stats()
            answers = await asyncio.gather(*(driver.rows(nap) for _ in range(20)))
            assert [a[0]["n"] for a in answers] == [1] * 20
            stats = pool.get_stats()
            assert stats.get("requests_queued", 0) == 0, stats
            # Both connections were given back idle: each read took one of them again, not
            # one of the pool's.
            assert stats.get("requests_num", 0) == 0, stats
            async with driver.snapshot() as one, driver.snapshot() as two:
                await driver.rows(nap, on=one)
                await driver.rows(nap, on=two)
                with pytest.raises(sa_exc.TimeoutError, match="all 2 read connections"):
                    await driver.rows(nap)
            assert (await driver.rows(nap))[0]["n"] == 1
            slots = driver._read_slots._semaphore()  # type: ignore[attr-defined]
            assert not slots.locked()
            assert slots._value == 2
        finally:
            await db.dispose()

    asyncio.run(work())


@needs_postgres
def test_a_connection_given_back_idle_is_taken_again_then_handed_back_to_the_pool(settings):
    """A read's connection given back idle waits in the driver, and the next read takes it
    without asking psycopg_pool. One given back inside a transaction goes to the pool (which
    rolls it back), and so does any once it has been out of the pool `HAND_BACK` seconds, given
    back or found waiting. One the server closed while it waited fails its next read, which is
    answered on another. Closing the driver closes the waiting ones."""
    from sqlalchemy import literal, select

    from app.core.db import Database

    async def work() -> Any:
        db = Database(settings.model_copy(update={"db_pool_size": 2}))
        driver: Any = db.driver
        one = select(literal(1).label("n"))
        try:
            assert await driver.rows(one) == [{"n": 1}]
            pool = await driver._get_pool()
            (ready,) = driver._ready
            pool.pop_stats()
            for _ in range(5):
                assert await driver.rows(one) == [{"n": 1}]
            assert driver._ready == [ready]
            assert pool.get_stats().get("requests_num", 0) == 0
            # Given back inside a transaction: to the pool, which rolls it back.
            conn = await _taken(driver)
            assert conn is ready
            await conn.execute("BEGIN")
            await driver._putconn(conn)
            assert driver._ready == []
            assert conn.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
            # Out of the pool long enough: back to it.
            driver.HAND_BACK = 0.0
            assert await driver.rows(one) == [{"n": 1}]
            assert driver._ready == []
            assert pool.get_stats()["requests_num"] == 1
            driver.HAND_BACK = type(driver).HAND_BACK
            assert await driver.rows(one) == [{"n": 1}]
            (ready,) = driver._ready
            # The server closes the waiting one: the next read still answers.
            await _terminate(settings, ready.pgconn.backend_pid)
            assert await driver.rows(one) == [{"n": 1}]
            assert ready.closed or ready.broken
            assert ready not in driver._ready
            # A waiting connection not taken again since it has been out HAND_BACK seconds:
            # the sweep that comes with a later give-back hands it to the pool.
            first, second = await _taken(driver), await _taken(driver)
            await driver._putconn(first)
            driver._out_since[first] -= type(driver).HAND_BACK
            driver._next_sweep = 0.0
            await driver._putconn(second)
            assert driver._ready == [second]
            assert first not in driver._out_since
            assert first.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
        finally:
            await db.dispose()
        return second

    assert asyncio.run(work()).closed


async def _terminate(settings: Settings, pid: int) -> None:
    url = make_url(settings.database_url).set(drivername="postgresql")
    async with await psycopg.AsyncConnection.connect(
        url.render_as_string(hide_password=False), autocommit=True
    ) as conn:
        await conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    await asyncio.sleep(0.2)  # the server's goodbye reaches the idle socket
