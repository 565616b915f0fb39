import uuid

import pytest

from app.focus_areas.catalog import SUGGESTED_FOCUS_AREAS, suggested_focus_area_id
from app.users.models import Role
from tests.coaching.conftest import TEAM_READERS
from tests.teams import accept_invitations


def test_focus_area_catalog_is_seeded(client, world, auth):
    r = client.get("/api/v1/focus-areas", headers=auth(world.teacher_a))
    assert r.status_code == 200
    assert [a["name"] for a in r.json()["items"]] == sorted(SUGGESTED_FOCUS_AREAS)


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 403),
        ("school_admin", 403),
        ("district_admin", 201),
        ("read_key", 403),
    ],
)
def test_focus_area_create_by_caller(client, world, auth, caller, status):
    r = client.post(
        "/api/v1/focus-areas",
        headers=auth(world.caller(caller)),
        json={"name": "Math talks", "description": "Number talks in grades 3-5"},
    )
    assert r.status_code == status
    names = [
        a["name"]
        for a in client.get("/api/v1/focus-areas", headers=auth(world.teacher_a)).json()["items"]
    ]
    assert ("Math talks" in names) == (status == 201)


def test_focus_area_retire_and_conflict(client, world, auth):
    h = auth(world.district_admin)
    assert (
        client.post("/api/v1/focus-areas", headers=h, json={"name": "guided READING"}).status_code
        == 409
    )
    area_id = suggested_focus_area_id("Guided reading")
    r = client.patch(f"/api/v1/focus-areas/{area_id}", headers=h, json={"is_active": False})
    assert r.status_code == 200
    assert r.json()["is_active"] is False
    active = client.get("/api/v1/focus-areas", headers=h).json()
    assert active["total"] == len(SUGGESTED_FOCUS_AREAS) - 1
    assert client.get("/api/v1/focus-areas?include_inactive=true", headers=h).json()["total"] == 6
    r = client.post(
        "/api/v1/teams",
        headers=auth(world.teacher_a),
        json={
            "name": "T",
            "school_year": "2026-2027",
            "invitee_ids": [str(world.teacher_a2.id)],
            "focus_area_id": str(area_id),
        },
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.focus_area_id"


def test_teacher_creates_a_team_and_is_on_it(client, world, auth, team):
    assert {m["id"] for m in team["members"]} == {str(world.teacher_a.id), str(world.teacher_a2.id)}
    assert team["plan_status"] == "draft"
    assert team["created_by_id"] == str(world.teacher_a.id)
    assert team["deleted_at"] is None


def test_team_with_a_focus_area(client, world, auth):
    area_id = str(suggested_focus_area_id("Effective classroom management"))
    r = client.post(
        "/api/v1/teams",
        headers=auth(world.teacher_a),
        json={
            "name": "Calm rooms",
            "school_year": "2026-2027",
            "invitee_ids": [str(world.teacher_a2.id)],
            "focus_area_id": area_id,
            "focus_area_other": "transitions between centers",
        },
    )
    assert r.status_code == 201
    assert r.json()["focus_area"] == {"id": area_id, "name": "Effective classroom management"}


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        (lambda w: [], "too_short"),  # only the creator
        (lambda w: [str(w.teacher_b.id)], "unknown"),  # not a colleague of the creator's schools
        (lambda w: [str(uuid.uuid4())], "unknown"),
        (lambda w: [str(w.admin_a.id)], "not_teacher"),
    ],
)
def test_team_member_rules(client, world, auth, members, problem):
    r = client.post(
        "/api/v1/teams",
        headers=auth(world.teacher_a),
        json={"name": "T", "school_year": "2026-2027", "invitee_ids": members(world)},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["type"] == problem
    assert client.get("/api/v1/teams", headers=auth(world.district_admin)).json()["total"] == 0


def test_inactive_teacher_cannot_join(client, world, factory, auth):
    gone = factory.user(Role.teacher, [world.school_a], is_active=False)
    r = client.post(
        "/api/v1/teams",
        headers=auth(world.teacher_a),
        json={"name": "T", "school_year": "2026-2027", "invitee_ids": [str(gone.id)]},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["type"] == "not_teacher"


@pytest.mark.parametrize("year", ["2026", "2026-2028", "26-27", "1999-2000", "2026-2027 "])
def test_school_year_format(client, world, auth, year):
    r = client.post(
        "/api/v1/teams",
        headers=auth(world.teacher_a),
        json={"name": "T", "school_year": year, "invitee_ids": [str(world.teacher_a2.id)]},
    )
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("school_admin", 403),
        ("other_school_admin", 403),
        ("district_admin", 403),
        ("read_key", 403),
        ("anonymous", 401),
    ],
)
def test_administrators_do_not_form_teams(client, world, auth, caller, status):
    """Membership is the teachers' decision: no administrator puts anyone on a team."""
    r = client.post(
        "/api/v1/teams",
        headers=auth(world.caller(caller)),
        json={
            "name": "Admin-formed",
            "school_year": "2026-2027",
            "invitee_ids": [str(world.teacher_a.id), str(world.teacher_a2.id)],
        },
    )
    assert r.status_code == status
    assert client.get("/api/v1/teams", headers=auth(world.district_admin)).json()["total"] == 0
    assert client.get("/api/v1/team-invitations", headers=auth(world.teacher_a)).json() == {
        "items": [],
        "total": 0,
        "total_exact": True,
        "limit": 50,
        "offset": 0,
        "next": None,
    }


@pytest.mark.parametrize(
    ("caller", "status"),
    TEAM_READERS,
)
def test_get_team_by_caller(client, team, as_caller, caller, status):
    r = client.get(f"/api/v1/teams/{team['id']}", headers=as_caller(caller))
    assert r.status_code == status
    if status == 404:  # the same answer as a team that does not exist
        missing = client.get(f"/api/v1/teams/{uuid.uuid4()}", headers=as_caller(caller))
        assert missing.status_code == 404
        assert missing.json()["detail"] == r.json()["detail"]


@pytest.mark.parametrize(
    ("caller", "visible"),
    [
        ("member", True),
        ("same_school_teacher", False),
        ("outside_teacher", False),
        ("school_admin", True),
        ("other_school_admin", False),
        ("district_admin", True),
    ],
)
def test_list_teams_by_caller(client, team, as_caller, world, caller, visible):
    r = client.get("/api/v1/teams", headers=as_caller(caller))
    assert r.status_code == 200
    assert [t["id"] for t in r.json()["items"]] == ([team["id"]] if visible else [])
    # filters only narrow what the caller may see
    r = client.get(
        f"/api/v1/teams?member_id={world.teacher_a.id}&school_id={world.school_a.id}",
        headers=as_caller(caller),
    )
    assert r.json()["total"] == (1 if visible else 0)


def test_list_filters(client, team, world, auth):
    h = auth(world.district_admin)
    assert client.get("/api/v1/teams?school_year=2025-2026", headers=h).json()["total"] == 0
    assert client.get("/api/v1/teams?school_year=2026-2027", headers=h).json()["total"] == 1
    assert (
        client.get(f"/api/v1/teams?school_id={world.school_b.id}", headers=h).json()["total"] == 0
    )
    assert (
        client.get(f"/api/v1/teams?member_id={world.teacher_b.id}", headers=h).json()["total"] == 0
    )


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("member", 200),
        ("same_school_teacher", 404),
        ("outside_teacher", 404),
        ("school_admin", 200),
        ("other_school_admin", 404),
        ("district_admin", 200),
    ],
)
def test_update_team_by_caller(client, team, as_caller, world, auth, caller, status):
    r = client.patch(
        f"/api/v1/teams/{team['id']}",
        headers=as_caller(caller),
        json={"learning_target": "Questioning strategies"},
    )
    assert r.status_code == status
    now = client.get(f"/api/v1/teams/{team['id']}", headers=auth(world.teacher_a)).json()
    assert (now["learning_target"] == "Questioning strategies") == (status == 200)


def test_update_rejects_nulls_and_unknown_fields(client, team, world, auth):
    h = auth(world.teacher_a)
    assert (
        client.patch(f"/api/v1/teams/{team['id']}", headers=h, json={"name": None}).status_code
        == 422
    )
    assert (
        client.patch(f"/api/v1/teams/{team['id']}", headers=h, json={"members": []}).status_code
        == 422
    )


def test_membership_changes(client, team, world, auth):
    h = auth(world.teacher_a)
    invite = f"/api/v1/teams/{team['id']}/invitations"
    url = f"/api/v1/teams/{team['id']}/members"
    assert (
        client.post(invite, headers=h, json={"user_id": str(world.teacher_b.id)}).status_code == 422
    )
    r = client.post(invite, headers=h, json={"user_id": str(world.teacher_a3.id)})
    assert r.status_code == 201, r.text
    assert r.json()["invitee"]["id"] == str(world.teacher_a3.id)
    assert (
        client.post(invite, headers=h, json={"user_id": str(world.teacher_a3.id)}).status_code
        == 409
    )
    # invited is not a member: the team stays hidden until they accept
    assert (
        client.get(f"/api/v1/teams/{team['id']}", headers=auth(world.teacher_a3)).status_code == 404
    )
    accept_invitations(client, auth, team["id"], world.teacher_a3)
    assert (
        client.get(f"/api/v1/teams/{team['id']}", headers=auth(world.teacher_a3)).status_code == 200
    )
    assert (
        client.post(invite, headers=h, json={"user_id": str(world.teacher_a3.id)}).status_code
        == 409
    )
    assert client.delete(f"{url}/{world.teacher_a3.id}", headers=h).status_code == 204
    assert client.delete(f"{url}/{world.teacher_a2.id}", headers=h).status_code == 409  # keep two
    assert client.delete(f"{url}/{uuid.uuid4()}", headers=h).status_code == 404
    assert (
        client.get(f"/api/v1/teams/{team['id']}", headers=auth(world.teacher_a3)).status_code == 404
    )


def test_soft_delete_and_restore(client, team, world, auth):
    url = f"/api/v1/teams/{team['id']}"
    assert client.delete(url, headers=auth(world.teacher_b)).status_code == 404
    assert client.delete(url, headers=auth(world.teacher_a2)).status_code == 204
    # gone for the team, kept for administrators
    assert client.get(url, headers=auth(world.teacher_a)).status_code == 404
    assert client.get("/api/v1/teams", headers=auth(world.teacher_a)).json()["total"] == 0
    assert client.get("/api/v1/teams", headers=auth(world.admin_a)).json()["total"] == 0
    listed = client.get("/api/v1/teams?include_deleted=true", headers=auth(world.admin_a)).json()
    assert [t["deleted_at"] is not None for t in listed["items"]] == [True]
    assert client.get(url, headers=auth(world.admin_a)).json()["deleted_at"] is not None
    assert client.patch(url, headers=auth(world.admin_a), json={"name": "x"}).status_code == 403
    # only administrators restore
    assert client.post(f"{url}/restore", headers=auth(world.teacher_a)).status_code == 404
    assert client.post(f"{url}/restore", headers=auth(world.admin_b)).status_code == 404
    r = client.post(f"{url}/restore", headers=auth(world.admin_a))
    assert r.status_code == 200
    assert r.json()["deleted_at"] is None
    assert client.post(f"{url}/restore", headers=auth(world.admin_a)).status_code == 409
    assert client.get(url, headers=auth(world.teacher_a)).json()["plan_status"] == "draft"


def test_restore_on_live_team_by_member_is_403(client, team, world, auth):
    r = client.post(f"/api/v1/teams/{team['id']}/restore", headers=auth(world.teacher_a))
    assert r.status_code == 403
