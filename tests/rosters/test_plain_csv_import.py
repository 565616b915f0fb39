import pytest
from sqlmodel import Session, select

from app.users.models import SchoolMembership, User
from tests.rosters.conftest import upload, users

CSV = (
    "Email,First Name,Last Name,Role,School,Staff ID\r\n"
    "ana.new@example.org,Ana,New,teacher,Alpha School,0042\r\n"
    '"bo@example.org","Bo, Jr.","O""Neil",Principal,Alpha School;Beta School,\r\n'
    "\r\n"
    "cy@example.org , Cy ,Young,teacher,alpha school,0043"
)

HEADER = b"email,given name,family name,role,school\n"


def test_import_creates_people_from_a_messy_spreadsheet(client, world, auth, sync_engine):
    content = ("\ufeff" + CSV).encode()
    r = upload(client, auth(world.district_admin), content)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["created"], body["updated"], body["unchanged"], body["skipped"]) == (3, 0, 0, 0)
    got = users(sync_engine)
    assert got["bo@example.org"].given_name == "Bo, Jr."
    assert got["bo@example.org"].family_name == 'O"Neil'
    assert got["bo@example.org"].role == "school_admin"
    assert got["ana.new@example.org"].sourced_id == "0042"  # leading zeros kept
    assert got["cy@example.org"].given_name == "Cy"
    with Session(sync_engine) as s:
        bo_schools = s.exec(
            select(SchoolMembership.school_id).where(
                SchoolMembership.user_id == got["bo@example.org"].id
            )
        ).all()
    assert set(bo_schools) == {world.school_a.id, world.school_b.id}
    # re-running the same file changes nothing
    again = upload(client, auth(world.district_admin), content).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)


def test_updates_are_matched_by_roster_id_then_email(client, world, auth, sync_engine):
    upload(client, auth(world.district_admin), CSV.encode())
    changed = CSV.replace(
        "ana.new@example.org,Ana,New", "ana.renamed@example.org,Anna,New"
    ).replace(
        "cy@example.org , Cy ,Young,teacher,alpha school",
        "cy@example.org,Cy,Young,teacher,Beta School",
    )
    r = upload(client, auth(world.district_admin), changed.encode()).json()
    assert (r["created"], r["updated"], r["unchanged"]) == (0, 2, 1)
    rows = {x["email"]: x for x in r["rows"]}
    assert rows["ana.renamed@example.org"]["changed_fields"] == ["email", "given_name"]
    assert rows["cy@example.org"]["changed_fields"] == ["school_ids"]
    assert "ana.new@example.org" not in users(sync_engine)


def test_dry_run_reports_and_writes_nothing(client, world, auth, sync_engine):
    before = len(users(sync_engine))
    r = upload(client, auth(world.district_admin), CSV.encode(), dry_run=True)
    assert r.status_code == 201
    assert r.json()["dry_run"] is True
    assert r.json()["created"] == 3
    assert len(users(sync_engine)) == before
    log = client.get("/api/v1/roster-imports", headers=auth(world.district_admin)).json()
    assert log["items"][0]["dry_run"] is True
    assert log["items"][0]["succeeded"] is True


@pytest.mark.parametrize(
    ("bad_row", "column", "kind"),
    [
        ("x@example.org,,Young,teacher,Alpha School,", "given_name", "missing"),
        ("not-an-email,Al,Young,teacher,Alpha School,", "email", "invalid"),
        ("x@example.org,Al,Young,janitor,Alpha School,", "role", "unknown_role"),
        ("x@example.org,Al,Young,teacher,Atlantis High,", "school", "unknown_school"),
        ("ana.new@example.org,Al,Young,teacher,Alpha School,", "email", "duplicate"),
        ("x@example.org,Al,Young,teacher,Alpha School,0042", "sourced_id", "duplicate"),
        ("x@example.org," + "A" * 101 + ",Young,teacher,Alpha School,", "given_name", "too_long"),
    ],
)
def test_any_row_error_rejects_the_whole_file(
    client, world, auth, sync_engine, bad_row, column, kind
):
    before = set(users(sync_engine))
    content = (CSV + "\r\n" + bad_row).encode()
    r = upload(client, auth(world.district_admin), content)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert errors == [{"field": f"row 6.{column}", "message": errors[0]["message"], "type": kind}]
    assert set(users(sync_engine)) == before  # nothing written
    log = client.get("/api/v1/roster-imports", headers=auth(world.district_admin)).json()["items"][
        0
    ]
    assert log["succeeded"] is False
    assert log["errors"][0]["field"] == f"row 6.{column}"


def test_files_that_are_not_utf8_or_lack_columns_are_refused(client, world, auth):
    h = auth(world.district_admin)
    r = upload(
        client,
        h,
        "email,first name,last name,role\nzoe@example.org,Zoë,Ü,teacher\n".encode("cp1252"),
    )
    assert r.status_code == 422
    assert "UTF-8" in r.json()["detail"]
    r = upload(client, h, b"email,name\nx@example.org,X\n")
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {
        "header.given_name",
        "header.family_name",
        "header.role",
    }
    assert upload(client, h, b"").status_code == 422


def test_json_import(client, world, auth, sync_engine):
    body = {
        "people": [
            {
                "email": "Json.Person@example.org",
                "given_name": "Jay",
                "family_name": "Son",
                "role": "teacher",
                "school": "Beta School",
            }
        ],
        "dry_run": False,
    }
    r = client.post("/api/v1/roster-imports/json", headers=auth(world.district_admin), json=body)
    assert r.status_code == 201
    assert r.json()["created"] == 1
    assert users(sync_engine)["json.person@example.org"].family_name == "Son"
    bad = client.post(
        "/api/v1/roster-imports/json",
        headers=auth(world.district_admin),
        json={"people": [{"email": "x@example.org"}]},
    )
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 403),
        ("school_admin", 201),
        ("other_school_admin", 422),
        ("district_admin", 201),
        ("read_key", 403),
        ("roster_key", 201),
    ],
)
def test_import_by_caller(client, world, auth, sync_engine, caller, status):
    content = HEADER + b"new.t@example.org,New,Teacher,teacher,Alpha School\n"
    r = upload(client, auth(world.caller(caller)), content)
    assert r.status_code == status
    assert ("new.t@example.org" in users(sync_engine)) == (status == 201)


def test_school_admins_cannot_import_district_admins(client, world, auth):
    content = HEADER + b"boss@example.org,B,Oss,district_admin,Alpha School\n"
    r = upload(client, auth(world.admin_a), content)
    assert r.status_code == 422
    assert r.json()["errors"][0]["type"] == "forbidden"


def test_import_log_visibility(client, world, auth):
    content = (
        b"email,given name,family name,role,school\nlog@example.org,L,Og,teacher,Alpha School\n"
    )
    r = upload(client, auth(world.admin_a), content)
    import_id = r.json()["id"]
    assert (
        client.get(
            f"/api/v1/roster-imports/{import_id}", headers=auth(world.district_admin)
        ).status_code
        == 200
    )
    assert (
        client.get(f"/api/v1/roster-imports/{import_id}", headers=auth(world.admin_a)).json()[
            "counts"
        ]["created"]
        == 1
    )
    assert (
        client.get(f"/api/v1/roster-imports/{import_id}", headers=auth(world.admin_b)).status_code
        == 404
    )
    assert client.get("/api/v1/roster-imports", headers=auth(world.teacher_a)).status_code == 403


def test_memberships_move_in_one_import(client, world, auth, sync_engine):
    h = auth(world.district_admin)
    people = [f"p{i}@example.org,P,{i},teacher," for i in range(3)]
    upload(
        client,
        h,
        (HEADER.decode() + "\n".join(p + "Alpha School;Beta School" for p in people)).encode(),
    )
    r = upload(
        client, h, (HEADER.decode() + "\n".join(p + "Beta School" for p in people)).encode()
    ).json()
    assert (r["updated"], r["created"]) == (3, 0)
    with Session(sync_engine) as s:
        ids = [u.id for u in s.exec(select(User).where(User.email.like("p%@example.org"))).all()]
        schools = s.exec(
            select(SchoolMembership.school_id).where(SchoolMembership.user_id.in_(ids))
        ).all()
    assert sorted(map(str, schools)) == [str(world.school_b.id)] * 3


def test_large_rosters_match_people_in_one_pass_over_the_table(
    client, world, auth, sync_engine, monkeypatch
):
    from app.rosters import planning

    monkeypatch.setattr(planning, "FULL_SCAN", 0)  # take the district-sized path
    h = auth(world.district_admin)
    assert upload(client, h, CSV.encode()).json()["created"] == 3
    changed = CSV.replace("cy@example.org , Cy ,Young,teacher,alpha school",
                          "cy@example.org,Cy,Young,teacher,Beta School")  # fmt: skip
    r = upload(client, h, changed.encode()).json()
    assert (r["created"], r["updated"], r["unchanged"]) == (0, 1, 2)
    assert {x["email"]: x["changed_fields"] for x in r["rows"]}["cy@example.org"] == ["school_ids"]


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 403),
        ("other_teacher", 403),
        ("school_admin", 201),
        ("other_school_admin", 422),
        ("district_admin", 201),
        ("read_key", 403),
        ("roster_key", 201),
    ],
)
def test_json_import_by_caller(client, world, auth, sync_engine, caller, status):
    person = {"email": "json.t@example.org", "given_name": "J", "family_name": "T",
              "role": "teacher", "school": "Alpha School"}  # fmt: skip
    r = client.post(
        "/api/v1/roster-imports/json", headers=auth(world.caller(caller)), json={"people": [person]}
    )
    assert r.status_code == status
    assert ("json.t@example.org" in users(sync_engine)) == (status == 201)
