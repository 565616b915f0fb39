"""Forming coaching teams in tests the way teachers do: the creator invites, each invitee
accepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from app.users.models import User


def accept_invitations(
    client: TestClient, auth: Callable[[Any], dict[str, str]], team_id: str, *people: User
) -> None:
    for person in people:
        mine = client.get("/api/v1/team-invitations", headers=auth(person)).json()["items"]
        invitation = next(i for i in mine if i["team"]["id"] == team_id)
        r = client.post(f"/api/v1/team-invitations/{invitation['id']}/accept", headers=auth(person))
        assert r.status_code == 200, r.text


def form_team(
    client: TestClient,
    auth: Callable[[Any], dict[str, str]],
    creator: User,
    *others: User,
    **fields: Any,
) -> dict[str, Any]:
    """`creator` forms a team inviting `others`, who all accept; returns the team as read
    after."""
    body = {"name": "Reading circle", "school_year": "2026-2027", **fields}
    body["invitee_ids"] = [str(o.id) for o in others]
    r = client.post("/api/v1/teams", headers=auth(creator), json=body)
    assert r.status_code == 201, r.text
    team_id = r.json()["id"]
    accept_invitations(client, auth, team_id, *others)
    team = client.get(f"/api/v1/teams/{team_id}", headers=auth(creator))
    assert team.status_code == 200, team.text
    return dict(team.json())


def approve_plan(
    client: TestClient,
    auth: Callable[[Any], dict[str, str]],
    team_id: str,
    member: User,
    admin: User,
) -> None:
    """A member submits the team's plan and an administrator approves it: the program's rules
    hold observations only after that."""
    url = f"/api/v1/teams/{team_id}/plan/transitions"
    for who, action in ((member, "submit"), (admin, "approve")):
        r = client.post(url, headers={**auth(who), "If-Match": "*"}, json={"action": action})
        assert r.status_code == 200, r.text


def observations_before_approval(
    client: TestClient, auth: Callable[[Any], dict[str, str]], district_admin: User
) -> None:
    """The district turns off the rule that observations wait for an approved plan (for tests
    about something else that hold observations of a team whose plan is still a draft)."""
    r = client.patch(
        "/api/v1/program-rules",
        headers={**auth(district_admin), "If-Match": "*"},
        json={"observations_need_approved_plan": False},
    )
    assert r.status_code == 200, r.text


def post_observation(client: TestClient, auth: Any, world: Any, team: dict, day: str) -> dict:
    """Teacher A observes teacher A2 on `day` (an ISO date), 15:00 to 16:00 UTC."""
    r = client.post(
        "/api/v1/events",
        headers=auth(world.teacher_a),
        json={
            "team_id": team["id"],
            "kind": "observation",
            "starts_at": f"{day}T15:00:00Z",
            "ends_at": f"{day}T16:00:00Z",
            "observer_id": str(world.teacher_a.id),
            "observed_id": str(world.teacher_a2.id),
        },
    )
    assert r.status_code == 201, r.text
    return r.json()
