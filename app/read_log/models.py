"""Who read a team's confidential records, and when: the team's own log, so its members can
see that no one else did (no administrator ever can)."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, one_of, utcnow


class ReadKind(StrEnum):
    observation_record = "observation_record"
    conference_record = "conference_record"
    learning_form = "learning_form"
    observation_records = "observation_records"  # the team's list
    learning_forms = "learning_forms"  # the team's list
    observation_comparison = "observation_comparison"
    summary = "summary"  # the summary form with its confidential parts


class ConfidentialRead(SQLModel, table=True):
    """One read of a team's confidential content: who, what, when, from where."""

    __tablename__ = "confidential_read"
    __table_args__ = (
        one_of("kind", ReadKind),
        # A team's log, newest first (its order, ties included: migration 0048).
        Index("ix_confidential_read_team_newest", "team_id", text("at DESC"), text("id DESC")),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    team_id: uuid.UUID = Field(foreign_key="team.id", ondelete="RESTRICT")
    reader_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="RESTRICT", index=True)
    kind: ReadKind = Field(sa_type=String(30))
    record_id: uuid.UUID | None = Field(default=None, description="A single record's id")
    client: str | None = Field(default=None, max_length=64, description="The reader's address")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
