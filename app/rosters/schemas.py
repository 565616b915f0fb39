import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from app.core.errors import FieldError
from app.core.schemas import InputModel, documented


class ImportMode(StrEnum):
    upsert = "upsert"
    sync = "sync"


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


@documented
class JsonImport(InputModel):
    people: list[PersonIn] = Field(max_length=100_000)
    mode: ImportMode = ImportMode.upsert
    dry_run: bool = False
    force: bool = Field(
        default=False, description="Let a sync deactivate more than the configured share of staff"
    )
    invite_new: bool = Field(
        default=False,
        description="Invite every person the import creates to set their password (emailed)",
    )


class RowOutcome(BaseModel):
    row: int | None = Field(
        description="The row in its file (1 is the header); null for people the file does not name"
    )
    file: str | None = Field(description="The file the row is in, for multi-file formats")
    email: str
    sourced_id: str | None
    action: str = Field(description="created, updated, unchanged or deactivated")
    changed_fields: list[str]


class SchoolOutcome(BaseModel):
    sourced_id: str
    name: str
    action: str = Field(description="created, updated or unchanged")
    changed_fields: list[str]


class ImportResult(BaseModel):
    id: uuid.UUID
    format: str = Field(description="csv, json, oneroster-1.1, oneroster-1.2 or clever")
    mode: ImportMode
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    deactivated: int
    skipped: int = Field(
        description="People who are not staff (students, guardians, ...), "
        "and delta rows that do not apply"
    )
    schools_created: int
    schools_updated: int
    rows_total: int = Field(description="People the import created, updated, left or deactivated")
    rows: list[RowOutcome] = Field(
        description="The first of them, in file order; the rest at `rows_next` "
        "(`GET /roster-imports/{id}/rows`, paged)"
    )
    rows_next: str | None = Field(description="Where the outcomes go on, or null")
    schools: list[SchoolOutcome]
    invited: int = Field(default=0, description="New people invited (`invite_new`)")


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
    errors: list[FieldError] = Field(description="The first errors (ROSTER_MAX_ERRORS)")
    error_count: int = Field(description="How many errors there were in all")
    duration_ms: int
    created_at: datetime
