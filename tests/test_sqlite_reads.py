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
