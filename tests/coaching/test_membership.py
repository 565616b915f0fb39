"""Membership comes from the team: invitations, the newcomer's agreement, the members' consent
to earlier records, and what a role change does. Each test also tries the attacker's path."""

from __future__ import annotations

import pytest

from app.users.models import Role
from tests.teams import accept_invitations, observations_before_approval


def _invite(client, auth, team, by, who):
    return client.post(
        f"/api/v1/teams/{team['id']}/invitations",
        headers=auth(by),
        json={"user_id": str(who.id)},
    )


def _records(client, auth, team, world):
    """An observation record, a pre-conference record and a team reflection by the members."""
    observations_before_approval(client, auth, world.district_admin)  # the plan stays a draft
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    obs = client.post(
        "/api/v1/events",
        headers=a,
        json={
            "team_id": team["id"],
            "kind": "observation",
            "starts_at": "2026-10-01T15:00:00Z",
            "ends_at": "2026-10-01T16:00:00Z",
            "observer_id": str(world.teacher_a.id),
            "observed_id": str(world.teacher_a2.id),
        },
    ).json()
    pre = client.post(
        "/api/v1/events",
        headers=a,
        json={
            "team_id": team["id"],
            "kind": "pre_conference",
            "starts_at": "2026-09-20T15:00:00Z",
            "ends_at": "2026-09-20T16:00:00Z",
        },
    ).json()
    r = client.post(
        f"/api/v1/events/{obs['id']}/observation-record",
        headers=a,
        json={"affirmations": ["Confidential affirmation"]},
    )
    assert r.status_code == 201
    r = client.put(
        f"/api/v1/events/{pre['id']}/conference-record",
        headers={**a2, "If-Match": "*"},
        json={"summary": "secret"},
    )
    assert r.status_code == 201
    post = client.post(
        "/api/v1/reflections",
        headers=a2,
        json={"title": "Team notes", "body": "for the team", "visibility": "team",
              "team_id": team["id"]},
    )  # fmt: skip
    assert post.status_code == 201
    return obs, pre, post.json()


def test_forming_a_team_invites_and_the_invitee_decides(client, world, auth):
    r = client.post(
        "/api/v1/teams",
        headers=auth(world.teacher_a),
        json={"name": "T", "school_year": "2026-2027", "invitee_ids": [str(world.teacher_a2.id)]},
    )
    assert r.status_code == 201
    team = r.json()
    assert [m["id"] for m in team["members"]] == [str(world.teacher_a.id)]
    assert [m["id"] for m in team["invited"]] == [str(world.teacher_a2.id)]
    # Not a member yet: the invitation names the team, the team itself stays hidden.
    mine = client.get("/api/v1/team-invitations", headers=auth(world.teacher_a2)).json()
    assert mine["total"] == 1
    invitation = mine["items"][0]
    assert invitation["team"]["name"] == "T"
    assert invitation["invited_by"]["id"] == str(world.teacher_a.id)
    assert (
        client.get(f"/api/v1/teams/{team['id']}", headers=auth(world.teacher_a2)).status_code == 404
    )
    # Only the invitee answers.
    for other in (world.teacher_a, world.admin_a, world.district_admin, world.teacher_a2):
        if other is world.teacher_a2:
            continue
        r = client.post(f"/api/v1/team-invitations/{invitation['id']}/accept", headers=auth(other))
        assert r.status_code == 404
    r = client.post(
        f"/api/v1/team-invitations/{invitation['id']}/accept", headers=auth(world.teacher_a2)
    )
    assert r.status_code == 200
    assert {m["id"] for m in r.json()["members"]} == {
        str(world.teacher_a.id),
        str(world.teacher_a2.id),
    }
    assert all(m["sees_earlier_records"] for m in r.json()["members"])  # founders
    again = client.post(
        f"/api/v1/team-invitations/{invitation['id']}/accept", headers=auth(world.teacher_a2)
    )
    assert again.status_code == 409  # answered already


def test_declining_leaves_the_team_as_it_was(client, world, auth):
    r = client.post(
        "/api/v1/teams",
        headers=auth(world.teacher_a),
        json={"name": "T", "school_year": "2026-2027", "invitee_ids": [str(world.teacher_a2.id)]},
    ).json()
    invitation = client.get("/api/v1/team-invitations", headers=auth(world.teacher_a2)).json()
    url = f"/api/v1/team-invitations/{invitation['items'][0]['id']}"
    assert client.post(f"{url}/decline", headers=auth(world.teacher_a2)).status_code == 204
    assert client.post(f"{url}/accept", headers=auth(world.teacher_a2)).status_code == 409
    team = client.get(f"/api/v1/teams/{r['id']}", headers=auth(world.teacher_a)).json()
    assert len(team["members"]) == 1
    assert team["invited"] == []


def test_an_account_an_administrator_creates_cannot_reach_a_teams_records(
    client, team, world, auth
):
    """The attack: an administrator makes a teacher account with a password they know and
    tries to put it on a team of their school, to read its records."""
    _records(client, auth, team, world)
    made = client.post(
        "/api/v1/users",
        headers=auth(world.admin_a),
        json={"email": "shadow@example.org", "given_name": "Sha", "family_name": "Dow",
              "role": "teacher", "school_ids": [str(world.school_a.id)],
              "password": "a-password-the-admin-knows"},
    )  # fmt: skip
    assert made.status_code == 201
    token = client.post(
        "/api/v1/auth/token",
        data={"username": "shadow@example.org", "password": "a-password-the-admin-knows"},
    ).json()["access_token"]
    shadow = {"Authorization": f"Bearer {token}"}
    user_id = made.json()["id"]
    for admin in (world.admin_a, world.district_admin):
        r = client.post(
            f"/api/v1/teams/{team['id']}/invitations",
            headers=auth(admin),
            json={"user_id": user_id},
        )
        assert r.status_code == 403
        assert (
            client.post(
                "/api/v1/teams",
                headers=auth(admin),
                json={"name": "Mine", "school_year": "2026-2027", "invitee_ids": [user_id]},
            ).status_code
            == 403
        )
    assert client.get("/api/v1/team-invitations", headers=shadow).json()["total"] == 0
    for path in (
        f"/api/v1/teams/{team['id']}",
        f"/api/v1/teams/{team['id']}/observation-records",
        f"/api/v1/teams/{team['id']}/summary",
    ):
        assert client.get(path, headers=shadow).status_code == 404
    posts = client.get("/api/v1/reflections", headers=shadow).json()
    assert posts["total"] == 0


def test_a_newcomer_reads_earlier_records_only_with_the_members_consent(client, team, world, auth):
    obs, pre, post = _records(client, auth, team, world)
    newcomer = world.teacher_a3
    assert _invite(client, auth, team, world.teacher_a, newcomer).status_code == 201
    accept_invitations(client, auth, team["id"], newcomer)
    n = auth(newcomer)

    def reads() -> dict[str, object]:
        summary = client.get(f"/api/v1/teams/{team['id']}/summary", headers=n).json()
        return {
            "observation": client.get(
                f"/api/v1/events/{obs['id']}/observation-record", headers=n
            ).status_code,
            "conference": client.get(
                f"/api/v1/events/{pre['id']}/conference-record", headers=n
            ).status_code,
            "listed": client.get(
                f"/api/v1/teams/{team['id']}/observation-records", headers=n
            ).json()["total"],
            "reflection": client.get(f"/api/v1/reflections/{post['id']}", headers=n).status_code,
            "summary": (len(summary["observation_records"]), len(summary["conference_records"]),
                        len(summary["reflections"])),
        }  # fmt: skip

    closed = {
        "observation": 403,
        "conference": 403,
        "listed": 0,
        "reflection": 404,
        "summary": (0, 0, 0),
    }
    assert reads() == closed
    # The earlier conference record cannot be overwritten unseen either.
    r = client.put(
        f"/api/v1/events/{pre['id']}/conference-record",
        headers={**n, "If-Match": "*"},
        json={"summary": "x"},
    )
    assert r.status_code == 403
    # What is written after they joined, they read.
    later = client.post(
        "/api/v1/reflections",
        headers=auth(world.teacher_a),
        json={"title": "After", "body": "b", "visibility": "team", "team_id": team["id"]},
    ).json()
    assert client.get(f"/api/v1/reflections/{later['id']}", headers=n).status_code == 200
    # The newcomer cannot consent for themselves; one member's consent is not enough.
    consent = f"/api/v1/teams/{team['id']}/members/{newcomer.id}/history-consent"
    assert client.post(consent, headers=n).status_code == 409
    assert client.post(consent, headers=auth(world.admin_a)).status_code == 403
    r = client.post(consent, headers=auth(world.teacher_a))
    assert r.status_code == 200
    member = next(m for m in r.json()["members"] if m["id"] == str(newcomer.id))
    assert member["sees_earlier_records"] is False
    assert reads() == {**closed, "summary": (0, 0, 1)}  # the post written after they joined
    r = client.post(consent, headers=auth(world.teacher_a2))
    assert r.status_code == 200
    member = next(m for m in r.json()["members"] if m["id"] == str(newcomer.id))
    assert member["sees_earlier_records"] is True
    assert reads() == {
        "observation": 200,
        "conference": 200,
        "listed": 1,
        "reflection": 200,
        "summary": (1, 1, 2),
    }
    assert client.post(consent, headers=auth(world.teacher_a)).status_code == 409  # done


def test_a_member_who_never_agreed_leaving_opens_the_history(client, team, world, auth):
    obs, _, _ = _records(client, auth, team, world)
    third = world.teacher_a3
    _invite(client, auth, team, world.teacher_a, third)
    accept_invitations(client, auth, team["id"], third)
    consent = f"/api/v1/teams/{team['id']}/members/{third.id}/history-consent"
    assert client.post(consent, headers=auth(world.teacher_a)).status_code == 200
    url = f"/api/v1/events/{obs['id']}/observation-record"
    assert client.get(url, headers=auth(third)).status_code == 403
    r = client.delete(
        f"/api/v1/teams/{team['id']}/members/{world.teacher_a2.id}", headers=auth(world.teacher_a2)
    )
    assert r.status_code == 204
    assert client.get(url, headers=auth(third)).status_code == 200


@pytest.mark.parametrize("new_role", ["school_admin", "district_admin"])
def test_a_member_promoted_to_administrator_reads_and_decides_nothing_as_a_member(
    client, team, world, auth, new_role
):
    obs, pre, post = _records(client, auth, team, world)
    promoted = world.teacher_a2
    r = client.patch(
        f"/api/v1/users/{promoted.id}", headers=auth(world.district_admin), json={"role": new_role}
    )
    assert r.status_code == 200
    h = auth(promoted)
    # Still sees the team as an administrator of a member's school ...
    assert client.get(f"/api/v1/teams/{team['id']}", headers=h).status_code == 200
    # ... but reads no confidential record by any path ...
    assert (
        client.get(f"/api/v1/events/{obs['id']}/observation-record", headers=h).status_code == 403
    )
    assert client.get(f"/api/v1/events/{pre['id']}/conference-record", headers=h).status_code == 403
    assert (
        client.get(f"/api/v1/teams/{team['id']}/observation-records", headers=h).status_code == 403
    )
    summary = client.get(f"/api/v1/teams/{team['id']}/summary", headers=h).json()
    assert summary["observation_records"] is None
    assert summary["conference_records"] is None
    assert client.get(f"/api/v1/reflections/{post['id']}", headers=h).status_code == 200  # own post
    others = client.post(
        "/api/v1/reflections",
        headers=auth(world.teacher_a),
        json={"title": "A's", "body": "b", "visibility": "team", "team_id": team["id"]},
    ).json()
    assert client.get(f"/api/v1/reflections/{others['id']}", headers=h).status_code == 404
    # ... acts on the membership no more (no invitations of accounts they control) ...
    assert _invite(client, auth, team, promoted, world.teacher_a3).status_code == 403
    # ... and does not judge their own team's plan.
    moves = f"/api/v1/teams/{team['id']}/plan/transitions"
    assert (
        client.post(
            moves, headers={**auth(world.teacher_a), "If-Match": "*"}, json={"action": "submit"}
        ).status_code
        == 200
    )
    r = client.post(moves, headers={**h, "If-Match": "*"}, json={"action": "approve"})
    assert r.status_code == 403
    assert (
        client.post(
            moves, headers={**auth(world.admin_a), "If-Match": "*"}, json={"action": "approve"}
        ).status_code
        == 200
    )


def test_an_administrator_demoted_to_teacher_is_on_no_team(client, team, world, auth, factory):
    """A role change opens nothing: a former administrator joins a team only by invitation."""
    other_admin = factory.user(Role.school_admin, [world.school_a])
    r = client.patch(
        f"/api/v1/users/{other_admin.id}",
        headers=auth(world.district_admin),
        json={"role": "teacher"},
    )
    assert r.status_code == 200
    h = auth(other_admin)
    assert client.get(f"/api/v1/teams/{team['id']}", headers=h).status_code == 404
    assert client.get("/api/v1/teams", headers=h).json()["total"] == 0


def test_membership_answers_equal_reads(client, team, world, auth):
    """An invitation is answered from what was written (not read back): it equals the item in
    the team's list and in the invitee's; accepting and consenting answer the team as a GET of
    it by the same caller does."""
    newcomer = world.teacher_a3
    sent = _invite(client, auth, team, world.teacher_a, newcomer)
    assert sent.status_code == 201, sent.text
    invitation = sent.json()
    assert invitation["invited_by"]["id"] == str(world.teacher_a.id)
    assert invitation["invitee"]["family_name"] == newcomer.family_name
    listed = client.get(f"/api/v1/teams/{team['id']}/invitations", headers=auth(world.teacher_a))
    assert invitation in listed.json()["items"]
    mine = client.get("/api/v1/team-invitations", headers=auth(newcomer)).json()["items"]
    assert invitation in mine
    accepted = client.post(
        f"/api/v1/team-invitations/{invitation['id']}/accept", headers=auth(newcomer)
    )
    assert accepted.status_code == 200, accepted.text
    read = client.get(f"/api/v1/teams/{team['id']}", headers=auth(newcomer))
    assert accepted.json() == read.json()
    consent = f"/api/v1/teams/{team['id']}/members/{newcomer.id}/history-consent"
    consented = client.post(consent, headers=auth(world.teacher_a))
    assert consented.status_code == 200, consented.text
    read = client.get(f"/api/v1/teams/{team['id']}", headers=auth(world.teacher_a))
    assert consented.json() == read.json()
