"""The program's rules, which a district administrator edits: how many observations each
teacher has and makes, and whether observations wait for an approved plan."""

from tests.coaching.test_progress import codes, ev
from tests.teams import approve_plan

ANY = {"If-Match": "*"}
RULES = "/api/v1/program-rules"


def _observation(client, world, auth, team):
    return ev(
        client,
        auth(world.teacher_a),
        team,
        "observation",
        1,
        observer_id=str(world.teacher_a.id),
        observed_id=str(world.teacher_a2.id),
    )


def test_every_staff_member_reads_them_and_district_administrators_edit(client, world, auth):
    r = client.get(RULES, headers=auth(world.teacher_a))
    assert r.status_code == 200
    assert r.json()["observations_per_teacher"] == 2
    assert r.json()["observations_need_approved_plan"] is True
    tag = r.headers["etag"]
    change = {"observations_per_teacher": 3}
    for who in (world.teacher_a, world.admin_a):
        assert client.patch(RULES, headers={**auth(who), **ANY}, json=change).status_code == 403
    d = auth(world.district_admin)
    assert client.patch(RULES, headers=d, json=change).status_code == 428
    r = client.patch(RULES, headers={**d, "If-Match": tag}, json=change)
    assert r.status_code == 200, r.text
    assert client.patch(RULES, headers={**d, "If-Match": tag}, json=change).status_code == 412
    bad = client.patch(RULES, headers={**d, **ANY}, json={"observations_per_teacher": 0})
    assert bad.status_code == 422
    nulls = client.patch(RULES, headers={**d, **ANY}, json={"observations_per_teacher": None})
    assert nulls.status_code == 422


def test_progress_counts_the_observations_the_rules_ask(client, team, world, auth):
    url = f"/api/v1/teams/{team['id']}/progress"
    before = client.get(url, headers=auth(world.teacher_a)).json()
    assert before["observations_required"] == 2
    client.patch(
        RULES, headers={**auth(world.district_admin), **ANY}, json={"observations_per_teacher": 1}
    )
    after = client.get(url, headers=auth(world.teacher_a)).json()
    assert after["observations_required"] == 1
    step = after["missing"][codes(after).index("teacher_observed")]
    assert step["params"]["required"] == 1
    assert "observed 1 times" in step["message"]


def test_an_observation_is_held_only_once_the_plan_is_approved(client, team, world, auth):
    obs = _observation(client, world, auth, team)
    a = auth(world.teacher_a)
    r = client.post(f"/api/v1/events/{obs['id']}/held", headers={**a, **ANY})
    assert r.status_code == 409
    assert "approved" in r.json()["detail"]
    r = client.post(
        f"/api/v1/events/{obs['id']}/observation-record", headers=a, json={"affirmations": ["x"]}
    )
    assert r.status_code == 409  # nor by writing its record
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    r = client.post(f"/api/v1/events/{obs['id']}/held", headers={**a, **ANY})
    assert r.status_code == 200, r.text


def test_a_district_can_turn_that_rule_off(client, team, world, auth):
    client.patch(
        RULES,
        headers={**auth(world.district_admin), **ANY},
        json={"observations_need_approved_plan": False},
    )
    obs = _observation(client, world, auth, team)
    r = client.post(
        f"/api/v1/events/{obs['id']}/observation-record",
        headers=auth(world.teacher_a),
        json={"affirmations": ["x"]},
    )
    assert r.status_code == 201, r.text
