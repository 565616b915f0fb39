"""A team continues into the next school year (members, focus area and target carried over,
a new plan); the records of a school year that has ended are read-only."""

from tests.teams import accept_invitations, approve_plan, form_team


def test_a_member_continues_the_team_into_the_next_year(client, team, world, auth):
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    url = f"/api/v1/teams/{team['id']}/continue"
    assert client.post(url, headers=auth(world.admin_a), json={}).status_code == 403
    r = client.post(url, headers=a, json={"school_year": "2025-2026"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["type"] == "not_later"
    r = client.post(url, headers=a2, json={"school_year": "2027-2028", "name": "Year two"})
    assert r.status_code == 201, r.text
    new = r.json()
    assert (new["name"], new["school_year"]) == ("Year two", "2027-2028")
    assert new["learning_target"] == team["learning_target"]
    assert new["focus_area"] == team["focus_area"]
    assert new["plan_status"] == "draft"
    assert new["continued_from_id"] == team["id"]
    # The caller is its first member; the others join by accepting, as when a team forms.
    assert [m["id"] for m in new["members"]] == [str(world.teacher_a2.id)]
    assert [m["id"] for m in new["invited"]] == [str(world.teacher_a.id)]
    accept_invitations(client, auth, new["id"], world.teacher_a)
    joined = client.get(f"/api/v1/teams/{new['id']}", headers=a).json()
    assert all(m["sees_earlier_records"] for m in joined["members"])
    old = client.get(f"/api/v1/teams/{team['id']}", headers=a).json()
    assert old["continued_as_id"] == new["id"]
    assert client.post(url, headers=a, json={"school_year": "2028-2029"}).status_code == 409


def test_an_ended_years_records_are_read_only(client, world, auth):
    a = auth(world.teacher_a)
    team = form_team(client, auth, world.teacher_a, world.teacher_a2, school_year="2025-2026")
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    observation = client.post(
        "/api/v1/events",
        headers=a,
        json={"team_id": team["id"], "kind": "observation",
              "starts_at": "2026-03-02T15:00:00Z", "ends_at": "2026-03-02T16:00:00Z",
              "observer_id": str(world.teacher_a.id), "observed_id": str(world.teacher_a2.id)},
    ).json()  # fmt: skip
    post = client.post(
        "/api/v1/events",
        headers=a,
        json={"team_id": team["id"], "kind": "post_conference",
              "starts_at": "2026-04-02T15:00:00Z", "ends_at": "2026-04-02T16:00:00Z"},
    ).json()  # fmt: skip
    record = f"/api/v1/events/{observation['id']}/observation-record"
    assert client.post(record, headers=a, json={"affirmations": ["x"]}).status_code == 201
    # The district records the year: it ended on 31 July 2026.
    r = client.post(
        "/api/v1/school-years",
        headers=auth(world.district_admin),
        json={"label": "2025-2026", "starts_on": "2025-08-01", "ends_on": "2026-07-31"},
    )
    assert r.status_code == 201
    form = f"/api/v1/teams/{team['id']}/learning-forms/{world.teacher_a.id}"
    writes = [
        ("PATCH", record, {"affirmations": ["changed"]}),
        ("PUT", f"/api/v1/events/{post['id']}/conference-record", {"summary": "late"}),
        ("PUT", form, {"purpose": "p"}),
        ("POST", "/api/v1/events", {"team_id": team["id"], "kind": "other",
                                    "starts_at": "2026-05-02T15:00:00Z",
                                    "ends_at": "2026-05-02T16:00:00Z"}),
    ]  # fmt: skip
    for method, url, body in writes:
        r = client.request(method, url, headers={**a, "If-Match": "*"}, json=body)
        assert r.status_code == 409, (url, r.text)
        assert "2025-2026 ended on 2026-07-31" in r.json()["detail"]
    # Reading goes on.
    assert client.get(record, headers=a).json()["affirmations"] == ["x"]
    # ... and the team continues into the current year.
    r = client.post(
        f"/api/v1/teams/{team['id']}/continue", headers=a, json={"school_year": "2026-2027"}
    )
    assert r.status_code == 201
