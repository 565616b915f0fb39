"""School years are records: a district administrator records each with its dates; a team's
events fall inside its year and windows; progress says what is due and overdue."""

import pytest

from tests.teams import approve_plan, form_team

YEAR = {
    "label": "2026-2027",
    "starts_on": "2026-08-01",
    "ends_on": "2027-07-31",
    "plan_due_on": "2026-10-15",
    "observations_from": "2026-09-01",
    "observations_until": "2027-05-31",
    "year_end_meetings_from": "2027-05-01",
    "year_end_meetings_until": "2027-06-30",
}


def record(client, auth, admin, **changes):
    r = client.post("/api/v1/school-years", headers=auth(admin), json={**YEAR, **changes})
    assert r.status_code == 201, r.text
    return r.json()


def schedule(client, auth, who, team, kind, start, end, **extra):
    return client.post(
        "/api/v1/events",
        headers=auth(who),
        json={"team_id": team["id"], "kind": kind, "starts_at": start, "ends_at": end, **extra},
    )


def test_a_district_administrator_records_school_years(client, world, auth):
    year = record(client, auth, world.district_admin)
    assert year["is_current"] is False
    again = client.post("/api/v1/school-years", headers=auth(world.district_admin), json=YEAR)
    assert again.status_code == 409
    assert (
        client.post("/api/v1/school-years", headers=auth(world.admin_a), json=YEAR).status_code
        == 403
    )
    listed = client.get("/api/v1/school-years", headers=auth(world.teacher_a)).json()
    assert [y["label"] for y in listed["items"]] == ["2026-2027"]
    one = client.get(f"/api/v1/school-years/{year['id']}", headers=auth(world.teacher_a))
    assert one.headers["etag"] == '"school-year-1"'
    assert one.json()["plan_due_on"] == "2026-10-15"


@pytest.mark.parametrize(
    "changes",
    [
        {"ends_on": "2026-07-31"},
        {"plan_due_on": "2027-08-01"},
        {"observations_from": "2027-06-01", "observations_until": "2027-05-31"},
        {"year_end_meetings_until": "2026-07-01"},
        {"label": "2026-2028"},
    ],
)
def test_a_years_dates_are_in_order(client, world, auth, changes):
    r = client.post(
        "/api/v1/school-years", headers=auth(world.district_admin), json={**YEAR, **changes}
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/school-years", headers=auth(world.teacher_a)).json()["total"] == 0


def test_changing_a_year_keeps_its_dates_in_order_and_needs_its_etag(client, world, auth):
    d = auth(world.district_admin)
    year = record(client, auth, world.district_admin)
    url = f"/api/v1/school-years/{year['id']}"
    assert client.patch(url, headers=d, json={"plan_due_on": None}).status_code == 428
    bad = client.patch(url, headers={**d, "If-Match": "*"}, json={"ends_on": "2027-05-15"})
    assert bad.status_code == 422  # the year-end window would end after the year
    ok = client.patch(url, headers={**d, "If-Match": '"school-year-1"'}, json={"plan_due_on": None})
    assert ok.status_code == 200
    assert ok.json()["plan_due_on"] is None
    assert ok.headers["etag"] == '"school-year-2"'
    stale = client.patch(url, headers={**d, "If-Match": '"school-year-1"'}, json={})
    assert stale.status_code == 412


def test_one_current_year_and_new_teams_join_it(client, world, auth):
    d = auth(world.district_admin)
    body = {"name": "No year", "invitee_ids": [str(world.teacher_a2.id)]}
    r = client.post("/api/v1/teams", headers=auth(world.teacher_a), json=body)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.school_year"
    first = record(client, auth, world.district_admin, is_current=True)
    second = record(
        client, auth, world.district_admin, label="2027-2028", starts_on="2027-08-01",
        ends_on="2028-07-31", plan_due_on=None, observations_from=None, observations_until=None,
        year_end_meetings_from=None, year_end_meetings_until=None,
    )  # fmt: skip
    r = client.post("/api/v1/teams", headers=auth(world.teacher_a), json=body)
    assert r.status_code == 201
    assert r.json()["school_year"] == "2026-2027"
    url = f"/api/v1/school-years/{second['id']}"
    r = client.patch(url, headers={**d, "If-Match": "*"}, json={"is_current": True})
    assert r.json()["is_current"] is True
    years = client.get("/api/v1/school-years", headers=d).json()["items"]
    assert {y["label"]: y["is_current"] for y in years} == {"2027-2028": True, "2026-2027": False}
    before = client.get(f"/api/v1/school-years/{first['id']}", headers=d)
    assert before.headers["etag"] == '"school-year-2"'  # no longer current: a change


def test_events_fall_inside_their_teams_year_and_windows(client, team, world, auth):
    a = auth(world.teacher_a)
    # Before the district records the year, nothing binds the calendar.
    early = schedule(client, auth, world.teacher_a, team, "other", "2026-07-01T15:00:00Z",
                     "2026-07-01T16:00:00Z")  # fmt: skip
    assert early.status_code == 201
    record(client, auth, world.district_admin)
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    r = schedule(client, auth, world.teacher_a, team, "other", "2027-08-02T15:00:00Z",
                 "2027-08-02T16:00:00Z")  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0] == {
        "field": "body.starts_at",
        "message": (
            "The event must fall within the school year 2026-2027 (2026-08-01 to 2027-07-31)"
        ),
        "type": "outside_school_year",
    }
    people = {"observer_id": str(world.teacher_a.id), "observed_id": str(world.teacher_a2.id)}
    r = schedule(client, auth, world.teacher_a, team, "observation", "2026-08-20T15:00:00Z",
                 "2026-08-20T16:00:00Z", **people)  # fmt: skip
    assert r.json()["errors"][0]["type"] == "outside_observation_window"
    r = schedule(client, auth, world.admin_a, team, "year_end_meeting", "2027-03-01T15:00:00Z",
                 "2027-03-01T16:00:00Z")  # fmt: skip
    assert r.json()["errors"][0]["type"] == "outside_year_end_window"
    # The last day counts in the school's time zone (Chicago): 8 pm on 31 July is still July.
    late = schedule(client, auth, world.teacher_a, team, "other", "2027-08-01T01:00:00Z",
                    "2027-08-01T01:30:00Z")  # fmt: skip
    assert late.status_code == 201, late.text
    inside = schedule(client, auth, world.teacher_a, team, "observation", "2026-12-01T15:00:00Z",
                      "2026-12-01T16:00:00Z", **people)  # fmt: skip
    assert inside.status_code == 201
    moved = client.patch(
        f"/api/v1/events/{inside.json()['id']}",
        headers={**a, "If-Match": "*"},
        json={"starts_at": "2027-06-15T15:00:00Z", "ends_at": "2027-06-15T16:00:00Z"},
    )
    assert moved.status_code == 422
    assert moved.json()["errors"][0]["type"] == "outside_observation_window"


def test_progress_says_what_is_due_and_overdue(client, world, auth, factory):
    record(client, auth, world.district_admin)
    team = form_team(client, auth, world.teacher_a, world.teacher_a2)
    url = f"/api/v1/teams/{team['id']}/progress"
    deadlines = client.get(url, headers=auth(world.admin_a)).json()["deadlines"]
    # Today is past 15 October 2026 with the plan a draft; May and June are ahead.
    assert [(d["code"], d["due_on"], d["state"]) for d in deadlines] == [
        ("plan_due", "2026-10-15", "overdue"),
        ("observations_due", "2027-05-31", "upcoming"),
        ("year_end_meeting_due", "2027-06-30", "upcoming"),
    ]
    report = client.get("/api/v1/reports/year-end", headers=auth(world.admin_a)).json()
    assert [r["deadlines_overdue"] for r in report["items"]] == [["plan_due"]]
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    deadlines = client.get(url, headers=auth(world.teacher_a)).json()["deadlines"]
    assert deadlines[0]["state"] == "met"
