"""Sync mode: staff of the covered schools who are absent from a bulk file, or marked
tobedeleted in a delta, are deactivated (never deleted), guarded against truncated exports."""

import pytest

from app.users.models import Role
from tests.rosters.conftest import counts, schools_of, upload, users, zipped
from tests.rosters.test_oneroster import ORGS, USERS_11_HEADER

HEADER = "email,given name,family name,role,school\n"


def alpha_staff(factory, world, n: int) -> list:
    """n more teachers at Alpha School (besides teacher_a, teacher_a2 and admin_a)."""
    return [factory.user(Role.teacher, [world.school_a]) for _ in range(n)]


def roster_of(people: list, school: str = "Alpha School") -> bytes:
    """A roster stating people as they are stored (so only what a test changes differs)."""
    rows = "".join(f"{u.email},{u.given_name},{u.family_name},{u.role},{school}\n" for u in people)
    return (HEADER + rows).encode()


def test_sync_deactivates_the_absent_and_their_tokens_stop_working(
    client, world, auth, sync_engine, factory
):
    extra = alpha_staff(factory, world, 7)
    everyone = [world.teacher_a, world.admin_a, *extra]  # teacher_a2 left out
    leaver = auth(world.teacher_a2)
    assert client.get("/api/v1/me", headers=leaver).status_code == 200
    r = upload(client, auth(world.district_admin), roster_of(everyone), mode="sync")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["deactivated"] == 1
    assert body["mode"] == "sync"
    assert [row["email"] for row in body["rows"] if row["action"] == "deactivated"] == [
        world.teacher_a2.email
    ]
    got = users(sync_engine)
    assert got[world.teacher_a2.email].is_active is False  # kept, not deleted
    assert got[world.teacher_b.email].is_active is True  # Beta School is not covered
    assert got[world.district_admin.email].is_active is True
    assert client.get("/api/v1/me", headers=leaver).status_code == 401
    # the same file again: nothing more to do
    again = upload(client, auth(world.district_admin), roster_of(everyone), mode="sync").json()
    assert again["deactivated"] == 0
    assert again["updated"] == 0


def test_a_returning_person_is_reactivated_by_a_sync(client, world, auth, sync_engine, factory):
    gone = factory.user(Role.teacher, [world.school_a], is_active=False)
    everyone = [world.teacher_a, world.teacher_a2, world.admin_a, gone]
    r = upload(client, auth(world.district_admin), roster_of(everyone), mode="sync").json()
    row = next(row for row in r["rows"] if row["email"] == gone.email)
    assert row["action"] == "updated"
    assert "is_active" in row["changed_fields"]
    assert users(sync_engine)[gone.email].is_active is True


def test_the_guard_refuses_a_sync_that_would_deactivate_too_many(
    client, world, auth, sync_engine, factory
):
    extra = alpha_staff(factory, world, 2)  # five active at Alpha: teacher_a, a2, admin_a, 2 more
    truncated = roster_of([world.admin_a, extra[0]])  # three of five would go: 60 %
    h = auth(world.district_admin)
    r = upload(client, h, truncated, mode="sync")
    assert r.status_code == 422
    assert r.json()["errors"][0]["type"] == "sync_guard"
    assert "3 of 5" in r.json()["detail"]
    assert users(sync_engine)[world.teacher_a.email].is_active is True  # nothing written
    log = client.get("/api/v1/roster-imports", headers=h).json()["items"][0]
    assert log["succeeded"] is False
    assert log["mode"] == "sync"
    # a dry run reports the same refusal; force goes ahead
    assert upload(client, h, truncated, mode="sync", dry_run=True).status_code == 422
    forced = upload(client, h, truncated, mode="sync", force=True)
    assert forced.status_code == 201
    assert forced.json()["deactivated"] == 3


def test_a_sync_dry_run_lists_the_deactivations_and_writes_nothing(
    client, world, auth, sync_engine, factory
):
    extra = alpha_staff(factory, world, 7)
    everyone = [world.teacher_a, world.admin_a, *extra]
    r = upload(client, auth(world.district_admin), roster_of(everyone), mode="sync", dry_run=True)
    assert r.status_code == 201
    assert r.json()["deactivated"] == 1
    assert users(sync_engine)[world.teacher_a2.email].is_active is True


def test_someone_also_at_an_uncovered_school_only_loses_the_covered_membership(
    client, world, auth, sync_engine, factory
):
    both = factory.user(Role.teacher, [world.school_a, world.school_b])
    extra = alpha_staff(factory, world, 8)
    everyone = [world.teacher_a, world.teacher_a2, world.admin_a, *extra]
    r = upload(client, auth(world.district_admin), roster_of(everyone), mode="sync").json()
    assert r["deactivated"] == 0
    assert r["updated"] == 1
    assert users(sync_engine)[both.email].is_active is True
    assert schools_of(sync_engine, both.email) == {"Beta School"}


def test_school_admins_sync_their_own_school_and_stay_active(
    client, world, auth, sync_engine, factory
):
    extra = alpha_staff(factory, world, 7)
    r = upload(client, auth(world.admin_a), roster_of([world.teacher_a, *extra]),
               mode="sync")  # fmt: skip
    assert r.status_code == 201
    assert r.json()["deactivated"] == 1
    assert users(sync_engine)[world.admin_a.email].is_active is True
    r = upload(client, auth(world.admin_a), roster_of([world.teacher_b], "Beta School"),
               mode="sync")  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0]["type"] == "forbidden"


def test_oneroster_bulk_sync_covers_the_schools_in_orgs_csv(
    client, world, auth, sync_engine, factory
):
    # Alpha's staff come from the SIS; Alpha is listed in orgs.csv; Beta is not covered.
    for u in (world.teacher_a, world.teacher_a2, world.admin_a):
        factory.set(u, sourced_id=f"sis-{u.email}")
    rows = "".join(
        f"sis-{u.email},,,true,org-alpha,teacher,{u.email},,G,F,,,{u.email},,,,,\n"
        for u in (world.teacher_a, world.admin_a)
    )
    manifest = "propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\nfile.users,bulk\n"
    export = zipped({"manifest.csv": manifest, "orgs.csv": ORGS,
                     "users.csv": USERS_11_HEADER + "\n" + rows})  # fmt: skip
    r = upload(client, auth(world.district_admin), export, mode="sync", force=True)
    assert r.status_code == 201, r.text
    assert r.json()["deactivated"] == 1
    assert users(sync_engine)[world.teacher_a2.email].is_active is False
    assert users(sync_engine)[world.teacher_b.email].is_active is True


def delta_zip(rows: str) -> bytes:
    manifest = "propertyName,value\noneroster.version,1.1\nfile.orgs,absent\nfile.users,delta\n"
    return zipped({"manifest.csv": manifest, "users.csv": USERS_11_HEADER + "\n" + rows})


def test_oneroster_delta_deactivates_tobedeleted_only_in_sync(
    client, world, auth, sync_engine, factory
):
    for i in range(8):
        factory.user(Role.teacher, [world.school_a], sourced_id=f"keep-{i}")
    leaver = factory.user(Role.teacher, [world.school_a], sourced_id="sis-leaver")
    rows = (
        "sis-leaver,tobedeleted,2026-11-20T03:00:00.000Z,true,Alpha School,teacher,x,,L,V,,,"
        f"{leaver.email},,,,,\n"
        "sis-new,active,2026-11-20T03:00:00.000Z,true,Alpha School,teacher,n,,N,W,,,"
        "new.hire@example.org,,,,,\n"
    )
    h = auth(world.district_admin)
    upsert = upload(client, h, delta_zip(rows))
    assert upsert.status_code == 201, upsert.text
    assert counts(upsert.json()) == (1, 0, 0, 0, 1)  # tobedeleted acts only in a sync
    assert users(sync_engine)[leaver.email].is_active is True
    sync = upload(client, h, delta_zip(rows), mode="sync").json()
    assert counts(sync) == (0, 0, 1, 1, 0)
    got = users(sync_engine)
    assert got[leaver.email].is_active is False
    # a delta leaves everyone it does not name alone
    assert got[world.teacher_a2.email].is_active is True


def test_roster_settings_are_checked():
    from pydantic import ValidationError

    from app.core.config import Settings

    with pytest.raises(ValidationError, match="DISTRICT_TIME_ZONE"):
        Settings(district_time_zone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError):
        Settings(roster_sync_max_deactivate_share=1.5)


def test_the_guard_share_is_configurable(client, world, auth, sync_engine, factory, app, settings):
    from app.core.deps import get_settings_dep

    extra = alpha_staff(factory, world, 2)
    truncated = roster_of([world.admin_a, extra[0]])  # three of five would go: 60 %
    lenient = settings.model_copy(update={"roster_sync_max_deactivate_share": 0.7})
    app.dependency_overrides[get_settings_dep] = lambda: lenient
    try:
        r = upload(client, auth(world.district_admin), truncated, mode="sync")
    finally:
        del app.dependency_overrides[get_settings_dep]
    assert r.status_code == 201
    assert r.json()["deactivated"] == 3
