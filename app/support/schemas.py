import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, ShortText, Text
from app.support.models import SupportKind, SupportStatus


class SupportRequestCreate(InputModel):
    kind: SupportKind
    subject: ShortText
    message: Annotated[str, Text(10_000, 1)]
    school_id: uuid.UUID | None = Field(default=None, description="Needed if you work at several")
    team_id: uuid.UUID | None = Field(
        default=None, description="A team you are on, if it concerns one"
    )


class SupportAnswer(InputModel):
    answer: Annotated[str, Text(10_000, 1)]


class SupportRequestPublic(OutputModel):
    id: uuid.UUID
    requester_id: uuid.UUID
    school_id: uuid.UUID
    team_id: uuid.UUID | None
    kind: SupportKind
    subject: str
    message: str
    status: SupportStatus
    answer: str | None
    answered_by_id: uuid.UUID | None
    answered_at: datetime | None
    created_at: datetime
    updated_at: datetime
