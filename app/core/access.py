"""The single load behind every access dependency: a resource's own visibility filter (the one
its list uses, from its `policies.py`) plus the id, in one statement. An id that does not exist
and one the caller may not see cost the same and answer the same 404.

Changes load the table row in the request's session (`load_visible`); reads load what the API
shows through the read interface (`read_visible`), as statements built once per kind of caller
(templates) with the caller and the id as bind parameters."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.reads import Reads, Statement

Row = TypeVar("Row")
T = TypeVar("T", bound=BaseModel)


async def load_visible(
    session: AsyncSession,
    model: type[Row],
    ident: uuid.UUID,
    visible: ColumnElement[bool],
    *,
    missing: str,
    lock: bool = False,
    params: Mapping[str, Any] | None = None,
) -> Row:
    """The row of `model` with this id if `visible` holds for it, else 404 (`missing`).
    `lock` holds the row until the transaction ends (PostgreSQL), for a change that checks its
    state first: a parallel change waits, then sees the new state. `params` are the values of
    bind parameters in `visible` (filters built once as templates)."""
    table: Any = model
    stmt = select(model).where(table.id == ident, visible)
    if lock:
        stmt = stmt.with_for_update(of=table)
    found = (await session.execute(stmt, params)).scalar_one_or_none()
    if found is None:
        raise NotFound(missing)
    return found


async def read_visible(
    reads: Reads,
    schema: type[T],
    stmt: Statement,
    *,
    missing: str,
    values: Mapping[str, Any] | None = None,
) -> T:
    """What `stmt` selects (a list's statement narrowed to one id), as `schema`, else 404."""
    found = await reads.one(schema, stmt, values)
    if found is None:
        raise NotFound(missing)
    return found


def public_columns(model: Any, schema: type[BaseModel]) -> list[Any]:
    """The table columns of `model` that `schema` shows (never a hash or a secret it omits)."""
    return [c for c in model.__table__.columns if c.key in schema.model_fields]
