"""Substitute coverage for observation times: teachers ask, administrators arrange or decline."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal, SchoolReach, caller_values, school_reach
from app.core import rows
from app.core.db import table_of, utcnow
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.core.pagination import PageQuery
from app.core.reads import Bound
from app.core.sql import AnySelect, json_object
from app.coverage import policies
from app.coverage.models import CoverageRequest, CoverageStatus
from app.coverage.schemas import (
    CoverageArrange,
    CoverageDecline,
    CoverageRequestCreate,
    CoverageRequestPublic,
)
from app.events.models import Event, EventKind, EventParticipant, EventStatus
from app.schools.policies import school_of_request
from app.teams import service as team_service
from app.users.models import User

OPEN = (CoverageStatus.pending, CoverageStatus.arranged)


async def create(
    session: AsyncSession, principal: Principal, data: CoverageRequestCreate
) -> uuid.UUID:
    assert principal.user is not None
    me = principal.user.id
    event = await session.get(Event, data.event_id)
    access = await team_service.get_viewable(session, principal, event.team_id) if event else None
    if event is None or event.deleted_at is not None or access is None:
        raise Unprocessable.for_field("event_id", "no such event")
    if event.kind != EventKind.observation or event.status != EventStatus.scheduled:
        raise Unprocessable.for_field(
            "event_id", "coverage is requested for a scheduled observation"
        )
    attends = await session.execute(
        select(col(EventParticipant.user_id)).where(
            col(EventParticipant.event_id) == event.id, col(EventParticipant.user_id) == me
        )
    )
    if attends.first() is None:
        raise Forbidden("Only a teacher taking part in the observation asks for coverage")
    school_id = school_of_request(principal, data.school_id)
    duplicate = await session.execute(
        select(col(CoverageRequest.id)).where(
            col(CoverageRequest.event_id) == event.id,
            col(CoverageRequest.requester_id) == me,
            col(CoverageRequest.status).in_(OPEN),
        )
    )
    if duplicate.first() is not None:
        raise Conflict("You already have an open coverage request for this observation")
    request = CoverageRequest(
        event_id=event.id,
        team_id=event.team_id,
        requester_id=me,
        school_id=school_id,
        note=data.note,
    )
    session.add(request)
    try:
        await session.flush()
    except IntegrityError as exc:  # a parallel request stored one first (the unique index)
        raise Conflict("You already have an open coverage request for this observation") from exc
    return request.id


def list_query(
    principal: Principal,
    *,
    status: CoverageStatus | None,
    school_id: uuid.UUID | None,
    team_id: uuid.UUID | None,
) -> tuple[PageQuery, dict[str, Any]]:
    """The requests the caller may see, by the observation's date, with the values of its
    parameters."""
    given = (status is not None, school_id is not None, team_id is not None)
    query = _list_query(school_reach(principal), *given)
    values = {
        **caller_values(principal),
        "status": status,
        "school_id": school_id,
        "team_id": team_id,
    }
    return query, values


def one_statement(principal: Principal, request_id: uuid.UUID) -> Bound:
    """One request as the list shows it, if the caller may see it."""
    values = {**caller_values(principal), "request_id": request_id}
    return Bound(_one(school_reach(principal)), values)


@functools.cache
def _requests(reach: SchoolReach, by_status: bool, by_school: bool, by_team: bool) -> AnySelect:
    """The requests a kind of caller sees, narrowed by the filters given (built once each)."""
    requester = json_object(
        id=col(User.id), given_name=col(User.given_name), family_name=col(User.family_name)
    )
    stmt = (
        select(
            *table_of(CoverageRequest).columns,
            col(Event.starts_at).label("event_starts_at"),
            col(Event.ends_at).label("event_ends_at"),
            requester.label("requester"),
        )
        .join(Event, col(Event.id) == CoverageRequest.event_id)
        .join(User, col(User.id) == CoverageRequest.requester_id)
        .where(policies.readable_within(reach))
    )
    if by_status:
        stmt = stmt.where(col(CoverageRequest.status) == bindparam("status"))
    if by_school:
        stmt = stmt.where(col(CoverageRequest.school_id) == bindparam("school_id"))
    if by_team:
        stmt = stmt.where(col(CoverageRequest.team_id) == bindparam("team_id"))
    return stmt


ORDER = (Event.starts_at, CoverageRequest.id)


@functools.cache
def _list_query(reach: SchoolReach, *filters: bool) -> PageQuery:
    return PageQuery(_requests(reach, *filters), ORDER)


@functools.cache
def _one(reach: SchoolReach) -> AnySelect:
    return _requests(reach, False, False, False).where(
        col(CoverageRequest.id) == bindparam("request_id")
    )


async def view(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID
) -> CoverageRequestPublic:
    """One request as the API shows it, if the caller may see it (404 otherwise)."""
    one = one_statement(principal, request_id)
    row = (await session.execute(one.stmt, one.values)).mappings().first()
    if row is None:
        raise NotFound("No such coverage request")
    return CoverageRequestPublic.model_validate(row)


def _decide(request: CoverageRequest, principal: Principal, status: CoverageStatus) -> None:
    if request.status != CoverageStatus.pending:
        raise Conflict(f"The request is already {CoverageStatus(request.status).value}")
    request.status = status
    request.decided_by_id = principal.staff.id
    request.decided_at = request.updated_at = utcnow()


async def arrange(
    session: AsyncSession, principal: Principal, request: CoverageRequest, data: CoverageArrange
) -> CoverageRequestPublic:
    _decide(request, principal, CoverageStatus.arranged)
    request.covered_by, request.decision_note = data.covered_by, data.note
    await session.flush()
    return await view(session, principal, request.id)


async def decline(
    session: AsyncSession, principal: Principal, request: CoverageRequest, data: CoverageDecline
) -> CoverageRequestPublic:
    _decide(request, principal, CoverageStatus.declined)
    request.decision_note = data.reason
    await session.flush()
    return await view(session, principal, request.id)


async def cancel(
    session: AsyncSession, principal: Principal, request: CoverageRequest
) -> CoverageRequestPublic:
    if request.status not in OPEN:
        raise Conflict(f"The request is already {CoverageStatus(request.status).value}")
    request.status = CoverageStatus.cancelled
    rows.changed(request)
    await session.flush()
    return await view(session, principal, request.id)
