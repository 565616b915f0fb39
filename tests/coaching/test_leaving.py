"""A member who leaves keeps read access to what they wrote, and nothing else of the team's."""

from app.users.models import Role
from tests.teams import approve_plan, form_team


def test_a_leaver_reads_what_they_wrote_and_nothing_else(client, world, factory, auth):
    a3 = factory.user(Role.teacher, [world.school_a], email="leaver@example.org")
    team = form_team(client, auth, world.teacher_a, world.teacher_a2, a3)
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    observations = []
    for observer, observed in ((a3, world.teacher_a), (world.teacher_a, a3)):
        r = client.post(
            "/api/v1/events",
            headers=auth(observer),
            json={"team_id": team["id"], "kind": "observation",
                  "starts_at": f"2026-10-0{len(observations) + 1}T15:00:00Z",
                  "ends_at": f"2026-10-0{len(observations) + 1}T16:00:00Z",
                  "observer_id": str(observer.id), "observed_id": str(observed.id)},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        event = r.json()
        r = client.post(
            f"/api/v1/events/{event['id']}/observation-record",
            headers=auth(observer),
            json={"affirmations": [f"by {observer.email}"]},
        )
        assert r.status_code == 201, r.text
        observations.append((event, r.json()))
    (own_event, own), (_, theirs) = observations
    mine = auth(a3)
    listed = client.get("/api/v1/me/observation-records", headers=mine).json()["items"]
    assert [r["id"] for r in listed] == [own["id"]]

    r = client.delete(f"/api/v1/teams/{team['id']}/members/{a3.id}", headers=mine)
    assert r.status_code == 204
    listed = client.get("/api/v1/me/observation-records", headers=mine).json()["items"]
    assert [r["id"] for r in listed] == [own["id"]]  # still theirs
    assert listed[0]["affirmations"] == ["by leaver@example.org"]
    # ... and nothing else of the team's: its records, events and calendar are gone for them
    event_url = f"/api/v1/events/{own_event['id']}"
    assert client.get(f"{event_url}/observation-record", headers=mine).status_code == 404
    assert client.get(f"/api/v1/teams/{team['id']}", headers=mine).status_code == 404
    assert (
        client.get(f"/api/v1/teams/{team['id']}/observation-records", headers=mine).status_code
        == 404
    )
    assert (
        "by teacher.a@example.org"
        not in client.get("/api/v1/me/observation-records", headers=mine).text
    )
    assert theirs["id"] not in {r["id"] for r in listed}


def test_an_administrator_reads_no_notes_by_this_path(client, world, auth):
    for admin in (world.admin_a, world.district_admin):
        r = client.get("/api/v1/me/observation-records", headers=auth(admin))
        assert r.status_code == 403
