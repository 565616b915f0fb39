import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from app.audit.models import AuditAction
from app.core.schemas import OutputModel, Timestamp


class PersonRef(OutputModel):
    id: uuid.UUID
    given_name: str
    family_name: str
    email: str


class AuditEventPublic(OutputModel):
    id: uuid.UUID
    at: datetime
    action: AuditAction
    actor: PersonRef | None = Field(description="The staff member who acted")
    actor_key_id: uuid.UUID | None = Field(description="Or the integration key that acted")
    subject_user: PersonRef | None = Field(description="The person the action was about")
    team_id: uuid.UUID | None
    object_id: uuid.UUID | None = Field(
        description="What it acted on: a record, a key, an import, a plan"
    )
    detail: dict[str, Any] = Field(
        description="Facts about the action (e.g. a role's `from` and `to`, a sign-in's "
        "`method`, a failed one's `reason` and `login`); never a record's content"
    )
    client: str | None = Field(description="The caller's address")
    request_id: str | None = Field(description="The request's X-Request-ID, to find its logs")


class AuditFilters(BaseModel):
    action: list[AuditAction] = Field(default_factory=list, description="Any of these actions")
    actor_id: uuid.UUID | None = Field(default=None, description="Done by this staff member")
    subject_user_id: uuid.UUID | None = Field(default=None, description="About this person")
    team_id: uuid.UUID | None = None
    since: Timestamp | None = Field(default=None, description="At or after (with a zone)")
    until: Timestamp | None = Field(default=None, description="Before (with a zone)")

    @model_validator(mode="after")
    def _ordered(self) -> "AuditFilters":
        if self.since and self.until and self.since >= self.until:
            raise ValueError("`since` must be before `until`")
        return self
