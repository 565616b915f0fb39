import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from app.core.errors import FieldError
from app.core.schemas import InputModel


class ImportMode(StrEnum):
    upsert = "upsert"


class PersonIn(InputModel):
    """One staff member in a JSON import (the same columns as the plain CSV)."""

    email: str = Field(max_length=320)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    role: str = Field(
        max_length=40,
        description="teacher, school_admin (administrator, principal) or district_admin",
    )
    school: str | None = Field(
        default=None,
        max_length=500,
        description="School name or roster id; several separated by ';'",
    )
    sourced_id: str | None = Field(default=None, max_length=255)


class JsonImport(InputModel):
    people: list[PersonIn] = Field(max_length=100_000)
    mode: ImportMode = ImportMode.upsert
    dry_run: bool = False


class RowOutcome(BaseModel):
    row: int
    email: str
    action: str = Field(description="created, updated or unchanged")
    changed_fields: list[str]


class ImportResult(BaseModel):
    id: uuid.UUID
    format: str
    mode: str
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    deactivated: int
    skipped: int
    rows: list[RowOutcome]


class RosterImportPublic(BaseModel):
    id: uuid.UUID
    actor_user_id: uuid.UUID | None
    actor_key_id: uuid.UUID | None
    filename: str | None
    sha256: str
    format: str
    mode: str
    dry_run: bool
    succeeded: bool
    counts: dict[str, int]
    errors: list[FieldError]
    duration_ms: int
    created_at: datetime
