import asyncio

import httpx
import pytest
from sqlalchemy import create_engine, text

from app.core.db import sync_url
from app.core.migrations import head_revision, upgrade
from app.main import create_app
from tests.conftest import make_database_url
from tests.dbsetup import drop_postgres_database


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_readyz_reports_head_migration(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "migration": head_revision()}


def test_readyz_is_unready_while_draining_and_answers_ask_to_close(client, app):
    app.state.lifecycle.draining = True
    try:
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.json()["detail"] == "The server is shutting down"
        assert r.headers["connection"] == "close"
        assert client.get("/healthz").status_code == 200  # still serving meanwhile
    finally:
        app.state.lifecycle.draining = False
    assert client.get("/readyz").status_code == 200
    assert "connection" not in client.get("/healthz").headers


@pytest.fixture
def scratch_url(tmp_path):
    url = make_database_url(tmp_path, "peercoach_readyz")
    yield url
    if url.startswith("postgresql"):
        drop_postgres_database(url)


def _readyz(settings, url: str) -> httpx.Response:
    app = create_app(settings.model_copy(update={"database_url": url}))

    async def run() -> httpx.Response:
        async with _client(app) as c:
            r = await c.get("/readyz")
        await app.state.db.dispose()
        return r

    return asyncio.run(run())


def test_readyz_names_an_unmigrated_or_outdated_schema(settings, scratch_url):
    engine = create_engine(sync_url(scratch_url))
    with engine.begin() as conn:  # the database exists, nothing in it
        conn.execute(text("CREATE TABLE unrelated (id integer)"))
    r = _readyz(settings, scratch_url)
    assert r.status_code == 503
    assert r.json()["detail"] == "The database is not migrated; run `peercoach migrate`"

    upgrade(scratch_url, "0010")
    r = _readyz(settings, scratch_url)
    assert r.status_code == 503
    assert r.json()["detail"] == f"The database schema is at 0010, expected {head_revision()}"
    upgrade(scratch_url)
    assert _readyz(settings, scratch_url).status_code == 200
    engine.dispose()


def test_a_flood_of_probes_checks_the_database_once(settings, monkeypatch):
    app = create_app(settings)
    calls = []
    real = app.state.db.driver.probe

    async def counted() -> str | None:
        calls.append(1)
        await asyncio.sleep(0.05)
        return await real()

    monkeypatch.setattr(app.state.db.driver, "probe", counted)

    async def run() -> list[int]:
        async with _client(app) as c:
            answers = await asyncio.gather(*(c.get("/readyz") for _ in range(30)))
        await app.state.db.dispose()
        return [r.status_code for r in answers]

    assert asyncio.run(run()) == [200] * 30
    assert len(calls) == 1
