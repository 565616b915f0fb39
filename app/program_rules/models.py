from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow, version_checked

# The one row of program rules (a district runs one program), as a district starts.
RULES_ID = 1
RULES_DEFAULTS = {
    "id": RULES_ID,
    "observations_per_teacher": 2,
    "observations_need_approved_plan": True,
    "version": 1,
    "updated_at": utcnow(),
}


class ProgramRules(SQLModel, table=True):
    """The program's rules, which a district administrator edits (one row)."""

    __tablename__ = "program_rules"
    __table_args__ = (
        CheckConstraint(f"id = {RULES_ID}", name="one_row"),
        CheckConstraint(
            "observations_per_teacher BETWEEN 1 AND 10", name="observations_per_teacher"
        ),
    )

    __mapper_args__ = version_checked()

    id: int = Field(default=RULES_ID, primary_key=True)
    observations_per_teacher: int = Field(default=2)
    observations_need_approved_plan: bool = Field(default=True)
    version: int = Field(default=1)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
