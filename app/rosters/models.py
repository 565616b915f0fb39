import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, utcnow


class RosterImport(SQLModel, table=True):
    """The record of one roster import: who, when, what file, what it did or why it failed."""

    __tablename__ = "roster_import"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    actor_user_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    actor_key_id: uuid.UUID | None = Field(
        default=None, foreign_key="integration_key.id", ondelete="SET NULL"
    )
    filename: str | None = Field(default=None, max_length=255)
    sha256: str = Field(max_length=64)
    format: str = Field(max_length=20)
    mode: str = Field(max_length=10)
    dry_run: bool
    succeeded: bool
    counts: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    # The first ROSTER_MAX_ERRORS errors, and how many there were in all.
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    error_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    duration_ms: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class RosterImportRow(SQLModel, table=True):
    """What an import did (or, in a dry run, would do) to each person: paged, never sent whole."""

    __tablename__ = "roster_import_row"

    import_id: uuid.UUID = Field(
        foreign_key="roster_import.id", primary_key=True, ondelete="CASCADE"
    )
    position: int = Field(primary_key=True)  # the order the import reported them in
    row: int | None = None
    file: str | None = Field(default=None, max_length=255)
    email: str = Field(max_length=320)
    sourced_id: str | None = Field(default=None, max_length=255)
    action: str = Field(max_length=20)
    changed_fields: list[str] = Field(default_factory=list, sa_type=JSON)
