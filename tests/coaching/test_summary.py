import pytest

from tests.coaching.test_progress import complete_cycle
from tests.teams import form_team


@pytest.mark.parametrize(
    ("caller", "status", "confidential"),
    [
        ("anonymous", 401, None),
        ("member", 200, True),
        ("same_school_teacher", 404, None),
        ("outside_teacher", 404, None),
        ("school_admin", 200, False),
        ("other_school_admin", 404, None),
        ("district_admin", 200, False),
        ("read_key", 403, None),
    ],
)
def test_summary_by_caller(client, team, world, auth, as_caller, caller, status, confidential):
    complete_cycle(client, team, world, auth)
    r = client.get(f"/api/v1/teams/{team['id']}/summary", headers=as_caller(caller))
    assert r.status_code == status
    for fmt in ("markdown", "html"):
        doc = client.get(
            f"/api/v1/teams/{team['id']}/summary/document?format={fmt}", headers=as_caller(caller)
        )
        assert doc.status_code == status
        if status == 200:
            assert ("Confidential affirmation" in doc.text) == confidential
    if status != 200:
        return
    body = r.json()
    assert body["confidential_included"] is confidential
    assert len(body["calendar"]) == 7
    assert body["progress"]["complete"] is True
    # teacher A2 wrote a private post (nobody here reads it) and a program post (everyone does)
    assert [p["title"] for p in body["reflections"]] == ["program learning"]
    assert body["progress"]["reflections"] == 1
    if confidential:
        assert len(body["observation_records"]) == 4
    else:
        assert body["observation_records"] is None
        assert body["conference_records"] is None
        assert "Confidential affirmation" not in r.text
        assert "secret" not in r.text


def test_html_escapes_user_text(client, world, auth):
    team = form_team(
        client, auth, world.teacher_a, world.teacher_a2, name="<script>alert(1)</script>"
    )
    doc = client.get(f"/api/v1/teams/{team['id']}/summary/document", headers=auth(world.teacher_a))
    assert doc.headers["content-type"].startswith("text/html")
    assert "<script>" not in doc.text
    assert "&lt;script&gt;" in doc.text
    md = client.get(
        f"/api/v1/teams/{team['id']}/summary/document?format=markdown",
        headers=auth(world.teacher_a),
    )
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# Peer Coaching Summary: <script>")
    bad = client.get(
        f"/api/v1/teams/{team['id']}/summary/document?format=pdf", headers=auth(world.teacher_a)
    )
    assert bad.status_code == 422


def test_a_copy_to_hand_over_leaves_private_reflections_out(client, team, world, auth):
    a2 = auth(world.teacher_a2)
    for visibility in ("private", "team"):
        r = client.post(
            "/api/v1/reflections",
            headers=a2,
            json={"title": f"{visibility} post", "body": f"{visibility} words",
                  "visibility": visibility, "team_id": team["id"]},
        )  # fmt: skip
        assert r.status_code == 201
    url = f"/api/v1/teams/{team['id']}/summary"
    mine = client.get(url, headers=a2).json()
    assert sorted(p["title"] for p in mine["reflections"]) == ["private post", "team post"]
    copy = client.get(f"{url}?include_private=false", headers=a2).json()
    assert [p["title"] for p in copy["reflections"]] == ["team post"]
    doc = client.get(f"{url}/document?format=markdown&include_private=false", headers=a2).text
    assert "private words" not in doc
    assert "team words" in doc


def test_the_form_never_calls_a_past_event_scheduled(client, team, world, auth):
    a = auth(world.teacher_a)
    for day in ("2026-10-01", "2099-10-01"):
        client.post(
            "/api/v1/events",
            headers=a,
            json={"team_id": team["id"], "kind": "pre_conference",
                  "starts_at": f"{day}T15:00:00Z", "ends_at": f"{day}T16:00:00Z"},
        )  # fmt: skip
    doc = client.get(f"/api/v1/teams/{team['id']}/summary/document?format=markdown", headers=a)
    rows = [line for line in doc.text.splitlines() if "pre conference" in line]
    assert rows[0].endswith("| ended, not confirmed held |")
    assert rows[1].endswith("| scheduled |")
