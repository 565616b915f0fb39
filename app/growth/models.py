import uuid
from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, utcnow, version_checked


class GrowthRecord(SQLModel, table=True):
    """What a team's year-end meeting found: written by the team with the administrator, and
    read by them by design (the one record administrators read; nothing of the observation or
    conference notes is in it)."""

    __tablename__ = "growth_record"

    __mapper_args__ = version_checked()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    event_id: uuid.UUID = Field(foreign_key="event.id", unique=True, ondelete="RESTRICT")
    team_id: uuid.UUID = Field(foreign_key="team.id", index=True, ondelete="RESTRICT")
    learned: str | None = Field(default=None, sa_type=Text)
    goals_next_year: str | None = Field(default=None, sa_type=Text)
    created_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    updated_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
