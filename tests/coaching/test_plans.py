import pytest

from tests.coaching.conftest import TEAM_READERS

PLAN_TEXT = {
    "lesson_purpose": "Model a guided reading group",
    "classroom_dynamics": "24 students, four reading levels",
    "philosophies_and_literature": "Fountas & Pinnell",
    "focus_goal": "Every group meets twice a week",
}


def plan_url(team):
    return f"/api/v1/teams/{team['id']}/plan"


@pytest.mark.parametrize(
    ("caller", "status"),
    TEAM_READERS,
)
def test_read_plan_by_caller(client, team, as_caller, caller, status):
    r = client.get(plan_url(team), headers=as_caller(caller))
    assert r.status_code == status
    if status == 200:
        assert r.json()["status"] == "draft"
        assert r.json()["learning_target"] == "Better guided reading"
        assert r.headers["etag"] == '"plan-1"'


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("member", 200),
        ("same_school_teacher", 404),
        ("outside_teacher", 404),
        ("school_admin", 403),
        ("other_school_admin", 404),
        ("district_admin", 403),
        ("read_key", 403),
    ],
)
def test_edit_plan_by_caller(client, team, as_caller, world, auth, caller, status):
    r = client.patch(plan_url(team), headers={**as_caller(caller), "If-Match": "*"}, json=PLAN_TEXT)
    assert r.status_code == status
    plan = client.get(plan_url(team), headers=auth(world.teacher_a)).json()
    assert (plan["lesson_purpose"] == PLAN_TEXT["lesson_purpose"]) == (status == 200)
    assert plan["version"] == (2 if status == 200 else 1)


def test_stale_if_match_is_412_and_changes_nothing(client, team, world, auth):
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    tag = client.get(plan_url(team), headers=a).headers["etag"]
    first = client.patch(plan_url(team), headers={**a, "If-Match": tag}, json={"focus_goal": "A"})
    assert first.status_code == 200
    assert first.headers["etag"] == '"plan-2"'
    second = client.patch(plan_url(team), headers={**a2, "If-Match": tag}, json={"focus_goal": "B"})
    assert second.status_code == 412
    assert second.headers["content-type"] == "application/problem+json"
    assert client.get(plan_url(team), headers=a).json()["focus_goal"] == "A"
    assert (
        client.patch(
            plan_url(team), headers={**a2, "If-Match": "*"}, json={"focus_goal": "B"}
        ).status_code
        == 200
    )
    weak = client.patch(
        plan_url(team), headers={**a2, "If-Match": 'W/"plan-3"'}, json={"focus_goal": "C"}
    )
    assert weak.status_code == 200


def transition(client, team, headers, action, comment=None, if_match="*"):
    """A move of the workflow; `if_match=None` sends no If-Match (428)."""
    body = {"action": action} | ({"comment": comment} if comment else {})
    extra = {"If-Match": if_match} if if_match else {}
    return client.post(f"{plan_url(team)}/transitions", headers={**headers, **extra}, json=body)


def test_review_workflow_happy_path(client, team, world, auth):
    member, admin = auth(world.teacher_a), auth(world.admin_a)
    client.patch(plan_url(team), headers={**member, "If-Match": "*"}, json=PLAN_TEXT)
    assert transition(client, team, member, "submit").json()["status"] == "submitted"
    assert (
        client.patch(
            plan_url(team), headers={**member, "If-Match": "*"}, json={"focus_goal": "x"}
        ).status_code
        == 409
    )
    r = transition(client, team, admin, "return", "Add how you will address open questions")
    assert r.status_code == 200
    assert r.json()["status"] == "returned"
    assert (
        client.patch(
            plan_url(team), headers={**member, "If-Match": "*"}, json={"focus_goal": "x"}
        ).status_code
        == 200
    )
    assert transition(client, team, member, "submit").json()["status"] == "submitted"
    assert (
        transition(client, team, auth(world.district_admin), "approve").json()["status"]
        == "approved"
    )
    early = transition(client, team, admin, "complete", "Met at year end")
    assert early.status_code == 409  # nothing of the cycle held yet
    assert early.json()["errors"][0] == {
        "field": "progress.pre_conference_held",
        "message": "pre-conference held",
        "type": "pre_conference_held",
    }
    url = f"{plan_url(team)}/transitions"
    override = {"action": "complete", "override_missing": True}
    r = client.post(url, headers={**admin, "If-Match": "*"}, json=override)
    assert r.status_code == 422  # an override says why
    r = client.post(
        url, headers={**admin, "If-Match": "*"}, json={**override, "comment": "Team dissolved"}
    )
    assert r.json()["status"] == "completed"
    history = client.get(f"{plan_url(team)}/transitions", headers=admin).json()
    assert [(h["from_status"], h["to_status"]) for h in history["items"]] == [
        ("draft", "submitted"),
        ("submitted", "returned"),
        ("returned", "submitted"),
        ("submitted", "approved"),
        ("approved", "completed"),
    ]
    assert history["items"][1]["comment"] == "Add how you will address open questions"
    assert history["items"][1]["actor_id"] == str(world.admin_a.id)
    assert history["items"][1]["steps_missing"] is None
    assert history["items"][4]["steps_missing"][0] == "pre_conference_held"
    assert "reflections_written" in history["items"][4]["steps_missing"]
    assert (
        client.get("/api/v1/teams", headers=member).json()["items"][0]["plan_status"] == "completed"
    )


@pytest.mark.parametrize(
    ("action", "status_before", "expected"),
    [
        ("approve", "draft", 409),
        ("complete", "draft", 409),
        ("return", "draft", 409),
        ("submit", "submitted", 409),
        ("complete", "submitted", 409),
    ],
)
def test_illegal_transitions_are_409(client, team, world, auth, action, status_before, expected):
    if status_before == "submitted":
        transition(client, team, auth(world.teacher_a), "submit")
    who = auth(world.teacher_a) if action == "submit" else auth(world.admin_a)
    r = transition(client, team, who, action, "because")
    assert r.status_code == expected
    assert client.get(plan_url(team), headers=who).json()["status"] == status_before


@pytest.mark.parametrize(
    ("caller", "action", "status"),
    [
        ("member", "approve", 403),
        ("school_admin", "submit", 403),
        ("other_school_admin", "approve", 404),
        ("outside_teacher", "submit", 404),
        ("anonymous", "submit", 401),
        ("district_admin", "approve", 200),
    ],
)
def test_who_may_move_the_plan(client, team, world, auth, as_caller, caller, action, status):
    transition(client, team, auth(world.teacher_a), "submit")
    r = transition(client, team, as_caller(caller), action)
    assert r.status_code == status


def test_return_needs_a_comment_and_transition_checks_if_match(client, team, world, auth):
    transition(client, team, auth(world.teacher_a), "submit")
    r = transition(client, team, auth(world.admin_a), "return")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.comment"
    assert (
        transition(client, team, auth(world.admin_a), "approve", if_match='"plan-1"').status_code
        == 412
    )
    assert (
        transition(client, team, auth(world.admin_a), "approve", if_match='"plan-2"').status_code
        == 200
    )


def test_plan_of_a_deleted_team_is_hidden_from_members(client, team, world, auth):
    client.delete(f"/api/v1/teams/{team['id']}", headers=auth(world.teacher_a))
    assert client.get(plan_url(team), headers=auth(world.teacher_a)).status_code == 404
    assert client.get(plan_url(team), headers=auth(world.admin_a)).status_code == 200
    assert transition(client, team, auth(world.admin_a), "approve").status_code == 409


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("member", 204),
        ("same_school_teacher", 404),
        ("outside_teacher", 404),
        ("school_admin", 403),
        ("other_school_admin", 404),
        ("district_admin", 403),
        ("read_key", 403),
    ],
)
def test_delete_plan_by_caller(client, team, world, auth, as_caller, caller, status):
    assert (
        client.delete(plan_url(team), headers={**as_caller(caller), "If-Match": "*"}).status_code
        == status
    )
    visible = client.get(plan_url(team), headers=auth(world.teacher_a)).status_code
    assert visible == (404 if status == 204 else 200)


def test_deleted_plan_is_restored_by_an_administrator(client, team, world, auth):
    client.patch(plan_url(team), headers={**auth(world.teacher_a), "If-Match": "*"}, json=PLAN_TEXT)
    assert (
        client.delete(
            plan_url(team), headers={**auth(world.teacher_a2), "If-Match": "*"}
        ).status_code
        == 204
    )
    assert (
        client.patch(
            plan_url(team),
            headers={**auth(world.teacher_a), "If-Match": "*"},
            json={"focus_goal": "x"},
        ).status_code
        == 404
    )
    assert (
        client.post(f"{plan_url(team)}/restore", headers=auth(world.teacher_a)).status_code == 403
    )
    assert client.post(f"{plan_url(team)}/restore", headers=auth(world.admin_b)).status_code == 404
    r = client.post(f"{plan_url(team)}/restore", headers=auth(world.admin_a))
    assert r.status_code == 200
    assert r.json()["lesson_purpose"] == PLAN_TEXT["lesson_purpose"]
    assert client.post(f"{plan_url(team)}/restore", headers=auth(world.admin_a)).status_code == 409


def test_the_review_queue_lists_teams_by_plan_status(client, world, auth, team):
    h = auth(world.admin_a)
    assert client.get("/api/v1/teams?plan_status=submitted", headers=h).json()["total"] == 0
    plan = client.get(f"/api/v1/teams/{team['id']}/plan", headers=auth(world.teacher_a))
    r = client.post(
        f"/api/v1/teams/{team['id']}/plan/transitions",
        headers={**auth(world.teacher_a), "If-Match": plan.headers["ETag"]},
        json={"action": "submit"},
    )
    assert r.status_code == 200, r.text
    queue = client.get("/api/v1/teams?plan_status=submitted", headers=h).json()
    assert [t["id"] for t in queue["items"]] == [team["id"]]
    assert queue["items"][0]["plan_status"] == "submitted"
    drafts = client.get("/api/v1/teams?plan_status=draft", headers=h).json()
    assert team["id"] not in [t["id"] for t in drafts["items"]]
    assert client.get("/api/v1/teams?plan_status=nonsense", headers=h).status_code == 422


def test_a_done_cycle_completes_without_an_override(client, team, world, auth):
    from tests.coaching.test_progress import complete_cycle

    complete_cycle(client, team, world, auth)
    r = transition(client, team, auth(world.admin_a), "complete")
    assert r.status_code == 200, r.text
    history = client.get(f"{plan_url(team)}/transitions", headers=auth(world.admin_a)).json()
    assert history["items"][-1]["steps_missing"] is None


def test_completion_counts_reflections_as_the_administrator_may_read_them(
    client, team, world, auth
):
    """The 409 lists what the administrator's own view of progress lists: a team's private
    and team posts do not satisfy (or reveal) "reflections written" to them."""
    from tests.coaching.test_progress import complete_cycle

    complete_cycle(client, team, world, auth)
    a = auth(world.teacher_a2)  # who wrote the cycle's posts
    for post in client.get(f"/api/v1/reflections?team_id={team['id']}", headers=a).json()["items"]:
        if post["visibility"] == "program":
            r = client.delete(f"/api/v1/reflections/{post['id']}", headers={**a, "If-Match": "*"})
            assert r.status_code == 204
    r = transition(client, team, auth(world.admin_a), "complete")
    assert r.status_code == 409
    assert [e["type"] for e in r.json()["errors"]] == ["reflections_written"]


def test_an_approval_notes_the_calendar_it_reviewed(client, team, world, auth):
    member, admin = auth(world.teacher_a), auth(world.admin_a)
    r = client.post(
        "/api/v1/events",
        headers=member,
        json={"team_id": team["id"], "kind": "pre_conference",
              "starts_at": "2027-01-10T15:00:00Z", "ends_at": "2027-01-10T16:00:00Z"},
    )  # fmt: skip
    event = r.json()
    transition(client, team, member, "submit")
    assert transition(client, team, admin, "approve").status_code == 200
    history = client.get(f"{plan_url(team)}/transitions", headers=admin).json()["items"]
    assert history[0]["events_seen"] is None  # a submission reviews nothing
    assert history[1]["events_seen"] == [{"id": event["id"], "version": event["version"]}]
