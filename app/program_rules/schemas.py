from datetime import datetime

from pydantic import Field

from app.core.schemas import InputModel, OutputModel


class ProgramRulesPublic(OutputModel):
    observations_per_teacher: int = Field(
        description="Observations each teacher is to have of their class, and to make"
    )
    observations_need_approved_plan: bool = Field(
        description="An observation can be held (confirmed or recorded) only once the team's "
        "plan is approved"
    )
    version: int
    updated_at: datetime


class ProgramRulesUpdate(InputModel):
    observations_per_teacher: int | None = Field(default=None, ge=1, le=10)
    observations_need_approved_plan: bool | None = None
