"""The growth record of a year-end meeting: written by the team with the administrator once
the meeting has started, and read by the administrators of the members' schools by design."""

import pytest

ANY = {"If-Match": "*"}
PAST = {"starts_at": "2026-06-01T15:00:00Z", "ends_at": "2026-06-01T16:00:00Z"}
AHEAD = {"starts_at": "2099-06-01T15:00:00Z", "ends_at": "2099-06-01T16:00:00Z"}


def _meeting(client, auth, world, team, times):
    r = client.post(
        "/api/v1/events",
        headers=auth(world.admin_a),
        json={"team_id": team["id"], "kind": "year_end_meeting", **times},
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_written_together_and_read_by_the_administrator(client, team, world, auth):
    meeting = _meeting(client, auth, world, team, PAST)
    url = f"/api/v1/events/{meeting['id']}/growth-record"
    a, admin = auth(world.teacher_a), auth(world.admin_a)
    assert client.get(url, headers=admin).status_code == 404  # none yet
    r = client.put(url, headers=a, json={"learned": "Wait time changes who answers"})
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"growth-1"'
    event = client.get(f"/api/v1/events/{meeting['id']}", headers=a).json()
    assert event["status"] == "scheduled"  # a team does not mark its own year-end meeting
    read = client.get(url, headers=admin)
    assert read.status_code == 200
    assert read.json()["learned"] == "Wait time changes who answers"
    assert client.put(url, headers=admin, json={"learned": "x"}).status_code == 428
    r = client.put(
        url,
        headers={**admin, "If-Match": '"growth-1"'},
        json={"learned": "Wait time changes who answers", "goals_next_year": "Cold calling"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["updated_by_id"] == str(world.admin_a.id)
    event = client.get(f"/api/v1/events/{meeting['id']}", headers=a).json()
    assert event["status"] == "held"  # the administrator's writing confirms it
    for outsider in (world.teacher_b, world.admin_b):
        assert client.get(url, headers=auth(outsider)).status_code == 404
        assert client.put(url, headers={**auth(outsider), **ANY}, json={}).status_code == 404


@pytest.mark.parametrize("who", ["teacher_a", "admin_a"])
def test_not_before_the_meeting(client, team, world, auth, who):
    meeting = _meeting(client, auth, world, team, AHEAD)
    r = client.put(
        f"/api/v1/events/{meeting['id']}/growth-record",
        headers=auth(getattr(world, who)),
        json={"learned": "Too early"},
    )
    assert r.status_code == 409
    assert "has not started yet" in r.json()["detail"]


def test_only_a_year_end_meeting_has_one(client, team, world, auth, observation):
    r = client.put(
        f"/api/v1/events/{observation['id']}/growth-record",
        headers=auth(world.teacher_a),
        json={"learned": "x"},
    )
    assert r.status_code == 409


def test_not_on_a_deleted_meeting(client, team, world, auth):
    meeting = _meeting(client, auth, world, team, PAST)
    admin = auth(world.admin_a)
    url = f"/api/v1/events/{meeting['id']}"
    assert client.delete(url, headers={**admin, **ANY}).status_code == 204
    r = client.put(f"{url}/growth-record", headers=admin, json={"learned": "x"})
    assert r.status_code == 409
    r = client.post(f"{url}/held", headers={**admin, **ANY})
    assert r.status_code == 409
    assert "deleted" in r.json()["detail"]
