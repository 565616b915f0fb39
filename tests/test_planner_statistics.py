"""SQLite's query planner gets statistics (Database.refresh_statistics): at start-up and after a
roster import, as PostgreSQL's autovacuum keeps them by itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.db import Database
from app.rosters.cli_service import import_path
from app.users.models import Role


def _stat_tables(sync_engine) -> set[str]:
    with sync_engine.connect() as conn:
        if not conn.execute(
            text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        ).first():
            return set()
        return {row[0] for row in conn.execute(text("SELECT tbl FROM sqlite_stat1"))}


@pytest.fixture
def sqlite_only(settings):
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps its own statistics (autovacuum)")


def test_refresh_gives_the_planner_statistics(settings, sync_engine, factory, world, sqlite_only):
    factory.user(Role.teacher, [world.school_a])
    with sync_engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))

    async def refresh() -> None:
        db = Database(settings)
        try:
            await db.refresh_statistics()
        finally:
            await db.dispose()

    asyncio.run(refresh())
    assert {"user_account", "school_membership"} <= _stat_tables(sync_engine)


def test_an_import_from_the_command_line_refreshes_them(
    settings, sync_engine, tmp_path: Path, world, sqlite_only
):
    with sync_engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
    csv = tmp_path / "staff.csv"
    csv.write_text(
        "email,given name,family name,role,school\n"
        f"ana@example.org,Ana,Ruiz,teacher,{world.school_a.name}\n"
    )
    result = asyncio.run(import_path(settings, csv))
    assert result["ok"], result
    assert "user_account" in _stat_tables(sync_engine)


def test_on_postgresql_it_is_nothing_to_do(settings):
    if settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite")

    async def refresh() -> None:
        db = Database(settings)
        try:
            await db.refresh_statistics()  # must not fail, must not need a privilege
        finally:
            await db.dispose()

    asyncio.run(refresh())
