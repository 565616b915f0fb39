"""Every caller against the write endpoints not covered caller-by-caller elsewhere."""

import pytest

from app.focus_areas.catalog import suggested_focus_area_id
from app.users.models import Role
from tests.coaching.conftest import TEAM_READERS
from tests.teams import accept_invitations

WRITERS = [  # members and administrators of a member's school change the team
    ("anonymous", 401),
    ("member", 201),
    ("same_school_teacher", 404),
    ("outside_teacher", 404),
    ("school_admin", 201),
    ("other_school_admin", 404),
    ("district_admin", 201),
    ("read_key", 403),
]


# Who is on a team is the members' decision: administrators who may see the team get 403.
MEMBERSHIP = [
    ("anonymous", 401),
    ("member", 201),
    ("same_school_teacher", 404),
    ("outside_teacher", 404),
    ("school_admin", 403),
    ("other_school_admin", 404),
    ("district_admin", 403),
    ("read_key", 403),
]


@pytest.mark.parametrize(("caller", "status"), MEMBERSHIP)
def test_invite_by_caller(client, team, world, auth, as_caller, caller, status):
    r = client.post(
        f"/api/v1/teams/{team['id']}/invitations",
        headers=as_caller(caller),
        json={"user_id": str(world.teacher_a3.id)},
    )
    assert r.status_code == status
    invited = client.get(f"/api/v1/teams/{team['id']}", headers=auth(world.teacher_a)).json()[
        "invited"
    ]
    assert len(invited) == (1 if status == 201 else 0)


@pytest.mark.parametrize(("caller", "status"), [(c, 204 if s == 201 else s) for c, s in MEMBERSHIP])
def test_remove_member_by_caller(client, team, world, factory, auth, as_caller, caller, status):
    extra = factory.user(Role.teacher, [world.school_a])
    client.post(
        f"/api/v1/teams/{team['id']}/invitations",
        headers=auth(world.teacher_a),
        json={"user_id": str(extra.id)},
    )
    accept_invitations(client, auth, team["id"], extra)
    r = client.delete(f"/api/v1/teams/{team['id']}/members/{extra.id}", headers=as_caller(caller))
    assert r.status_code == status


@pytest.mark.parametrize(("caller", "status"), [(c, 204 if s == 201 else s) for c, s in MEMBERSHIP])
def test_revoke_invitation_by_caller(client, team, world, auth, as_caller, caller, status):
    sent = client.post(
        f"/api/v1/teams/{team['id']}/invitations",
        headers=auth(world.teacher_a),
        json={"user_id": str(world.teacher_a3.id)},
    ).json()
    r = client.delete(
        f"/api/v1/teams/{team['id']}/invitations/{sent['id']}", headers=as_caller(caller)
    )
    assert r.status_code == status
    pending = client.get("/api/v1/team-invitations", headers=auth(world.teacher_a3)).json()
    assert pending["total"] == (0 if status == 204 else 1)


@pytest.mark.parametrize(("caller", "status"), [(c, 204 if s == 201 else s) for c, s in WRITERS])
def test_delete_team_by_caller(client, team, world, auth, as_caller, caller, status):
    assert (
        client.delete(f"/api/v1/teams/{team['id']}", headers=as_caller(caller)).status_code
        == status
    )
    deleted = client.get(f"/api/v1/teams/{team['id']}", headers=auth(world.admin_a)).json()[
        "deleted_at"
    ]
    assert (deleted is not None) == (status == 204)


@pytest.mark.parametrize(
    ("caller", "status"),
    [(c, {200: 200, 401: 401, 403: 403, 404: 404}[s]) for c, s in TEAM_READERS],
)
def test_plan_history_by_caller(client, team, as_caller, caller, status):
    assert (
        client.get(
            f"/api/v1/teams/{team['id']}/plan/transitions", headers=as_caller(caller)
        ).status_code
        == status
    )


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
def test_cancel_and_delete_event_by_caller(client, team, world, auth, as_caller, caller, status):
    event = client.post(
        "/api/v1/events",
        headers=auth(world.teacher_a),
        json={
            "team_id": team["id"],
            "kind": "pre_conference",
            "starts_at": "2026-12-01T15:00:00Z",
            "ends_at": "2026-12-01T16:00:00Z",
        },
    ).json()
    r = client.post(
        f"/api/v1/events/{event['id']}/cancel",
        headers={**as_caller(caller), "If-Match": "*"},
        json={},
    )
    assert r.status_code == status
    d = client.delete(
        f"/api/v1/events/{event['id']}", headers={**as_caller(caller), "If-Match": "*"}
    )
    assert d.status_code == (204 if status == 200 else status)


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 403),
        ("school_admin", 403),
        ("other_school_admin", 403),
        ("district_admin", 200),
        ("read_key", 403),
    ],
)
def test_edit_focus_area_by_caller(client, world, auth, caller, status):
    area = suggested_focus_area_id("Guided reading")
    r = client.patch(
        f"/api/v1/focus-areas/{area}",
        headers=auth(world.caller(caller)),
        json={"description": "Small-group reading"},
    )
    assert r.status_code == status


@pytest.mark.parametrize(
    ("caller", "status", "visible"),
    [
        ("anonymous", 401, None),
        ("teacher", 200, 1),
        ("other_teacher", 200, 0),
        ("school_admin", 200, 1),
        ("other_school_admin", 200, 0),
        ("district_admin", 200, 1),
        ("read_key", 403, None),
    ],
)
def test_support_queue_by_caller(client, world, auth, caller, status, visible):
    client.post(
        "/api/v1/support-requests",
        headers=auth(world.teacher_a),
        json={"kind": "direction", "subject": "Next steps", "message": "What now?"},
    )
    r = client.get("/api/v1/support-requests", headers=auth(world.caller(caller)))
    assert r.status_code == status
    if visible is not None:
        assert r.json()["total"] == visible


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 200),
        ("other_teacher", 200),
        ("school_admin", 200),
        ("district_admin", 200),
        ("read_key", 403),
    ],
)
def test_resource_reading_and_review_by_caller(client, world, auth, caller, status):
    rid = client.post(
        "/api/v1/resources",
        headers=auth(world.admin_a),
        json={"title": "Handbook", "body": "Read me"},
    ).json()["id"]
    assert client.get("/api/v1/resources", headers=auth(world.caller(caller))).status_code == status
    assert (
        client.put(
            f"/api/v1/resources/{rid}/review", headers=auth(world.caller(caller))
        ).status_code
        == status
    )
