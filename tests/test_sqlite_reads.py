"""SQLite as the embedded default reads a district quickly: connections map the file into
memory, and the lists' orders have indexes a page can stop in."""

from __future__ import annotations

import asyncio
import sys
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import sqlite

from app.core.db import Database
from app.teams import policies as team_policies
from app.teams import service as teams


@pytest.fixture
def sqlite_only(settings):
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite only")


@pytest.mark.parametrize("mapped", [256 * 1024 * 1024, 0])
def test_read_and_write_connections_map_the_file(settings, sqlite_only, mapped):
    configured = settings.model_copy(update={"sqlite_mmap_bytes": mapped})

    async def sizes() -> tuple[int, int]:
        db = Database(configured)
        try:
            reader = db.driver._connect()  # type: ignore[attr-defined]
            try:
                read = reader.execute("PRAGMA mmap_size").fetchone()[0]
            finally:
                reader.close()
            async with db.session() as session:
                write = (await session.execute(text("PRAGMA mmap_size"))).scalar_one()
            return read, write
        finally:
            await db.dispose()

    assert asyncio.run(sizes()) == (mapped, mapped)


def test_a_page_of_teams_stops_in_the_list_order_index(sync_engine, sqlite_only):
    """Newest school year first, then by name: the page walks `ix_team_list_order` and stops
    after `limit` teams instead of sorting every team of the district."""
    from app.core.kept import page_with_revisions

    query = teams._list_query(
        team_policies.TeamReach.district, False, False, False, False, False, False
    )
    kept = page_with_revisions(query)  # as the list reads it: the page, then its counters
    inner = kept.page.get_final_froms()[0].element  # the ordered page, before its lookups
    compiled = inner.compile(dialect=sqlite.dialect())
    values = {"_count_up_to": 250, "_limit": 50, "_offset": 0}
    args = tuple(values.get(name, 0) for name in compiled.positiontup or ())
    with sync_engine.connect() as conn:
        explained = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", args)
        plan = [row[3] for row in explained]
    assert any("ix_team_list_order" in step for step in plan), plan
    assert not any("ORDER BY" in step for step in plan), plan


def test_a_page_of_one_schools_colleagues_stops_in_the_directory_index(sync_engine, sqlite_only):
    """A teacher of one school: the page walks `ix_staff_directory_name_order` from that
    school's active entries in name order and stops after `limit`, no sort."""
    from app.auth.principal import SchoolReach
    from app.users import service as users

    query = users._list_query(
        SchoolReach.schools, True, False, False, True, False, several_schools=False
    )
    compiled = query.page.compile(dialect=sqlite.dialect())
    sql = str(compiled).replace("__[POSTCOMPILE_caller_schools]", "?")  # one school
    values = {"_count_up_to": 250, "_limit": 50, "_offset": 0, "is_active": 1}
    args = tuple(values.get(name, "0" * 32) for name in compiled.positiontup or ())
    with sync_engine.connect() as conn:
        explained = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", args)
        plan = [row[3] for row in explained]
    assert any("ix_staff_directory_name_order" in step for step in plan), plan
    assert not any("ORDER BY" in step for step in plan), plan


def test_a_page_of_posts_reads_each_part_through_its_index_with_a_districts_statistics(
    tmp_path, sqlite_only
):
    """A district administrator reads their own posts and the blog's: with the statistics of
    a district (4,000 posts, half on the blog), the page reads their own by author and the
    blog's newest first through the blog's partial index, and never walks every post by time
    (past every post they may not see: 5 ms when 10,500 private posts were the newest). With
    an index on `visibility` SQLite's planner once chose to collect every blog post through it
    (MULTI-INDEX OR) and sort them all: 18 ms a page against 0.9."""
    import sqlite3

    from sqlalchemy import create_engine
    from sqlmodel import SQLModel

    from app.auth.principal import CALLER_ID
    from app.reflections import policies as reflection_policies
    from app.reflections import service as reflections

    path = tmp_path / "district.db"
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.execute("ANALYZE sqlite_schema")  # creates sqlite_stat1
    conn.execute("DELETE FROM sqlite_stat1")
    indexes = [r[0] for r in conn.execute("PRAGMA index_list('reflection')")]
    stats = {"ix_reflection_team_id": "4284 2", "ix_reflection_visibility": "3612 1001"}
    rows = [("reflection", name, stats.get(name, "4033 1")) for name in indexes]
    rows += [("user_account", "sqlite_autoindex_user_account_1", "20000 1")]
    conn.executemany("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", rows)
    conn.commit()
    conn.close()

    query = reflections._list_query(reflection_policies.Reader.staff, False, False, False, False)
    inner = query.page.get_final_froms()[0].element  # the ordered page, before its lookups
    compiled = inner.compile(dialect=sqlite.dialect())
    values = {"_count_up_to": 250, "_limit": 50, "_offset": 0, CALLER_ID: "0" * 32}
    args = tuple(values.get(name, "0" * 32) for name in compiled.positiontup or ())
    conn = sqlite3.connect(path)  # reads the statistics when it opens
    try:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {compiled}", args)]
    finally:
        conn.close()
    assert "SCAN reflection USING INDEX ix_reflection_program_newest" in plan, plan
    assert any("USING INDEX ix_reflection_author_id (author_id=?)" in step for step in plan)
    assert not any("ix_reflection_created_at" in step for step in plan), plan
    assert not any("MULTI-INDEX OR" in step for step in plan), plan


def test_the_commit_marker_moves_with_every_commit_of_any_connection(settings, sqlite_only):
    """`SqliteDriver.commit_marker` (the WAL index's header): the same while nothing is
    committed, different after each commit, whichever connection or process made it, and
    after the WAL starts over; what the signed-in account cache trusts to skip its check."""
    import sqlite3

    async def run() -> None:
        db = Database(settings)
        driver = db.driver
        try:
            assert driver.commit_marker() is None  # before data_version opened its connection
            driver.data_version()
            first = driver.commit_marker()
            assert first is not None
            assert len(first) == driver.WAL_INDEX_HEADER
            driver.data_version()
            assert driver.commit_marker() == first  # reading is not committing
            other = sqlite3.connect(driver.path, isolation_level=None)
            school = "INSERT INTO school (id, name, time_zone, created_at, updated_at) VALUES "
            now = "'2026-12-05 00:00:00'"
            try:
                markers = [first]
                for sql in (
                    f"{school} ('{uuid.uuid4().hex}', 'Marker A', 'UTC', {now}, {now})",
                    "UPDATE school SET name = 'Marker B' WHERE name = 'Marker A'",
                    "BEGIN; DELETE FROM school WHERE name = 'Marker B'; COMMIT",
                ):
                    other.executescript(sql)
                    markers.append(driver.commit_marker())
                other.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the WAL starts over
                other.executescript(
                    f"{school} ('{uuid.uuid4().hex}', 'Marker C', 'UTC', {now}, {now})"
                )
                markers.append(driver.commit_marker())
                other.execute("BEGIN")  # an open transaction, rolled back: nothing committed
                other.execute("DELETE FROM school WHERE name = 'Marker C'")
                other.execute("ROLLBACK")
                markers.append(driver.commit_marker())
                other.execute("DELETE FROM school WHERE name = 'Marker D'")  # no row: no write
                markers.append(driver.commit_marker())
            finally:
                other.close()
            assert len(set(markers[:-2])) == len(markers) - 2  # each commit moved it
            # As the format is documented: its version, and a change counter each commit raised
            assert {int.from_bytes(m[:4], sys.byteorder) for m in markers} == {3007000}
            changes = [int.from_bytes(m[8:12], sys.byteorder) for m in markers[:5]]
            assert changes == list(range(changes[0], changes[0] + 5))
            assert markers[-1] == markers[-2] == markers[-3]  # neither did those
            async with db.session() as session:  # this process's own writes too
                await session.execute(text("DELETE FROM school WHERE name = 'Marker C'"))
                await session.commit()
            assert driver.commit_marker() != markers[-1]
        finally:
            await db.dispose()
        assert driver.commit_marker() is None  # closed with the driver

    asyncio.run(run())


def test_reading_the_marker_never_releases_this_processs_locks(settings, sqlite_only):
    """SQLite locks the WAL index with POSIX advisory locks, which a process loses, all of them,
    when it closes any descriptor of the file. A connection of this process holds the write
    lock while drivers come and go reading the marker (each opening and closing its
    connections): another process still finds the database locked."""
    import sqlite3
    import subprocess

    holder = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"), timeout=0)
    path = holder.execute("PRAGMA database_list").fetchone()[2]
    holder.execute("BEGIN IMMEDIATE")  # the write lock: a lock on the WAL index file
    try:

        async def run() -> None:
            for _ in range(3):
                db = Database(settings)
                try:
                    db.driver.data_version()
                    assert db.driver.commit_marker() is not None
                finally:
                    await db.dispose()

        asyncio.run(run())
        probe = (
            "import sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1], timeout=0)\n"
            "try:\n"
            "    c.execute('BEGIN IMMEDIATE')\n"
            "except sqlite3.OperationalError as e:\n"
            "    print(e)\n"
            "else:\n"
            "    print('got the write lock')\n"
        )
        found = subprocess.run(
            [sys.executable, "-c", probe, path], capture_output=True, text=True, timeout=30
        )
        assert found.stdout.strip() == "database is locked", found
    finally:
        holder.rollback()
        holder.close()
