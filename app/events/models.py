import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, one_of, utcnow, version_checked


class EventKind(StrEnum):
    pre_conference = "pre_conference"
    observation = "observation"
    post_conference = "post_conference"
    year_end_meeting = "year_end_meeting"
    other = "other"


class EventStatus(StrEnum):
    scheduled = "scheduled"
    held = "held"  # confirmed by a participant, or its record was written
    cancelled = "cancelled"


class Event(SQLModel, table=True):
    """One entry of a team's calendar of events."""

    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        one_of("kind", EventKind),
        one_of("status", EventStatus),
        Index("ix_event_team_id_starts_at", "team_id", "starts_at"),
    )

    __mapper_args__ = version_checked()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    team_id: uuid.UUID = Field(foreign_key="team.id", ondelete="RESTRICT")
    kind: EventKind = Field(sa_type=String(20))
    title: str | None = Field(default=None, max_length=200)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    location: str | None = Field(default=None, max_length=200)
    # Observations: who observes whom (both team members, different people).
    observer_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    observed_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="RESTRICT"
    )
    # Observations: the learning target for this observation and the strategy observed (the
    # calendar's, seen with it: no notes). A pair's observations compare on the same strategy.
    learning_target: str | None = Field(default=None, max_length=2000)
    strategy: str | None = Field(default=None, max_length=500)
    status: EventStatus = Field(default=EventStatus.scheduled, sa_type=String(20))
    held_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    held_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_reason: str | None = Field(default=None, max_length=1000)
    created_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EventParticipant(SQLModel, table=True):
    __tablename__ = "event_participant"

    event_id: uuid.UUID = Field(foreign_key="event.id", primary_key=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(
        foreign_key="user_account.id", primary_key=True, index=True, ondelete="RESTRICT"
    )
