import uuid

import pytest

from tests.coaching.conftest import TEAM_READERS
from tests.teams import post_observation


@pytest.fixture
def observation(client, team, world, auth):
    """Teacher A observes teacher A2 on 1 December next year: coverage is for what is ahead."""
    return post_observation(client, auth, world, team, "2027-12-01")


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
    assert coverage["event_starts_at"] == "2027-12-01T15:00:00Z"
    assert coverage["event_status"] == "scheduled"
    assert coverage["event_location"] is None


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


# ---- coverage follows its observation ------------------------------------------------------

ANY = {"If-Match": "*"}


def _ask(client, auth, who, observation):
    r = client.post(
        "/api/v1/coverage-requests", headers=auth(who), json={"event_id": observation["id"]}
    )
    assert r.status_code == 201, r.text
    return r.json()


def _get(client, auth, world, request):
    return client.get(
        f"/api/v1/coverage-requests/{request['id']}", headers=auth(world.admin_a)
    ).json()


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("cancel", "The observation was cancelled: Sick day"),
        ("delete", "The observation was deleted"),
    ],
)
def test_cancelling_the_observation_cancels_its_coverage(
    client, coverage, observation, world, auth, how, reason
):
    arranged = _ask(client, auth, world.teacher_a2, observation)
    client.post(
        f"/api/v1/coverage-requests/{arranged['id']}/arrange",
        headers=auth(world.admin_a),
        json={"covered_by": "Sub"},
    )
    url = f"/api/v1/events/{observation['id']}"
    h = {**auth(world.teacher_a), **ANY}
    if how == "cancel":
        r = client.post(f"{url}/cancel", headers=h, json={"reason": "Sick day"})
    else:
        r = client.delete(url, headers=h)
    assert r.status_code in (200, 204), r.text
    for request in (coverage, arranged):
        now = _get(client, auth, world, request)
        assert now["status"] == "cancelled"
        assert now["cancel_reason"] == reason
        assert now["event_status"] == ("cancelled" if how == "cancel" else "deleted")
    r = client.post(
        f"/api/v1/coverage-requests/{coverage['id']}/arrange",
        headers=auth(world.admin_a),
        json={"covered_by": "Sub"},
    )
    assert r.status_code == 409


def test_moving_the_observation_puts_arranged_coverage_back_to_review(
    client, coverage, observation, world, auth
):
    arranged = _ask(client, auth, world.teacher_a2, observation)
    admin = auth(world.admin_a)
    client.post(
        f"/api/v1/coverage-requests/{arranged['id']}/arrange",
        headers=admin,
        json={"covered_by": "Sub"},
    )
    moved = {"starts_at": "2027-12-02T15:00:00Z", "ends_at": "2027-12-02T16:00:00Z"}
    r = client.patch(
        f"/api/v1/events/{observation['id']}", headers={**auth(world.teacher_a), **ANY}, json=moved
    )
    assert r.status_code == 200, r.text
    review = _get(client, auth, world, arranged)
    assert review["status"] == "needs_review"
    assert review["arranged_starts_at"] == "2027-12-01T15:00:00Z"
    assert review["arranged_ends_at"] == "2027-12-01T16:00:00Z"
    assert review["event_starts_at"] == "2027-12-02T15:00:00Z"
    pending = _get(client, auth, world, coverage)
    assert pending["status"] == "pending"  # not arranged yet: it simply follows the new time
    queue = client.get("/api/v1/coverage-requests?needs_attention=true", headers=admin).json()
    assert {c["id"] for c in queue["items"]} == {coverage["id"], arranged["id"]}
    r = client.post(
        f"/api/v1/coverage-requests/{arranged['id']}/arrange",
        headers=admin,
        json={"covered_by": "Sub"},
    )
    assert r.status_code == 200
    assert r.json()["status"] == "arranged"
    assert r.json()["arranged_starts_at"] is None
    queue = client.get("/api/v1/coverage-requests?needs_attention=true", headers=admin).json()
    assert [c["id"] for c in queue["items"]] == [coverage["id"]]


def test_no_coverage_for_an_observation_that_started(
    client, coverage, observation, world, auth, sync_engine
):
    from datetime import UTC, datetime

    from sqlalchemy import update

    from app.events.models import Event

    with sync_engine.begin() as conn:  # time passes: the observation is now under way
        conn.execute(
            update(Event)
            .where(Event.id == uuid.UUID(observation["id"]))
            .values(starts_at=datetime(2020, 1, 1, 15, tzinfo=UTC),
                    ends_at=datetime(2099, 1, 1, 16, tzinfo=UTC))
        )  # fmt: skip
    admin = auth(world.admin_a)
    queue = client.get("/api/v1/coverage-requests?needs_attention=true", headers=admin).json()
    assert queue["items"] == []
    r = client.post(
        f"/api/v1/coverage-requests/{coverage['id']}/arrange",
        headers=admin,
        json={"covered_by": "S"},
    )
    assert r.status_code == 409
    assert "already started" in r.json()["detail"]
    r = client.post(
        "/api/v1/coverage-requests",
        headers=auth(world.teacher_a2),
        json={"event_id": observation["id"]},
    )
    assert r.status_code == 422


def test_one_substitute_for_several_requests(client, coverage, observation, world, auth):
    other = _ask(client, auth, world.teacher_a2, observation)
    admin = auth(world.admin_a)
    url = "/api/v1/coverage-arrangements"
    both = {"request_ids": [coverage["id"], other["id"]], "covered_by": "Ms. Rivera (sub)"}
    assert client.post(url, headers=auth(world.teacher_a), json=both).status_code == 403
    unknown = {**both, "request_ids": [coverage["id"], str(uuid.uuid4())]}
    r = client.post(url, headers=admin, json=unknown)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.request_ids"
    client.post(
        f"/api/v1/coverage-requests/{other['id']}/decline", headers=admin, json={"reason": "No"}
    )
    r = client.post(url, headers=admin, json=both)
    assert r.status_code == 409  # one of them is decided: none is arranged
    assert _get(client, auth, world, coverage)["status"] == "pending"
    third = _ask(client, auth, world.teacher_a2, observation)
    r = client.post(url, headers=admin, json={**both, "request_ids": [coverage["id"], third["id"]]})
    assert r.status_code == 200, r.text
    assert {c["status"] for c in r.json()} == {"arranged"}
    assert {c["covered_by"] for c in r.json()} == {"Ms. Rivera (sub)"}


def test_a_created_request_answers_what_a_read_of_it_answers(client, coverage, world, auth):
    """The 201 is built from what was written and the observation checked, not read back."""
    read = client.get(f"/api/v1/coverage-requests/{coverage['id']}", headers=auth(world.teacher_a))
    assert read.status_code == 200
    assert coverage == read.json()


def test_decisions_answer_what_a_read_of_them_answers(client, coverage, observation, world, auth):
    """Arranging (one or several), declining and withdrawing answer from the written row and
    the observation read beside it, not by reading the request back: the answers equal a
    read, made by the decider."""
    admin = auth(world.admin_a)
    base = f"/api/v1/coverage-requests/{coverage['id']}"
    arranged = client.post(f"{base}/arrange", headers=admin, json={"covered_by": "Mr. Lee"})
    assert arranged.status_code == 200, arranged.text
    assert arranged.json() == _get(client, auth, world, coverage)
    assert arranged.json()["decided_by_id"] == str(world.admin_a.id)
    withdrawn = client.post(f"{base}/cancel", headers=auth(world.teacher_a))
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "cancelled"
    assert withdrawn.json() == _get(client, auth, world, coverage)
    declined_one = _ask(client, auth, world.teacher_a, observation)
    declined = client.post(
        f"/api/v1/coverage-requests/{declined_one['id']}/decline",
        headers=admin,
        json={"reason": "No substitute that day"},
    )
    assert declined.status_code == 200, declined.text
    assert declined.json() == _get(client, auth, world, declined_one)
    pair = [_ask(client, auth, who, observation) for who in (world.teacher_a, world.teacher_a2)]
    both = client.post(
        "/api/v1/coverage-arrangements",
        headers=admin,
        json={"request_ids": [p["id"] for p in pair], "covered_by": "Ms. Rivera"},
    )
    assert both.status_code == 200, both.text
    assert sorted(both.json(), key=lambda c: c["id"]) == sorted(
        (_get(client, auth, world, p) for p in pair), key=lambda c: c["id"]
    )


def test_moving_an_observation_tells_the_administrators_of_each_arranged_request(
    client, coverage, observation, world, auth
):
    """Every arranged request goes back to review in one statement, and each requester's
    school administrators are told of each (read for all requesters at once)."""
    admin = auth(world.admin_a)
    other = _ask(client, auth, world.teacher_a2, observation)
    for request in (coverage, other):
        r = client.post(
            f"/api/v1/coverage-requests/{request['id']}/arrange",
            headers=admin,
            json={"covered_by": "Sub"},
        )
        assert r.status_code == 200, r.text
    moved = {"starts_at": "2027-12-02T15:00:00Z", "ends_at": "2027-12-02T16:00:00Z"}
    r = client.patch(
        f"/api/v1/events/{observation['id']}", headers={**auth(world.teacher_a), **ANY}, json=moved
    )
    assert r.status_code == 200, r.text
    told = client.get("/api/v1/notifications?limit=200", headers=admin).json()["items"]
    links = sorted(n["link"] for n in told if n["kind"] == "coverage_needs_review")
    assert links == sorted(f"/coverage-requests/{c['id']}" for c in (coverage, other))
    assert {_get(client, auth, world, c)["status"] for c in (coverage, other)} == {"needs_review"}
    outside = client.get("/api/v1/notifications", headers=auth(world.admin_b)).json()["items"]
    assert not [n for n in outside if n["kind"] == "coverage_needs_review"]
