"""`peercoach import-roster`: what cron jobs and operators see."""

import json

from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import cli
from app.mail.models import OutboxMessage
from tests.rosters.conftest import users
from tests.rosters.test_oneroster import MANIFEST_11, ORGS, USERS_11

runner = CliRunner()
PLAIN = "email,given name,family name,role,school\ncron@example.org,Cron,Job,teacher,Alpha School\n"


def test_cli_imports_a_plain_csv_with_json_output(cli_env, tmp_path, world, sync_engine):
    good = tmp_path / "staff.csv"
    good.write_text(PLAIN)
    dry = runner.invoke(cli, ["import-roster", str(good), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    out = json.loads(dry.output)
    assert {k: out[k] for k in ("created", "updated", "unchanged", "deactivated", "skipped")} == {
        "created": 1, "updated": 0, "unchanged": 0, "deactivated": 0, "skipped": 0,
    }  # fmt: skip
    assert out["ok"] is True
    assert out["errors"] == []
    assert out["import_id"]
    assert "cron@example.org" not in users(sync_engine)
    real = runner.invoke(cli, ["import-roster", str(good)])
    assert real.exit_code == 0, real.output
    assert "created" in real.output
    assert "changes saved" in real.output
    again = json.loads(runner.invoke(cli, ["import-roster", str(good), "--json"]).output)
    assert again["unchanged"] == 1
    assert again["created"] == 0


def test_cli_reports_rejections_with_exit_code_1(cli_env, tmp_path, world):
    bad = tmp_path / "bad.csv"
    bad.write_text("email,given name,family name,role,school\nnope,X,Y,teacher,Nowhere\n")
    r = runner.invoke(cli, ["import-roster", str(bad)])
    assert r.exit_code == 1
    assert "row 2.email" in r.output
    assert "rejected" in r.output
    out = json.loads(runner.invoke(cli, ["import-roster", str(bad), "--json"]).output)
    assert out["ok"] is False
    assert {e["field"] for e in out["errors"]} == {
        "row 2.email",
        "row 2.school",
    }


def test_cli_reads_a_folder_of_oneroster_files_and_syncs(cli_env, tmp_path, world, sync_engine):
    export = tmp_path / "export"
    export.mkdir()
    (export / "manifest.csv").write_text(MANIFEST_11)
    (export / "orgs.csv").write_text(ORGS)
    (export / "users.csv").write_text(USERS_11.replace(",ohare,", ",olu.hare@example.org,"))
    r = runner.invoke(
        cli, ["import-roster", str(export), "--format", "oneroster", "--sync", "--json"]
    )
    out = json.loads(r.output)
    # Alpha School's three staff are not in the export: far more than 20 % would go
    assert r.exit_code == 1
    assert out["errors"][0]["type"] == "sync_guard"
    r = runner.invoke(cli, ["import-roster", str(export), "--sync", "--force", "--json"])
    out = json.loads(r.output)
    assert r.exit_code == 0, r.output
    assert (out["created"], out["deactivated"], out["skipped"]) == (3, 3, 3)
    assert (out["schools_created"], out["schools_updated"]) == (1, 1)
    assert users(sync_engine)[world.teacher_a.email].is_active is False


def test_cli_refuses_bad_arguments_with_exit_code_2(cli_env, tmp_path):
    good = tmp_path / "staff.csv"
    good.write_text(PLAIN)
    r = runner.invoke(cli, ["import-roster", str(good), "--format", "excel"])
    assert r.exit_code == 2
    assert "--format" in r.output
    assert runner.invoke(cli, ["import-roster", str(tmp_path / "missing.csv")]).exit_code == 2


def test_cli_invites_the_people_it_creates(cli_env, tmp_path, world, sync_engine):
    staff = tmp_path / "staff.csv"
    staff.write_text(PLAIN.replace("cron@", "cron.invited@"))
    out = json.loads(
        runner.invoke(cli, ["import-roster", str(staff), "--invite-new", "--json"]).output
    )
    assert (out["created"], out["invited"]) == (1, 1)
    with sync_engine.connect() as conn:
        queued = conn.execute(
            select(OutboxMessage.kind).where(OutboxMessage.to_address == "cron.invited@example.org")
        ).all()
    assert [k for (k,) in queued] == ["invitation"]
    assert users(sync_engine)["cron.invited@example.org"].invited_at is not None
