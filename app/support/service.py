"""Support requests: a teacher asks; administrators of that school (or the district) answer."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal, SchoolReach, caller_values, school_reach
from app.core.access import public_columns
from app.core.db import utcnow
from app.core.errors import Conflict, Unprocessable
from app.core.pagination import PageQuery
from app.core.reads import Bound
from app.core.sql import AnySelect
from app.notifications import service as notifications
from app.notifications.models import NotificationKind
from app.schools.policies import school_of_request
from app.support import policies
from app.support.models import SupportRequest, SupportStatus
from app.support.schemas import SupportAnswer, SupportRequestCreate, SupportRequestPublic
from app.teams.models import TeamMember


async def create(session: AsyncSession, p: Principal, data: SupportRequestCreate) -> SupportRequest:
    assert p.user is not None
    school_id = school_of_request(p, data.school_id)
    if data.team_id is not None:
        on_team = await session.execute(
            select(col(TeamMember.team_id)).where(
                col(TeamMember.team_id) == data.team_id, col(TeamMember.user_id) == p.user.id
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


def list_query(
    p: Principal, status: SupportStatus | None, school_id: uuid.UUID | None
) -> tuple[PageQuery, dict[str, Any]]:
    """The requests the caller may see, oldest first, with the values of its parameters."""
    query = _list_query(school_reach(p), status is not None, school_id is not None)
    return query, {**caller_values(p), "status": status, "school_id": school_id}


def one_statement(p: Principal, request_id: uuid.UUID) -> Bound:
    """One request as the list shows it, if the caller may see it."""
    values = {**caller_values(p), "request_id": request_id}
    return Bound(_one(school_reach(p)), values)


@functools.cache
def _requests(reach: SchoolReach, by_status: bool, by_school: bool) -> AnySelect:
    """The requests a kind of caller sees, narrowed by the filters given (built once each)."""
    stmt = select(*public_columns(SupportRequest, SupportRequestPublic)).where(
        policies.readable_within(reach)
    )
    if by_status:
        stmt = stmt.where(col(SupportRequest.status) == bindparam("status"))
    if by_school:
        stmt = stmt.where(col(SupportRequest.school_id) == bindparam("school_id"))
    return stmt


@functools.cache
def _list_query(reach: SchoolReach, by_status: bool, by_school: bool) -> PageQuery:
    return PageQuery(
        _requests(reach, by_status, by_school), (SupportRequest.created_at, SupportRequest.id)
    )


@functools.cache
def _one(reach: SchoolReach) -> AnySelect:
    return _requests(reach, False, False).where(col(SupportRequest.id) == bindparam("request_id"))


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
    await notifications.tell(
        session, [request.requester_id], NotificationKind.support_answered,
        "Your request for support has an answer", f"/support-requests/{request.id}", actor=p,
    )  # fmt: skip
    return request


async def close(session: AsyncSession, request: SupportRequest) -> SupportRequest:
    if request.status == SupportStatus.closed:
        raise Conflict("The request is already closed")
    request.status, request.updated_at = SupportStatus.closed, utcnow()
    await session.flush()
    return request
