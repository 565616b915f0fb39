"""SQLite write sessions make one trip to the connection's thread per statement
(app/core/sqlite_writes.py), and behave as aiosqlite's own cursors did."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from app.core.db import Database
from app.core.sqlite_writes import TESTED_AIOSQLITE, OneTripConnection, is_tested


def test_the_installed_aiosqlite_is_one_sqlite_writes_py_was_written_for():
    """sqlite_writes.py relies on two aiosqlite internals: an upgrade must be checked, then the
    range moved (and the pin in pyproject.toml with it)."""
    assert is_tested(aiosqlite.__version__), (aiosqlite.__version__, TESTED_AIOSQLITE)
    assert not is_tested("0.21.0")
    assert not is_tested("0.23.0")
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    low, high = TESTED_AIOSQLITE
    assert f'"aiosqlite>={low[0]}.{low[1]},<{high[0]}.{high[1]}"' in pyproject


@pytest.fixture
def sqlite_settings(settings, tmp_path):
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    return settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/writes.db"})


def test_statements_behave_and_cost_one_trip_each(sqlite_settings, monkeypatch):
    trips: list[str] = []
    original = OneTripConnection._execute

    async def counted(self, fn, *args, **kwargs):
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(OneTripConnection, "_execute", counted)

    async def work() -> dict:
        db = Database(sqlite_settings)
        seen: dict = {}
        try:
            async with db.session() as s:
                await s.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
            trips.clear()
            async with db.session() as s:
                added = await s.execute(
                    text("INSERT INTO t (name) VALUES (:n)"), [{"n": "a"}, {"n": "b"}, {"n": "c"}]
                )
                seen["inserted"] = added.rowcount
                back = await s.execute(text("INSERT INTO t (name) VALUES ('d') RETURNING id, name"))
                seen["returned"] = [tuple(r) for r in back]
                changed = await s.execute(text("UPDATE t SET name = name || '!' WHERE id < 3"))
                seen["updated"] = changed.rowcount
                rows = await s.execute(text("SELECT id, name FROM t ORDER BY id"))
                seen["first"] = tuple(rows.first())
                seen["all"] = [tuple(r) for r in await s.execute(text("SELECT name FROM t"))]
            seen["trips"] = list(trips)
            with pytest.raises(sa_exc.IntegrityError):
                async with db.session() as s:
                    await s.execute(text("INSERT INTO t (name) VALUES ('c')"))
            async with db.session() as s:  # the refused write left nothing behind
                count = await s.execute(text("SELECT count(*) FROM t"))
                seen["count"] = count.scalar_one()
        finally:
            await db.dispose()
        return seen

    seen = asyncio.run(work())
    assert seen["inserted"] == 3
    assert seen["returned"] == [(4, "d")]
    assert seen["updated"] == 2
    assert seen["first"] == (1, "a!")
    assert sorted(seen["all"]) == [("a!",), ("b!",), ("c",), ("d",)]
    assert seen["count"] == 4
    # BEGIN, five statements, COMMIT, and the pool's reset: one trip each
    assert seen["trips"] == ["_run"] * 6 + ["commit", "rollback"]
