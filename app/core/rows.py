"""Changing a row that already exists: one rule each for a change, a soft delete and a restore.

Every table with `updated_at` says when it last changed; a table with `version` (its ETag,
checked by `If-Match` and by the UPDATE itself: `db.version_checked`) advances it with every
change, soft deletes and restores included, so a request holding the old ETag cannot overwrite
what happened in between.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from app.core.db import utcnow
from app.core.errors import Conflict


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
