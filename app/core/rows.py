"""Changing a row that already exists: one rule each for a PATCH body, a change, a soft delete
and a restore.

A PATCH body changes the fields it names. A field left out stays as it is; `null` clears a
field that may be empty (a list becomes `[]`) and is refused (422, type `null`) for a field that
must have a value, the table's NOT NULL columns and lists of references that are not columns
(to empty those, send `[]`).

Every table with `updated_at` says when it last changed; a table with `version` (its ETag,
checked by `If-Match` and by the UPDATE itself: `db.version_checked`) advances it with every
change, soft deletes and restores included, so a request holding the old ETag cannot overwrite
what happened in between.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel
from sqlalchemy import JSON
from sqlmodel import SQLModel

from app.core.db import table_of, utcnow
from app.core.errors import Conflict, Unprocessable


@runtime_checkable
class Tracked(Protocol):
    updated_at: datetime


@runtime_checkable
class Versioned(Protocol):
    updated_at: datetime
    version: int


class SoftDeletable(Protocol):
    updated_at: datetime
    deleted_at: datetime | None


def patch(row: SQLModel, body: BaseModel) -> dict[str, Any]:
    """The changes a PATCH body asks of a row, its nulls checked by the module's rule."""
    changes = body.model_dump(exclude_unset=True)
    columns = table_of(type(row)).c
    for name, value in changes.items():
        column = columns.get(name)
        if value is not None or (column is not None and column.nullable):
            continue
        if column is not None and isinstance(column.type, JSON):
            changes[name] = []
            continue
        raise Unprocessable.for_field(name, "cannot be null", "null")
    return changes


def changed(row: Tracked) -> None:
    """Record a change to an existing row: now is its `updated_at`; its version advances."""
    row.updated_at = utcnow()
    if isinstance(row, Versioned):
        row.version += 1


def soft_delete(row: SoftDeletable) -> None:
    """Hide a row from every read (it stays, so an administrator can restore it)."""
    row.deleted_at = utcnow()
    changed(row)


def restore(row: SoftDeletable, what: str) -> None:
    """Bring back a soft-deleted row; 409 if it is not deleted."""
    if row.deleted_at is None:
        raise Conflict(f"The {what} is not deleted")
    row.deleted_at = None
    changed(row)
