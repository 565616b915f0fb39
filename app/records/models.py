"""Confidential records of the coaching cycle: observation notes and conference records.
Readable only by the team's members; no administrator reads them."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, Index, Text, text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, utcnow, version_checked


class ObservationRecord(SQLModel, table=True):
    """The observer's notes for one observation, following the learning form."""

    __tablename__ = "observation_record"
    __table_args__ = (
        # A teacher's own records, latest first (GET /me/observation-records).
        Index("ix_observation_record_author", "author_id", text("created_at DESC"), "id"),
    )

    __mapper_args__ = version_checked()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    event_id: uuid.UUID = Field(foreign_key="event.id", unique=True, ondelete="RESTRICT")
    team_id: uuid.UUID = Field(foreign_key="team.id", index=True, ondelete="RESTRICT")
    author_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    affirmations: list[str] = Field(default_factory=list, sa_type=JSON)
    new_understandings: list[str] = Field(default_factory=list, sa_type=JSON)
    open_questions: list[str] = Field(default_factory=list, sa_type=JSON)
    evidence: str | None = Field(default=None, sa_type=Text)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConferenceRecord(SQLModel, table=True):
    """What a pre- or post-conference agreed: the team's shared record of it, with who wrote
    each answer as it stands (two members' saves are never merged into one author). The
    learning target a pre-conference agrees is the plan's (written through to it)."""

    __tablename__ = "conference_record"

    __mapper_args__ = version_checked()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    event_id: uuid.UUID = Field(foreign_key="event.id", unique=True, ondelete="RESTRICT")
    team_id: uuid.UUID = Field(foreign_key="team.id", index=True, ondelete="RESTRICT")
    author_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    summary: str | None = Field(default=None, sa_type=Text)
    # Post-conference: what the program asks of it.
    strategies_modelled: str | None = Field(default=None, sa_type=Text)
    questions_posed: str | None = Field(default=None, sa_type=Text)
    next_steps: str | None = Field(default=None, sa_type=Text)
    # Each answer's writer as it stands: {field: user id}, set by the save that last changed it.
    written_by: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    updated_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
