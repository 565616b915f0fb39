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
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    duration_ms: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
