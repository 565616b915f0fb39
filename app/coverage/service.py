"""Substitute coverage for observation times: teachers ask, administrators arrange or decline."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import Label
from sqlmodel import col

from app.auth.principal import Principal, SchoolReach, caller_values, school_reach
from app.core import rows
from app.core.db import columns_of, table_of, utcnow
from app.core.errors import Conflict, Forbidden, Unprocessable
from app.core.pagination import PageQuery
from app.core.reads import Bound
from app.core.sql import AnySelect, json_object
from app.coverage import policies
from app.coverage.models import OPEN_STATUSES, CoverageRequest, CoverageStatus
from app.coverage.schemas import (
    CoverageArrange,
    CoverageDecline,
    CoverageRequestCreate,
    CoverageRequestPublic,
)
from app.events.models import Event, EventKind, EventParticipant, EventStatus
from app.notifications import service as notifications
from app.notifications.models import NotificationKind
from app.schools.policies import school_of_request
from app.teams import service as team_service
from app.users.models import User

OPEN = OPEN_STATUSES
# What an administrator decides on: new requests, and arranged ones whose observation moved.
DECIDABLE = (CoverageStatus.pending, CoverageStatus.needs_review)
# An administrator's queue (`needs_attention`): undecided, and the observation still ahead.
NOW = "now"


async def create(
    session: AsyncSession, principal: Principal, data: CoverageRequestCreate
) -> CoverageRequestPublic:
    """Ask, and answer the request as its requester reads it, from what was written (the
    observation is scheduled and ahead: checked here)."""
    me = principal.staff.id
    event = await session.get(Event, data.event_id)
    access = await team_service.get_viewable(session, principal, event.team_id) if event else None
    if event is None or event.deleted_at is not None or access is None:
        raise Unprocessable.for_field("event_id", "no such event")
    if event.kind != EventKind.observation or event.status != EventStatus.scheduled:
        raise Unprocessable.for_field(
            "event_id", "coverage is requested for a scheduled observation"
        )
    if event.starts_at <= utcnow():
        raise Unprocessable.for_field(
            "event_id", "coverage is requested for an observation that has not started"
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
    admins = await notifications.school_admins_of(session, [me])
    await notifications.tell(
        session, admins, NotificationKind.coverage_requested,
        f"{principal.staff.given_name} {principal.staff.family_name} asks for coverage of an "
        "observation", f"/coverage-requests/{request.id}", team_id=event.team_id, actor=principal,
    )  # fmt: skip
    return CoverageRequestPublic.model_validate(
        {
            **columns_of(request),
            "requester": principal.staff.member_ref(),
            "event_starts_at": event.starts_at,
            "event_ends_at": event.ends_at,
            "event_location": event.location,
            "event_status": event.status,
        }
    )


def list_query(
    principal: Principal,
    *,
    status: CoverageStatus | None,
    school_id: uuid.UUID | None,
    team_id: uuid.UUID | None,
    needs_attention: bool = False,
) -> tuple[PageQuery, dict[str, Any]]:
    """The requests the caller may see, by the observation's date, with the values of its
    parameters. `needs_attention`: those an administrator still has to decide (pending, or
    needing review) for an observation ahead that is still on."""
    given = (status is not None, school_id is not None, team_id is not None, needs_attention)
    query = _list_query(school_reach(principal), *given)
    values = {
        **caller_values(principal),
        "status": status,
        "school_id": school_id,
        "team_id": team_id,
        NOW: utcnow(),
    }
    return query, values


def one_statement(principal: Principal, request_id: uuid.UUID) -> Bound:
    """One request as the list shows it, if the caller may see it."""
    values = {**caller_values(principal), "request_id": request_id}
    return Bound(_one(school_reach(principal)), values)


_STARTS_AT: Label[datetime] = col(Event.starts_at).label("event_starts_at")
# What a request's answer shows of its observation (the list's, one request's, a decision's).
_EVENT_COLUMNS: tuple[Label[Any], ...] = (
    _STARTS_AT,
    col(Event.ends_at).label("event_ends_at"),
    col(Event.location).label("event_location"),
    case((col(Event.deleted_at).is_not(None), "deleted"), else_=col(Event.status)).label(
        "event_status"
    ),
)


@functools.cache
def _requests(
    reach: SchoolReach, by_status: bool, by_school: bool, by_team: bool, attention: bool = False
) -> AnySelect:
    """The requests a kind of caller sees, narrowed by the filters given (built once each),
    without their requester (`_requester`)."""
    stmt = (
        select(*table_of(CoverageRequest).columns, *_EVENT_COLUMNS)
        .join(Event, col(Event.id) == CoverageRequest.event_id)
        .where(policies.readable_within(reach))
    )
    if by_status:
        stmt = stmt.where(col(CoverageRequest.status) == bindparam("status"))
    if by_school:
        stmt = stmt.where(col(CoverageRequest.school_id) == bindparam("school_id"))
    if by_team:
        stmt = stmt.where(col(CoverageRequest.team_id) == bindparam("team_id"))
    if attention:
        stmt = stmt.where(
            col(CoverageRequest.status).in_(DECIDABLE),
            col(Event.status) == EventStatus.scheduled,
            col(Event.deleted_at).is_(None),
            Event.starts_at > bindparam(NOW, type_=table_of(Event).c.starts_at.type),
        )
    return stmt


def _requester(requester_id: Any) -> Any:
    """The requester's names, looked up by id: for a page, per row of the page only
    (`PageQuery.per_row`). Joined into the list's select, PostgreSQL hashed every staff
    member (20,000 at district scale, 1.5 of a page's 3.1 ms) to name 50 requesters."""
    names = json_object(
        id=col(User.id), given_name=col(User.given_name), family_name=col(User.family_name)
    )
    return select(names).where(col(User.id) == requester_id).scalar_subquery().label("requester")


ORDER = (_STARTS_AT, CoverageRequest.id)


@functools.cache
def _list_query(reach: SchoolReach, *filters: bool) -> PageQuery:
    return PageQuery(
        _requests(reach, *filters), ORDER, per_row=lambda page: [_requester(page.requester_id)]
    )


@functools.cache
def _one(reach: SchoolReach) -> AnySelect:
    return (
        _requests(reach, False, False, False)
        .add_columns(_requester(CoverageRequest.requester_id))
        .where(col(CoverageRequest.id) == bindparam("request_id"))
    )


def _decide(request: CoverageRequest, principal: Principal, status: CoverageStatus) -> None:
    if request.status not in DECIDABLE:
        raise Conflict(f"The request is already {CoverageStatus(request.status).value}")
    request.status = status
    request.decided_by_id = principal.staff.id
    request.decided_at = utcnow()
    request.arranged_starts_at = request.arranged_ends_at = None
    rows.changed(request)


@functools.cache
def _surroundings() -> AnySelect:
    """What a request's answer shows beside its own columns (its observation and who asked),
    and whether the observation is gone (one row: the event and the requester by id)."""
    return select(*_EVENT_COLUMNS, _requester(bindparam("requester_id"))).where(
        col(Event.id) == bindparam("event_id")
    )


async def _around(session: AsyncSession, request: CoverageRequest) -> dict[str, Any]:
    values = {"event_id": request.event_id, "requester_id": request.requester_id}
    return dict((await session.execute(_surroundings(), values)).mappings().one())


def _public(request: CoverageRequest, around: dict[str, Any]) -> CoverageRequestPublic:
    """A request just decided or withdrawn, as the list shows it: its written row and its
    surroundings (read before the change; a decision does not move the observation)."""
    return CoverageRequestPublic.model_validate({**columns_of(request), **around})


def _check_ahead(around: dict[str, Any]) -> None:
    """A substitute can still be arranged for the observation (409 if it was cancelled or
    deleted, or has started)."""
    if around["event_status"] in (EventStatus.cancelled, "deleted"):
        raise Conflict("The observation was cancelled; there is no class to cover")
    if around["event_starts_at"] <= utcnow():
        raise Conflict("The observation has already started")


async def arrange(
    session: AsyncSession, principal: Principal, request: CoverageRequest, data: CoverageArrange
) -> CoverageRequestPublic:
    (item,) = await arrange_many(session, principal, [request], data)
    return item


async def arrange_many(
    session: AsyncSession,
    principal: Principal,
    requests: list[CoverageRequest],
    data: CoverageArrange,
) -> list[CoverageRequestPublic]:
    """One substitute for several requests (three short observations on one day): all of them
    are arranged, or none is."""
    arounds = []
    for request in requests:
        around = await _around(session, request)
        _check_ahead(around)
        _decide(request, principal, CoverageStatus.arranged)
        request.covered_by, request.decision_note = data.covered_by, data.note
        await notifications.tell(
            session, [request.requester_id], NotificationKind.coverage_arranged,
            "Coverage is arranged for your observation", f"/coverage-requests/{request.id}",
            team_id=request.team_id, actor=principal,
        )  # fmt: skip
        arounds.append(around)
    await session.flush()
    return [_public(request, around) for request, around in zip(requests, arounds, strict=True)]


async def decline(
    session: AsyncSession, principal: Principal, request: CoverageRequest, data: CoverageDecline
) -> CoverageRequestPublic:
    around = await _around(session, request)
    _decide(request, principal, CoverageStatus.declined)
    request.decision_note = data.reason
    await notifications.tell(
        session, [request.requester_id], NotificationKind.coverage_declined,
        "Coverage was declined for your observation", f"/coverage-requests/{request.id}",
        team_id=request.team_id, actor=principal,
    )  # fmt: skip
    await session.flush()
    return _public(request, around)


async def cancel(
    session: AsyncSession, principal: Principal, request: CoverageRequest
) -> CoverageRequestPublic:
    if request.status not in OPEN:
        raise Conflict(f"The request is already {CoverageStatus(request.status).value}")
    around = await _around(session, request)
    request.status = CoverageStatus.cancelled
    request.cancel_reason = "Withdrawn by the requester"
    rows.changed(request)
    await session.flush()
    return _public(request, around)


async def observation_cancelled(session: AsyncSession, event_id: uuid.UUID, reason: str) -> None:
    """The observation was cancelled or deleted: its open requests are cancelled, saying why."""
    now = utcnow()
    await session.execute(
        update(CoverageRequest)
        .where(col(CoverageRequest.event_id) == event_id, col(CoverageRequest.status).in_(OPEN))
        .values(status=CoverageStatus.cancelled, cancel_reason=reason, updated_at=now)
    )


async def observation_moved(
    session: AsyncSession, event_id: uuid.UUID, starts_at: datetime, ends_at: datetime
) -> None:
    """The observation moved from `starts_at`-`ends_at`: coverage arranged for those times
    needs an administrator's review again (pending requests simply follow the new times), and
    the administrators of the requesters' schools are told."""
    arranged = await session.execute(
        update(CoverageRequest)
        .where(
            col(CoverageRequest.event_id) == event_id,
            col(CoverageRequest.status) == CoverageStatus.arranged,
        )
        .values(
            status=CoverageStatus.needs_review,
            arranged_starts_at=starts_at,
            arranged_ends_at=ends_at,
            updated_at=utcnow(),
        )
        .returning(
            col(CoverageRequest.id), col(CoverageRequest.requester_id), col(CoverageRequest.team_id)
        )
    )
    moved = arranged.all()
    if not moved:
        return
    admins = await notifications.school_admins_each(session, [row.requester_id for row in moved])
    await notifications.tell_each(
        session,
        [
            notifications.Message(
                admins.get(row.requester_id, []),
                NotificationKind.coverage_needs_review,
                "An observation with coverage arranged has moved: review the coverage",
                f"/coverage-requests/{row.id}",
                team_id=row.team_id,
            )
            for row in moved
        ],
    )
