"""Alembic environment: the same DATABASE_URL as the app, with the sync driver."""

from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool

import app.models  # noqa: F401  (registers every table)
from app.core.config import get_settings
from app.core.db import metadata, sync_url

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _columns_named(index: Any) -> list[str]:
    """An index's columns by name, with `name DESC` read as `name`."""
    return [getattr(e, "name", None) or str(e).split()[0].strip('"') for e in index.expressions]


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Compare everything, except what SQLite cannot tell: its reflection drops an index
    column's direction (`school_year DESC` comes back as `school_year`). Such an index is
    compared by its column names there; PostgreSQL, which reflects directions, compares it
    whole."""
    if type_ != "index" or compare_to is None or context.get_bind().dialect.name != "sqlite":
        return True
    ours, theirs = (compare_to, obj) if reflected else (obj, compare_to)
    if not any(" DESC" in str(e).upper() for e in ours.expressions):
        return True
    return _columns_named(ours) != _columns_named(theirs)


def run_migrations_offline() -> None:
    url = sync_url(database_url())
    context.configure(
        url=url.render_as_string(hide_password=False),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.get_backend_name() == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = sync_url(database_url())
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
