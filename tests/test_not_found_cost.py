"""A record the caller may not see and a record that does not exist cost the same: the same
statements, so their 404s cannot be told apart by timing (the single load is the list's
visibility filter plus the id)."""

from __future__ import annotations

import uuid

import pytest

from tests.coaching.conftest import make_team
from tests.test_query_counts import counting


@pytest.fixture
def hidden(client, world, factory, auth):
    """One record of each kind that teacher B (another school) and admin B may not see."""
    team = make_team(client, world, factory, auth)
    a = auth(world.teacher_a)
    event = client.post(
        "/api/v1/events",
        headers=a,
        json={"team_id": team["id"], "kind": "observation", "starts_at": "2030-10-01T15:00:00Z",
              "ends_at": "2030-10-01T16:00:00Z", "observer_id": str(world.teacher_a.id),
              "observed_id": str(world.teacher_a2.id)},
    ).json()  # fmt: skip
    post = client.post("/api/v1/reflections", headers=a, json={"title": "Mine", "body": "b"}).json()
    coverage = client.post(
        "/api/v1/coverage-requests", headers=a, json={"event_id": event["id"]}
    ).json()
    support = client.post(
        "/api/v1/support-requests",
        headers=a,
        json={"kind": "resources", "subject": "Books", "message": "Please"},
    ).json()
    return {
        "team": team["id"],
        "event": event["id"],
        "reflection": post["id"],
        "coverage": coverage["id"],
        "support": support["id"],
        "user": str(world.teacher_a.id),
    }


PATHS = [
    ("other_teacher", "/api/v1/teams/{team}"),
    ("other_teacher", "/api/v1/teams/{team}/plan"),
    ("other_teacher", "/api/v1/teams/{team}/plan/transitions"),
    ("other_teacher", "/api/v1/teams/{team}/progress"),
    ("other_teacher", "/api/v1/events/{event}"),
    ("other_teacher", "/api/v1/events/{event}/observation-record"),
    ("other_teacher", "/api/v1/reflections/{reflection}"),
    ("other_teacher", "/api/v1/reflections/{reflection}/comments"),
    ("other_teacher", "/api/v1/teams/{team}/invitations"),
    ("other_teacher", "/api/v1/coverage-requests/{coverage}"),
    ("other_teacher", "/api/v1/support-requests/{support}"),
    ("other_school_admin", "/api/v1/users/{user}"),
    ("other_school_admin", "/api/v1/teams/{team}/summary"),
]


@pytest.mark.parametrize(("caller", "path"), PATHS)
def test_a_hidden_id_costs_what_an_unknown_one_does(app, client, world, auth, hidden, caller, path):
    h = auth(world.caller(caller))
    client.get("/api/v1/me", headers=h)  # the caller's account is remembered: not counted
    with counting(app, cold=False) as for_hidden:
        r = client.get(path.format(**hidden), headers=h)
    assert r.status_code == 404, r.text
    unknown = {k: str(uuid.uuid4()) for k in hidden}
    with counting(app, cold=False) as for_unknown:
        missing = client.get(path.format(**unknown), headers=h)
    assert missing.status_code == 404
    assert missing.json()["detail"] == r.json()["detail"]
    assert len(for_hidden) == len(for_unknown), (for_hidden, for_unknown)
