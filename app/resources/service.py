"""The resource library: administrators curate it, every staff member reads it and marks
what they have reviewed."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.db import utcnow
from app.core.errors import FieldError, NotFound, Unprocessable, reject_nulls
from app.core.sql import collected
from app.focus_areas.models import FocusArea
from app.resources import policies
from app.resources.models import Resource, ResourceReview, ResourceTag
from app.resources.schemas import ResourceCreate, ResourcePublic, ResourceUpdate


async def _check_tags(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    if not ids:
        return
    found = set(
        (await session.execute(select(FocusArea.id).where(FocusArea.id.in_(ids)))).scalars()
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
    await session.execute(delete(ResourceTag).where(ResourceTag.resource_id == resource_id))
    if ids:
        await session.execute(
            insert(ResourceTag),
            [{"resource_id": resource_id, "focus_area_id": f} for f in set(ids)],
        )


async def create(session: AsyncSession, principal: Principal, data: ResourceCreate) -> uuid.UUID:
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
    return resource.id


async def update(
    session: AsyncSession, principal: Principal, resource: Resource, data: ResourceUpdate
) -> ResourcePublic:
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, ("title",))
    if "focus_area_ids" in changes and changes["focus_area_ids"] is not None:
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
    resource.updated_at = utcnow()
    await session.flush()
    return await view(session, principal, resource.id)


async def soft_delete(session: AsyncSession, resource: Resource) -> None:
    resource.deleted_at = utcnow()
    await session.flush()


async def mark_reviewed(
    session: AsyncSession, principal: Principal, resource: Resource, reviewed: bool
) -> ResourcePublic:
    me = principal.staff.id
    await session.execute(
        delete(ResourceReview).where(
            ResourceReview.resource_id == resource.id, ResourceReview.user_id == me
        )
    )
    if reviewed:
        session.add(ResourceReview(resource_id=resource.id, user_id=me))
        await session.flush()
    return await view(session, principal, resource.id)


def list_statement(
    principal: Principal, focus_area_id: uuid.UUID | None, q: str | None, reviewed: bool | None
) -> Select[Any]:
    assert principal.user is not None
    my_review = (
        select(ResourceReview.reviewed_at)
        .where(
            ResourceReview.resource_id == Resource.id, ResourceReview.user_id == principal.user.id
        )
        .correlate(Resource)
        .scalar_subquery()
    )
    stmt = select(
        *Resource.__table__.columns,
        my_review.label("reviewed_at"),
        my_review.is_not(None).label("reviewed_by_me"),
        collected(
            select(ResourceTag.focus_area_id)
            .where(ResourceTag.resource_id == Resource.id)
            .order_by(ResourceTag.focus_area_id)
        ).label("focus_area_ids"),
    ).where(policies.readable(principal))
    if focus_area_id is not None:
        stmt = stmt.where(
            Resource.id.in_(
                select(ResourceTag.resource_id).where(ResourceTag.focus_area_id == focus_area_id)
            )
        )
    if q:
        stmt = stmt.where(func.lower(Resource.title).contains(q.lower(), autoescape=True))
    if reviewed is not None:
        stmt = stmt.where(my_review.is_not(None) if reviewed else my_review.is_(None))
    return stmt.order_by(Resource.title, Resource.id)


def one_statement(principal: Principal, resource_id: uuid.UUID) -> Select[Any]:
    """One resource as the list shows it, if the caller may read it."""
    return list_statement(principal, None, None, None).where(Resource.id == resource_id)


async def view(
    session: AsyncSession, principal: Principal, resource_id: uuid.UUID
) -> ResourcePublic:
    """One resource as the API shows it, if the caller may read it (404 otherwise)."""
    row = (await session.execute(one_statement(principal, resource_id))).mappings().first()
    if row is None:
        raise NotFound("No such resource")
    return ResourcePublic.model_validate(row)
