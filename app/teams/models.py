import uuid
from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, utcnow


class FocusArea(SQLModel, table=True):
    """The district-editable catalog of focus areas, seeded with the program's suggestions."""

    __tablename__ = "focus_area"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    description: str | None = Field(default=None, max_length=2000)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Team(SQLModel, table=True):
    """Two or more teachers working on a mutual learning target for a school year."""

    __tablename__ = "team"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200)
    school_year: str = Field(max_length=9, index=True, description="e.g. 2026-2027")
    focus_area_id: uuid.UUID | None = Field(
        default=None, foreign_key="focus_area.id", ondelete="RESTRICT", index=True
    )
    focus_area_other: str | None = Field(default=None, max_length=500)
    learning_target: str | None = Field(default=None, sa_type=Text)
    created_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Soft delete: an administrator can restore; nothing a teacher wrote is lost.
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_member"

    team_id: uuid.UUID = Field(foreign_key="team.id", primary_key=True, ondelete="RESTRICT")
    user_id: uuid.UUID = Field(
        foreign_key="user_account.id", primary_key=True, index=True, ondelete="RESTRICT"
    )
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
