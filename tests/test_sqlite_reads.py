"""SQLite as the embedded default reads a district quickly: connections map the file into
memory, and the lists' orders have indexes a page can stop in."""

from __future__ import annotations

import asyncio

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
    query = teams._list_query(
        team_policies.TeamReach.district, False, False, False, False, False, False
    )
    inner = query.page.get_final_froms()[0].element  # the ordered page, before its lookups
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


def test_a_page_of_posts_walks_the_time_index_with_a_districts_statistics(tmp_path, sqlite_only):
    """A district administrator reads their own posts and the blog's: with the statistics of
    a district (4,000 posts, half on the blog), the page walks `created_at` and stops after
    `limit` posts. With an index on `visibility` SQLite's planner chose to collect every blog
    post through it (MULTI-INDEX OR) and sort them all: 18 ms a page against 0.9."""
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
    assert any("USING INDEX ix_reflection_created_at" in step for step in plan), plan
    assert not any("MULTI-INDEX OR" in step for step in plan), plan
