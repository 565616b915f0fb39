"""The district's school years: each team belongs to one (by its label), and the year's dates
bound its calendar and set what progress says is due."""

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, new_id, utcnow, version_checked


class SchoolYear(SQLModel, table=True):
    """A school year: its first and last day, whether it is the current one (at most one is),
    and the program's dates within it (each optional): when plans are due, the window for
    observations, the window for year-end meetings."""

    __tablename__ = "school_year"
    __table_args__ = (
        CheckConstraint("ends_on > starts_on", name="ends_after_start"),
        # At most one current year, whatever parallel requests do.
        Index(
            "uq_school_year_current",
            "is_current",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )

    __mapper_args__ = version_checked()

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    label: str = Field(max_length=9, unique=True, description="e.g. 2026-2027, as teams name it")
    starts_on: date
    ends_on: date
    is_current: bool = Field(default=False)
    plan_due_on: date | None = None
    observations_from: date | None = None
    observations_until: date | None = None
    year_end_meetings_from: date | None = None
    year_end_meetings_until: date | None = None
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
