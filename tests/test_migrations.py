"""Migrations build the schema on both engines, go down and up again, and match the models."""

import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.core.db import metadata, sync_url
from app.core.migrations import downgrade, head_revision, include_object_for, upgrade
from tests.conftest import make_database_url
from tests.dbsetup import drop_postgres_database


@pytest.fixture
def scratch_url(tmp_path):
    url = make_database_url(tmp_path, "peercoach_migrations")
    yield url
    if url.startswith("postgresql"):
        drop_postgres_database(url)


def _tables(url):
    engine = create_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _drift(url):
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "render_as_batch": conn.dialect.name == "sqlite",
                    "include_object": include_object_for(conn.dialect.name),
                },
            )
            return compare_metadata(ctx, metadata)
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_and_no_drift(scratch_url):
    upgrade(scratch_url)
    assert set(metadata.tables) <= _tables(scratch_url)
    assert _drift(scratch_url) == []
    downgrade(scratch_url, "base")
    assert _tables(scratch_url) <= {"alembic_version"}
    upgrade(scratch_url)
    assert set(metadata.tables) <= _tables(scratch_url)
    assert _drift(scratch_url) == []
    engine = create_engine(sync_url(scratch_url))
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()
    engine.dispose()


def test_the_database_checks_every_value_of_the_enums_it_mirrors(database_url):
    """Each `one_of` CHECK comes from its enum; the migrated database must allow exactly those
    values (a new enum value without a migration fails here)."""
    from sqlalchemy import CheckConstraint

    engine = create_engine(sync_url(database_url))
    found = {}
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = conn.exec_driver_sql(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c'"
            )
            found = dict(rows.all())
        else:
            for (ddl,) in conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"
            ):
                for name in re.findall(r'CONSTRAINT "?(\w+)"? CHECK', ddl):
                    found[name] = ddl.split(f"{name}", 1)[1].split("CONSTRAINT", 1)[0]
    engine.dispose()
    checked = 0
    for table in metadata.sorted_tables:
        for constraint in table.constraints:
            if not isinstance(constraint, CheckConstraint) or " IN (" not in str(
                constraint.sqltext
            ):
                continue
            values = re.findall(r"'(\w+)'", str(constraint.sqltext))
            in_db = found[constraint.name]
            assert all(f"'{v}'" in in_db for v in values), (constraint.name, values, in_db)
            assert len(re.findall(r"'(\w+)'", in_db)) == len(values), (constraint.name, in_db)
            checked += 1
    assert checked >= 9


def test_a_value_the_schema_forbids_is_a_500_not_a_conflict(settings):
    """A CHECK violation means something got past validation: it shows up as a bug (500 and
    an error in the log), never as the caller's 409."""
    from fastapi.testclient import TestClient
    from sqlalchemy import insert

    from app.core.deps import SessionDep
    from app.main import create_app
    from app.users.models import User

    app = create_app(settings)

    async def forbidden_value(session: SessionDep) -> dict:
        await session.execute(
            insert(User).values(
                email="j@example.org", given_name="J", family_name="K", role="janitor"
            )
        )
        return {}

    app.add_api_route("/test-only/check", forbidden_value, methods=["POST"])
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/test-only/check")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"


def test_sqlite_indexes_are_the_models_after_every_rebuild(tmp_path, database_url):
    """SQLite's batch mode rebuilds a table's indexes from reflection, which loses an index
    column's direction (`school_year DESC`) and drift checks cannot see it: the migrated
    indexes must read exactly as the models create them."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    migrated, created = tmp_path / "migrated.db", tmp_path / "created.db"
    upgrade(f"sqlite:///{migrated}")
    engine = create_engine(f"sqlite:///{created}")
    metadata.create_all(engine)
    engine.dispose()

    def indexes(path):
        engine = create_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ).all()
        engine.dispose()
        return {name: re.sub(r"\s+", " ", sql) for name, sql in found}

    made = indexes(created)
    assert {n: s for n, s in indexes(migrated).items() if n in made} == made
