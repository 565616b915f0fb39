"""Bad input refused at the edge with a 422 (or 415), never a 500, on both engines: NUL
characters anywhere, JSON not in UTF-8, instants outside the range time zones can convert."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from app.events.models import Event, EventParticipant
from tests.coaching.conftest import make_team
from tests.rosters.conftest import upload


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return dict(r.json())


@pytest.mark.parametrize(
    "form",
    [
        {"username": "ana\x00@example.org", "password": "x"},
        {"username": "ana@example.org", "password": "pass\x00word"},
    ],
)
def test_nul_in_the_login_form(client, form):
    body = _problem(client.post("/api/v1/auth/token", data=form), 422)
    assert body["errors"] == [{"field": "body", "message": "contains NUL", "type": "nul"}]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users?q=a%00b",
        "/api/v1/colleagues?q=%00",
        "/api/v1/reflections?q=x%00",
        "/api/v1/teams/%00",
        "/api/v1/events?from=2026-01-01T00:00:00Z%00",
    ],
)
def test_nul_in_the_path_or_the_query(client, world, auth, path):
    body = _problem(client.get(path, headers=auth(world.district_admin)), 422)
    assert body["errors"][0]["type"] == "nul"


def test_nul_in_any_json_string_but_an_escaped_backslash_is_text(client, world, auth):
    h = auth(world.district_admin)
    r = client.post(
        "/api/v1/roster-imports/json",
        headers=h,
        json={"people": [{"email": "a\u0000@example.org", "given_name": "A",
                          "family_name": "B", "role": "teacher"}]},
    )  # fmt: skip
    _problem(r, 422)
    r = client.post(
        "/api/v1/reflections",
        headers=auth(world.teacher_a),
        json={"title": "Backslash", "body": "C:\\u0000 is a path, not a NUL"},
    )
    assert r.status_code == 201
    assert r.json()["body"] == "C:\\u0000 is a path, not a NUL"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_json_must_be_utf8(client, world, auth, encoding):
    body = '{"name": "Sixteen", "time_zone": "UTC"}'.encode(encoding)
    r = client.post(
        "/api/v1/schools",
        headers={**auth(world.district_admin), "Content-Type": "application/json"},
        content=body,
    )
    assert _problem(r, 415)["errors"][0]["type"] == "encoding"


def test_nul_in_a_roster_file_is_a_row_error(client, world, auth):
    csv = (
        b"email,given name,family name,role,school\n"
        b"ok@example.org,Ok,Person,teacher,Alpha School\n"
        b"bad@example.org,Ba\x00d,Person,teacher,Alpha School\n"
    )
    body = _problem(upload(client, auth(world.district_admin), csv), 422)
    assert any("row 3" in e["field"] or "row 3" in e["message"] for e in body["errors"]), body


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        ("0001-01-01T00:00:00+05:00", "0001-01-01T01:00:00+05:00"),
        ("9999-12-31T22:00:00-05:00", "9999-12-31T23:00:00-05:00"),
        ("1850-06-01T09:00:00Z", "1850-06-01T10:00:00Z"),
    ],
)
def test_instants_time_zones_cannot_convert_are_422(client, world, factory, auth, starts, ends):
    team = make_team(client, world, factory, auth)
    r = client.post(
        "/api/v1/events",
        headers=auth(world.teacher_a),
        json={"team_id": team["id"], "kind": "other", "starts_at": starts, "ends_at": ends},
    )
    body = _problem(r, 422)
    assert "between 1900-01-01 and 2200-01-01" in r.text, body
    q = starts.replace("+", "%2B")
    _problem(client.get(f"/api/v1/events?from={q}", headers=auth(world.teacher_a)), 422)


def test_a_stored_year_one_event_does_not_break_the_summary(
    client, world, factory, auth, sync_engine
):
    """Stored before dates were range-checked: the document still renders."""
    team = make_team(client, world, factory, auth)
    event_id = uuid.uuid4()
    with sync_engine.begin() as conn:
        conn.execute(
            insert(Event).values(
                id=event_id,
                team_id=uuid.UUID(team["id"]),
                kind="other",
                starts_at=datetime(1, 1, 1, 0, 0, tzinfo=UTC),
                ends_at=datetime(1, 1, 1, 1, 0, tzinfo=UTC),
                status="scheduled",
                version=1,
                created_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
            )
        )
        conn.execute(insert(EventParticipant).values(event_id=event_id, user_id=world.teacher_a.id))
    for fmt in ("html", "markdown"):
        r = client.get(
            f"/api/v1/teams/{team['id']}/summary/document?format={fmt}",
            headers=auth(world.teacher_a),
        )
        assert r.status_code == 200, r.text
    assert (
        client.get(f"/api/v1/teams/{team['id']}/summary", headers=auth(world.teacher_a)).status_code
        == 200
    )
