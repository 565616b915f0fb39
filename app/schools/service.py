"""Rules for schools. Functions flush; the request's session commits."""

import functools
import uuid
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.core import rows
from app.core.db import table_of
from app.core.errors import Conflict
from app.core.pagination import PageQuery, contains_param, search_text
from app.core.reads import Bound
from app.core.sql import AnySelect
from app.schools import policies
from app.schools.models import School
from app.schools.schemas import SchoolCreate, SchoolUpdate


@functools.cache
def _list_query(by_text: bool) -> PageQuery:
    stmt = select(*table_of(School).columns).where(policies.readable_schools())
    if by_text:
        stmt = stmt.where(contains_param(School.name, "q"))
    return PageQuery(stmt, (School.name, School.id))


def list_query(q: str | None) -> tuple[PageQuery, dict[str, Any]]:
    """The district's schools by name (those whose name contains `q`), with parameter values."""
    return _list_query(bool(q)), {"q": search_text(q) if q else None}


def one_statement(principal: Principal, school_id: uuid.UUID) -> Bound:
    """One school as the list shows it, if the caller may read it."""
    return Bound(_one(), {"school_id": school_id})


@functools.cache
def _one() -> AnySelect:
    return select(*table_of(School).columns).where(
        col(School.id) == bindparam("school_id"), policies.readable_schools()
    )


async def _ensure_unique(
    session: AsyncSession, name: str | None, sourced_id: str | None, exclude: uuid.UUID | None
) -> None:
    conds = []
    if name is not None:
        conds.append(func.lower(School.name) == name.lower())
    if sourced_id is not None:
        conds.append(col(School.sourced_id) == sourced_id)
    if not conds:
        return
    stmt = select(col(School.name), col(School.sourced_id)).where(or_(*conds))
    if exclude is not None:
        stmt = stmt.where(col(School.id) != exclude)
    clash = (await session.execute(stmt)).first()
    if clash is not None:
        field = "name" if name is not None and clash.name.lower() == name.lower() else "sourced_id"
        raise Conflict(f"A school with this {field} already exists")


async def create(session: AsyncSession, data: SchoolCreate) -> School:
    await _ensure_unique(session, data.name, data.sourced_id, None)
    school = School(**data.model_dump())
    session.add(school)
    await session.flush()
    return school


async def update(session: AsyncSession, school: School, data: SchoolUpdate) -> School:
    changes = rows.patch(school, data)
    await _ensure_unique(session, changes.get("name"), changes.get("sourced_id"), school.id)
    for key, value in changes.items():
        setattr(school, key, value)
    if changes:
        rows.changed(school)
    session.add(school)
    await session.flush()
    return school
