import uuid
from datetime import date, datetime

from pydantic import Field, model_validator

from app.core.schemas import InputModel, NotNull, OutputModel
from app.teams.schemas import SchoolYear as SchoolYearLabel

# The program's dates inside a year, in the order they are checked (pairs are windows).
DATES = (
    "plan_due_on",
    "observations_from",
    "observations_until",
    "year_end_meetings_from",
    "year_end_meetings_until",
)
WINDOWS = (
    ("observations_from", "observations_until"),
    ("year_end_meetings_from", "year_end_meetings_until"),
)


class SchoolYearDates(InputModel):
    plan_due_on: date | None = Field(
        default=None, description="Plans approved by this day; progress says when it is overdue"
    )
    observations_from: date | None = Field(default=None, description="Observations from this day")
    observations_until: date | None = Field(
        default=None, description="Observations until this day (held by then: it is their due date)"
    )
    year_end_meetings_from: date | None = Field(
        default=None, description="Year-end meetings from this day"
    )
    year_end_meetings_until: date | None = Field(
        default=None, description="Year-end meetings until this day (their due date)"
    )


class SchoolYearCreate(SchoolYearDates):
    label: SchoolYearLabel
    starts_on: date = Field(description="The first day")
    ends_on: date = Field(description="The last day")
    is_current: bool = Field(
        default=False, description="The year new teams belong to unless they say (at most one)"
    )

    @model_validator(mode="after")
    def _inside(self) -> "SchoolYearCreate":
        check_dates(self.model_dump())
        return self


class SchoolYearUpdate(SchoolYearDates):
    """Change the year's dates (a window's ends together or alone); `is_current: true` makes
    it the current year (the one before stops being). null clears an optional date."""

    starts_on: NotNull[date] = None
    ends_on: NotNull[date] = None
    is_current: NotNull[bool] = None


class SchoolYearPublic(OutputModel):
    id: uuid.UUID
    label: str
    starts_on: date
    ends_on: date
    is_current: bool
    plan_due_on: date | None
    observations_from: date | None
    observations_until: date | None
    year_end_meetings_from: date | None
    year_end_meetings_until: date | None
    version: int
    created_at: datetime
    updated_at: datetime


def check_dates(year: dict[str, object]) -> None:
    """The year's days in order, and each of the program's dates inside it (ValueError naming
    the first that is not)."""
    starts, ends = year["starts_on"], year["ends_on"]
    if not isinstance(starts, date) or not isinstance(ends, date):
        raise TypeError("starts_on and ends_on are dates")
    if ends <= starts:
        raise ValueError("ends_on must be after starts_on")
    for name in DATES:
        value = year.get(name)
        if isinstance(value, date) and not starts <= value <= ends:
            raise ValueError(f"{name} must fall within the school year ({starts} to {ends})")
    for first, last in WINDOWS:
        a, b = year.get(first), year.get(last)
        if isinstance(a, date) and isinstance(b, date) and b < a:
            raise ValueError(f"{last} must not be before {first}")
