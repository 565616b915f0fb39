import uuid

import pytest

from tests.coaching.conftest import TEAM_READERS


@pytest.fixture
def coverage(client, observation, world, auth):
    r = client.post(
        "/api/v1/coverage-requests",
        headers=auth(world.teacher_a),
        json={"event_id": observation["id"], "note": "Period 2, grade 4"},
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_request_shape(coverage, world, observation):
    assert coverage["status"] == "pending"
    assert coverage["school_id"] == str(world.school_a.id)
    assert coverage["requester"]["id"] == str(world.teacher_a.id)
    assert coverage["event_starts_at"] == "2026-12-01T15:00:00Z"


@pytest.mark.parametrize(
    ("caller", "status"),
    TEAM_READERS,
)
def test_read_coverage_by_caller(client, coverage, as_caller, caller, status):
    assert (
        client.get(
            f"/api/v1/coverage-requests/{coverage['id']}", headers=as_caller(caller)
        ).status_code
        == status
    )
    listed = client.get("/api/v1/coverage-requests", headers=as_caller(caller))
    if status in (200, 404):
        assert (coverage["id"] in {c["id"] for c in listed.json()["items"]}) == (status == 200)


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("member", 403),
        ("same_school_teacher", 404),
        ("school_admin", 200),
        ("other_school_admin", 404),
        ("district_admin", 200),
        ("anonymous", 401),
    ],
)
def test_arrange_by_caller(client, coverage, as_caller, world, auth, caller, status):
    r = client.post(
        f"/api/v1/coverage-requests/{coverage['id']}/arrange",
        headers=as_caller(caller),
        json={"covered_by": "Ms. Rivera (sub)"},
    )
    assert r.status_code == status
    now = client.get(
        f"/api/v1/coverage-requests/{coverage['id']}", headers=auth(world.teacher_a)
    ).json()
    assert now["status"] == ("arranged" if status == 200 else "pending")
    if status == 200:
        assert now["covered_by"] == "Ms. Rivera (sub)"
        assert now["decided_at"] is not None


def test_decline_needs_a_reason_and_decisions_are_final(client, coverage, world, auth):
    url = f"/api/v1/coverage-requests/{coverage['id']}"
    assert client.post(f"{url}/decline", headers=auth(world.admin_a), json={}).status_code == 422
    r = client.post(
        f"{url}/decline", headers=auth(world.admin_a), json={"reason": "No subs that day"}
    )
    assert r.status_code == 200
    assert r.json()["decision_note"] == "No subs that day"
    assert (
        client.post(
            f"{url}/arrange", headers=auth(world.admin_a), json={"covered_by": "x"}
        ).status_code
        == 409
    )
    assert (
        client.post(f"{url}/cancel", headers={**auth(world.teacher_a), "If-Match": "*"}).status_code
        == 409
    )


def test_pending_queue_for_administrators(client, coverage, world, auth):
    pending = client.get(
        "/api/v1/coverage-requests?status=pending", headers=auth(world.admin_a)
    ).json()
    assert [c["id"] for c in pending["items"]] == [coverage["id"]]
    other = client.get(
        "/api/v1/coverage-requests?status=pending", headers=auth(world.admin_b)
    ).json()
    assert other["total"] == 0
    assert (
        client.get(
            f"/api/v1/coverage-requests?school_id={world.school_a.id}", headers=auth(world.admin_b)
        ).json()["total"]
        == 0
    )


def test_request_rules(client, observation, team, world, auth):
    h = auth(world.teacher_a)
    url = "/api/v1/coverage-requests"
    assert (
        client.post(
            url, headers=auth(world.teacher_b), json={"event_id": observation["id"]}
        ).status_code
        == 422
    )
    assert client.post(url, headers=h, json={"event_id": str(uuid.uuid4())}).status_code == 422
    assert (
        client.post(
            url,
            headers=h,
            json={"event_id": observation["id"], "school_id": str(world.school_b.id)},
        ).status_code
        == 422
    )
    assert (
        client.post(
            url, headers=auth(world.admin_a), json={"event_id": observation["id"]}
        ).status_code
        == 403
    )
    assert client.post(url, headers=h, json={"event_id": observation["id"]}).status_code == 201
    assert client.post(url, headers=h, json={"event_id": observation["id"]}).status_code == 409
    pre = client.post(
        "/api/v1/events",
        headers=h,
        json={
            "team_id": team["id"],
            "kind": "pre_conference",
            "starts_at": "2026-12-03T15:00:00Z",
            "ends_at": "2026-12-03T16:00:00Z",
        },
    ).json()
    assert client.post(url, headers=h, json={"event_id": pre["id"]}).status_code == 422


def test_requester_withdraws(client, coverage, world, auth):
    url = f"/api/v1/coverage-requests/{coverage['id']}/cancel"
    assert client.post(url, headers=auth(world.teacher_a2)).status_code == 403
    r = client.post(url, headers=auth(world.teacher_a))
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled"
