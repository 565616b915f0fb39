"""Migrations build the schema on both engines, go down and up again, and match the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.core.db import metadata, sync_url
from app.core.migrations import downgrade, head_revision, upgrade
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
                conn, opts={"compare_type": True, "render_as_batch": conn.dialect.name == "sqlite"}
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
