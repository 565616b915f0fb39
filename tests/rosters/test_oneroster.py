"""OneRoster 1.1 and 1.2 CSV, shaped as the 1EdTech CSV binding defines the files."""

import pytest

from tests.rosters.conftest import counts, school_by_name, schools_of, upload, users, zipped

MANIFEST_11 = (
    "propertyName,value\r\n"
    "manifest.version,1.0\r\n"
    "oneroster.version,1.1\r\n"
    "file.academicSessions,absent\r\n"
    "file.categories,absent\r\n"
    "file.classes,absent\r\n"
    "file.classResources,absent\r\n"
    "file.courses,absent\r\n"
    "file.courseResources,absent\r\n"
    "file.demographics,absent\r\n"
    "file.enrollments,absent\r\n"
    "file.lineItems,absent\r\n"
    "file.orgs,bulk\r\n"
    "file.resources,absent\r\n"
    "file.results,absent\r\n"
    "file.users,bulk\r\n"
    "source.systemName,Example SIS\r\n"
    "source.systemCode,\r\n"
)
ORGS = (
    "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\r\n"
    "dist-1,,,Example Unified,district,0001,\r\n"
    "org-alpha,,,Alpha School,school,0101,dist-1\r\n"
    "org-gamma,,,Gamma Middle School,school,0102,dist-1\r\n"
    "dept-math,,,Mathematics,department,,org-gamma\r\n"
)
USERS_11_HEADER = (
    "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
    "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
)
USERS_11 = (
    USERS_11_HEADER + ",metadata.district.building\r\n"
    '000123,,,true,"org-alpha,org-gamma",teacher,rlee,{LDAP:rlee},Rosa,Lee,,000123,'
    "rosa.lee@example.org,,,,,,B1\r\n"
    "000124,,,TRUE,org-gamma,administrator,pgrant,,Pat,Grant,,000124,pat.grant@example.org,,,,,,\r\n"
    "000125,,,FALSE,dept-math,teacher,ohare,,Olu,Hare,,,,,,,,,\r\n"
    "s-9001,,,true,org-gamma,student,kid1,,Kid,One,,9001,kid1@students.example.org,,,,07,,\r\n"
    "g-77,,,true,org-gamma,guardian,mom,,Mom,One,,,mom@example.net,,,s-9001,,,\r\n"
    "a-5,,,true,org-gamma,aide,aide5,,Ann,Aide,,,ann@example.org,,,,,,\r\n"
)


def oneroster_11_zip(users_csv: str = USERS_11, manifest: str = MANIFEST_11) -> bytes:
    return zipped({"manifest.csv": manifest, "orgs.csv": ORGS, "users.csv": users_csv})


def test_oneroster_11_zip_imports_staff_and_schools(client, world, auth, sync_engine, settings):
    users_csv = USERS_11.replace(",ohare,", ",olu.hare@example.org,")
    r = upload(client, auth(world.district_admin), oneroster_11_zip(users_csv), "export.zip")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["format"] == "oneroster-1.1"
    # three staff; a student, a guardian and an aide are skipped and counted
    assert counts(body) == (3, 0, 0, 0, 3)
    # Alpha School matched by name (and given its roster id); Gamma created
    assert (body["schools_created"], body["schools_updated"]) == (1, 1)
    got = users(sync_engine)
    rosa = got["rosa.lee@example.org"]
    assert rosa.sourced_id == "000123"
    assert rosa.role == "teacher"
    assert schools_of(sync_engine, "rosa.lee@example.org") == {
        "Alpha School",
        "Gamma Middle School",
    }
    assert got["pat.grant@example.org"].role == "school_admin"
    assert got["olu.hare@example.org"].is_active is False  # enabledUser FALSE
    assert schools_of(sync_engine, "olu.hare@example.org") == set()  # a department, not a school
    assert "kid1@students.example.org" not in got
    assert "mom@example.net" not in got
    gamma = school_by_name(sync_engine, "Gamma Middle School")
    assert gamma.sourced_id == "org-gamma"
    assert gamma.time_zone == "America/New_York"
    assert school_by_name(sync_engine, "Alpha School").sourced_id == "org-alpha"
    # the same export again changes nothing
    again = upload(client, auth(world.district_admin), oneroster_11_zip(users_csv), "export.zip")
    assert counts(again.json()) == (0, 0, 3, 0, 3)
    assert (again.json()["schools_created"], again.json()["schools_updated"]) == (0, 0)


def test_staff_without_email_are_matched_by_username_or_rejected(client, world, auth):
    # Olu has neither an email nor an email-like username: staff sign in with their email
    r = upload(client, auth(world.district_admin), oneroster_11_zip(), "export.zip")
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "field": "users.csv row 4.email",
            "message": "required (staff sign in with their email)",
            "type": "missing",
        }
    ]
    fixed = USERS_11.replace(",ohare,", ",olu.hare@example.org,")
    assert upload(client, auth(world.district_admin), oneroster_11_zip(fixed)).status_code == 201


ROLES_HEADER = (
    "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
    "orgSourcedId,userProfileSourcedId\n"
)
USERS_12_HEADER = (
    "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,"
    "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,"
    "resourceSourcedIds,preferredGivenName,preferredMiddleName,preferredFamilyName,"
    "primaryOrgSourcedId,pronouns\n"
)


def users_12(*rows: str) -> str:
    return USERS_12_HEADER + "".join(rows)


def user_12(sid: str, email: str, given: str, family: str, primary: str, enabled="true") -> str:
    # sms, phone, agentSourcedIds, grades, password, userMasterIdentifier, resourceSourcedIds,
    # preferredGivenName, preferredMiddleName, preferredFamilyName: empty
    return (
        f"{sid},,,{enabled},{email},,{given},{family},,{sid},{email}" + "," * 11 + f"{primary},\n"
    )


def without_resource_column(users_csv: str) -> str:
    lines = []
    for line in users_csv.splitlines(keepends=True):
        cells = line.split(",")
        del cells[17]  # resourceSourcedIds
        lines.append(",".join(cells))
    return "".join(lines)


ORGS_12 = ORGS.replace("\r\n", "\n") + "org-beta,,,Beta School,school,0103,dist-1\n"
ROLES = ROLES_HEADER + (
    "r1,,,u-1,primary,teacher,2026-08-01,,org-alpha,\n"
    "r2,,,u-2,primary,teacher,,,org-alpha,\n"
    "r3,,,u-2,secondary,principal,,,org-beta,\n"
    "r4,,,u-3,primary,districtAdministrator,,,dist-1,\n"
    "r5,,,s-1,primary,student,,,org-alpha,\n"
    "r6,,,u-4,primary,counselor,,,org-beta,\n"
)
USERS_12 = users_12(
    user_12("u-1", "uma@example.org", "Uma", "One", "org-alpha"),
    user_12("u-2", "vic@example.org", "Vic", "Two", "org-alpha"),
    user_12("u-3", "wes@example.org", "Wes", "Three", "dist-1"),
    user_12("s-1", "", "Stu", "Dent", "org-alpha"),
    user_12("u-4", "cora@example.org", "Cora", "Counsel", "org-beta"),
)


def test_oneroster_12_loose_files_with_roles(client, world, auth, sync_engine):
    files = {"orgs.csv": ORGS_12, "users.csv": USERS_12, "roles.csv": ROLES}
    r = upload(client, auth(world.roster_key), {k: v.encode() for k, v in files.items()})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["format"] == "oneroster-1.2"
    assert counts(body) == (3, 0, 0, 0, 2)  # a student and a counsellor skipped
    got = users(sync_engine)
    assert got["uma@example.org"].role == "teacher"
    # the highest of a person's staff roles, at every school they hold one
    assert got["vic@example.org"].role == "school_admin"
    assert schools_of(sync_engine, "vic@example.org") == {"Alpha School", "Beta School"}
    assert got["wes@example.org"].role == "district_admin"
    assert schools_of(sync_engine, "wes@example.org") == set()
    rows = {row["email"]: row for row in body["rows"]}
    assert rows["vic@example.org"]["file"] == "users.csv"
    assert rows["vic@example.org"]["row"] == 3


def test_oneroster_12_zip_with_manifest_and_without_resource_column(client, world, auth):
    manifest = MANIFEST_11.replace("1.1", "1.2").replace(
        "file.users,bulk", "file.users,bulk\r\nfile.roles,bulk\r\nfile.userProfiles,absent"
    )
    users_csv = without_resource_column(USERS_12)
    assert "resourceSourcedIds" not in users_csv
    r = upload(
        client,
        auth(world.district_admin),
        zipped(
            {
                "manifest.csv": manifest,
                "orgs.csv": ORGS_12,
                "users.csv": users_csv,
                "roles.csv": ROLES,
            }
        ),
        "oneroster.zip",
    )
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "oneroster-1.2"
    assert r.json()["created"] == 3


@pytest.mark.parametrize(
    ("change", "field", "kind"),
    [
        (("givenName", "firstName"), "users.csv header", "header"),
        (("password", "password,nickname"), "users.csv header", "header"),
        ((",grades,", ","), "users.csv header", "header"),
    ],
)
def test_headers_are_checked_against_the_spec(client, world, auth, change, field, kind):
    users_csv = USERS_11.replace(*change, 1)
    r = upload(client, auth(world.district_admin), oneroster_11_zip(users_csv))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == field
    assert r.json()["errors"][0]["type"] == kind


@pytest.mark.parametrize(
    ("row", "field", "kind"),
    [
        ("x1,,,maybe,org-alpha,teacher,x1,,X,One,,,x1@example.org,,,,,,\r\n", "enabledUser",
         "invalid"),
        ("x1,gone,,true,org-alpha,teacher,x1,,X,One,,,x1@example.org,,,,,,\r\n", "status",
         "invalid"),
        ("x1,,,true,org-nowhere,teacher,x1,,X,One,,,x1@example.org,,,,,,\r\n", "orgSourcedIds",
         "unknown_school"),
        ("000123,,,true,org-alpha,teacher,x1,,X,One,,,x1@example.org,,,,,,\r\n", "sourcedId",
         "duplicate"),
        ("x1,,,true,org-alpha,teacher,x1,,X,One,,,rosa.lee@example.org,,,,,,\r\n", "email",
         "duplicate"),
        ("x1,,,true,org-alpha,,x1,,X,One,,,x1@example.org,,,,,,\r\n", "role", "missing"),
        ("x1,active,,true,org-alpha,teacher,x1,,X,One,,,x1@example.org,,,,,,\r\n",
         "dateLastModified", "missing"),
        ("x1,,last tuesday,true,org-alpha,teacher,x1,,X,One,,,x1@example.org,,,,,,\r\n",
         "dateLastModified", "invalid"),
    ],
)  # fmt: skip
def test_row_errors_name_file_row_and_column(client, world, auth, sync_engine, row, field, kind):
    before = set(users(sync_engine))
    users_csv = USERS_11.replace(",ohare,", ",olu.hare@example.org,") + row
    r = upload(client, auth(world.district_admin), oneroster_11_zip(users_csv))
    assert r.status_code == 422
    assert {"field": f"users.csv row 8.{field}", "type": kind} in [
        {"field": e["field"], "type": e["type"]} for e in r.json()["errors"]
    ]
    assert set(users(sync_engine)) == before
    assert school_by_name(sync_engine, "Gamma Middle School") is None  # nothing half-written


def test_manifest_must_match_the_files(client, world, auth):
    h = auth(world.district_admin)
    r = upload(client, h, zipped({"manifest.csv": MANIFEST_11, "users.csv": USERS_11}))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "orgs.csv"
    r = upload(client, h, oneroster_11_zip(manifest=MANIFEST_11.replace("1.1", "2.0")))
    assert r.status_code == 422
    assert r.json()["errors"][0]["type"] == "version"
    r = upload(client, h, oneroster_11_zip(manifest=MANIFEST_11.replace("orgs,bulk", "orgs,all")))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "manifest.csv.file.orgs"


def test_a_lone_users_file_is_recognised_by_its_header(client, world, auth, sync_engine):
    users_csv = USERS_11_HEADER + "\nt-1,,,true,sch-a,teacher,t1,,Tia,One,,,tia@example.org,,,,,\n"
    # schools not listed in the file must already be known (by roster id or name)
    r = upload(client, auth(world.district_admin), users_csv.encode(), "anything.csv")
    assert r.status_code == 422
    assert r.json()["errors"][0]["type"] == "unknown_school"
    fixed = users_csv.replace("sch-a", "Beta School")
    r = upload(client, auth(world.district_admin), fixed.encode(), "anything.csv")
    assert r.status_code == 201
    assert r.json()["format"] == "oneroster-1.1"
    assert schools_of(sync_engine, "tia@example.org") == {"Beta School"}


def test_asking_for_the_wrong_format_is_refused(client, world, auth):
    r = upload(client, auth(world.district_admin), oneroster_11_zip(), format="clever")
    assert r.status_code == 422
    assert "oneroster" in r.json()["detail"]


def test_school_admins_may_not_import_other_schools(client, world, auth, sync_engine):
    users_csv = USERS_11.replace(",ohare,", ",olu.hare@example.org,")
    r = upload(client, auth(world.admin_a), oneroster_11_zip(users_csv))
    assert r.status_code == 422
    assert {e["type"] for e in r.json()["errors"]} == {"forbidden"}
    assert "rosa.lee@example.org" not in users(sync_engine)
