"""Creating and emptying the test databases (one per engine and xdist worker)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.core.db import Database, metadata, sync_url
from app.core.migrations import upgrade
from app.focus_areas.catalog import SUGGESTED_FOCUS_AREAS, suggested_focus_area_id
from app.focus_areas.models import FocusArea
from app.program_rules.models import RULES_DEFAULTS, ProgramRules

T = TypeVar("T")


def on_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """`work` with the app's `Database` for `settings` (its pools closed after), from a test."""

    async def run() -> T:
        db = Database(settings)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


class PostgresUnavailable(Exception):
    pass


def worker_suffix() -> str:
    """Unique per test run and worker, so concurrent runs on one server never collide."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"p{os.getpid()}")[:10]
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{run}"


def drop_postgres_database(url: str) -> None:
    u = make_url(url)
    admin = create_engine(
        sync_url(u.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def fresh_sqlite_url(tmp_dir: Path, name: str) -> str:
    path = tmp_dir / f"{name}-{worker_suffix()}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def fresh_postgres_url(server_url: str, name: str) -> str:
    """Drop and create database `<name>_<worker>` on the server; returns its URL."""
    server = make_url(server_url)
    dbname = f"{name}_{worker_suffix()}".lower().replace("-", "")
    admin = create_engine(
        sync_url(server.render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    except Exception as exc:
        raise PostgresUnavailable(f"{server.render_as_string()}: {exc}") from exc
    finally:
        admin.dispose()
    return server.set(database=dbname).render_as_string(hide_password=False)


def migrated(url: str) -> str:
    upgrade(url)
    return url


def truncate_all(engine: Engine) -> None:
    """Empty every table, then put back the reference data the migrations seed."""
    tables = [t.name for t in metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
        else:
            for t in reversed(tables):
                conn.execute(text(f'DELETE FROM "{t}"'))
        conn.execute(
            insert(FocusArea),
            [
                {
                    "id": suggested_focus_area_id(n),
                    "name": n,
                    "description": None,
                    "is_active": True,
                    "created_at": datetime.now(UTC),
                }
                for n in SUGGESTED_FOCUS_AREAS
            ],
        )
        conn.execute(insert(ProgramRules).values(**RULES_DEFAULTS))
