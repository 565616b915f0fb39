"""The peercoach command and the demo data."""

import asyncio
import json

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.config import get_settings
from app.demo.data import load

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch, database_url, client):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ENVIRONMENT", "development")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_demo_data_has_a_team_at_each_stage_and_loads_once(client, settings, auth, sync_engine):
    assert asyncio.run(load(settings)) == 11
    assert asyncio.run(load(settings)) == 0
    r = client.post(
        "/api/v1/auth/token",
        data={"username": "district.admin@example.org", "password": "peercoach-demo"},
    )
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    listed = client.get("/api/v1/teams", headers=h).json()["items"]
    assert sorted(t["plan_status"] for t in listed) == [
        "approved",
        "completed",
        "draft",
        "submitted",
    ]
    done = next(t for t in listed if t["plan_status"] == "completed")
    assert client.get(f"/api/v1/teams/{done['id']}/progress", headers=h).json()["complete"] is True
    # Each state of the cycle shows: a growth record, a returned plan, a comment, held
    # events, coverage needing review.
    events = client.get(f"/api/v1/events?team_id={done['id']}", headers=h).json()["items"]
    meeting = next(e for e in events if e["kind"] == "year_end_meeting")
    assert meeting["status"] == "held"
    growth = client.get(f"/api/v1/events/{meeting['id']}/growth-record", headers=h)
    assert growth.status_code == 200
    review = next(t for t in listed if t["plan_status"] == "submitted")
    moves = client.get(f"/api/v1/teams/{review['id']}/plan/transitions", headers=h).json()
    assert "returned" in [m["to_status"] for m in moves["items"]]
    posts = client.get("/api/v1/reflections", headers=h).json()["items"]
    assert any(p["comment_count"] == 1 for p in posts)
    coverage = client.get("/api/v1/coverage-requests", headers=h).json()["items"]
    assert sorted(c["status"] for c in coverage) == ["needs_review", "pending"]
    # A pending team invitation, the current school year with its dates, a learning form.
    draft = next(t for t in listed if t["plan_status"] == "draft")
    assert [m["given_name"] for m in draft["invited"]] == ["Carla"]
    years = client.get("/api/v1/school-years", headers=h).json()["items"]
    assert [y["is_current"] for y in years] == [True]
    progress = client.get(f"/api/v1/teams/{draft['id']}/progress", headers=h).json()
    assert progress["deadlines"][0]["state"] == "upcoming"  # the plan is due in two weeks
    erin = client.post(
        "/api/v1/auth/token",
        data={"username": "erin.evans@example.org", "password": "peercoach-demo"},
    ).json()["access_token"]
    forms = client.get("/api/v1/me/learning-forms", headers={"Authorization": f"Bearer {erin}"})
    assert forms.json()["total"] == 1


def test_demo_data_is_refused_outside_development(settings):
    from app.demo.data import DemoRefused

    prod = settings.model_copy(update={"environment": "production"})
    with pytest.raises(DemoRefused):
        asyncio.run(load(prod))


def test_cli_migrate_create_user_and_errors(cli_env, client, sync_engine):
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    ok = runner.invoke(
        cli,
        [
            "create-user",
            "ops@example.org",
            "Ops",
            "Admin",
            "--role",
            "district_admin",
            "--password-stdin",
        ],
        input="a-long-password\n",
    )
    assert ok.exit_code == 0, ok.output
    assert "created district_admin ops@example.org" in ok.output
    r = client.post(
        "/api/v1/auth/token", data={"username": "ops@example.org", "password": "a-long-password"}
    )
    assert r.status_code == 200
    dup = runner.invoke(
        cli,
        ["create-user", "OPS@example.org", "Ops", "Admin", "--role", "teacher", "--password-stdin"],
        input="a-long-password\n",
    )
    assert dup.exit_code == 1
    assert "already in use" in dup.output
    bad = runner.invoke(
        cli,
        ["create-user", "x@example.org", "X", "Y", "--role", "boss", "--password-stdin"],
        input="short\n",
    )
    assert bad.exit_code == 1
    assert "role" in bad.output
    assert "password" in bad.output
    nowhere = runner.invoke(
        cli,
        [
            "create-user",
            "y@example.org",
            "Y",
            "Z",
            "--role",
            "teacher",
            "--school",
            "Atlantis",
            "--password-stdin",
        ],
        input="a-long-password\n",
    )
    assert nowhere.exit_code == 1
    assert "Atlantis" in nowhere.output
    assert runner.invoke(cli, ["no-such-command"]).exit_code == 2


def test_cli_openapi_writes_the_document(tmp_path):
    out = tmp_path / "doc.json"
    r = runner.invoke(cli, ["openapi", "--output", str(out)])
    assert r.exit_code == 0
    assert json.loads(out.read_text())["info"]["title"] == "peercoach"


def test_cli_refuses_bad_settings(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    get_settings.cache_clear()
    try:
        r = runner.invoke(cli, ["migrate"])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 2
    assert "SECRET_KEY" in r.output


@pytest.mark.parametrize(
    "args",
    [
        ["import-roster", "ROSTER"],
        ["create-user", "a@example.org", "A", "B", "--role", "teacher", "--password-stdin"],
        ["demo-data"],
    ],
)
def test_commands_on_a_database_that_is_not_migrated_say_so(
    monkeypatch, tmp_path, scratch_database, args
):
    """One sentence and exit code 2, not a 200-line traceback."""
    roster = tmp_path / "staff.csv"
    roster.write_text("email,given name,family name,role,school\na@x.org,A,B,teacher,S\n")
    monkeypatch.setenv("DATABASE_URL", scratch_database)
    monkeypatch.setenv("ENVIRONMENT", "development")
    get_settings.cache_clear()
    try:
        args = [str(roster) if a == "ROSTER" else a for a in args]
        result = runner.invoke(cli, args, input="a-long-enough-password\n")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "not migrated: run `peercoach migrate` first" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def scratch_database(tmp_path):
    from tests.conftest import make_database_url
    from tests.dbsetup import drop_postgres_database

    url = make_database_url(tmp_path, "peercoach_unmigrated")
    yield url
    if url.startswith("postgresql"):
        drop_postgres_database(url)
