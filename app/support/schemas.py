import uuid
from datetime import datetime

from pydantic import Field

from app.core.schemas import InputModel, OutputModel, ShortText, Text
from app.support.models import SupportKind, SupportStatus


class SupportRequestCreate(InputModel):
    kind: SupportKind
    subject: ShortText  # type: ignore[valid-type]
    message: Text(10_000, 1)  # type: ignore[valid-type]
    school_id: uuid.UUID | None = Field(default=None, description="Needed if you work at several")
    team_id: uuid.UUID | None = Field(
        default=None, description="A team you are on, if it concerns one"
    )


class SupportAnswer(InputModel):
    answer: Text(10_000, 1)  # type: ignore[valid-type]


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
