"""An observation carries its own learning target and the strategy observed, and a pair's
observations compare side by side on the same strategy (team members only)."""

from app.users.models import Role
from tests.teams import accept_invitations, approve_plan


def observe(client, auth, team, observer, observed, day, **extra):
    r = client.post(
        "/api/v1/events",
        headers=auth(observer),
        json={
            "team_id": team["id"],
            "kind": "observation",
            "starts_at": f"2026-10-{day:02d}T15:00:00Z",
            "ends_at": f"2026-10-{day:02d}T16:00:00Z",
            "observer_id": str(observer.id),
            "observed_id": str(observed.id),
            **extra,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_an_observation_has_its_target_and_strategy(client, team, world, auth):
    a = auth(world.teacher_a)
    ev = observe(
        client, auth, team, world.teacher_a, world.teacher_a2, 1,
        learning_target="Students justify answers", strategy="Think-alouds",
    )  # fmt: skip
    assert (ev["learning_target"], ev["strategy"]) == ("Students justify answers", "Think-alouds")
    url = f"/api/v1/events/{ev['id']}"
    r = client.patch(url, headers={**a, "If-Match": "*"}, json={"strategy": "Wait time"})
    assert r.json()["strategy"] == "Wait time"
    assert r.json()["learning_target"] == "Students justify answers"
    r = client.patch(url, headers={**a, "If-Match": "*"}, json={"learning_target": None})
    assert r.json()["learning_target"] is None
    # Part of the calendar: the team's administrators see it with the event.
    assert client.get(url, headers=auth(world.admin_a)).json()["strategy"] == "Wait time"


def test_only_observations_have_a_target_and_strategy(client, team, world, auth):
    a = auth(world.teacher_a)
    body = {
        "team_id": team["id"],
        "kind": "pre_conference",
        "starts_at": "2026-10-02T15:00:00Z",
        "ends_at": "2026-10-02T16:00:00Z",
    }
    r = client.post("/api/v1/events", headers=a, json={**body, "strategy": "Think-alouds"})
    assert r.status_code == 422
    pre = client.post("/api/v1/events", headers=a, json=body).json()
    r = client.patch(
        f"/api/v1/events/{pre['id']}", headers={**a, "If-Match": "*"}, json={"strategy": "x"}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.strategy"
    assert r.json()["errors"][0]["type"] == "not_observation"


def test_a_pairs_observations_compare_on_the_same_strategy(client, team, world, auth, factory):
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    ta, ta2 = world.teacher_a, world.teacher_a2
    first = observe(client, auth, team, ta, ta2, 1, strategy="Think-alouds", learning_target="T1")
    observe(client, auth, team, ta, ta2, 2, strategy="Wait time")
    second = observe(client, auth, team, ta2, ta, 3, strategy="  think-ALOUDS ")
    observe(client, auth, team, ta2, ta, 4)
    cancelled = observe(client, auth, team, ta2, ta, 5, strategy="Think-alouds")
    client.post(f"/api/v1/events/{cancelled['id']}/cancel", headers={**a, "If-Match": "*"}, json={})
    note = {"affirmations": ["Modelled the think-aloud"]}
    r = client.post(f"/api/v1/events/{first['id']}/observation-record", headers=a, json=note)
    assert r.status_code == 201
    url = f"/api/v1/teams/{team['id']}/observation-comparison"
    body = client.get(url, headers=a2).json()
    assert [g["strategy"] for g in body["strategies"]] == ["Think-alouds", "Wait time", None]
    think = body["strategies"][0]["observations"]
    assert [o["event_id"] for o in think] == [first["id"], second["id"]]  # not the cancelled one
    assert [(o["observer_id"], o["observed_id"]) for o in think] == [
        (str(ta.id), str(ta2.id)), (str(ta2.id), str(ta.id))
    ]  # fmt: skip
    assert think[0]["learning_target"] == "T1"
    assert [o["record_status"] for o in think] == ["written", "none"]
    assert think[0]["record"]["affirmations"] == ["Modelled the think-aloud"]
    # No administrator reads it; a newcomer sees that a record exists, not what it says.
    for admin in (world.admin_a, world.district_admin):
        r = client.get(url, headers=auth(admin))
        assert r.status_code == 403
        assert "think-aloud" not in r.text.lower()
    newcomer = factory.user(Role.teacher, [world.school_a], email="newcomer@example.org")
    invited = client.post(
        f"/api/v1/teams/{team['id']}/invitations", headers=a, json={"user_id": str(newcomer.id)}
    )
    assert invited.status_code == 201, invited.text
    accept_invitations(client, auth, team["id"], newcomer)
    seen = client.get(url, headers=auth(newcomer)).json()["strategies"][0]["observations"][0]
    assert (seen["record_status"], seen["record"]) == ("before_you_joined", None)


def test_the_summary_form_shows_each_observations_target_strategy_and_evidence(
    client, team, world, auth
):
    a = auth(world.teacher_a)
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    ev = observe(
        client, auth, team, world.teacher_a, world.teacher_a2, 1,
        learning_target="Students justify answers", strategy="Think-alouds",
    )  # fmt: skip
    client.post(
        f"/api/v1/events/{ev['id']}/observation-record",
        headers=a,
        json={"affirmations": ["Clear model"], "evidence": "Six students explained"},
    )
    md = client.get(f"/api/v1/teams/{team['id']}/summary/document?format=markdown", headers=a).text
    for line in (
        f"- **Teacher observed:** {world.teacher_a2.given_name} {world.teacher_a2.family_name}",
        "- **Learning target:** Students justify answers",
        "- **Strategy observed:** Think-alouds",
        "**Evidence:** Six students explained",
    ):
        assert line in md
