import uuid

import pytest

from tests.coaching.conftest import TEAM_READERS
from tests.teams import approve_plan


def ev(client, headers, team, kind, day, **extra):
    r = client.post(
        "/api/v1/events",
        headers=headers,
        json={
            "team_id": team["id"],
            "kind": kind,
            "starts_at": f"2025-10-{day:02d}T15:00:00Z",
            "ends_at": f"2025-10-{day:02d}T16:00:00Z",
            **extra,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def held(client, headers, event):
    """Confirm the event took place, as a participant (or administrator) says."""
    r = client.post(f"/api/v1/events/{event['id']}/held", headers={**headers, "If-Match": "*"})
    assert r.status_code == 200, r.text
    return r.json()


def codes(progress):
    return [m["code"] for m in progress["missing"]]


def complete_cycle(client, team, world, auth):
    a, a2, admin = auth(world.teacher_a), auth(world.teacher_a2), auth(world.admin_a)
    plan = f"/api/v1/teams/{team['id']}/plan/transitions"
    client.post(plan, headers={**a, "If-Match": "*"}, json={"action": "submit"})
    client.post(plan, headers={**admin, "If-Match": "*"}, json={"action": "approve"})
    held(client, a, ev(client, a, team, "pre_conference", 1))
    day = 2
    for observer, observed in [
        (world.teacher_a, world.teacher_a2),
        (world.teacher_a2, world.teacher_a),
    ] * 2:
        obs = ev(
            client,
            a,
            team,
            "observation",
            day,
            observer_id=str(observer.id),
            observed_id=str(observed.id),
        )
        client.post(
            f"/api/v1/events/{obs['id']}/observation-record",
            headers=auth(observer),
            json={"affirmations": ["Confidential affirmation"]},
        )
        day += 1
    held(client, a2, ev(client, a, team, "post_conference", 10))
    for visibility, body in (("private", "secret"), ("program", "What we learned")):
        client.post(
            "/api/v1/reflections",
            headers=a2,
            json={
                "title": f"{visibility} learning",
                "body": body,
                "visibility": visibility,
                "team_id": team["id"],
            },
        )
    meeting = ev(
        client,
        admin,
        team,
        "year_end_meeting",
        20,
        participant_ids=[str(world.teacher_a.id), str(world.teacher_a2.id), str(world.admin_a.id)],
    )
    held(client, admin, meeting)


def test_a_new_team_misses_every_step(client, team, world, auth):
    r = client.get(f"/api/v1/teams/{team['id']}/progress", headers=auth(world.teacher_a)).json()
    assert r["complete"] is False
    assert r["plan_status"] == "draft"
    assert r["pre_conference"] == "none"
    assert r["year_end_meeting"] == "none"
    assert [(o["observed"], o["observing"]) for o in r["observations"]] == [(0, 0), (0, 0)]
    assert r["missing"][0] == {
        "code": "plan_approved",
        "params": {"plan_status": "draft"},
        "message": "action plan approved (now draft)",
    }
    assert codes(r) == [
        "plan_approved",
        "pre_conference_held",
        *["teacher_observed", "teacher_observing"] * 2,
        "post_conference_held",
        "reflections_written",
        "year_end_meeting_held",
    ]
    observed = r["missing"][2]
    assert observed["params"]["held"] == 0
    assert observed["params"]["required"] == 2
    assert observed["params"]["teacher_id"] == r["observations"][0]["teacher"]["id"]


def test_future_events_are_scheduled_not_held(client, team, world, auth):
    client.post(
        "/api/v1/events",
        headers=auth(world.teacher_a),
        json={
            "team_id": team["id"],
            "kind": "pre_conference",
            "starts_at": "2099-01-01T15:00:00Z",
            "ends_at": "2099-01-01T16:00:00Z",
        },
    )
    r = client.get(f"/api/v1/teams/{team['id']}/progress", headers=auth(world.teacher_a)).json()
    assert r["pre_conference"] == "scheduled"
    assert "pre_conference_held" in codes(r)
    assert r["missing"][1]["params"] == {"unconfirmed": 0}


def test_a_full_cycle_is_complete(client, team, world, auth):
    complete_cycle(client, team, world, auth)
    r = client.get(f"/api/v1/teams/{team['id']}/progress", headers=auth(world.admin_a))
    body = r.json()
    assert body["missing"] == []
    assert body["complete"] is True
    assert [(o["observed"], o["observing"]) for o in body["observations"]] == [(2, 2), (2, 2)]
    assert body["observation_records"] == 4
    assert body["reflections"] == 1
    assert body["year_end_meeting"] == "held"
    # counts and statuses only: nothing an administrator may not read
    assert "Confidential affirmation" not in r.text
    assert "secret" not in r.text


def test_cancelled_observations_do_not_count(client, team, world, auth):
    a = auth(world.teacher_a)
    obs = ev(
        client,
        a,
        team,
        "observation",
        5,
        observer_id=str(world.teacher_a.id),
        observed_id=str(world.teacher_a2.id),
    )
    client.post(f"/api/v1/events/{obs['id']}/cancel", headers={**a, "If-Match": "*"}, json={})
    r = client.get(f"/api/v1/teams/{team['id']}/progress", headers=a).json()
    assert [(o["observed"], o["observing"]) for o in r["observations"]] == [(0, 0), (0, 0)]


@pytest.mark.parametrize(
    ("caller", "status"),
    TEAM_READERS,
)
def test_progress_by_caller(client, team, as_caller, caller, status):
    assert (
        client.get(f"/api/v1/teams/{team['id']}/progress", headers=as_caller(caller)).status_code
        == status
    )


def test_reflections_are_counted_as_the_caller_may_read_them(client, team, world, auth):
    """A count of posts one may not read tells one they exist (the year-end report too)."""
    posts = [
        ("private", world.teacher_a),
        ("team", world.teacher_a),
        ("team", world.teacher_a2),
        ("program", world.teacher_a2),
    ]
    for visibility, author in posts:
        r = client.post(
            "/api/v1/reflections",
            headers=auth(author),
            json={"title": visibility, "body": "b", "visibility": visibility,
                  "team_id": team["id"]},
        )  # fmt: skip
        assert r.status_code == 201
    url = f"/api/v1/teams/{team['id']}/progress"
    counted = {
        who: client.get(url, headers=auth(getattr(world, who))).json()["reflections"]
        for who in ("teacher_a", "teacher_a2", "admin_a", "district_admin")
    }
    # A reads own private, both team posts, the program post; A2 not A's private one;
    # administrators only the program post.
    assert counted == {"teacher_a": 4, "teacher_a2": 3, "admin_a": 1, "district_admin": 1}
    report = client.get("/api/v1/reports/year-end", headers=auth(world.admin_a)).json()
    assert report["items"][0]["reflections"] == 1
    csv = client.get("/api/v1/reports/year-end.csv", headers=auth(world.admin_a)).text
    assert csv.splitlines()[1].count(",") == csv.splitlines()[0].count(",")
    summary = client.get(f"/api/v1/teams/{team['id']}/summary", headers=auth(world.admin_a)).json()
    assert summary["progress"]["reflections"] == 1
    assert len(summary["reflections"]) == 1


def test_a_teams_facts_stay_a_few_rows_however_many_events(client, team, world, auth, sync_engine):
    """Progress counts events per kind and pair of teachers in the database: a team with many
    observations is read as one row per pair, not one per event (the year-end report reads
    these facts for every team of a page, or of a district in its CSV)."""
    from app.auth.principal import Principal, Staff
    from app.core.db import utcnow
    from app.progress.service import TeamFacts, build_progress, progress_statement

    a = auth(world.teacher_a)
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    pair = {"observer_id": str(world.teacher_a.id), "observed_id": str(world.teacher_a2.id)}
    for day in range(1, 7):  # past: four held (confirmed), two only ended
        observation = ev(client, a, team, "observation", day, **pair)
        if day <= 4:
            held(client, a, observation)
    back = {"observer_id": str(world.teacher_a2.id), "observed_id": str(world.teacher_a.id)}
    for day in (1, 2):  # ahead: scheduled, not held
        when = f"2099-10-{day:02d}"
        ahead = {"starts_at": f"{when}T15:00:00Z", "ends_at": f"{when}T16:00:00Z"}
        ev(client, a, team, "observation", day, **back, **ahead)
    ev(client, a, team, "pre_conference", 9)
    held(client, a, ev(client, a, team, "pre_conference", 10))

    r = client.get(f"/api/v1/teams/{team['id']}/progress", headers=a).json()
    counts = {o["teacher"]["id"]: (o["observed"], o["observing"]) for o in r["observations"]}
    assert counts == {str(world.teacher_a.id): (0, 4), str(world.teacher_a2.id): (4, 0)}
    assert r["pre_conference"] == "held"

    caller = Principal(user=Staff.of(world.teacher_a))
    now = utcnow()
    bound = progress_statement(caller, uuid.UUID(team["id"]), now)
    with sync_engine.connect() as conn:
        row = conn.execute(bound.stmt, bound.values).mappings().one()
    facts = TeamFacts.model_validate(dict(row))
    by_pair = {
        (e.kind, e.observer_id, e.observed_id): (e.scheduled, e.held, e.unconfirmed)
        for e in facts.events
    }
    assert by_pair == {
        ("observation", world.teacher_a.id, world.teacher_a2.id): (6, 4, 2),
        ("observation", world.teacher_a2.id, world.teacher_a.id): (2, 0, 0),
        ("pre_conference", None, None): (2, 1, 1),
    }
    assert build_progress(facts, now).model_dump(mode="json") == r
