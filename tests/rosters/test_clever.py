"""Clever's SFTP files: schools.csv, teachers.csv and staff.csv."""

from tests.rosters.conftest import counts, school_by_name, schools_of, upload, users, zipped

SCHOOLS = (
    "School_id,School_name,School_number,State_id,Low_grade,High_grade,Principal,Principal_email\n"
    "sch-a,Alpha School,0101,ST-1,Kindergarten,5,Pat Grant,pat.grant@example.org\n"
    "sch-d,Delta Elementary,0104,ST-4,1,5,,\n"
)
TEACHERS = (
    "School_id,Teacher_id,Teacher_number,State_teacher_id,Teacher_email,First_name,Middle_name,"
    "Last_name,Title,Username,Password\n"
    "sch-a,t-001,0001,,kim.ng@example.org,Kim,,Ng,Ms.,kng,\n"
    "sch-d,t-001,0001,,kim.ng@example.org,Kim,,Ng,Ms.,kng,\n"  # the same person, second school
    'sch-d,t-002,0002,,"lou.diaz@example.org",Lou,"J, Jr.",Diaz,,ldiaz,\n'
)
STAFF = (
    "School_id,Staff_id,Staff_email,First_name,Last_name,Department,Title,Username,Password,Role\n"
    "sch-a,st-1,pat.grant@example.org,Pat,Grant,Office,Principal,pgrant,,School Admin\n"
    "sch-d,st-2,cal.moss@example.org,Cal,Moss,Counseling,Counselor,cmoss,,\n"
    "sch-d,st-3,dee.ray@example.org,Dee,Ray,Office,Assistant Principal,dray,,\n"
)


def test_clever_files_import_teachers_and_administrators(client, world, auth, sync_engine):
    files = {"schools.csv": SCHOOLS, "teachers.csv": TEACHERS, "staff.csv": STAFF}
    r = upload(client, auth(world.district_admin), zipped(files), "clever.zip")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["format"] == "clever"
    assert counts(body) == (4, 0, 0, 0, 1)  # the counsellor is skipped
    assert (body["schools_created"], body["schools_updated"]) == (1, 1)
    got = users(sync_engine)
    assert schools_of(sync_engine, "kim.ng@example.org") == {"Alpha School", "Delta Elementary"}
    assert got["kim.ng@example.org"].sourced_id == "t-001"
    assert got["pat.grant@example.org"].role == "school_admin"  # by Role
    assert got["dee.ray@example.org"].role == "school_admin"  # by Title
    assert "cal.moss@example.org" not in got
    assert school_by_name(sync_engine, "Delta Elementary").sourced_id == "sch-d"
    # loose files work too, and nothing changes the second time
    again = upload(client, auth(world.district_admin), {k: v.encode() for k, v in files.items()})
    assert counts(again.json()) == (0, 0, 4, 0, 1)


def test_rows_of_one_person_must_agree(client, world, auth, sync_engine):
    teachers = TEACHERS.replace("sch-d,t-001,0001,,kim.ng@example.org,Kim", "sch-d,t-001,0001,,"
                                "kim.other@example.org,Kim")  # fmt: skip
    r = upload(client, auth(world.district_admin), {"schools.csv": SCHOOLS.encode(),
                                                    "teachers.csv": teachers.encode()})  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "field": "teachers.csv row 3.Teacher_email",
            "message": "differs from teachers.csv row 2 (same Teacher_id)",
            "type": "conflict",
        }
    ]
    assert "kim.ng@example.org" not in users(sync_engine)


def test_a_lone_teachers_file_uses_known_schools(client, world, auth, sync_engine):
    teachers = TEACHERS.replace("sch-a", "Alpha School").replace("sch-d", "Beta School")
    r = upload(client, auth(world.district_admin), teachers.encode(), "export.csv")
    assert r.status_code == 201
    assert r.json()["format"] == "clever"
    assert schools_of(sync_engine, "kim.ng@example.org") == {"Alpha School", "Beta School"}


def test_clever_headers_are_checked(client, world, auth):
    r = upload(client, auth(world.district_admin), {
        "schools.csv": SCHOOLS.encode(),
        "teachers.csv": TEACHERS.replace("Teacher_email", "Email").encode(),
    })  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "teachers.csv header"
    assert "Teacher_email" in r.json()["detail"]
