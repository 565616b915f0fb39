from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.core.schemas import InputModel, NotNull, OutputModel


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
    observations_per_teacher: NotNull[Annotated[int, Field(ge=1, le=10)]] = None
    observations_need_approved_plan: NotNull[bool] = None
