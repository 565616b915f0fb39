import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, one_of, utcnow, version_checked


class Visibility(StrEnum):
    private = "private"  # the author only
    team = "team"  # the author and the linked team's members
    program = "program"  # every teacher and administrator of the district: the program's blog

    @property
    def sql(self) -> str:
        """The value as an SQL literal (what a partial index's condition and the statements it
        serves write)."""
        return f"'{self.value}'"


class Reflection(SQLModel, table=True):
    """A post on the reflections blog."""

    __tablename__ = "reflection"
    __table_args__ = (
        one_of("visibility", Visibility),
        CheckConstraint("visibility != 'team' OR team_id IS NOT NULL", name="team_needs_team"),
        # The program's blog newest first, in the lists' order (policies.readable_parts):
        # migration 0049.
        Index(
            "ix_reflection_program_newest",
            text("created_at DESC"),
            "id",
            sqlite_where=text(f"visibility = {Visibility.program.sql}"),
            postgresql_where=text(f"visibility = {Visibility.program.sql}"),
        ),
    )

    __mapper_args__ = version_checked()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    author_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="RESTRICT")
    title: str = Field(max_length=200)
    body: str = Field(sa_type=Text, description="Markdown")
    # No index of its own: four values, and an index on it let SQLite's planner answer "mine or
    # on the blog" by collecting and sorting every blog post (a district administrator's page
    # 18 -> 0.9 ms without it: the created_at index walked until the page is full).
    visibility: Visibility = Field(sa_type=String(10))
    team_id: uuid.UUID | None = Field(
        default=None, foreign_key="team.id", index=True, ondelete="RESTRICT"
    )
    event_id: uuid.UUID | None = Field(default=None, foreign_key="event.id", ondelete="RESTRICT")
    observation_record_id: uuid.UUID | None = Field(
        default=None, foreign_key="observation_record.id", ondelete="RESTRICT"
    )
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A program post a district administrator took off the blog, saying why (its author still
    # reads it, with the reason).
    hidden_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hidden_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    hidden_reason: str | None = Field(default=None, max_length=1000)


class ReflectionComment(SQLModel, table=True):
    __tablename__ = "reflection_comment"

    __mapper_args__ = version_checked()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    reflection_id: uuid.UUID = Field(foreign_key="reflection.id", index=True, ondelete="RESTRICT")
    author_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    body: str = Field(sa_type=Text)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Hidden by an administrator (its author deletes it instead).
    hidden_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hidden_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
