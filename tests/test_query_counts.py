"""Every list answers in the same number of SQL statements whatever the page size."""

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from app.users.models import Role
from tests.teams import form_team


@contextlib.contextmanager
def counting(app, cold=True, reads=True):
    """The statements run meanwhile (`reads=False`: a write session's only, not the read
    path's, which also reads the caller's account on SQLite)."""
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if (
            not statement.lstrip()
            .upper()
            .startswith(("BEGIN", "COMMIT", "ROLLBACK", "SELECT PG_ADVISORY"))
        ):
            statements.append(statement)

    def record_read(statement, args):
        statements.append(statement)

    db = app.state.db
    # Write sessions, read sessions (their own engine on SQLite) and the hot read path (the
    # token check and list pages, app/core/reads.py).
    engines = {db.engine.sync_engine}
    if cold:  # the caller's account is read, not taken from memory (principal_cache.py)
        app.state.principals.clear()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    if reads:
        db.driver.listeners.append(record_read)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
        if reads:
            db.driver.listeners.remove(record_read)


def grow(client, world, factory, auth, n):
    """n teams of two teachers, each with a coming observation, a coverage request for it and
    a program post."""
    for i in range(n):
        a = factory.user(Role.teacher, [world.school_a])
        b = factory.user(Role.teacher, [world.school_a])
        team = form_team(client, auth, a, b, name=f"Team {i}")
        starts = datetime.now(UTC) + timedelta(days=7 + i)
        obs = client.post(
            "/api/v1/events",
            headers=auth(a),
            json={
                "team_id": team["id"],
                "kind": "observation",
                "observer_id": str(a.id),
                "observed_id": str(b.id),
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
            },
        )
        assert obs.status_code == 201, obs.text
        r = client.post(
            "/api/v1/coverage-requests", headers=auth(a), json={"event_id": obs.json()["id"]}
        )
        assert r.status_code == 201, r.text
        client.post(
            "/api/v1/reflections",
            headers=auth(a),
            json={"title": f"Post {i}", "body": "x", "visibility": "program"},
        )


LISTS = [
    "/api/v1/teams",
    "/api/v1/events",
    "/api/v1/users",
    "/api/v1/colleagues",
    "/api/v1/reflections",
    "/api/v1/coverage-requests",
    "/api/v1/schools",
    "/api/v1/focus-areas",
    "/api/v1/reports/year-end",
    "/api/v1/audit-events",
    "/api/v1/school-years",
]


@pytest.mark.parametrize("path", LISTS)
def test_list_query_count_does_not_grow_with_the_page(client, app, world, factory, auth, path):
    grow(client, world, factory, auth, 1)
    h = auth(world.district_admin)
    with counting(app) as small:
        assert client.get(path, headers=h).status_code == 200
    grow(client, world, factory, auth, 6)
    with counting(app) as large:
        body = client.get(f"{path}?limit=200", headers=h).json()
    assert body["total"] >= len(body["items"])
    assert len(large) == len(small), (len(small), len(large), large)
    assert 2 <= len(small) <= 12  # at least the token check and the page


OWN_LISTS = [
    "/api/v1/notifications",
    "/api/v1/notifications/unread-count",
    "/api/v1/team-invitations",
    "/api/v1/events",
    "/api/v1/calendar-feeds",
]


@pytest.mark.parametrize("path", OWN_LISTS)
def test_a_teachers_own_lists_do_not_grow_in_statements(client, app, world, factory, auth, path):
    """A teacher invited to ever more teams (each invitation a notification, each team a
    feed) reads their own lists in as many statements as before."""
    me = world.teacher_a
    h = auth(me)

    def invited(n: int) -> None:
        for _ in range(n):
            other = factory.user(Role.teacher, [world.school_a])
            team = form_team(client, auth, other, me, name=f"Team of {other.id}")
            r = client.post(
                "/api/v1/calendar-feeds", headers=h, json={"kind": "team", "team_id": team["id"]}
            )
            assert r.status_code == 201, r.text

    invited(1)
    with counting(app) as small:
        assert client.get(path, headers=h).status_code == 200
    invited(5)
    with counting(app) as large:
        body = client.get(path, headers=h).json()
    assert len(large) == len(small), (len(small), len(large), large)
    assert 2 <= len(small) <= 6
    if path in ("/api/v1/notifications", "/api/v1/calendar-feeds"):
        assert len(body["items"]) >= 6


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/colleagues", "/api/v1/schools"])
@pytest.mark.parametrize("caller", ["district_admin", "school_admin"])
def test_hot_lists_are_two_statements_a_page(client, app, world, factory, auth, path, caller):
    # The token check, and the page carrying its total; only a page past the end counts apart.
    for _ in range(5):
        factory.user(Role.teacher, [world.school_a])
    h = auth(world.caller(caller))
    for query, statements in (("limit=2", 2), ("limit=200", 2), ("offset=500", 3)):
        with counting(app) as seen:
            body = client.get(f"{path}?{query}", headers=h).json()
        assert len(seen) == statements, (query, seen)
        assert body["total"] >= 2


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/colleagues", "/api/v1/teams"])
def test_totals_are_counted_up_to_a_cap_past_the_offset(
    client, world, factory, auth, monkeypatch, path
):
    """A district-sized list is not counted to the end on every page: `total` stops at
    PAGES_COUNTED pages past `offset`, and says so."""
    from app.core import pagination

    for i in range(4):
        a = factory.user(Role.teacher, [world.school_a])
        b = factory.user(Role.teacher, [world.school_a])
        form_team(client, auth, a, b, name=f"Capped {i}")
    h = auth(world.district_admin)
    exact = client.get(f"{path}?limit=200", headers=h).json()
    assert exact["total_exact"] is True
    assert exact["total"] >= 4
    monkeypatch.setattr(pagination, "PAGES_COUNTED", 2)  # up to offset + 2 x limit
    capped = client.get(f"{path}?limit=1", headers=h).json()
    assert capped["total"] == 2
    assert capped["total_exact"] is False
    assert capped["next"] is not None
    further = client.get(f"{path}?limit=1&offset=2", headers=h).json()
    assert further["total"] == min(exact["total"], 4)  # counted up to offset + 2
    assert further["total_exact"] is (exact["total"] < 4)
    past = client.get(f"{path}?limit=1&offset=500", headers=h).json()
    assert past["items"] == []
    assert past["total"] == exact["total"]
    assert past["total_exact"] is True


@pytest.mark.parametrize("kept", [False, True], ids=["built", "kept"])
def test_a_schools_feed_does_not_grow_in_statements(client, app, world, factory, auth, kept):
    """An administrator's feed of ever more teams reads as many statements, whether each
    team's events are built (nothing kept) or kept from the read before."""
    grow(client, world, factory, auth, 1)
    url = client.post(
        "/api/v1/calendar-feeds", headers=auth(world.admin_a), json={"kind": "schools"}
    ).json()["url"]

    def read() -> tuple[list[str], str]:
        app.state.db.kept.clear()
        if kept:
            client.get(url)
        with counting(app) as statements:
            r = client.get(url)
        assert r.status_code == 200, r.text
        return statements, r.text

    small, _ = read()
    grow(client, world, factory, auth, 6)
    large, body = read()
    assert body.count("BEGIN:VEVENT") == 7
    assert len(large) == len(small), (len(small), len(large), large)
    # The address, its owner, the teams; built: the teams again in a snapshot
    # (`Reads.at_one_moment`), the events.
    assert len(small) <= (3 if kept else 5)


@pytest.mark.parametrize("path", ["/api/v1/reports/year-end.csv", "/api/v1/audit-events.csv"])
def test_a_whole_download_does_not_count_its_rows_again(
    client, world, factory, auth, monkeypatch, path
):
    """A CSV of every row shows no total: its page is read without counting them (a second
    pass of the list's filter: the year-end CSV of a school was twice as slow)."""
    from app.core.pagination import COUNT_UP_TO
    from app.core.reads import Reads

    grow(client, world, factory, auth, 2)
    seen: list[int] = []
    original = Reads._rows

    async def spy(self, stmt, values, **kwargs):
        if values and COUNT_UP_TO in values:
            seen.append(values[COUNT_UP_TO])
        return await original(self, stmt, values, **kwargs)

    monkeypatch.setattr(Reads, "_rows", spy)
    r = client.get(path, headers=auth(world.district_admin))
    assert r.status_code == 200, r.text
    # The page, not counted (read twice when built: `Reads.at_one_moment`'s try, then its
    # snapshot).
    assert seen in ([0], [0, 0])
