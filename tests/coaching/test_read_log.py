"""Teachers see who read each of their team's confidential records: every read is logged
(who, what, when), the log is the team's alone, and administrators' refused attempts read
nothing and so log nothing."""

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from app.core.db import Database, new_id, utcnow
from app.core.journal import Journal
from app.read_log.models import ConfidentialRead
from tests.teams import approve_plan


@pytest.fixture
def recorded(client, team, world, auth):
    a = auth(world.teacher_a)
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    ev = client.post(
        "/api/v1/events",
        headers=a,
        json={"team_id": team["id"], "kind": "observation",
              "starts_at": "2026-10-01T15:00:00Z", "ends_at": "2026-10-01T16:00:00Z",
              "observer_id": str(world.teacher_a.id), "observed_id": str(world.teacher_a2.id)},
    ).json()  # fmt: skip
    record = client.post(
        f"/api/v1/events/{ev['id']}/observation-record", headers=a, json={"affirmations": ["x"]}
    ).json()
    return ev, record


def log(client, team, who):
    r = client.get(f"/api/v1/teams/{team['id']}/read-log", headers=who)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_every_read_of_confidential_content_is_logged(client, team, world, auth, recorded):
    ev, record = recorded
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    assert log(client, team, a) == []  # writing is not reading
    assert (
        client.get(f"/api/v1/events/{ev['id']}/observation-record", headers=a2).status_code == 200
    )
    client.get(f"/api/v1/teams/{team['id']}/observation-records", headers=a)
    client.get(f"/api/v1/teams/{team['id']}/summary", headers=a2)
    client.get(f"/api/v1/teams/{team['id']}/summary/document", headers=a)
    client.get(f"/api/v1/teams/{team['id']}/observation-comparison", headers=a2)
    entries = log(client, team, a2)
    assert [(e["kind"], e["reader"]["id"]) for e in entries] == [
        ("observation_comparison", str(world.teacher_a2.id)),
        ("summary", str(world.teacher_a.id)),
        ("summary", str(world.teacher_a2.id)),
        ("observation_records", str(world.teacher_a.id)),
        ("observation_record", str(world.teacher_a2.id)),
    ]
    assert entries[-1]["record_id"] == record["id"]
    assert "client" not in entries[0]  # where from stays out of the team's view
    # Appended at the end of the primary key's index (`time_ordered_id`), in order of time.
    ids = [uuid.UUID(e["id"]) for e in reversed(entries)]
    assert {i.version for i in ids} == {7}
    assert [i.bytes[:6] for i in ids] == sorted(i.bytes[:6] for i in ids)


def test_time_ordered_ids_are_version_7_and_follow_the_clock(monkeypatch):
    import time as clock

    from app.core.db import time_ordered_id

    ids = [time_ordered_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert {(i.version, i.variant) for i in ids} == {(7, uuid.RFC_4122)}
    monkeypatch.setattr(clock, "time_ns", lambda: 1_700_000_000_123 * 1_000_000)
    fixed = time_ordered_id()
    assert int.from_bytes(fixed.bytes[:6], "big") == 1_700_000_000_123  # the milliseconds first
    assert fixed < ids[0]  # an earlier moment sorts first


def test_no_administrator_reads_and_so_none_is_in_the_log(client, team, world, auth, recorded):
    ev, _ = recorded
    for admin in (world.admin_a, world.district_admin):
        h = auth(admin)
        assert (
            client.get(f"/api/v1/events/{ev['id']}/observation-record", headers=h).status_code
            == 403
        )
        assert client.get(f"/api/v1/teams/{team['id']}/read-log", headers=h).status_code == 403
        # The summary an administrator reads has no records in it: not a confidential read.
        assert client.get(f"/api/v1/teams/{team['id']}/summary", headers=h).status_code == 200
    assert log(client, team, auth(world.teacher_a)) == []


def test_the_log_is_written_in_batches_without_losing_an_entry(settings, sync_engine, team, world):
    """The production setting: entries gather and are written together, and what is left is
    written when the app stops."""
    team_id = uuid.UUID(team["id"])

    async def run() -> None:
        db = Database(settings)
        writer = Journal(db.driver, 30)
        writer.start()
        for _ in range(3):
            await writer.note((ConfidentialRead, {
                "id": new_id(), "team_id": team_id, "reader_id": world.teacher_a.id,
                "kind": "summary", "record_id": None, "client": "127.0.0.1", "at": utcnow(),
            }))  # fmt: skip
        await writer.stop()
        await db.dispose()

    asyncio.run(run())
    with sync_engine.connect() as conn:
        count = conn.execute(
            select(func.count())
            .select_from(ConfidentialRead)
            .where(col(ConfidentialRead.team_id) == team_id)
        ).scalar_one()
    assert count == 3


def test_a_batch_is_written_in_parts_and_a_failed_part_waits_for_the_next(
    settings, sync_engine, team, world, monkeypatch
):
    """A batch goes in transactions of at most ROWS_AT_ONCE rows (the event loop free between
    them); when one fails, the rows written stay written and the rest wait for the next
    batch: nothing lost, nothing written twice."""
    from app.core import journal as journal_module

    monkeypatch.setattr(journal_module, "ROWS_AT_ONCE", 2)
    team_id = uuid.UUID(team["id"])
    parts: list[int] = []

    async def run() -> None:
        db = Database(settings)
        writer = Journal(db.driver, 30)
        original = writer._write

        async def counting(rows, touched):
            parts.append(len(rows))
            if len(parts) == 2:
                raise RuntimeError("the database went away")
            await original(rows, touched)

        monkeypatch.setattr(writer, "_write", counting)
        for _ in range(5):
            await writer.note((ConfidentialRead, {
                "id": new_id(), "team_id": team_id, "reader_id": world.teacher_a.id,
                "kind": "summary", "record_id": None, "client": "127.0.0.1", "at": utcnow(),
            }))  # fmt: skip
        await writer.flush()  # the first part, then the failure
        await writer.flush()  # the three rows left
        await db.dispose()

    asyncio.run(run())
    assert parts == [2, 2, 2, 1]
    with sync_engine.connect() as conn:
        ids = conn.execute(
            select(ConfidentialRead.id).where(col(ConfidentialRead.team_id) == team_id)
        ).all()
    assert len(ids) == len(set(ids)) == 5
