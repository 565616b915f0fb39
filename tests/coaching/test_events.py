import uuid

import pytest

from tests.coaching.conftest import TEAM_READERS
from tests.teams import form_team

T0 = "2026-12-01T09:00:00-06:00"
T1 = "2026-12-01T10:00:00-06:00"


def an_event(team, world, **over):
    body = {
        "team_id": team["id"],
        "kind": "pre_conference",
        "title": "Plan the lesson",
        "starts_at": T0,
        "ends_at": T1,
        "location": "Room 12",
    }
    body.update(over)
    return body


def observation(team, world, observer, observed, start=T0, end=T1):
    return an_event(
        team,
        world,
        kind="observation",
        observer_id=str(observer.id),
        observed_id=str(observed.id),
        starts_at=start,
        ends_at=end,
    )


@pytest.fixture
def event(client, team, world, auth):
    r = client.post("/api/v1/events", headers=auth(world.teacher_a), json=an_event(team, world))
    assert r.status_code == 201, r.text
    return r.json()


def test_create_event_defaults_to_the_whole_team(client, team, world, event):
    assert {p["id"] for p in event["participants"]} == {
        str(world.teacher_a.id),
        str(world.teacher_a2.id),
    }
    assert event["starts_at"] == "2026-12-01T15:00:00Z"  # stored and answered in UTC
    assert event["status"] == "scheduled"
    assert event["version"] == 1


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("member", 201),
        ("same_school_teacher", 404),
        ("outside_teacher", 404),
        ("school_admin", 403),
        ("other_school_admin", 404),
        ("district_admin", 403),
        ("read_key", 403),
    ],
)
def test_create_event_by_caller(client, team, world, as_caller, auth, caller, status):
    r = client.post("/api/v1/events", headers=as_caller(caller), json=an_event(team, world))
    assert r.status_code == status
    total = client.get("/api/v1/events", headers=auth(world.teacher_a)).json()["total"]
    assert total == (1 if status == 201 else 0)


@pytest.mark.parametrize(
    ("caller", "status"),
    TEAM_READERS,
)
def test_read_event_by_caller(client, event, as_caller, caller, status):
    r = client.get(f"/api/v1/events/{event['id']}", headers=as_caller(caller))
    assert r.status_code == status
    listed = client.get("/api/v1/events", headers=as_caller(caller))
    if status == 200:
        assert [e["id"] for e in listed.json()["items"]] == [event["id"]]
    elif status == 404:
        assert listed.json()["total"] == 0


def test_observation_rules(client, team, world, auth):
    h = auth(world.teacher_a)
    r = client.post(
        "/api/v1/events",
        headers=h,
        json=observation(team, world, world.teacher_a, world.teacher_a2),
    )
    assert r.status_code == 201
    assert {p["id"] for p in r.json()["participants"]} == {
        str(world.teacher_a.id),
        str(world.teacher_a2.id),
    }
    assert (r.json()["observer_id"], r.json()["observed_id"]) == (
        str(world.teacher_a.id),
        str(world.teacher_a2.id),
    )
    same = observation(
        team,
        world,
        world.teacher_a,
        world.teacher_a,
        "2026-12-02T09:00:00Z",
        "2026-12-02T10:00:00Z",
    )
    assert client.post("/api/v1/events", headers=h, json=same).status_code == 422
    outsider = observation(
        team,
        world,
        world.teacher_a,
        world.teacher_b,
        "2026-12-02T09:00:00Z",
        "2026-12-02T10:00:00Z",
    )
    r = client.post("/api/v1/events", headers=h, json=outsider)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.observed_id"
    missing = an_event(team, world, kind="observation")
    assert client.post("/api/v1/events", headers=h, json=missing).status_code == 422
    not_obs = an_event(
        team,
        world,
        observer_id=str(world.teacher_a.id),
        starts_at="2026-12-03T09:00:00Z",
        ends_at="2026-12-03T10:00:00Z",
    )
    assert client.post("/api/v1/events", headers=h, json=not_obs).status_code == 422


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (T1, T0),
        (T0, T0),
        ("2026-12-01T09:00:00", T1),
        (T0, "2026-12-02T09:00:00-06:00"),
        ("soon", T1),
    ],
)
def test_bad_times_are_422(client, team, world, auth, start, end):
    r = client.post(
        "/api/v1/events",
        headers=auth(world.teacher_a),
        json=an_event(team, world, starts_at=start, ends_at=end),
    )
    assert r.status_code == 422


def test_participants_must_be_on_the_team(client, team, world, auth):
    r = client.post(
        "/api/v1/events",
        headers=auth(world.teacher_a),
        json=an_event(team, world, participant_ids=[str(world.teacher_b.id)]),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.participant_ids"


def test_double_booking_is_409_naming_the_other_event(client, team, world, auth, event):
    h = auth(world.teacher_a)
    overlapping = an_event(
        team, world, starts_at="2026-12-01T09:30:00-06:00", ends_at="2026-12-01T11:00:00-06:00"
    )
    r = client.post("/api/v1/events", headers=h, json=overlapping)
    assert r.status_code == 409
    assert event["id"] in r.json()["detail"]
    # back to back is fine
    after = an_event(team, world, starts_at=T1, ends_at="2026-12-01T11:00:00-06:00")
    assert client.post("/api/v1/events", headers=h, json=after).status_code == 201
    # cancelling frees the time
    client.post(
        f"/api/v1/events/{event['id']}/cancel",
        headers={**h, "If-Match": "*"},
        json={"reason": "sub unavailable"},
    )
    assert (
        client.post("/api/v1/events", headers=h, json=overlapping).status_code == 409
    )  # still clashes with `after`
    early = an_event(
        team, world, starts_at="2026-12-01T08:30:00-06:00", ends_at="2026-12-01T09:30:00-06:00"
    )
    assert client.post("/api/v1/events", headers=h, json=early).status_code == 201


def test_a_long_event_clashes_until_its_end(client, team, world, auth):
    """The clash check looks back at most the longest an event may last (12 hours): a 12-hour
    event still clashes with one in its last minute, and frees the time at its end."""
    h = auth(world.teacher_a)
    day = an_event(team, world, starts_at="2027-03-01T00:00:00Z", ends_at="2027-03-01T12:00:00Z")
    assert client.post("/api/v1/events", headers=h, json=day).status_code == 201
    last_minute = an_event(
        team, world, starts_at="2027-03-01T11:59:00Z", ends_at="2027-03-01T12:30:00Z"
    )
    r = client.post("/api/v1/events", headers=h, json=last_minute)
    assert r.status_code == 409, r.text
    at_its_end = an_event(
        team, world, starts_at="2027-03-01T12:00:00Z", ends_at="2027-03-01T12:30:00Z"
    )
    assert client.post("/api/v1/events", headers=h, json=at_its_end).status_code == 201
    moved = client.post("/api/v1/events", headers=h, json=an_event(
        team, world, starts_at="2027-03-02T08:00:00Z", ends_at="2027-03-02T09:00:00Z"
    )).json()  # fmt: skip
    r = client.patch(
        f"/api/v1/events/{moved['id']}",
        headers={**h, "If-Match": "*"},
        json={"starts_at": "2027-03-01T11:00:00Z", "ends_at": "2027-03-01T11:30:00Z"},
    )
    assert r.status_code == 409, r.text  # rescheduling into it clashes too


def test_double_booking_across_teams(client, team, world, factory, auth, event):
    """Teacher A is on both teams. Teacher A3, on the second only, learns A is busy, not what
    the first team has planned."""
    client.patch(
        f"/api/v1/events/{event['id']}",
        headers={**auth(world.teacher_a), "If-Match": "*"},
        json={"title": "Secret title", "location": "Room 7"},
    )
    other = form_team(client, auth, world.teacher_a, world.teacher_a3, name="Second team")
    r = client.post("/api/v1/events", headers=auth(world.teacher_a3), json=an_event(other, world))
    assert r.status_code == 409  # teacher A is in both
    detail = r.json()["detail"]
    assert detail == f"Participant {world.teacher_a.id} is busy at that time"
    for secret in (event["id"], "Secret title", "Room 7", "observation", "2026-12-01"):
        assert secret not in r.text


def test_reschedule_with_if_match(client, event, world, auth):
    h = auth(world.teacher_a2)
    url = f"/api/v1/events/{event['id']}"
    tag = client.get(url, headers=h).headers["etag"]
    r = client.patch(
        url,
        headers={**h, "If-Match": tag},
        json={"starts_at": "2026-12-02T09:00:00Z", "ends_at": "2026-12-02T10:00:00Z"},
    )
    assert r.status_code == 200
    assert r.json()["version"] == 2
    stale = client.patch(url, headers={**h, "If-Match": tag}, json={"location": "Library"})
    assert stale.status_code == 412
    assert client.get(url, headers=h).json()["location"] == "Room 12"
    assert (
        client.patch(
            url, headers={**h, "If-Match": "*"}, json={"starts_at": "2026-12-02T09:00:00Z"}
        ).status_code
        == 422
    )
    assert (
        client.patch(
            url, headers={**auth(world.admin_a), "If-Match": "*"}, json={"location": "x"}
        ).status_code
        == 403
    )


def test_cancel_keeps_the_event(client, event, world, auth):
    h = auth(world.teacher_a)
    url = f"/api/v1/events/{event['id']}"
    r = client.post(f"{url}/cancel", headers={**h, "If-Match": "*"}, json={"reason": "Snow day"})
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
    assert r.json()["cancel_reason"] == "Snow day"
    assert client.post(f"{url}/cancel", headers={**h, "If-Match": "*"}, json={}).status_code == 409
    assert (
        client.patch(url, headers={**h, "If-Match": "*"}, json={"location": "x"}).status_code == 409
    )
    assert client.get("/api/v1/events", headers=h).json()["total"] == 0
    listed = client.get("/api/v1/events?include_cancelled=true", headers=h).json()
    assert [e["status"] for e in listed["items"]] == ["cancelled"]


def test_soft_delete_and_restore(client, event, world, auth):
    url = f"/api/v1/events/{event['id']}"
    assert client.delete(url, headers={**auth(world.admin_a), "If-Match": "*"}).status_code == 403
    assert client.delete(url, headers={**auth(world.teacher_a), "If-Match": "*"}).status_code == 204
    assert client.get(url, headers=auth(world.teacher_a)).status_code == 404
    assert client.post(f"{url}/restore", headers=auth(world.teacher_a)).status_code == 404
    assert client.post(f"{url}/restore", headers=auth(world.admin_b)).status_code == 404
    r = client.post(f"{url}/restore", headers=auth(world.admin_a))
    assert r.status_code == 200
    assert r.json()["deleted_at"] is None
    assert client.get(url, headers=auth(world.teacher_a)).status_code == 200


def test_year_end_meeting_with_an_administrator(client, team, world, auth):
    body = an_event(
        team,
        world,
        kind="year_end_meeting",
        title="Growth conversation",
        participant_ids=[str(world.teacher_a.id), str(world.teacher_a2.id), str(world.admin_a.id)],
    )
    r = client.post("/api/v1/events", headers=auth(world.admin_a), json=body)
    assert r.status_code == 201
    assert str(world.admin_a.id) in {p["id"] for p in r.json()["participants"]}
    body["participant_ids"][-1] = str(world.admin_b.id)  # not an administrator of a member's school
    body["starts_at"], body["ends_at"] = "2026-12-05T09:00:00Z", "2026-12-05T10:00:00Z"
    assert client.post("/api/v1/events", headers=auth(world.admin_a), json=body).status_code == 422
    # a team does not schedule its own year-end meeting; admins schedule only those
    pre = an_event(team, world, starts_at="2026-12-06T09:00:00Z", ends_at="2026-12-06T10:00:00Z")
    assert client.post("/api/v1/events", headers=auth(world.admin_a), json=pre).status_code == 403


def test_calendar_filters(client, team, world, auth, event):
    h = auth(world.teacher_a)
    client.post(
        "/api/v1/events",
        headers=h,
        json=observation(
            team,
            world,
            world.teacher_a2,
            world.teacher_a,
            "2026-12-10T09:00:00Z",
            "2026-12-10T10:00:00Z",
        ),
    )

    def ids(q):
        return [e["kind"] for e in client.get(f"/api/v1/events?{q}", headers=h).json()["items"]]

    assert ids("") == ["pre_conference", "observation"]
    assert ids("kind=observation") == ["observation"]
    assert ids("from=2026-12-05T00:00:00Z") == ["observation"]
    assert ids("to=2026-12-05T00:00:00Z") == ["pre_conference"]
    assert ids(f"team_id={team['id']}&teacher_id={world.teacher_a2.id}") == [
        "pre_conference",
        "observation",
    ]
    assert ids(f"teacher_id={world.teacher_b.id}") == []
    assert client.get("/api/v1/events?from=2026-12-05T00:00:00", headers=h).status_code == 422
    assert client.get(f"/api/v1/events/{uuid.uuid4()}", headers=h).status_code == 404
