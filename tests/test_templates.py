"""The reads every screen makes are statement templates: once warm, a request neither builds
nor keys SQL (README, "Statement templates"; bench/README.md for what it buys).

Every GET route is decided here: `TEMPLATED` routes must read through templates only (no
statement found by SQLAlchemy's cache key on a warm request, for every kind of caller that
reads it), and `BUILT_PER_REQUEST` names the ones that still build their statements per
request. A new GET route in neither set fails the first test.

On SQLite the same tests replay every read statement they saw and check that SQLite does not
plan it again at each execution: it does when a bound value meets a partial index's predicate
(`team_invitation.status = ?` against `WHERE status = 'pending'`), which cost a team's read 85
of its 100 µs; such values are written into the SQL with `sql.constant()`.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import ENGINE
from tests.test_route_matrix import RULES, World, _fill, build

TEMPLATED = {
    "/api/v1/audit-events",
    "/api/v1/audit-events.csv",
    "/api/v1/calendar-feeds",
    "/api/v1/calendar-feeds/{token}.ics",
    "/api/v1/colleagues",
    "/api/v1/events/{event_id}.ics",
    "/api/v1/coverage-requests",
    "/api/v1/coverage-requests/{request_id}",
    "/api/v1/events",
    "/api/v1/events/{event_id:id}",
    "/api/v1/events/{event_id}/conference-record",
    "/api/v1/events/{event_id}/growth-record",
    "/api/v1/program-rules",
    "/api/v1/me/observation-records",
    "/api/v1/me/learning-forms",
    "/api/v1/teams/{team_id}/learning-forms",
    "/api/v1/teams/{team_id}/learning-forms/{teacher_id}",
    "/api/v1/events/{event_id}/observation-record",
    "/api/v1/focus-areas",
    "/api/v1/integration-keys",
    "/api/v1/me",
    "/api/v1/me/notification-settings",
    "/api/v1/notifications",
    "/api/v1/notifications/unread-count",
    "/api/v1/reflections",
    "/api/v1/reflections/{reflection_id}",
    "/api/v1/reflections/{reflection_id}/comments",
    "/api/v1/reports/year-end",
    "/api/v1/reports/year-end.csv",
    "/api/v1/resources",
    "/api/v1/resources/{resource_id}",
    "/api/v1/roster-imports",
    "/api/v1/roster-imports/{import_id:uuid}",
    "/api/v1/roster-imports/{import_id:uuid}/rows",
    "/api/v1/schools",
    "/api/v1/school-years",
    "/api/v1/school-years/{school_year_id}",
    "/api/v1/schools/{school_id}",
    "/api/v1/support-requests",
    "/api/v1/support-requests/{request_id}",
    "/api/v1/team-invitations",
    "/api/v1/teams",
    "/api/v1/teams/{team_id}",
    "/api/v1/teams/{team_id}/invitations",
    "/api/v1/teams/{team_id}/observation-records",
    "/api/v1/teams/{team_id}/observation-comparison",
    "/api/v1/teams/{team_id}/read-log",
    "/api/v1/teams/{team_id}/plan",
    "/api/v1/teams/{team_id}/plan/transitions",
    "/api/v1/teams/{team_id}/progress",
    "/api/v1/teams/{team_id}/summary",
    "/api/v1/teams/{team_id}/summary/document",
    "/api/v1/users",
    "/api/v1/users/{user_id}",
    "/api/v1/users/{user_id}/sso-identities",
    "/api/v1/me/sso-identities",
    "/healthz",
    "/readyz",
    "/api/v1/sso/providers",  # from settings: no SQL at all
}

# Routes that still build their statements per request, each with its reason.
BUILT_PER_REQUEST: set[str] = {
    # A browser's steps through a single sign-on: GETs because browsers redirect, but writes
    # (they record and use up the sign-in), not reads.
    "/api/v1/sso/{provider}/authorize",
    "/api/v1/sso/{provider}/callback",
}

GETS = sorted(path for method, path in RULES if method == "GET")


def test_every_get_is_decided():
    assert set(GETS) == TEMPLATED | BUILT_PER_REQUEST
    assert not TEMPLATED & BUILT_PER_REQUEST


def _headers(w: World, caller: str, token_for) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    if caller in w.keys:
        return {"Authorization": f"Bearer {w.keys[caller]}"}
    return {"Authorization": f"Bearer {token_for(w.users[caller])}"}


# A table listed after a comma in a FROM: a column of an enclosing query used two subqueries
# down is not correlated by SQLAlchemy but read as a table of its own (`FROM team_member,
# event`: every event's team instead of this row's), silently wrong and slow. Joins are
# written as JOIN.
IMPLICIT_FROM = re.compile(r"\bFROM \w+(?: AS \w+)?, \w+", re.IGNORECASE)


@contextlib.contextmanager
def reads_run(app) -> Iterator[list[tuple[str, Any]]]:
    """The statements the read path runs meanwhile, with the driver's parameters."""
    read: list[tuple[str, Any]] = []

    def record(sql: str, args: Any) -> None:
        read.append((sql, args))

    app.state.db.driver.listeners.append(record)
    try:
        yield read
    finally:
        app.state.db.driver.listeners.remove(record)


def planned_again(database_url: str, ran: list[tuple[str, Any]]) -> list[str]:
    """The statements among `ran` (SQL and the driver's parameters) that SQLite plans again at
    every execution: each runs twice on a connection of its own, and SQLite asks the
    authorizer about a statement only while it plans it. A change (INSERT, UPDATE, DELETE)
    runs inside a transaction rolled back each time, and may be refused (its row is there
    already): SQLite planned it before it refused it. Nothing on PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return []
    conn = sqlite3.connect(url.database or "", isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    planning: list[int] = []

    def authorize(*_: Any) -> int:
        planning.append(1)
        return sqlite3.SQLITE_OK

    def run(sql: str, args: Any) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            conn.execute(sql, args).fetchall()
            return
        conn.execute("BEGIN")
        try:
            conn.execute(sql, args).fetchall()
        except sqlite3.IntegrityError:
            pass
        finally:
            conn.execute("ROLLBACK")

    conn.set_authorizer(authorize)
    again = []
    try:
        for sql, args in dict(ran).items():
            run(sql, args)
            planning.clear()
            run(sql, args)
            if planning:
                again.append(sql)
    finally:
        conn.close()
    return again


@pytest.mark.parametrize("path", sorted(TEMPLATED))
def test_a_warm_read_builds_no_sql(app, client, sync_engine, token_for, settings, path):
    rule = RULES[("GET", path)]
    readers = [caller for caller, status in rule.expected.items() if status == 200]
    assert readers
    statements = app.state.db.driver.statements
    w = build(sync_engine)
    url = _fill(rule.path, w.ids)
    with reads_run(app) as read:
        for caller in readers:
            headers = _headers(w, caller, token_for)
            assert client.get(url, headers=headers).status_code == 200  # warm: built once
            before = statements.keyed
            assert client.get(url, headers=headers).status_code == 200
            assert statements.keyed == before, (caller, "built a statement per request")
    assert not [sql for sql, _ in read if IMPLICIT_FROM.search(sql)]
    assert planned_again(settings.database_url, read) == []


# Filters make their own templates (one per combination): a few, as front ends send them.
FILTERED = [
    ("/api/v1/coverage-requests", "status=pending&school_id={school_id}"),
    ("/api/v1/coverage-requests", "needs_attention=true"),
    ("/api/v1/support-requests", "status=open"),
    ("/api/v1/resources", "q=a&reviewed=false"),
    ("/api/v1/resources", "reviewed=true"),
    ("/api/v1/roster-imports/{import_id:uuid}/rows", "action=created"),
    ("/api/v1/focus-areas", "include_inactive=true"),
    ("/api/v1/integration-keys", "include_revoked=true"),
    ("/api/v1/teams", "plan_status=submitted"),
    ("/api/v1/users", "q=a&role=teacher"),
]


@pytest.mark.parametrize(("path", "query"), FILTERED)
def test_a_warm_filtered_read_builds_no_sql(
    app, client, sync_engine, token_for, settings, path, query
):
    rule = RULES[("GET", path)]
    readers = [caller for caller, status in rule.expected.items() if status == 200]
    statements = app.state.db.driver.statements
    w = build(sync_engine)
    url = f"{_fill(rule.path, w.ids)}?{query.format(**w.ids)}"
    with reads_run(app) as read:
        for caller in readers:
            headers = _headers(w, caller, token_for)
            assert client.get(url, headers=headers).status_code == 200, (caller, url)
            before = statements.keyed
            assert client.get(url, headers=headers).status_code == 200
            assert statements.keyed == before, (caller, "built a statement per request")
    assert planned_again(settings.database_url, read) == []


def test_a_warm_write_under_an_event_or_a_team_builds_no_access_check(
    client, sync_engine, token_for
):
    """The access check every write under an event or a team starts with (the event with its
    team and members, the team with its members) is a template per kind of caller, as reads
    are: once warm, a write neither builds nor keys it (0.3-0.4 ms a request)."""
    from app.events.deps import _event_with_team
    from app.teams.service import _team_with_members

    w = build(sync_engine)
    writes = [
        (f"/api/v1/events/{w.ids['event_id']}", {"title": "Renamed"}),  # an event's access
        (f"/api/v1/teams/{w.ids['team_id']}", {"name": "Renamed team"}),  # a team's access
    ]
    for path, body in writes:
        for caller in ("member", "school_admin", "district_admin"):
            headers = {**_headers(w, caller, token_for), "If-Match": "*"}
            client.patch(path, headers=headers, json=body)  # warm
            before = (_event_with_team.cache_info(), _team_with_members.cache_info())
            answered = client.patch(path, headers=headers, json=body)
            assert answered.status_code in (200, 403), answered.text
            after = (_event_with_team.cache_info(), _team_with_members.cache_info())
            assert [a.misses for a in after] == [b.misses for b in before], (path, caller)
            assert sum(a.hits for a in after) > sum(b.hits for b in before), (path, caller)


# The writes on the read path's driver (app/core/writes.py), as the route matrix sends them.
DRIVER_WRITES = [
    ("POST", "/api/v1/events"),
    ("POST", "/api/v1/events/{event_id}/observation-record"),
    ("POST", "/api/v1/reflections"),
    ("POST", "/api/v1/reflections/{reflection_id}/comments"),
]


@pytest.mark.parametrize("route", DRIVER_WRITES, ids=lambda r: r[1])
def test_a_write_on_the_driver_is_planned_once(
    app, client, sync_engine, token_for, settings, route
):
    """What a write on the driver runs (its checks and its changes) SQLite plans once, not at
    every execution (a bound value compared with a partial index's column, a bound LIKE)."""
    rule = RULES[route]
    w = build(sync_engine)
    with reads_run(app) as ran:
        answered = client.post(
            _fill(rule.path, w.ids),
            headers=_headers(w, "member", token_for),
            json=_fill(rule.json, w.ids),
        )
    assert answered.status_code == 201, answered.text
    assert any(not sql.lstrip().upper().startswith("SELECT") for sql, _ in ran)
    assert planned_again(settings.database_url, ran) == []
    if ENGINE == "sqlite":  # and it would tell: a change comparing the partial index's column
        bound = "DELETE FROM team_invitation WHERE team_id = ? AND invitee_id = ? AND status = ?"
        args = (uuid.UUID(w.ids["team_id"]).hex, uuid.UUID(w.ids["member_id"]).hex, "pending")
        assert planned_again(settings.database_url, [(bound, args)]) == [bound]
