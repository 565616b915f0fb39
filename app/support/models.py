import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, one_of, utcnow


class SupportKind(StrEnum):
    direction = "direction"
    resources = "resources"
    support = "support"


class SupportStatus(StrEnum):
    open = "open"
    answered = "answered"
    closed = "closed"


class SupportRequest(SQLModel, table=True):
    """A teacher asks their administrator for direction, resources or support."""

    __tablename__ = "support_request"
    __table_args__ = (
        one_of("kind", SupportKind),
        one_of("status", SupportStatus),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    requester_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="RESTRICT")
    school_id: uuid.UUID = Field(foreign_key="school.id", index=True, ondelete="RESTRICT")
    team_id: uuid.UUID | None = Field(default=None, foreign_key="team.id", ondelete="RESTRICT")
    kind: SupportKind = Field(sa_type=String(10))
    subject: str = Field(max_length=200)
    message: str = Field(sa_type=Text)
    status: SupportStatus = Field(default=SupportStatus.open, sa_type=String(10), index=True)
    answer: str | None = Field(default=None, sa_type=Text)
    answered_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
