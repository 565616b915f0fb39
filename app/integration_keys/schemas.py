import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from app.auth.principal import Scope
from app.core.schemas import InputModel, OutputModel, Text


class IntegrationKeyCreate(InputModel):
    name: Annotated[str, Text(100, 1)]
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))


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


class IntegrationKeyCreated(IntegrationKeyPublic):
    key: str = Field(description="The secret bearer token. Shown only in this response.")
