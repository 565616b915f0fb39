"""The resource library: administrators curate it, every staff member reads it and marks
what they have reviewed."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import CALLER_ID, Principal, caller_values
from app.core import rows
from app.core.db import columns_of, table_of
from app.core.errors import FieldError, Unprocessable
from app.core.pagination import PageQuery, contains_param, search_text
from app.core.reads import Bound
from app.core.sql import AnySelect, collected
from app.focus_areas.models import FocusArea
from app.resources import policies
from app.resources.models import Resource, ResourceReview, ResourceTag
from app.resources.schemas import ResourceCreate, ResourcePublic, ResourceUpdate


async def _check_tags(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    if not ids:
        return
    found = set(
        (
            await session.execute(select(col(FocusArea.id)).where(col(FocusArea.id).in_(ids)))
        ).scalars()
    )
    missing = set(ids) - found
    if missing:
        raise Unprocessable(
            "Unknown focus area",
            errors=[
                FieldError(
                    field="body.focus_area_ids", message=f"unknown focus area {m}", type="unknown"
                )
                for m in sorted(missing, key=str)
            ],
        )


async def _set_tags(session: AsyncSession, resource_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    await session.execute(delete(ResourceTag).where(col(ResourceTag.resource_id) == resource_id))
    if ids:
        await session.execute(
            insert(ResourceTag),
            [{"resource_id": resource_id, "focus_area_id": f} for f in set(ids)],
        )


async def create(
    session: AsyncSession, principal: Principal, data: ResourceCreate
) -> ResourcePublic:
    """Add it, and answer it as the library shows it, from what was written (nobody has
    reviewed it yet; its tags in the library's order, by id)."""
    await _check_tags(session, data.focus_area_ids)
    resource = Resource(
        title=data.title,
        url=str(data.url) if data.url else None,
        body=data.body,
        created_by_id=principal.user.id if principal.user else None,
    )
    session.add(resource)
    await session.flush()
    await _set_tags(session, resource.id, data.focus_area_ids)
    return ResourcePublic.model_validate(
        {
            **columns_of(resource),
            "focus_area_ids": sorted(set(data.focus_area_ids)),
            "reviewed_by_me": False,
            "reviewed_at": None,
        }
    )


async def update(
    session: AsyncSession, principal: Principal, resource: Resource, data: ResourceUpdate
) -> ResourcePublic:
    changes = rows.patch(resource, data)
    if "focus_area_ids" in changes:
        await _check_tags(session, changes["focus_area_ids"])
        await _set_tags(session, resource.id, changes["focus_area_ids"])
    for key in ("title", "url", "body"):
        if key in changes:
            setattr(
                resource, key, str(changes[key]) if key == "url" and changes[key] else changes[key]
            )
    if not resource.url and not resource.body:
        raise Unprocessable(
            "A resource needs a url or a body",
            errors=[FieldError(field="body", message="give a url or a body", type="missing")],
        )
    rows.changed(resource)
    await session.flush()
    return await _public(session, principal, resource)


async def soft_delete(session: AsyncSession, resource: Resource) -> None:
    rows.soft_delete(resource)
    await session.flush()


async def mark_reviewed(
    session: AsyncSession, principal: Principal, resource: Resource, reviewed: bool
) -> ResourcePublic:
    me = principal.staff.id
    await session.execute(
        delete(ResourceReview).where(
            col(ResourceReview.resource_id) == resource.id, col(ResourceReview.user_id) == me
        )
    )
    if reviewed:
        session.add(ResourceReview(resource_id=resource.id, user_id=me))
        await session.flush()
    return await _public(session, principal, resource)


def list_query(
    principal: Principal, focus_area_id: uuid.UUID | None, q: str | None, reviewed: bool | None
) -> tuple[PageQuery, dict[str, Any]]:
    """The library by title, with the caller's reviewed mark, and the values of its
    parameters."""
    query = _list_query(focus_area_id is not None, bool(q), reviewed)
    values = {
        **caller_values(principal),
        "focus_area_id": focus_area_id,
        "q": search_text(q) if q else None,
    }
    return query, values


def one_statement(principal: Principal, resource_id: uuid.UUID) -> Bound:
    """One resource as the list shows it, if the caller may read it."""
    return Bound(_one(), {**caller_values(principal), "resource_id": resource_id})


def _with_my_review(stmt: AnySelect) -> AnySelect:
    """`stmt` (resources) joined to the caller's review of each, if any (at most one: the
    review's key is the resource and the reviewer): read once for both columns and the
    `reviewed` filter, where a correlated subquery was asked once for each."""
    return stmt.outerjoin(
        ResourceReview,
        (col(ResourceReview.resource_id) == Resource.id)
        & (col(ResourceReview.user_id) == bindparam(CALLER_ID)),
    )


def _review_columns() -> list[Any]:
    """The caller's review beside a resource (from `_with_my_review`)."""
    reviewed_at = col(ResourceReview.reviewed_at)
    return [reviewed_at.label("reviewed_at"), reviewed_at.is_not(None).label("reviewed_by_me")]


def _tags() -> Any:
    """A resource's focus areas, by id, as one column."""
    tags = (
        select(col(ResourceTag.focus_area_id))
        .where(col(ResourceTag.resource_id) == Resource.id)
        .order_by(col(ResourceTag.focus_area_id))
    )
    return collected(tags).label("focus_area_ids")


@functools.cache
def _resources(by_focus_area: bool, by_text: bool, reviewed: bool | None) -> AnySelect:
    """The resources the library shows as ResourcePublic (their columns, the caller's review,
    the tags), narrowed by the filters given (built once each)."""
    columns = [*table_of(Resource).columns, *_review_columns(), _tags()]
    stmt = _with_my_review(select(*columns).select_from(Resource))
    stmt = stmt.where(policies.readable_resources())
    if by_focus_area:
        tagged = select(col(ResourceTag.resource_id)).where(
            col(ResourceTag.focus_area_id) == bindparam("focus_area_id")
        )
        stmt = stmt.where(col(Resource.id).in_(tagged))
    if by_text:
        stmt = stmt.where(contains_param(Resource.title, "q"))
    if reviewed is not None:
        mine = col(ResourceReview.reviewed_at)
        stmt = stmt.where(mine.is_not(None) if reviewed else mine.is_(None))
    return stmt


@functools.cache
def _list_query(by_focus_area: bool, by_text: bool, reviewed: bool | None) -> PageQuery:
    return PageQuery(_resources(by_focus_area, by_text, reviewed), (Resource.title, Resource.id))


@functools.cache
def _one() -> AnySelect:
    return _resources(False, False, None).where(col(Resource.id) == bindparam("resource_id"))


@functools.cache
def _beside_one() -> AnySelect:
    """What ResourcePublic shows beside a resource's columns: the caller's review, the tags."""
    beside = select(*_review_columns(), _tags()).select_from(Resource)
    return _with_my_review(beside).where(col(Resource.id) == bindparam("resource_id"))


async def _public(
    session: AsyncSession, principal: Principal, resource: Resource
) -> ResourcePublic:
    """A resource just changed, as the caller reads it: the written row, and its tags and the
    caller's review read beside it (not the row again)."""
    values = {**caller_values(principal), "resource_id": resource.id}
    beside = (await session.execute(_beside_one(), values)).mappings().one()
    return ResourcePublic.model_validate({**columns_of(resource), **beside})
