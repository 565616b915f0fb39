import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from app.auth.principal import Scope
from app.core.db import utcnow
from app.core.schemas import InputModel, OutputModel, Text, Timestamp


class IntegrationKeyCreate(InputModel):
    name: Annotated[str, Text(100, 1)]
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))
    expires_at: Timestamp | None = Field(
        default=None,
        description="From then on the key authenticates nothing (401); null: until revoked",
    )

    @field_validator("expires_at")
    @classmethod
    def _ahead(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= utcnow():
            raise ValueError("must be in the future")
        return value


def _words(value: Any) -> Any:
    """The table keeps scopes space-separated."""
    return value.split() if isinstance(value, str) else value


class IntegrationKeyPublic(OutputModel):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The visible start of the key, to tell keys apart")
    scopes: Annotated[list[Scope], BeforeValidator(_words)]
    created_by_id: uuid.UUID | None
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None
    last_used_at: datetime | None = Field(
        description="When it last authenticated a request (to within a minute); null: never"
    )


class IntegrationKeyCreated(IntegrationKeyPublic):
    key: str = Field(description="The secret bearer token. Shown only in this response.")
