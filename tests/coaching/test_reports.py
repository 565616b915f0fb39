import csv
import io

import pytest

from app.users.models import Role
from tests.coaching.test_progress import complete_cycle
from tests.teams import form_team


@pytest.mark.parametrize(
    ("caller", "status", "rows"),
    [
        ("anonymous", 401, None),
        ("member", 403, None),
        ("school_admin", 200, 1),
        ("other_school_admin", 200, 0),
        ("district_admin", 200, 1),
        ("read_key", 403, None),
    ],
)
def test_year_end_report_by_caller(client, team, as_caller, caller, status, rows):
    r = client.get("/api/v1/reports/year-end", headers=as_caller(caller))
    assert r.status_code == status
    if rows is not None:
        assert r.json()["total"] == rows
    csv_r = client.get("/api/v1/reports/year-end.csv", headers=as_caller(caller))
    assert csv_r.status_code == status


def test_report_rows_carry_statuses_not_content(client, team, world, auth):
    complete_cycle(client, team, world, auth)
    obs = client.post(  # coverage is for an observation ahead (the cycle's are held)
        "/api/v1/events",
        headers=auth(world.teacher_a),
        json={"team_id": team["id"], "kind": "observation",
              "starts_at": "2027-03-01T15:00:00Z", "ends_at": "2027-03-01T16:00:00Z",
              "observer_id": str(world.teacher_a.id), "observed_id": str(world.teacher_a2.id)},
    ).json()  # fmt: skip
    cov = client.post(
        "/api/v1/coverage-requests", headers=auth(world.teacher_a), json={"event_id": obs["id"]}
    ).json()
    client.post(
        f"/api/v1/coverage-requests/{cov['id']}/arrange",
        headers=auth(world.admin_a),
        json={"covered_by": "Sub"},
    )
    r = client.get("/api/v1/reports/year-end?school_year=2026-2027", headers=auth(world.admin_a))
    row = r.json()["items"][0]
    assert row["cycle_complete"] is True
    assert row["steps_missing"] == 0
    assert row["missing_steps"] == []
    assert row["plan_status"] == "approved"
    assert row["year_end_meeting"] == "held"
    assert row["observations_held"] == 4
    assert row["observation_records"] == 4
    assert row["coverage_arranged"] == 1
    assert row["coverage_pending"] == 0
    assert row["schools"] == ["Alpha School"]
    assert "Confidential affirmation" not in r.text
    assert (
        client.get(
            "/api/v1/reports/year-end?school_year=2025-2026", headers=auth(world.admin_a)
        ).json()["total"]
        == 0
    )
    assert (
        client.get(
            f"/api/v1/reports/year-end?school_id={world.school_b.id}",
            headers=auth(world.district_admin),
        ).json()["total"]
        == 0
    )


def test_csv_escapes_formulas(client, world, auth):
    form_team(
        client,
        auth,
        world.teacher_a,
        world.teacher_a2,
        name='=HYPERLINK("http://evil")',
        focus_area_other="+1 improvement",
    )
    out = client.get(
        "/api/v1/reports/year-end.csv?school_year=2026-2027", headers=auth(world.admin_a)
    )
    assert out.headers["content-type"].startswith("text/csv")
    assert out.headers["content-disposition"] == 'attachment; filename="year-end-2026-2027.csv"'
    rows = list(csv.DictReader(io.StringIO(out.text)))
    assert rows[0]["team_name"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["focus_area"] == "'+1 improvement"
    assert rows[0]["members"].count(";") == 1


def test_school_year_filter_is_validated(client, world, auth):
    h = auth(world.admin_a)
    for path in ("/api/v1/reports/year-end", "/api/v1/reports/year-end.csv", "/api/v1/teams"):
        r = client.get(f"{path}?school_year=%C3%A9t%C3%A9%0D%0AX-Injected:1", headers=h)
        assert r.status_code == 422
        assert "x-injected" not in r.headers


def test_a_row_says_which_steps_are_missing(client, team, world, auth):
    r = client.get("/api/v1/reports/year-end", headers=auth(world.admin_a))
    row = r.json()["items"][0]
    assert row["missing_steps"][0] == "plan_approved"
    assert row["steps_missing"] == len(row["missing_steps"])
    csv = client.get("/api/v1/reports/year-end.csv", headers=auth(world.admin_a)).text
    header, first = csv.splitlines()[:2]
    assert "missing_steps" in header.split(",")
    assert "plan_approved; pre_conference_held" in first


def test_a_school_filter_never_widens_an_administrators_reach(client, world, auth, factory):
    """At one of their schools an administrator sees the teams with a member there; at any
    other school only those that also have a member at one of theirs (report, CSV and the
    list of teams alike)."""
    b2 = factory.user(Role.teacher, [world.school_b])
    at_both = factory.user(Role.teacher, [world.school_a, world.school_b])
    form_team(client, auth, world.teacher_a, world.teacher_a2, name="Alpha only")
    form_team(client, auth, world.teacher_b, b2, name="Beta only")
    form_team(client, auth, at_both, world.teacher_b, name="Both")
    admin = auth(world.admin_a)

    def names(path: str, school) -> list[str]:
        r = client.get(f"{path}?school_id={school.id}", headers=admin)
        assert r.status_code == 200, r.text
        if path.endswith(".csv"):
            return sorted(row["team_name"] for row in csv.DictReader(io.StringIO(r.text)))
        key = "team_name" if "reports" in path else "name"
        return sorted(item[key] for item in r.json()["items"])

    for path in ("/api/v1/reports/year-end", "/api/v1/reports/year-end.csv", "/api/v1/teams"):
        assert names(path, world.school_a) == ["Alpha only", "Both"], path
        assert names(path, world.school_b) == ["Both"], path
