"""Alembic from code: the app's readiness check and the CLI's `migrate` use it."""

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory


def _project_root() -> Path:
    # From a source checkout, the folder above `app/`; from an installed package, the working
    # directory (the Docker image runs from /srv, which holds alembic.ini and migrations/).
    here = Path(__file__).resolve().parents[2]
    return here if (here / "alembic.ini").exists() else Path.cwd()


ROOT = _project_root()


def alembic_config(database_url: str | None = None) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    if database_url:
        # env.py prefers this over the environment; '%' must be escaped for ConfigParser.
        cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def _columns_named(index: Any) -> list[str]:
    """An index's columns by name, with `name DESC` read as `name`."""
    return [getattr(e, "name", None) or str(e).split()[0].strip('"') for e in index.expressions]


def include_object_for(dialect: str) -> Callable[..., bool]:
    """Autogenerate's filter (`alembic check`, the drift test): compare everything, except
    what SQLite cannot tell. Its reflection drops an index column's direction (`school_year
    DESC` comes back as `school_year`), so there such an index is compared by its column names;
    PostgreSQL, which reflects directions, compares it whole."""

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        if type_ != "index" or compare_to is None or dialect != "sqlite":
            return True
        ours, theirs = (compare_to, obj) if reflected else (obj, compare_to)
        if not any(" DESC" in str(e).upper() for e in ours.expressions):
            return True
        return _columns_named(ours) != _columns_named(theirs)

    return include_object
