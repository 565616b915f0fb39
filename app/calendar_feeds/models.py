"""Secret calendar-feed addresses that calendar apps subscribe to (README, "Calendar feeds")."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, one_of, utcnow


class FeedKind(StrEnum):
    personal = "personal"  # the events the owner takes part in
    team = "team"  # one team's events, for a member
    schools = "schools"  # an administrator's schools: year-end meetings, observations covered


class CalendarFeed(SQLModel, table=True):
    __tablename__ = "calendar_feed"
    __table_args__ = (one_of("kind", FeedKind),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    owner_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="CASCADE", index=True)
    kind: FeedKind = Field(sa_type=String(20))
    team_id: uuid.UUID | None = Field(default=None, foreign_key="team.id", ondelete="CASCADE")
    # SHA-256 of the secret in the address; rotating replaces it, revoking clears it.
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
