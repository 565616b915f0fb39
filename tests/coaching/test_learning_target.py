"""One learning target, the plan's: the team shows it, the pre-conference record's agreed target
writes it, and it changes only while the plan may be edited. A conference record keeps who
wrote each answer."""

import pytest

from tests.teams import approve_plan


def event(client, auth, who, team, kind, day):
    r = client.post(
        "/api/v1/events",
        headers=auth(who),
        json={
            "team_id": team["id"],
            "kind": kind,
            "starts_at": f"2026-10-{day:02d}T15:00:00Z",
            "ends_at": f"2026-10-{day:02d}T16:00:00Z",
            "location": "Room 12",
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def targets(client, auth, who, team):
    plan = client.get(f"/api/v1/teams/{team['id']}/plan", headers=auth(who))
    t = client.get(f"/api/v1/teams/{team['id']}", headers=auth(who)).json()
    return plan.json()["learning_target"], t["learning_target"], plan.headers["etag"]


def test_the_team_shows_the_plans_target_and_editing_either_changes_both(client, team, world, auth):
    a = auth(world.teacher_a)
    assert targets(client, auth, world.teacher_a, team)[:2] == ("Better guided reading",) * 2
    r = client.patch(f"/api/v1/teams/{team['id']}", headers=a, json={"learning_target": "Wait"})
    assert r.status_code == 200
    assert r.json()["learning_target"] == "Wait"
    plan_target, team_target, tag = targets(client, auth, world.teacher_a, team)
    assert plan_target == team_target == "Wait"
    assert tag == '"plan-2"'
    url = f"/api/v1/teams/{team['id']}/plan"
    r = client.patch(url, headers={**a, "If-Match": tag}, json={"learning_target": "Talk"})
    assert r.status_code == 200
    assert targets(client, auth, world.teacher_a, team)[:2] == ("Talk", "Talk")
    # The list shows the same value.
    listed = client.get("/api/v1/teams", headers=a).json()["items"]
    assert [t["learning_target"] for t in listed if t["id"] == team["id"]] == ["Talk"]


def test_the_pre_conference_agrees_the_plans_target(client, team, world, auth):
    a = auth(world.teacher_a)
    pre = event(client, auth, world.teacher_a, team, "pre_conference", 5)
    url = f"/api/v1/events/{pre['id']}/conference-record"
    r = client.put(url, headers=a, json={"learning_target_agreed": "Number talks", "summary": "s"})
    assert r.status_code == 201, r.text
    assert "learning_target_agreed" not in r.json()
    plan_target, team_target, tag = targets(client, auth, world.teacher_a, team)
    assert plan_target == team_target == "Number talks"
    assert tag == '"plan-2"'
    # Leaving it out keeps the target.
    r = client.put(url, headers={**a, "If-Match": r.headers["etag"]}, json={"summary": "s2"})
    assert r.status_code == 200
    assert targets(client, auth, world.teacher_a, team)[:2] == ("Number talks",) * 2


def test_an_approved_plans_target_is_not_changed_by_the_team_or_a_record(client, team, world, auth):
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    a = auth(world.teacher_a)
    before = targets(client, auth, world.teacher_a, team)
    r = client.patch(f"/api/v1/teams/{team['id']}", headers=a, json={"learning_target": "Other"})
    assert r.status_code == 409
    assert "approved" in r.json()["detail"]
    # The same target is no change, and other fields still change.
    r = client.patch(
        f"/api/v1/teams/{team['id']}",
        headers=a,
        json={"learning_target": "Better guided reading", "name": "Renamed"},
    )
    assert r.status_code == 200
    assert r.json()["name"] == "Renamed"
    pre = event(client, auth, world.teacher_a, team, "pre_conference", 6)
    url = f"/api/v1/events/{pre['id']}/conference-record"
    r = client.put(url, headers=a, json={"learning_target_agreed": "Other", "summary": "kept?"})
    assert r.status_code == 409
    # Nothing half-written: no record, the event not marked held, the plan as it was.
    assert client.get(url, headers=a).status_code == 404
    assert client.get(f"/api/v1/events/{pre['id']}", headers=a).json()["status"] == "scheduled"
    assert targets(client, auth, world.teacher_a, team) == before


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("post_conference", "learning_target_agreed"),
        ("pre_conference", "strategies_modelled"),
        ("pre_conference", "questions_posed"),
        ("pre_conference", "next_steps"),
    ],
)
def test_answers_belong_to_their_conference(client, team, world, auth, kind, field):
    ev = event(client, auth, world.teacher_a, team, kind, 7)
    r = client.put(
        f"/api/v1/events/{ev['id']}/conference-record",
        headers=auth(world.teacher_a),
        json={field: "x"},
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": f"body.{field}", "message": r.json()["errors"][0]["message"],
         "type": "wrong_conference"}
    ]  # fmt: skip


def test_a_post_conference_record_keeps_who_wrote_what(client, team, world, auth):
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    ida, ida2 = str(world.teacher_a.id), str(world.teacher_a2.id)
    post = event(client, auth, world.teacher_a, team, "post_conference", 8)
    url = f"/api/v1/events/{post['id']}/conference-record"
    first = {"summary": "We compared wait time", "next_steps": "Try it in math"}
    r = client.put(url, headers=a, json=first)
    assert r.status_code == 201
    assert r.json()["written_by"] == {"summary": ida, "next_steps": ida}
    # A2 adds what was modelled and posed, sending A's answers back unchanged.
    second = {**first, "strategies_modelled": "Think-alouds", "questions_posed": "Why wait?"}
    r = client.put(url, headers={**a2, "If-Match": r.headers["etag"]}, json=second)
    body = r.json()
    assert r.status_code == 200
    assert body["written_by"] == {
        "summary": ida, "next_steps": ida, "strategies_modelled": ida2, "questions_posed": ida2
    }  # fmt: skip
    assert (body["author_id"], body["updated_by_id"]) == (ida, ida2)
    assert body["strategies_modelled"] == "Think-alouds"
    assert body["questions_posed"] == "Why wait?"
    # A changes the summary and clears next steps: each answer keeps its own writer.
    third = {**second, "summary": "We compared wait time and hints", "next_steps": None}
    r = client.put(url, headers={**a, "If-Match": r.headers["etag"]}, json=third)
    assert r.json()["written_by"] == {
        "summary": ida, "strategies_modelled": ida2, "questions_posed": ida2
    }  # fmt: skip
    assert client.get(url, headers=a2).json()["written_by"] == r.json()["written_by"]
    # The summary form names the writer of each answer, to the team.
    md = client.get(f"/api/v1/teams/{team['id']}/summary/document?format=markdown", headers=a).text
    assert "**Strategies modelled:** Think-alouds *(" in md
    assert "Post-conference:" in md
