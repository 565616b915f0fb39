"""What one import may cost, whatever its files hold: lines, staff, time, the size of its log
and of its answer."""

from __future__ import annotations

import io
import zipfile

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.rosters.conftest import upload

HEADER = "email,given name,family name,role,school\n"


def _client(settings, **limits) -> TestClient:
    limits.setdefault("max_body_bytes", 10 * 1024 * 1024)
    return TestClient(create_app(settings.model_copy(update=limits)))


def _zip(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


def test_a_small_zip_of_blank_lines_stops_at_the_line_limit(settings, world, auth):
    archive = _zip("staff.csv", HEADER + "\n" * 200_000)  # a few hundred bytes zipped
    assert len(archive) < 2_000
    with _client(settings, roster_max_lines=50_000) as c:
        r = upload(c, auth(world.district_admin), archive, "blank.zip")
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["type"] == "too_many_lines"
    assert "more than 50000 lines" in r.json()["detail"]


def test_reading_stops_at_the_time_limit(settings, world, auth):
    rows = "".join(f"p{i}@example.org,P,{i},teacher,Alpha School\n" for i in range(30_000))
    with _client(settings, roster_max_parse_seconds=0.001) as c:
        r = upload(c, auth(world.district_admin), (HEADER + rows).encode())
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["type"] == "too_slow"


@pytest.mark.parametrize("path", ["file", "json"])
def test_more_staff_than_an_import_takes(settings, world, auth, path):
    people = [
        {"email": f"p{i}@example.org", "given_name": "P", "family_name": str(i),
         "role": "teacher", "school": "Alpha School"}
        for i in range(11)
    ]  # fmt: skip
    with _client(settings, roster_max_people=10) as c:
        h = auth(world.district_admin)
        if path == "file":
            rows = "".join(
                f"{p['email']},P,{p['family_name']},teacher,Alpha School\n" for p in people
            )
            r = upload(c, h, (HEADER + rows).encode())
        else:
            r = c.post("/api/v1/roster-imports/json", headers=h, json={"people": people})
        assert r.status_code == 422, r.text
        if path == "file":
            assert r.json()["errors"][0]["type"] == "too_many_people"
        assert c.get("/api/v1/users?limit=200", headers=h).json()["total"] == 6  # the world only


def test_the_error_log_keeps_the_first_errors_and_counts_the_rest(client, world, auth):
    rows = "same@example.org,S,S,teacher,Alpha School\n" * 300
    h = auth(world.district_admin)
    r = upload(client, h, (HEADER + rows).encode())
    assert r.status_code == 422
    body = r.json()
    assert len(body["errors"]) == 100
    assert body["detail"] == (
        "The import was rejected: 299 problem(s) (the first 100 are listed); nothing was changed"
    )
    log = client.get("/api/v1/roster-imports", headers=h).json()["items"][0]
    assert (len(log["errors"]), log["error_count"]) == (100, 299)


@pytest.mark.parametrize("dry_run", [False, True])
def test_the_outcome_of_each_person_is_paged(client, world, auth, dry_run):
    rows = "".join(f"p{i:03d}@example.org,P,{i:03d},teacher,Alpha School\n" for i in range(120))
    h = auth(world.district_admin)
    r = upload(client, h, (HEADER + rows).encode(), dry_run=dry_run)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["created"] == 120
    assert body["rows_total"] == 120
    assert len(body["rows"]) == 50
    assert [row["row"] for row in body["rows"]] == list(range(2, 52))
    assert body["rows_next"].endswith(f"/api/v1/roster-imports/{body['id']}/rows?offset=50")
    page = client.get(f"{body['rows_next']}&limit=100", headers=h).json()
    assert page["total"] == 120
    assert [row["row"] for row in page["items"]] == list(range(52, 122))
    assert page["next"] is None
    created = client.get(
        f"/api/v1/roster-imports/{body['id']}/rows?action=created&limit=30", headers=h
    ).json()
    assert created["total"] == 120
    # The log's rows are the importer's business: a school administrator of another
    # school, or anyone else, cannot read them.
    assert (
        client.get(
            f"/api/v1/roster-imports/{body['id']}/rows", headers=auth(world.admin_b)
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/api/v1/roster-imports/{body['id']}/rows", headers=auth(world.teacher_a)
        ).status_code
        == 403
    )


def test_a_large_import_answers_with_a_small_body(settings, world, auth):
    rows = "".join(f"p{i:05d}@example.org,P,{i},teacher,Alpha School\n" for i in range(5000))
    with _client(settings) as c:
        r = upload(c, auth(world.district_admin), (HEADER + rows).encode())
    assert r.status_code == 201
    assert r.json()["rows_total"] == 5000
    assert len(r.content) < 20_000


def test_imported_staff_are_in_their_schools_directory(client, world, auth):
    """The staff directory behind /colleagues is kept by the database, also for bulk imports:
    new people, renamed people and people deactivated by a sync."""
    rows = "".join(f"d{i}@example.org,Dee,Aa{i:02d},teacher,Alpha School\n" for i in range(3))
    h = auth(world.district_admin)
    assert upload(client, h, (HEADER + rows).encode()).status_code == 201
    mine = client.get("/api/v1/colleagues?limit=5", headers=auth(world.teacher_a)).json()
    assert [i["family_name"] for i in mine["items"][:3]] == ["Aa00", "Aa01", "Aa02"]
    renamed = rows.replace("Aa01", "Zz01")
    assert upload(client, h, (HEADER + renamed).encode()).status_code == 201
    mine = client.get("/api/v1/colleagues?limit=200", headers=auth(world.teacher_a)).json()
    assert [i["family_name"] for i in mine["items"]][-1] == "Zz01"
