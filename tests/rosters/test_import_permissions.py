"""A roster import changes a person only as `PATCH /users` may: the same rule, looking at who
the matched person is now, not only at what the row says they become."""

from __future__ import annotations

import pytest

from app.users.models import Role
from tests.rosters.conftest import upload, users

HEADER = "email,given name,family name,role,school,active\n"


def _row(person, *, role=None, school=None, active=None, given=None) -> str:
    return (
        f"{person.email},{given or person.given_name},{person.family_name},"
        f"{role or person.role},{school},{'' if active is None else active}\n"
    )


# (who changes, whom, what the row / PATCH makes of them): each case is tried both ways.
CASES = [
    # school A's administrator ...
    ("admin_a", "district_admin", {"role": "teacher"}),  # demote the district administrator
    ("admin_a", "teacher_b", {"school": "Alpha School"}),  # take another school's teacher
    ("admin_a", "teacher_b", {"given": "Renamed"}),  # rename another school's teacher
    ("admin_a", "teacher_b", {"active": "false"}),  # deactivate another school's teacher
    ("admin_a", "admin_b", {"role": "teacher"}),  # demote another school's administrator
    ("admin_a", "teacher_a2", {"role": "district_admin"}),  # grant the district role
    ("admin_a", "teacher_a2", {"role": "school_admin"}),  # allowed: promote in their school
    ("admin_a", "teacher_a2", {"given": "Renamed"}),  # allowed: their own school's teacher
    ("admin_a", "teacher_a2", {"active": "false"}),  # allowed
    ("admin_a", "admin_a", {"role": "teacher"}),  # never your own role
    ("admin_a", "admin_a", {"active": "false"}),  # nor deactivate yourself
    # the district administrator may do all but the last two to themselves
    ("district_admin", "teacher_b", {"school": "Alpha School"}),
    ("district_admin", "admin_b", {"role": "teacher"}),
    ("district_admin", "district_admin", {"role": "teacher"}),
]


def _patch_body(world, target, change) -> dict:
    body: dict = {}
    if "role" in change:
        body["role"] = change["role"]
    if "school" in change:
        body["school_ids"] = [str(world.school_a.id)]
    if "given" in change:
        body["given_name"] = change["given"]
    if "active" in change:
        body["is_active"] = change["active"] == "true"
    return body


def _school_of(world, target) -> str:
    return "Beta School" if world.school_b.id in target._school_ids else "Alpha School"


@pytest.fixture
def people(world, sync_engine):
    from sqlmodel import Session, select

    from app.users.models import SchoolMembership

    with Session(sync_engine) as s:
        memberships = s.exec(select(SchoolMembership)).all()
    for name in ("district_admin", "admin_a", "admin_b", "teacher_a2", "teacher_b"):
        person = getattr(world, name)
        person._school_ids = {m.school_id for m in memberships if m.user_id == person.id}
    return world


@pytest.mark.parametrize(("caller", "target", "change"), CASES)
def test_an_import_changes_a_person_exactly_when_patch_would(
    client, people, auth, sync_engine, factory, caller, target, change
):
    world = people
    referee = factory.user(Role.district_admin)  # puts things back between the two tries
    who, person = getattr(world, caller), getattr(world, target)
    before = users(sync_engine)[person.email]
    school = change.get("school") or (
        _school_of(world, person) if person._school_ids else "Alpha School"
    )
    row = _row(
        person,
        role=change.get("role") or Role(person.role).value,
        school=school,
        active=change.get("active"),
        given=change.get("given"),
    )
    imported = upload(client, auth(who), (HEADER + row).encode())
    after_import = users(sync_engine)[person.email]
    # Undo what the import changed, then ask PATCH the same.
    if imported.status_code == 201:
        restored = client.patch(
            f"/api/v1/users/{person.id}",
            headers=auth(referee),
            json={
                "role": before.role,
                "given_name": before.given_name,
                "is_active": before.is_active,
                "school_ids": [str(s) for s in person._school_ids],
            },
        )
        assert restored.status_code == 200, restored.text
    patched = client.patch(
        f"/api/v1/users/{person.id}", headers=auth(who), json=_patch_body(world, person, change)
    )
    assert (imported.status_code == 201) == (patched.status_code == 200), (
        imported.text,
        patched.text,
    )
    if imported.status_code != 201:
        assert imported.status_code == 422
        assert (after_import.role, after_import.given_name, after_import.is_active) == (
            before.role,
            before.given_name,
            before.is_active,
        )


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_school_administrator_learns_nothing_about_staff_of_other_schools(
    client, world, auth, dry_run
):
    row = _row(world.teacher_b, role="teacher", school="Alpha School")
    r = upload(client, auth(world.admin_a), (HEADER + row).encode(), dry_run=dry_run)
    assert r.status_code == 422
    text = r.text
    for detail in (world.teacher_b.given_name, world.teacher_b.family_name, "Beta School",
                   str(world.teacher_b.id)):  # fmt: skip
        assert detail not in text
    assert r.json()["errors"][0]["message"].startswith("This person is not one of the staff")


def test_a_delta_cannot_deactivate_another_schools_staff(client, world, factory, auth, sync_engine):
    from tests.rosters.test_sync import delta_zip

    for i in range(8):  # enough staff that the sync guard is not what refuses
        factory.user(Role.teacher, [world.school_b], sourced_id=f"keep-{i}")
    other = factory.user(Role.teacher, [world.school_b], sourced_id="other-school")
    rows = (
        "other-school,tobedeleted,2026-11-20T03:00:00.000Z,true,Beta School,teacher,x,,L,V,,,"
        f"{other.email},,,,,\n"
    )
    r = upload(client, auth(world.admin_a), delta_zip(rows), mode="sync")
    assert r.status_code == 422, r.text
    assert users(sync_engine)[other.email].is_active
    ok = upload(client, auth(world.district_admin), delta_zip(rows), mode="sync")
    assert ok.status_code == 201, ok.text
    assert not users(sync_engine)[other.email].is_active


def _budgeted(settings, budget: int):
    from fastapi.testclient import TestClient

    from app.main import create_app

    return TestClient(create_app(settings.model_copy(update={"staff_lookup_budget": budget})))


def test_learning_that_other_schools_staff_exist_has_a_daily_budget(settings, world, auth):
    """A school administrator trying addresses in POST /users learns "in use" a few times a
    day, then nothing more; their own school's staff, and district administrators, cost
    nothing."""
    others = [world.teacher_b, world.admin_b, world.district_admin]
    with _budgeted(settings, 2) as c:
        h = auth(world.admin_a)

        def create(email: str):
            return c.post(
                "/api/v1/users",
                headers=h,
                json={"email": email, "given_name": "N", "family_name": "N", "role": "teacher",
                      "school_ids": [str(world.school_a.id)]},
            )  # fmt: skip

        assert create(world.teacher_a2.email).status_code == 409  # their own school: free
        answers = [create(o.email) for o in others]
        assert [r.status_code for r in answers] == [409, 409, 429]
        assert answers[0].json()["detail"] == "This email is already in use"
        assert int(answers[2].headers["retry-after"]) > 0
        assert create("brand.new@example.org").status_code == 429  # spent for the day
        for _ in range(3):  # district administrators manage everyone: no budget
            r = c.post(
                "/api/v1/users",
                headers=auth(world.district_admin),
                json={"email": world.teacher_b.email, "given_name": "N", "family_name": "N",
                      "role": "teacher", "school_ids": [str(world.school_b.id)]},
            )  # fmt: skip
            assert r.status_code == 409


@pytest.mark.parametrize(("budget", "status"), [(10, 422), (2, 429)])
def test_a_dry_run_naming_other_schools_staff_spends_the_same_budget(
    settings, world, auth, budget, status
):
    rows = "".join(
        _row(p, role="teacher", school="Alpha School")
        for p in (world.teacher_b, world.admin_b, world.district_admin)
    )
    with _budgeted(settings, budget) as c:
        r = upload(c, auth(world.admin_a), (HEADER + rows).encode(), dry_run=True)
    assert r.status_code == status, r.text
    if status == 429:
        assert world.teacher_b.email not in r.text
        assert "errors" not in r.json()
