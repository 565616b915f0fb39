"""The focus-area catalog teams choose from (seeded with the program's suggestions: catalog.py).
Functions flush; the request commits."""

from __future__ import annotations

import functools
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core import rows
from app.core.db import table_of
from app.core.errors import Conflict
from app.core.pagination import PageQuery
from app.focus_areas.models import FocusArea
from app.focus_areas.schemas import FocusAreaCreate, FocusAreaUpdate


@functools.cache
def list_query(include_inactive: bool) -> PageQuery:
    """The catalog by name (built once each way)."""
    stmt = select(*table_of(FocusArea).columns)
    if not include_inactive:
        stmt = stmt.where(col(FocusArea.is_active).is_(True))
    return PageQuery(stmt, (FocusArea.name, FocusArea.id))


async def _name_free(session: AsyncSession, name: str, exclude: uuid.UUID | None) -> None:
    stmt = select(col(FocusArea.id)).where(func.lower(FocusArea.name) == name.lower())
    if exclude is not None:
        stmt = stmt.where(col(FocusArea.id) != exclude)
    if (await session.execute(stmt)).first() is not None:
        raise Conflict("A focus area with this name already exists")


async def create(session: AsyncSession, data: FocusAreaCreate) -> FocusArea:
    await _name_free(session, data.name, None)
    area = FocusArea(name=data.name, description=data.description)
    session.add(area)
    await session.flush()
    return area


async def update(session: AsyncSession, area: FocusArea, data: FocusAreaUpdate) -> FocusArea:
    changes = rows.patch(area, data)
    if "name" in changes:
        await _name_free(session, changes["name"], area.id)
    for key, value in changes.items():
        setattr(area, key, value)
    await session.flush()
    return area
