"""Support requests: a teacher asks; administrators of that school (or the district) answer."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.db import utcnow
from app.core.errors import Conflict, Unprocessable
from app.support import policies
from app.support.models import SupportRequest, SupportStatus
from app.support.schemas import SupportAnswer, SupportRequestCreate
from app.teams.models import TeamMember


async def create(session: AsyncSession, p: Principal, data: SupportRequestCreate) -> SupportRequest:
    assert p.user is not None
    if data.school_id is not None:
        if data.school_id not in p.school_ids:
            raise Unprocessable.for_field("school_id", "not one of your schools")
        school_id = data.school_id
    elif len(p.school_ids) == 1:
        school_id = next(iter(p.school_ids))
    else:
        raise Unprocessable.for_field("school_id", "say which of your schools this is for")
    if data.team_id is not None:
        on_team = await session.execute(
            select(TeamMember.team_id).where(
                TeamMember.team_id == data.team_id, TeamMember.user_id == p.user.id
            )
        )
        if on_team.first() is None:
            raise Unprocessable.for_field("team_id", "not a team you are on")
    request = SupportRequest(
        requester_id=p.user.id,
        school_id=school_id,
        team_id=data.team_id,
        kind=data.kind,
        subject=data.subject,
        message=data.message,
    )
    session.add(request)
    await session.flush()
    return request


def list_statement(
    p: Principal, status: SupportStatus | None, school_id: uuid.UUID | None
) -> Select[Any]:
    stmt = select(*SupportRequest.__table__.columns).where(policies.readable(p))
    if status is not None:
        stmt = stmt.where(SupportRequest.status == status)
    if school_id is not None:
        stmt = stmt.where(SupportRequest.school_id == school_id)
    return stmt.order_by(SupportRequest.created_at, SupportRequest.id)


async def answer(
    session: AsyncSession, p: Principal, request: SupportRequest, data: SupportAnswer
) -> SupportRequest:
    """Answer (again: the answer is replaced) unless the request is closed."""
    if request.status == SupportStatus.closed:
        raise Conflict("The request is closed")
    request.answer, request.status = data.answer, SupportStatus.answered
    request.answered_by_id = p.staff.id
    request.answered_at = request.updated_at = utcnow()
    await session.flush()
    return request


async def close(session: AsyncSession, request: SupportRequest) -> SupportRequest:
    if request.status == SupportStatus.closed:
        raise Conflict("The request is already closed")
    request.status, request.updated_at = SupportStatus.closed, utcnow()
    await session.flush()
    return request
