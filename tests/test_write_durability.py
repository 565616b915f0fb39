"""A write is committed before its success answer is sent, and a failed commit is never a 2xx."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NOT_SAVED
from app.main import create_app
from app.schools.models import School
from app.users.models import Role


def _schools_named(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(School.name == name)).scalar_one())


def test_the_row_is_committed_when_the_201_starts(settings, factory, auth, sync_engine):
    """Read the database from another connection at the moment the answer starts: the new row
    must already be there (it was not when the session committed after the response)."""
    admin = factory.user(Role.district_admin)
    seen: list[tuple[int, int]] = []
    inner = create_app(settings)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def watching_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and scope["method"] == "POST":
                seen.append((message["status"], _schools_named(sync_engine, "Committed First")))
            await send(message)

        await inner(scope, receive, watching_send)

    with TestClient(app) as c:  # type: ignore[arg-type]
        r = c.post(
            "/api/v1/schools",
            headers=auth(admin),
            json={"name": "Committed First", "time_zone": "UTC"},
        )
    assert r.status_code == 201
    assert seen == [(201, 1)]


def test_a_commit_that_fails_answers_503_and_nothing_is_saved(
    client, world, auth, sync_engine, monkeypatch
):
    real_commit = AsyncSession.commit
    failures = []

    async def failing_commit(self: AsyncSession) -> None:
        if self.info.get("written"):  # the write session of the request, not token reads
            failures.append(True)
            raise sa_exc.OperationalError("COMMIT", None, ConnectionResetError("connection lost"))
        await real_commit(self)

    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    r = client.post(
        "/api/v1/schools",
        headers=auth(world.district_admin),
        json={"name": "Never Saved", "time_zone": "UTC"},
    )
    monkeypatch.undo()
    assert failures
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] == "2"
    assert r.json()["detail"] == NOT_SAVED
    assert _schools_named(sync_engine, "Never Saved") == 0


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_conflict_at_commit_is_409_not_503(client, world, auth, monkeypatch, method):
    """Constraint violations found only at COMMIT (deferred) stay conflicts."""
    school = client.post(
        "/api/v1/schools",
        headers=auth(world.district_admin),
        json={"name": "Before", "time_zone": "UTC"},
    ).json()
    real_commit = AsyncSession.commit

    async def conflicting_commit(self: AsyncSession) -> None:
        if self.info.get("written"):
            raise sa_exc.IntegrityError("COMMIT", None, ValueError("unique violation"))
        await real_commit(self)

    monkeypatch.setattr(AsyncSession, "commit", conflicting_commit)
    if method == "post":
        r = client.post(
            "/api/v1/schools",
            headers=auth(world.district_admin),
            json={"name": "Clash", "time_zone": "UTC"},
        )
    else:
        r = client.patch(
            f"/api/v1/schools/{school['id']}",
            headers=auth(world.district_admin),
            json={"name": "Clash"},
        )
    assert r.status_code == 409, r.text
