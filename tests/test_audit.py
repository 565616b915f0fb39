"""The audit trail: what it records (sign-ins, failures, invitations, resets, account changes,
keys, imports, plan decisions, confidential reads), who reads it (district administrators
only: tests/test_route_matrix.py), that it is append-only, and that nothing confidential ever
reaches it, through the list or the CSV."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.users.models import Role
from tests.factories import PASSWORD
from tests.teams import approve_plan, form_team

SECRET_NOTE = "ZEBRA-CONFIDENTIAL-NOTE-7731"


def trail(client, auth, world, **params) -> list[dict]:
    r = client.get("/api/v1/audit-events", headers=auth(world.district_admin), params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def actions(events) -> list[str]:
    return [e["action"] for e in events]


def test_sign_ins_and_failures_are_recorded_without_passwords(client, world, auth):
    ok = client.post(
        "/api/v1/auth/token", data={"username": "Teacher.A@example.org", "password": PASSWORD}
    )
    assert ok.status_code == 200
    wrong = client.post(
        "/api/v1/auth/token", data={"username": "teacher.a@example.org", "password": "nope"}
    )
    assert wrong.status_code == 401
    # Someone typed their password into the name field: the trail must not keep it.
    typo = client.post(
        "/api/v1/auth/token", data={"username": "hunter2 my password", "password": "x"}
    )
    assert typo.status_code == 401
    events = trail(client, auth, world, action=["sign_in", "sign_in_failed"])
    assert actions(events) == ["sign_in_failed", "sign_in_failed", "sign_in"]
    typo_event, wrong_event, ok_event = events
    assert ok_event["actor"]["id"] == str(world.teacher_a.id)
    assert ok_event["detail"] == {"method": "password"}
    assert ok_event["client"]
    assert ok_event["request_id"] == ok.headers["x-request-id"]
    assert wrong_event["actor"] is None
    assert wrong_event["detail"] == {
        "method": "password",
        "login": "teacher.a@example.org",
        "reason": "bad_credentials",
    }
    assert typo_event["detail"]["login"] == "(not an email address)"
    assert "hunter2" not in str(events)


def test_account_changes_are_recorded_with_old_and_new_values(client, world, auth, factory):
    person = factory.user(Role.teacher, [world.school_a], email="change.me@example.org")
    admin = {**auth(world.district_admin), "If-Match": "*"}
    r = client.patch(
        f"/api/v1/users/{person.id}",
        headers=admin,
        json={"role": "school_admin", "school_ids": [str(world.school_b.id)],
              "email": "changed@example.org"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    r = client.patch(f"/api/v1/users/{person.id}", headers=admin, json={"is_active": False})
    assert r.status_code == 200, r.text
    events = trail(client, auth, world, subject_user_id=str(person.id))
    by_action = {e["action"]: e for e in events}
    assert set(by_action) == {"role_changed", "schools_changed", "email_changed", "deactivated"}
    assert by_action["role_changed"]["detail"] == {"from": "teacher", "to": "school_admin"}
    assert by_action["schools_changed"]["detail"] == {
        "added": [str(world.school_b.id)],
        "removed": [str(world.school_a.id)],
    }
    assert by_action["email_changed"]["detail"] == {
        "from": "change.me@example.org",
        "to": "changed@example.org",
    }
    for event in events:
        assert event["actor"]["id"] == str(world.district_admin.id)
        assert event["subject_user"]["email"] == "changed@example.org"
    created = client.post(
        "/api/v1/users",
        headers=auth(world.district_admin),
        json={"email": "fresh@example.org", "given_name": "F", "family_name": "P",
              "role": "teacher", "school_ids": [str(world.school_a.id)]},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    assert actions(trail(client, auth, world, subject_user_id=created.json()["id"])) == [
        "user_created"
    ]


def test_keys_invitations_and_resets_are_recorded(client, world, auth, factory):
    admin = auth(world.district_admin)
    key = client.post(
        "/api/v1/integration-keys", headers=admin, json={"name": "SIS", "scopes": ["read"]}
    ).json()
    assert client.delete(f"/api/v1/integration-keys/{key['id']}", headers=admin).status_code == 204
    new = factory.user(Role.teacher, [world.school_a], with_password=False)
    invited = client.post(f"/api/v1/users/{new.id}/invitation", headers=auth(world.admin_a))
    assert invited.status_code == 202, invited.text
    reset = client.post(
        f"/api/v1/users/{world.teacher_a.id}/password-reset", headers=auth(world.admin_a)
    )
    assert reset.status_code == 202, reset.text
    asked = client.post("/api/v1/auth/password-reset", json={"email": "teacher.a2@example.org"})
    assert asked.status_code == 202
    events = trail(client, auth, world)
    assert actions(events)[:5] == [
        "password_reset_sent",
        "password_reset_sent",
        "invitation_sent",
        "integration_key_revoked",
        "integration_key_created",
    ]
    self_reset, admin_reset, invitation, revoked, created = events[:5]
    assert created["object_id"] == revoked["object_id"] == key["id"]
    assert created["detail"] == {"name": "SIS", "scopes": "read"}
    assert invitation["subject_user"]["id"] == str(new.id)
    assert invitation["actor"]["id"] == str(world.admin_a.id)
    assert admin_reset["detail"] == {"asked_by": "an administrator"}
    assert self_reset["actor"] is None
    assert self_reset["subject_user"]["id"] == str(world.teacher_a2.id)
    # Nothing that would open an account reaches the trail.
    assert "token" not in str(events).lower()


def test_a_roster_import_is_recorded_with_its_counts(client, world, auth):
    csv_text = (
        "email,given name,family name,role,school\n"
        "imported.one@example.org,Imp,One,teacher,Alpha School\n"
    )
    r = client.post(
        "/api/v1/roster-imports",
        headers=auth(world.district_admin),
        files=[("file", ("staff.csv", csv_text.encode(), "text/csv"))],
    )
    assert r.status_code in (200, 201), r.text
    (event,) = trail(client, auth, world, action=["roster_imported"])
    assert event["object_id"] == r.json()["id"]
    assert event["detail"]["counts"]["created"] == 1
    assert event["actor"]["id"] == str(world.district_admin.id)


@pytest.fixture
def cycle(client, world, auth):
    """A team whose plan is approved and whose observation record holds a secret note."""
    team = form_team(client, auth, world.teacher_a, world.teacher_a2, learning_target="Reading")
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    a = auth(world.teacher_a)
    event = client.post(
        "/api/v1/events",
        headers=a,
        json={"team_id": team["id"], "kind": "observation",
              "starts_at": "2026-10-01T15:00:00Z", "ends_at": "2026-10-01T16:00:00Z",
              "observer_id": str(world.teacher_a.id), "observed_id": str(world.teacher_a2.id)},
    ).json()  # fmt: skip
    record = client.post(
        f"/api/v1/events/{event['id']}/observation-record",
        headers=a,
        json={"affirmations": [SECRET_NOTE], "open_questions": [SECRET_NOTE]},
    )
    assert record.status_code in (200, 201), record.text
    return team, event, record.json()


def test_plan_decisions_and_confidential_reads_are_recorded_never_their_content(
    client, world, auth, cycle
):
    team, event, record = cycle
    read = client.get(
        f"/api/v1/events/{event['id']}/observation-record", headers=auth(world.teacher_a2)
    )
    assert read.status_code == 200
    assert SECRET_NOTE in read.text
    events = trail(client, auth, world, team_id=team["id"])
    assert actions(events) == ["confidential_read", "plan_approved"]
    read_event, approved = events
    assert read_event["actor"]["id"] == str(world.teacher_a2.id)
    assert read_event["object_id"] == record["id"]
    assert read_event["detail"] == {"kind": "observation_record"}
    assert approved["actor"]["id"] == str(world.admin_a.id)
    # Whatever the district administrator reads of the trail, the note is not in it.
    admin = auth(world.district_admin)
    everything = client.get("/api/v1/audit-events?limit=200", headers=admin)
    exported = client.get("/api/v1/audit-events.csv", headers=admin)
    assert exported.status_code == 200
    for answer in (everything, exported):
        assert SECRET_NOTE not in answer.text
    # An administrator's refused read is not a read.
    refused = client.get(f"/api/v1/events/{event['id']}/observation-record", headers=admin)
    assert refused.status_code == 403
    assert actions(trail(client, auth, world, team_id=team["id"])) == actions(events)


def test_filters_pages_and_the_csv(client, world, auth):
    for _ in range(3):
        client.post("/api/v1/auth/token", data={"username": "x@example.org", "password": "bad"})
    admin = auth(world.district_admin)
    page = client.get("/api/v1/audit-events?limit=2", headers=admin).json()
    assert len(page["items"]) == 2
    assert page["total"] == 3
    assert page["next"]
    since = page["items"][-1]["at"]
    newer = trail(client, auth, world, since=since)
    assert 2 <= len(newer) <= 3
    assert trail(client, auth, world, until="2000-01-01T00:00:00Z") == []
    assert trail(client, auth, world, actor_id=str(uuid.uuid4())) == []
    bad = [
        {"since": "2027-01-02T00:00:00Z", "until": "2027-01-01T00:00:00Z"},
        {"since": "2027-01-01T00:00:00"},  # no zone
        {"action": "made_up"},
    ]
    for params in bad:
        r = client.get("/api/v1/audit-events", headers=admin, params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    exported = client.get("/api/v1/audit-events.csv?action=sign_in_failed", headers=admin)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 3
    assert rows[0]["action"] == "sign_in_failed"
    assert "login=x@example.org" in rows[0]["detail"]


def test_the_trail_cannot_be_changed_in_the_database(client, world, auth, sync_engine):
    client.post("/api/v1/auth/token", data={"username": "y@example.org", "password": "bad"})
    assert trail(client, auth, world)
    with pytest.raises(DBAPIError, match="append-only"), sync_engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET action = 'sign_in'"))
    if sync_engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), sync_engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event"))
    assert len(trail(client, auth, world)) == 1
