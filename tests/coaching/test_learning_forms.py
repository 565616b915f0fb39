"""Each teacher's own learning form: written by them alone, read by their teammates and by no
administrator (by any path), editable until the plan is completed."""

import pytest

from app.users.models import Role
from tests.coaching.conftest import TEAM_CALLERS
from tests.coaching.test_progress import complete_cycle
from tests.coaching.test_records import READ_MATRIX
from tests.teams import form_team

ANSWERS = {
    "purpose": "My readers stall on inference",
    "philosophies_and_literature": "Fountas & Pinnell",
    "pre_conference_summary": "We agreed to watch questioning",
    "take_back_to_classroom": "Shorter, more frequent groups",
    "how_to_apply": "Rotate groups daily",
    "addressing_open_questions": "Ask the literacy coach",
}


def url(team, teacher):
    return f"/api/v1/teams/{team['id']}/learning-forms/{teacher.id}"


def test_each_teacher_writes_their_own_form(client, team, world, auth):
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    r = client.put(url(team, world.teacher_a), headers=a, json=ANSWERS)
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"learning-form-1"'
    assert {k: r.json()[k] for k in ANSWERS} == ANSWERS
    assert r.json()["teacher_id"] == str(world.teacher_a.id)
    # A teammate reads it, and cannot write it.
    assert client.get(url(team, world.teacher_a), headers=a2).json() == r.json()
    wrong = client.put(url(team, world.teacher_a), headers={**a2, "If-Match": "*"}, json={})
    assert wrong.status_code == 403
    assert "own" in wrong.json()["detail"]
    # Their own form is theirs to write; a form not written yet is a 404.
    assert client.get(url(team, world.teacher_a2), headers=a).status_code == 404
    mine = client.put(url(team, world.teacher_a2), headers=a2, json={"purpose": "Mine"})
    assert mine.status_code == 201
    listed = client.get(f"/api/v1/teams/{team['id']}/learning-forms", headers=a).json()
    assert [f["teacher_id"] for f in listed["items"]] == [
        str(world.teacher_a.id),
        str(world.teacher_a2.id),
    ]
    assert listed["total"] == 2


def test_replacing_a_form_is_whole_and_needs_its_etag(client, team, world, auth):
    a = auth(world.teacher_a)
    first = client.put(url(team, world.teacher_a), headers=a, json=ANSWERS)
    assert client.put(url(team, world.teacher_a), headers=a, json={}).status_code == 428
    stale = client.put(
        url(team, world.teacher_a), headers={**a, "If-Match": '"learning-form-9"'}, json={}
    )
    assert stale.status_code == 412
    r = client.put(
        url(team, world.teacher_a),
        headers={**a, "If-Match": first.headers["etag"]},
        json={"how_to_apply": "Twice a week"},
    )
    assert r.status_code == 200
    assert r.json()["how_to_apply"] == "Twice a week"
    assert r.json()["purpose"] is None  # whole: what is left out is empty
    assert r.headers["etag"] == '"learning-form-2"'


def test_forms_stay_editable_after_approval_until_the_plan_is_completed(client, team, world, auth):
    a = auth(world.teacher_a)
    complete_cycle(client, team, world, auth)  # the plan approved, every step held
    r = client.put(url(team, world.teacher_a), headers=a, json=ANSWERS)
    assert r.status_code == 201  # answered after observing
    completed = client.post(
        f"/api/v1/teams/{team['id']}/plan/transitions",
        headers={**auth(world.admin_a), "If-Match": "*"},
        json={"action": "complete"},
    )
    assert completed.status_code == 200, completed.text
    done = client.put(url(team, world.teacher_a), headers={**a, "If-Match": "*"}, json={})
    assert done.status_code == 409
    assert "completed" in done.json()["detail"]
    assert client.get(url(team, world.teacher_a), headers=a).json()["purpose"] == ANSWERS["purpose"]


@pytest.mark.parametrize(("caller", "status"), READ_MATRIX)
def test_no_administrator_reads_a_form_by_any_path(
    client, team, world, auth, as_caller, caller, status
):
    client.put(url(team, world.teacher_a), headers=auth(world.teacher_a), json=ANSWERS)
    h = as_caller(caller)
    one = client.get(url(team, world.teacher_a), headers=h)
    every = client.get(f"/api/v1/teams/{team['id']}/learning-forms", headers=h)
    summary = client.get(f"/api/v1/teams/{team['id']}/summary", headers=h)
    document = client.get(f"/api/v1/teams/{team['id']}/summary/document?format=markdown", headers=h)
    assert (one.status_code, every.status_code) == (status, status)
    secret = ANSWERS["purpose"]
    if status != 200:
        for r in (one, every, summary, document):
            assert secret not in r.text
        if summary.status_code == 200:
            assert summary.json()["learning_forms"] is None
    else:
        assert secret in summary.text
        assert secret in document.text
    # Nor does an administrator write one for a teacher (not even one of their school's).
    if TEAM_CALLERS[caller] in ("admin_a", "district_admin"):
        forged = client.put(url(team, world.teacher_a2), headers=h, json={"purpose": "x"})
        assert forged.status_code == 403


def test_a_teacher_who_leaves_keeps_reading_their_own_forms_only(client, world, factory, auth):
    a3 = factory.user(Role.teacher, [world.school_a], email="leaver@example.org")
    team = form_team(client, auth, world.teacher_a, world.teacher_a2, a3)
    a, leaver = auth(world.teacher_a), auth(a3)
    client.put(url(team, world.teacher_a), headers=a, json=ANSWERS)
    client.put(url(team, a3), headers=leaver, json={"purpose": "The leaver's"})
    r = client.delete(f"/api/v1/teams/{team['id']}/members/{a3.id}", headers=leaver)
    assert r.status_code == 204, r.text
    assert client.get(url(team, world.teacher_a), headers=leaver).status_code == 404
    mine = client.get("/api/v1/me/learning-forms", headers=leaver).json()["items"]
    assert [f["purpose"] for f in mine] == ["The leaver's"]
    # The team still reads the leaver's answers; no administrator reads anyone's.
    assert client.get(url(team, a3), headers=a).json()["purpose"] == "The leaver's"
    admin = client.get("/api/v1/me/learning-forms", headers=auth(world.admin_a))
    assert admin.status_code == 403
