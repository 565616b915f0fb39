"""Load beyond the connection pool, concurrent writers, and losing the database."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.core.errors import BUSY, UNAVAILABLE
from app.core.security import create_access_token
from app.main import create_app
from app.users.models import Role
from tests.conftest import ENGINE


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_flood_of_reads_and_writes_far_beyond_the_pool(settings, factory):
    admin = factory.user(Role.district_admin)
    app = create_app(settings.model_copy(update={"db_pool_size": 3, "db_pool_timeout": 30}))
    headers = {"Authorization": f"Bearer {create_access_token(settings, admin.id, 0)[0]}"}

    async def run() -> tuple[list[int], list[int], float]:
        async with _client(app) as c:
            reads = [c.get("/api/v1/users", headers=headers) for _ in range(200)]
            writes = [
                c.post(
                    "/api/v1/schools",
                    headers=headers,
                    json={"name": f"Flood {i}", "time_zone": "UTC"},
                )
                for i in range(40)
            ]
            results = await asyncio.wait_for(asyncio.gather(*reads, *writes), timeout=120)
            start = time.perf_counter()
            after = await c.get("/api/v1/schools?limit=50", headers=headers)
            assert after.status_code == 200
            assert after.json()["total"] == 40
            await app.state.db.dispose()
            return (
                [r.status_code for r in results[:200]],
                [r.status_code for r in results[200:]],
                time.perf_counter() - start,
            )

    reads, writes, after = asyncio.run(run())
    assert reads == [200] * 200
    assert writes == [201] * 40  # SQLite writers queue on BEGIN IMMEDIATE instead of failing
    assert after < 5


def test_exhausted_pool_answers_503_promptly(settings, factory):
    admin = factory.user(Role.district_admin)
    # (A SQLite writer waits for a connection as long as for the write lock: the busy timeout.)
    app = create_app(
        settings.model_copy(
            update={"db_pool_size": 1, "db_pool_timeout": 0.3, "sqlite_busy_timeout_ms": 300}
        )
    )
    headers = {"Authorization": f"Bearer {create_access_token(settings, admin.id, 0)[0]}"}
    school = {"name": "Waiting School", "time_zone": "UTC"}

    def assert_busy(r: httpx.Response) -> None:
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "2"
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == BUSY  # not "the database is unavailable"

    async def run() -> None:
        async with _client(app) as c:
            async with app.state.db.engine.connect() as held:  # the sessions' only connection
                await held.exec_driver_sql("SELECT 1")
                start = time.perf_counter()
                assert_busy(await c.post("/api/v1/schools", headers=headers, json=school))
                assert time.perf_counter() - start < 5
                reads = app.state.db.driver
                if ENGINE == "postgres":
                    # Reads have a pool of their own: hold its only connection too, as a
                    # read takes it.
                    conn = await reads._getconn(await reads._get_pool(), "", None)
                    try:
                        assert_busy(await c.get("/api/v1/schools", headers=headers))
                        # Busy is not unreachable: readiness answers on its own connection.
                        assert (await c.get("/readyz")).status_code == 200
                    finally:
                        await reads._putconn(conn)
                else:
                    # SQLite reads run on the event loop without a pool: they still answer.
                    assert (await c.get("/api/v1/schools", headers=headers)).status_code == 200
                assert (await c.get("/readyz")).status_code == 200
            r = await c.post("/api/v1/schools", headers=headers, json=school)
            assert r.status_code == 201
            assert (await c.get("/api/v1/schools", headers=headers)).json()["total"] == 1
        await app.state.db.dispose()

    asyncio.run(run())


def test_unreachable_database_is_503_never_500(settings):
    import uuid

    url = f"postgresql://postgres@127.0.0.1:{_free_port()}/nothing"
    app = create_app(settings.model_copy(update={"database_url": url}))
    token = create_access_token(settings, uuid.uuid4(), 0)[0]

    async def run() -> None:
        async with _client(app) as c:
            for path in ("/api/v1/schools", "/readyz"):
                r = await c.get(path, headers={"Authorization": f"Bearer {token}"})
                assert r.status_code == 503, (path, r.text)
                assert r.headers["retry-after"] == "2"
                assert "unreachable" in r.json()["detail"] or r.json()["detail"] == UNAVAILABLE
            login = await c.post(
                "/api/v1/auth/token", data={"username": "a@b.org", "password": "x"}
            )
            assert login.status_code == 503
            assert (await c.get("/healthz")).status_code == 200  # liveness needs no database
        await app.state.db.dispose()

    asyncio.run(run())


class Proxy:
    """A TCP proxy to the database that the test can cut and restore."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = _free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in list(self.writers):
            w.close()
        await self.server.wait_closed()
        self.writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.mark.skipif(ENGINE != "postgres", reason="a network database only (SQLite is a local file)")
def test_database_outage_is_503_and_recovers_by_itself(settings, factory):
    admin = factory.user(Role.district_admin)
    real = make_url(settings.database_url)

    async def run() -> None:
        proxy = Proxy(real.host or "127.0.0.1", real.port or 5432)
        await proxy.start()
        url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        app = create_app(settings.model_copy(update={"database_url": url}))
        headers = {"Authorization": f"Bearer {create_access_token(settings, admin.id, 0)[0]}"}
        async with _client(app) as c:
            assert (await c.get("/api/v1/schools", headers=headers)).status_code == 200
            await proxy.stop()
            for _ in range(3):
                r = await asyncio.wait_for(c.get("/api/v1/schools", headers=headers), timeout=15)
                assert r.status_code == 503
                assert r.headers["retry-after"] == "2"
            await proxy.start()
            r = await c.get("/api/v1/schools", headers=headers)
            assert r.status_code == 200
        await app.state.db.dispose()
        await proxy.stop()

    asyncio.run(run())


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite's single write lock")
def test_reads_never_queue_behind_writers_waiting_for_the_sqlite_lock(
    settings, factory, sync_engine
):
    """Another process (a roster import from the command line) holds the write lock: writers
    of this worker queue for it, and reads (through sessions too) still answer at once."""
    admin = factory.user(Role.district_admin)
    app = create_app(settings.model_copy(update={"db_pool_size": 3, "db_pool_timeout": 1}))
    headers = {"Authorization": f"Bearer {create_access_token(settings, admin.id, 0)[0]}"}
    held = 2.0

    async def run() -> tuple[list[int], list[float], list[int]]:
        async with _client(app) as c:
            school = (
                await c.post(
                    "/api/v1/schools", headers=headers, json={"name": "S", "time_zone": "UTC"}
                )
            ).json()
            lock_holder = sync_engine.raw_connection()
            lock_holder.execute("BEGIN IMMEDIATE")
            try:
                writes = [
                    asyncio.ensure_future(
                        c.post(
                            "/api/v1/schools",
                            headers=headers,
                            json={"name": f"Queued {i}", "time_zone": "UTC"},
                        )
                    )
                    for i in range(8)  # more writers than connections
                ]
                await asyncio.sleep(0.2)  # they are all waiting now
                read_codes, read_times = [], []
                for _ in range(10):  # a session read (one school) and a hot-path list
                    for path in (f"/api/v1/schools/{school['id']}", "/api/v1/users"):
                        start = time.perf_counter()
                        r = await c.get(path, headers=headers)
                        read_times.append(time.perf_counter() - start)
                        read_codes.append(r.status_code)
                remaining = held - 0.2 - sum(read_times)
                await asyncio.sleep(max(0.0, remaining))
            finally:
                lock_holder.rollback()
                lock_holder.close()
            write_codes = [(await w).status_code for w in writes]
        await app.state.db.dispose()
        return read_codes, read_times, write_codes

    read_codes, read_times, write_codes = asyncio.run(run())
    assert read_codes == [200] * 20
    assert max(read_times) < 0.5
    assert write_codes == [201] * 8  # queued behind the lock, none failed


def _pings_of(db) -> list[object]:  # type: ignore[no-untyped-def]
    """The pings the write sessions' pool sends from now on (one entry each)."""
    pings: list[object] = []
    dialect = db.engine.sync_engine.dialect
    ping = dialect.do_ping

    def counted(conn):  # type: ignore[no-untyped-def]
        pings.append(conn)
        return ping(conn)

    dialect.do_ping = counted
    return pings


@pytest.mark.skipif(ENGINE != "postgres", reason="a network database only (SQLite is a local file)")
def test_write_connections_dropped_in_the_pool_are_replaced_without_a_ping(settings):
    """Write sessions' connections the server closed while they sat in the pool are replaced
    at checkout (the socket tells), so the next writes succeed; connections in steady use are
    not pinged (a round trip per write), and one idle past `ping_after` is."""
    from sqlalchemy import create_engine, text

    from app.core.db import Database, check_before_use, sync_url

    async def run() -> None:
        url = make_url(settings.database_url).update_query_dict({"application_name": "pc-idle"})
        db = Database(settings.model_copy(update={"database_url": url.render_as_string(False)}))
        pings = _pings_of(db)

        async def write() -> None:
            async with db.session() as session:
                await session.execute(text("CREATE TEMP TABLE IF NOT EXISTS t (x int)"))

        await asyncio.gather(*(write() for _ in range(4)))  # several pooled connections
        for _ in range(20):
            await write()
        assert pings == []

        killer = create_engine(sync_url(settings.database_url), isolation_level="AUTOCOMMIT")
        with killer.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'pc-idle'"
                )
            ).all()
        killer.dispose()
        assert len(killed) >= 2
        await asyncio.sleep(0.3)  # the server's goodbye reaches the idle sockets
        for _ in range(6):
            await write()  # each on a connection checked at checkout: none fails
        assert pings == []
        await db.dispose()

        idle = Database(settings)
        check_before_use(idle.engine.sync_engine, ping_after=0.0)
        idle_pings = _pings_of(idle)
        for _ in range(3):
            async with idle.session() as session:
                await session.execute(text("SELECT 1"))
        assert len(idle_pings) >= 2  # every reuse after the first connect
        await idle.dispose()

    asyncio.run(run())
