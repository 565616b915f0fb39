import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, one_of, utcnow


class CoverageStatus(StrEnum):
    pending = "pending"
    arranged = "arranged"
    needs_review = "needs_review"  # arranged, then the observation moved
    declined = "declined"
    cancelled = "cancelled"  # by the requester, or with its observation


# Requests still to be met: one per teacher and observation (the unique index below).
OPEN_STATUSES = (CoverageStatus.pending, CoverageStatus.arranged, CoverageStatus.needs_review)
_OPEN_SQL = "status IN ({})".format(", ".join(f"'{s.value}'" for s in OPEN_STATUSES))


class CoverageRequest(SQLModel, table=True):
    """A teacher's request for substitute coverage of their class during an observation."""

    __tablename__ = "coverage_request"
    __table_args__ = (
        one_of("status", CoverageStatus),
        # One open request per teacher and observation, enforced by the database: two
        # parallel requests cannot both pass the service's check and both be stored.
        Index(
            "uq_coverage_request_open_per_requester",
            "event_id",
            "requester_id",
            unique=True,
            sqlite_where=text(_OPEN_SQL),
            postgresql_where=text(_OPEN_SQL),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    event_id: uuid.UUID = Field(foreign_key="event.id", index=True, ondelete="RESTRICT")
    team_id: uuid.UUID = Field(foreign_key="team.id", index=True, ondelete="RESTRICT")
    requester_id: uuid.UUID = Field(foreign_key="user_account.id", ondelete="RESTRICT")
    school_id: uuid.UUID = Field(foreign_key="school.id", index=True, ondelete="RESTRICT")
    note: str | None = Field(default=None, max_length=2000)
    status: CoverageStatus = Field(default=CoverageStatus.pending, sa_type=String(20), index=True)
    covered_by: str | None = Field(default=None, max_length=200)
    decision_note: str | None = Field(default=None, max_length=2000)
    decided_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Needs review: the observation's times when the coverage was arranged.
    arranged_starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    arranged_ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_reason: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
