"""What arrives: zips, loose files, bad archives, other encodings, unknown formats."""

import io
import zipfile

import pytest

from app.core.errors import Unprocessable
from app.rosters import sources
from app.rosters.formats import RosterFormat, read
from tests.rosters.conftest import upload, zipped
from tests.rosters.test_clever import SCHOOLS, TEACHERS
from tests.rosters.test_oneroster import ORGS, USERS_11, USERS_11_HEADER, oneroster_11_zip


def test_zip_in_a_folder_with_mac_metadata_is_read(client, world, auth):
    users_csv = USERS_11.replace(",ohare,", ",olu.hare@example.org,")
    archive = zipped(
        {
            "export/orgs.csv": ORGS,
            "export/users.csv": users_csv,
            "__MACOSX/export/._users.csv": b"\x00\x05\x16\x07",
            "export/.DS_Store": b"\x00\x00",
        }
    )
    r = upload(client, auth(world.district_admin), archive, "nightly.zip")
    assert r.status_code == 201, r.text
    assert r.json()["created"] == 3


@pytest.mark.parametrize(
    ("content", "field", "kind"),
    [
        (b"PK\x03\x04not really a zip", "nightly.zip", "zip"),
        (zipped({"users.csv": USERS_11.encode("utf-16")}), "users.csv", "encoding"),
        (zipped({"readme.txt": "hello", "notes.csv": "a,b\n"}), "file", "format"),
        (zipped({"a/users.csv": USERS_11, "b/users.csv": USERS_11}), "nightly.zip", "duplicate"),
    ],
)
def test_unreadable_archives_are_refused_and_logged(client, world, auth, content, field, kind):
    h = auth(world.district_admin)
    r = upload(client, h, content, "nightly.zip")
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == field
    assert r.json()["errors"][0]["type"] == kind
    log = client.get("/api/v1/roster-imports", headers=h).json()["items"][0]
    assert log["succeeded"] is False
    assert log["errors"][0]["type"] == kind


def test_a_zip_that_unpacks_too_large_is_refused_before_reading(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("users.csv", USERS_11_HEADER + "\n" + "x" * 50_000)
    buffer.seek(0)
    with pytest.raises(Unprocessable) as caught:
        sources.from_streams([("bomb.zip", buffer)], max_unzipped=10_000)
    assert caught.value.errors[0].type == "too_large"


def test_non_utf8_rows_are_pointed_at():
    body = ("email,first name,last name,role\n" + "a@example.org,A,B,teacher\n" * 3000).encode()
    body += "zoe@example.org,Zoë,Ü,teacher\n".encode("cp1252")
    files = sources.from_streams([("staff.csv", io.BytesIO(body))], max_unzipped=1)
    with pytest.raises(Unprocessable) as caught:
        read(files, RosterFormat.auto)
    assert "not UTF-8" in caught.value.detail
    # Row 1 is the header, then 3,000 good rows: the bad one is row 3002, exactly.
    assert caught.value.errors[0].field == "staff.csv row 3002"
    assert "near row 3002" in caught.value.detail


def test_loose_clever_files_can_be_sent_together(client, world, auth):
    r = upload(
        client,
        auth(world.district_admin),
        {"schools.csv": SCHOOLS.encode(), "teachers.csv": TEACHERS.encode()},
    )
    assert r.status_code == 201
    assert r.json()["format"] == "clever"


def test_the_log_names_the_files_and_their_hash(client, world, auth):
    import hashlib

    content = oneroster_11_zip(USERS_11.replace(",ohare,", ",olu.hare@example.org,"))
    h = auth(world.district_admin)
    r = upload(client, h, content, "nightly.zip", dry_run=True)
    entry = client.get(f"/api/v1/roster-imports/{r.json()['id']}", headers=h).json()
    assert entry["filename"] == "nightly.zip"
    assert entry["format"] == "oneroster-1.1"
    assert entry["sha256"] == hashlib.sha256(content).hexdigest()
    assert entry["counts"]["created"] == 3
    assert entry["dry_run"] is True


def test_only_staff_are_kept_while_a_large_users_file_streams_past():
    """A district's users.csv is mostly students: they are counted, never held."""
    students = "".join(
        f"s{i},,,true,org-alpha,student,s{i},,S,{i},,,,,,,07,\n" for i in range(20_000)
    )
    teachers = "t1,,,true,org-alpha,teacher,t1,,T,One,,,t1@example.org,,,,,\n"
    body = (USERS_11_HEADER + "\n" + students + teachers).encode()
    files = sources.from_streams([("users.csv", io.BytesIO(body))], max_unzipped=1)
    roster = read(files, RosterFormat.auto)
    assert roster.skipped == 20_000
    assert len(roster.people) == 1


def test_an_upload_over_the_limit_is_refused_with_413(client, world, auth, settings):
    too_big = b"email,given name,family name,role,school\n" + b"x" * (settings.max_body_bytes + 1)
    r = upload(client, auth(world.district_admin), too_big)
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_damaged_zip_member_is_refused_not_a_500(client, world, auth):
    archive = bytearray(zipped({"users.csv": USERS_11 * 50}))
    start = 30 + len("users.csv")  # the member's data follows its local header
    for i in range(start + 20, start + 60):
        archive[i] ^= 0x5A
    r = upload(client, auth(world.district_admin), bytes(archive), "nightly.zip")
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["type"] == "zip"
    assert "unpacked" in r.json()["detail"]
