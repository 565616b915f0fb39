"""Done means done: an event counts as held when a participant confirms it (a year-end
meeting: an administrator of a member's school) or its record is written, never because its
end time passed; a record cannot be written before its event has started."""

import pytest

from tests.coaching.test_progress import codes, ev, held
from tests.teams import approve_plan

ANY = {"If-Match": "*"}


@pytest.fixture(autouse=True)
def _plan_approved(client, team, world, auth):
    """Observations are held once the team's plan is approved (tests/coaching/
    test_program_rules.py holds the rule itself)."""
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)


def _observation(client, world, auth, team, day=1, **times):
    return ev(
        client,
        auth(world.teacher_a),
        team,
        "observation",
        day,
        observer_id=str(world.teacher_a.id),
        observed_id=str(world.teacher_a2.id),
        **times,
    )


AHEAD = {"starts_at": "2099-01-01T15:00:00Z", "ends_at": "2099-01-01T16:00:00Z"}


def test_an_ended_observation_is_not_held_until_confirmed(client, team, world, auth):
    obs = _observation(client, world, auth, team)
    url = f"/api/v1/teams/{team['id']}/progress"
    r = client.get(url, headers=auth(world.teacher_a)).json()
    assert [(o["observed"], o["observing"]) for o in r["observations"]] == [(0, 0), (0, 0)]
    confirmed = held(client, auth(world.teacher_a2), obs)
    assert confirmed["status"] == "held"
    assert confirmed["held_by_id"] == str(world.teacher_a2.id)
    assert confirmed["held_at"] is not None
    assert confirmed["version"] == obs["version"] + 1
    r = client.get(url, headers=auth(world.admin_a)).json()
    counts = {o["teacher"]["id"]: (o["observed"], o["observing"]) for o in r["observations"]}
    assert counts[str(world.teacher_a2.id)] == (1, 0)
    assert counts[str(world.teacher_a.id)] == (0, 1)


def test_a_pre_conference_that_ended_says_it_is_unconfirmed(client, team, world, auth):
    ev(client, auth(world.teacher_a), team, "pre_conference", 1)
    r = client.get(f"/api/v1/teams/{team['id']}/progress", headers=auth(world.teacher_a)).json()
    assert r["pre_conference"] == "scheduled"
    step = r["missing"][codes(r).index("pre_conference_held")]
    assert step["params"] == {"unconfirmed": 1}
    assert "ended without being confirmed held" in step["message"]


@pytest.mark.parametrize(
    ("setup", "detail"),
    [
        ("ahead", "has not started yet"),
        ("cancelled", "cancelled"),
        ("held", "already confirmed held"),
    ],
)
def test_what_cannot_be_confirmed(client, team, world, auth, setup, detail):
    a = auth(world.teacher_a)
    obs = _observation(client, world, auth, team, **(AHEAD if setup == "ahead" else {}))
    if setup == "cancelled":
        client.post(f"/api/v1/events/{obs['id']}/cancel", headers={**a, **ANY}, json={})
    if setup == "held":
        held(client, a, obs)
    r = client.post(f"/api/v1/events/{obs['id']}/held", headers={**a, **ANY})
    assert r.status_code == 409, r.text
    assert detail in r.json()["detail"]


def test_who_confirms(client, team, world, auth):
    obs = _observation(client, world, auth, team)
    for outsider, status in (
        (world.admin_a, 403),
        (world.district_admin, 403),
        (world.teacher_b, 404),
    ):
        r = client.post(f"/api/v1/events/{obs['id']}/held", headers={**auth(outsider), **ANY})
        assert r.status_code == status, (outsider.email, r.text)
    people = [str(world.teacher_a.id), str(world.teacher_a2.id), str(world.admin_a.id)]
    meeting = ev(client, auth(world.admin_a), team, "year_end_meeting", 2, participant_ids=people)
    r = client.post(
        f"/api/v1/events/{meeting['id']}/held", headers={**auth(world.teacher_a), **ANY}
    )
    assert r.status_code == 403  # a team does not mark its own year-end meeting
    assert "administrator" in r.json()["detail"]
    assert held(client, auth(world.admin_a), meeting)["status"] == "held"
    r = client.get(f"/api/v1/teams/{team['id']}/progress", headers=auth(world.teacher_a)).json()
    assert r["year_end_meeting"] == "held"


def test_a_record_means_held_but_not_before_the_observation_starts(client, team, world, auth):
    a = auth(world.teacher_a)
    ahead = _observation(client, world, auth, team, **AHEAD)
    r = client.post(
        f"/api/v1/events/{ahead['id']}/observation-record", headers=a, json={"affirmations": ["x"]}
    )
    assert r.status_code == 409
    assert "has not started yet" in r.json()["detail"]
    assert client.get(f"/api/v1/events/{ahead['id']}", headers=a).json()["status"] == "scheduled"
    past = _observation(client, world, auth, team)
    r = client.post(
        f"/api/v1/events/{past['id']}/observation-record", headers=a, json={"affirmations": ["x"]}
    )
    assert r.status_code == 201
    event = client.get(f"/api/v1/events/{past['id']}", headers=a).json()
    assert event["status"] == "held"
    assert event["held_by_id"] == str(world.teacher_a.id)
    later = {"starts_at": "2099-02-01T15:00:00Z", "ends_at": "2099-02-01T16:00:00Z"}
    pre = ev(client, a, team, "pre_conference", 3, **later)
    r = client.put(
        f"/api/v1/events/{pre['id']}/conference-record", headers=a, json={"summary": "s"}
    )
    assert r.status_code == 409


def test_a_held_event_keeps_its_time_and_stays_on_the_calendar(client, team, world, auth):
    a = {**auth(world.teacher_a), **ANY}
    obs = held(client, a, _observation(client, world, auth, team))
    url = f"/api/v1/events/{obs['id']}"
    moved = {"starts_at": "2025-10-02T15:00:00Z", "ends_at": "2025-10-02T16:00:00Z"}
    assert client.patch(url, headers=a, json=moved).status_code == 409
    assert client.post(f"{url}/cancel", headers=a, json={}).status_code == 409
    assert client.patch(url, headers=a, json={"location": "Room 9"}).status_code == 200
    listed = client.get(f"/api/v1/events?team_id={team['id']}", headers=a).json()["items"]
    assert [e["status"] for e in listed] == ["held"]
    clash = client.post(
        "/api/v1/events",
        headers=a,
        json={"team_id": team["id"], "kind": "other", "starts_at": "2025-10-01T15:30:00Z",
              "ends_at": "2025-10-01T16:30:00Z"},
    )  # fmt: skip
    assert clash.status_code == 409  # its people were busy then


def _meeting(client, auth, who, team, **extra):
    return client.post(
        "/api/v1/events",
        headers=auth(who),
        json={"team_id": team["id"], "kind": "year_end_meeting",
              "starts_at": "2027-05-20T15:00:00Z", "ends_at": "2027-05-20T16:00:00Z", **extra},
    )  # fmt: skip


def test_a_year_end_meeting_is_the_administrators_to_schedule_and_includes_them(
    client, team, world, auth
):
    r = _meeting(client, auth, world.teacher_a, team)
    assert r.status_code == 403  # the team meets an administrator; it does not hold its own
    members = [str(world.teacher_a.id), str(world.teacher_a2.id)]
    r = _meeting(client, auth, world.admin_a, team, participant_ids=members)
    assert r.status_code == 422
    assert r.json()["errors"][0]["type"] == "no_administrator"
    r = _meeting(client, auth, world.admin_a, team)
    assert r.status_code == 201, r.text
    meeting = r.json()
    people = {p["id"] for p in meeting["participants"]}
    assert people == {*members, str(world.admin_a.id)}
    url = f"/api/v1/events/{meeting['id']}"
    a = {**auth(world.teacher_a), **ANY}
    assert client.patch(url, headers=a, json={"location": "Library"}).status_code == 403
    assert client.post(f"{url}/cancel", headers=a, json={}).status_code == 403
    r = client.patch(url, headers={**auth(world.admin_a), **ANY}, json={"participant_ids": members})
    assert r.status_code == 422  # nor can the administrator leave it without one
