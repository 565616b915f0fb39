"""Rules for the calendar of events: who takes part, no double-booking, reschedule, cancel."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import bindparam, delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.auth.principal import Principal, caller_values
from app.calendar_feeds import mail as invitations
from app.core import rows
from app.core.config import Settings
from app.core.db import columns_of, table_of, utcnow
from app.core.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable
from app.core.etag import require_current
from app.core.pagination import PageQuery
from app.core.reads import Bound
from app.core.sql import AnySelect, nested
from app.core.writes import Change, Transaction, Writes, as_model, new_row
from app.coverage import service as coverage
from app.events import policies
from app.events.models import Event, EventKind, EventParticipant, EventStatus
from app.events.schemas import MAX_EVENT_LENGTH, EventCreate, EventPublic, EventUpdate
from app.mail.models import OutboxMessage
from app.notifications import service as notifications
from app.notifications.models import Notification, NotificationKind
from app.plans.models import ActionPlan, PlanStatus
from app.program_rules.service import rule_column
from app.school_years import service as school_years
from app.school_years.models import SchoolYear
from app.teams import policies as team_policies
from app.teams import service as teams
from app.teams.models import Team
from app.teams.policies import TeamAccess
from app.users.models import Role, SchoolMembership, User

# A person's role, whether active, and their schools (one row each, or one without a school).
_PLACES = Bound(
    select(col(User.role), col(User.is_active), col(SchoolMembership.school_id))
    .outerjoin(SchoolMembership, col(SchoolMembership.user_id) == User.id)
    .where(col(User.id) == bindparam("user_id")),
    {},
)


async def _admin_may_attend(tx: Transaction, user_id: uuid.UUID, access: TeamAccess) -> bool:
    """A year-end meeting's administrator: district, or of a member's school."""
    found = await tx.execute(_PLACES, {"user_id": user_id})
    if not found or not found[0]["is_active"]:
        return False
    role = Role(found[0]["role"])
    if role == Role.district_admin:
        return True
    schools = {r["school_id"] for r in found if r["school_id"] is not None}
    return role == Role.school_admin and bool(schools & access.member_school_ids)


async def _participants(
    tx: Transaction,
    access: TeamAccess,
    kind: EventKind,
    requested: list[uuid.UUID] | None,
    observer_id: uuid.UUID | None,
    observed_id: uuid.UUID | None,
    scheduler: uuid.UUID,
) -> set[uuid.UUID]:
    """Who takes part: the members named (by default: an observation's two teachers, every
    member otherwise); a year-end meeting also has an administrator of a member's school (by
    default the one scheduling it) and is refused without one."""
    errors: list[FieldError] = []
    for name, value in (("observer_id", observer_id), ("observed_id", observed_id)):
        if value is not None and value not in access.member_ids:
            errors.append(
                FieldError(
                    field=f"body.{name}", message="not a member of the team", type="not_member"
                )
            )
    if requested is None:
        chosen = (
            {observer_id, observed_id} - {None}
            if kind == EventKind.observation
            else set(access.member_ids)
        )
        if kind == EventKind.year_end_meeting:
            chosen.add(scheduler)
    else:
        chosen = set(requested) | ({observer_id, observed_id} - {None})
    for user_id in sorted(chosen - access.member_ids, key=str):
        if kind == EventKind.year_end_meeting and await _admin_may_attend(tx, user_id, access):  # type: ignore[arg-type]
            continue
        errors.append(
            FieldError(
                field="body.participant_ids",
                message=f"{user_id} cannot take part",
                type="not_member",
            )
        )
    if errors:
        raise Unprocessable("Participants must belong to the team", errors=errors)
    if not chosen:
        raise Unprocessable(
            "An event needs participants",
            errors=[FieldError(field="body.participant_ids", message="empty", type="too_short")],
        )
    if kind == EventKind.year_end_meeting and not chosen - access.member_ids:
        raise Unprocessable.for_field(
            "participant_ids",
            "a year-end meeting includes an administrator of a member's school",
            "no_administrator",
        )
    return chosen  # type: ignore[return-value]


class _Clash(BaseModel):
    id: uuid.UUID
    team_id: uuid.UUID
    kind: EventKind
    title: str | None
    starts_at: datetime
    user_id: uuid.UUID


@functools.cache
def _clash(excluding: bool) -> Bound:
    """The first scheduled event that overlaps [starts_at, ends_at) and one of `people` takes
    part in (built once each way: with an event to leave out, `exclude`, or not).

    Driven by the time window, not by the participants: a person with thousands of events
    would otherwise have each of them read. An event lasts at most MAX_EVENT_LENGTH, so one that
    overlaps starts less than that before this one (an index range on starts_at)."""
    booked = select(col(EventParticipant.user_id)).where(
        col(EventParticipant.event_id) == Event.id,
        col(EventParticipant.user_id).in_(bindparam("people", expanding=True)),
    )
    who = booked.order_by(col(EventParticipant.user_id)).limit(1).scalar_subquery()
    stmt = (
        select(
            col(Event.id),
            col(Event.team_id),
            col(Event.kind),
            col(Event.title),
            col(Event.starts_at),
            who.label("user_id"),
        )
        .where(
            Event.starts_at > bindparam("window_start"),
            Event.starts_at < bindparam("ends_at"),
            Event.ends_at > bindparam("starts_at"),
            col(Event.status) != EventStatus.cancelled,
            col(Event.deleted_at).is_(None),
            exists(booked),
        )
        .order_by(col(Event.starts_at), col(Event.id))
        .limit(1)
    )
    return Bound(stmt.where(col(Event.id) != bindparam("exclude")) if excluding else stmt, {})


async def _check_double_booking(
    tx: Transaction,
    access: TeamAccess,
    participants: set[uuid.UUID],
    starts_at: datetime,
    ends_at: datetime,
    exclude: uuid.UUID | None,
) -> None:
    """409 if a participant is booked then. The answer names the other event only when it is
    this team's: another team's calendar is not the caller's to see ("busy at that time").
    Each participant's booking is locked until the transaction ends, so two concurrent
    bookings cannot both pass the check (`Transaction.lock`)."""
    await tx.lock(f"booking:{user_id}" for user_id in participants)
    values = {
        "people": sorted(participants, key=str),
        "window_start": starts_at - MAX_EVENT_LENGTH,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "exclude": exclude,
    }
    clash = await tx.one(_Clash, _clash(exclude is not None), values)
    if clash is None:
        return
    if clash.team_id != access.team.id:
        raise Conflict(f"Participant {clash.user_id} is busy at that time")
    raise Conflict(
        f"Participant {clash.user_id} is already booked at that time by event {clash.id} "
        f"({clash.kind.value}{': ' + clash.title if clash.title else ''}, "
        f"starting {clash.starts_at.isoformat()})"
    )


# The team's zone, and its school year if the district recorded it (one row either way).
_ZONE = select(teams.time_zone_of(bindparam("team_id")).scalar_subquery().label("zone")).subquery()
_YEAR_AND_ZONE = (
    select(_ZONE.c.zone, SchoolYear)
    .select_from(_ZONE)
    .outerjoin(SchoolYear, col(SchoolYear.label) == bindparam("label"))
)


async def _check_school_year(
    session: AsyncSession, access: TeamAccess, kind: EventKind, starts: datetime, ends: datetime
) -> None:
    """`_check_year` of an event moved: the year and the team's zone read in one statement."""
    values = {"label": access.team.school_year, "team_id": access.team.id}
    name, year = (await session.execute(_YEAR_AND_ZONE, values)).one()
    _check_year(year, ZoneInfo(name or "UTC"), kind, starts, ends)


def _check_year(
    year: SchoolYear | None, zone: ZoneInfo, kind: EventKind, starts: datetime, ends: datetime
) -> None:
    """Inside the team's school year and its windows, when the district has recorded the year
    (school_years.service.check_event: 422 otherwise), and the year not over (409)."""
    if year is not None:
        school_years.check_open(year.label, year.ends_on)
        school_years.check_event(year, kind, starts, ends, zone)


# The team `team_id` if the caller sees it (a rule of teams.policies), with its members
# (teams.service.joined_with_members) and their accounts as an invitation and a notification of
# the event read them, its time zone and its school year if the district recorded it: what
# scheduling decides by, in one statement, its rows in the members' name order.
_YEAR = {c.key: c.label(f"year_{c.key}") for c in table_of(SchoolYear).columns}
# A member's account under its own name: the visibility rule's subqueries may read accounts.
_PERSON = aliased(User, name="person")
_PERSON_COLUMNS: dict[str, Any] = {
    key: col(getattr(_PERSON, key)).label(f"person_{key}")
    for key in ("given_name", "family_name", "email", "is_active")
}


@functools.cache
def _scheduling(visible: Any) -> Bound:
    zone = teams.time_zone_of(Team.id).scalar_subquery().label("zone")
    quiet = notifications.quiet_column(NotificationKind.event_scheduled, _PERSON)
    stmt = teams.joined_with_members(select(*table_of(Team).columns, zone, *_YEAR.values()), Team)
    member = stmt.selected_columns.user_id
    stmt = (
        stmt.add_columns(*_PERSON_COLUMNS.values(), quiet.label("person_quiet"))
        .outerjoin(SchoolYear, col(SchoolYear.label) == Team.school_year)
        .outerjoin(_PERSON, col(_PERSON.id) == member)
        .where(col(Team.id) == bindparam("team_id"), visible)
        .order_by(col(_PERSON.family_name), col(_PERSON.given_name), member)
    )
    return Bound(stmt, {})


async def _team_to_schedule(
    tx: Transaction, principal: Principal, team_id: uuid.UUID
) -> tuple[TeamAccess, SchoolYear | None, ZoneInfo, list[invitations.Participant]]:
    """The team (404 unless the caller sees it) with its members, school year and zone, and
    the members as `invitations.people_told` reads them (in name order)."""
    visible = team_policies.visible_teams(principal, True, one=True)
    found = await tx.execute(_scheduling(visible), {**caller_values(principal), "team_id": team_id})
    if not found:
        raise NotFound(teams.MISSING)
    first = found[0]
    team = as_model(Team, {c.key: first[c.key] for c in table_of(Team).columns})
    members = ((r["user_id"], r["sees_since"], r["school_id"]) for r in found)
    people: dict[uuid.UUID, invitations.Participant] = {}
    for r in found:  # a row per member and school
        if r["user_id"] is not None and r["user_id"] not in people:
            people[r["user_id"]] = invitations.Participant(
                id=r["user_id"],
                quiet=bool(r["person_quiet"]),
                **{key: r[label.key] for key, label in _PERSON_COLUMNS.items()},
            )
    year = None
    if first["year_id"] is not None:
        year = as_model(SchoolYear, {key: first[f"year_{key}"] for key in _YEAR})
    zone = ZoneInfo(first["zone"] or "UTC")
    return teams.access_from(team, members), year, zone, list(people.values())


async def create(
    writes: Writes,
    principal: Principal,
    data: EventCreate,
    *,
    notify: Settings | None = None,
) -> EventPublic:
    """Schedule it on a team the caller sees (404 otherwise); with `notify`, its participants
    are emailed an invitation (the demo data and imports send none). The answer is built from
    what was written and the participants read once (for the answer, the notifications and
    the invitations alike).

    One write transaction: the team with what deciding needs (its members' accounts among
    it), the accounts of participants from outside the team (a year-end meeting's
    administrator) if any, then the bookings locked and checked, and the event with its
    participants, notifications and invitations sent with the COMMIT (on PostgreSQL three
    round trips, four with an administrator; what is written is built before the bookings are
    locked, so the lock is held for one round trip)."""
    async with writes.transaction() as tx:
        access, year, zone, members = await _team_to_schedule(tx, principal, data.team_id)
        if not policies.can_schedule(principal, access, data.kind):
            raise Forbidden(policies.not_scheduler("schedule"))
        _check_year(year, zone, data.kind, data.starts_at, data.ends_at)
        people = await _participants(
            tx,
            access,
            data.kind,
            data.participant_ids,
            data.observer_id,
            data.observed_id,
            principal.staff.id,
        )
        scheduled = NotificationKind.event_scheduled
        if people <= access.member_ids:  # read with the team
            attending, told = invitations.told([p for p in members if p.id in people], scheduled)
        else:  # a year-end meeting's administrator too
            attending, told = await invitations.people_told(tx, people, scheduled)
        event = new_row(
            Event,
            team_id=access.team.id,
            kind=data.kind,
            title=data.title,
            starts_at=data.starts_at.astimezone(UTC),
            ends_at=data.ends_at.astimezone(UTC),
            location=data.location,
            observer_id=data.observer_id,
            observed_id=data.observed_id,
            learning_target=data.learning_target,
            strategy=data.strategy,
            created_by_id=principal.user.id if principal.user else None,
        )
        answer = _public_of(event, attending)
        told_rows = notifications.rows_for(
            [_message(access, answer, people, scheduled)], actor=principal, known=told
        )
        emails = []
        if notify is not None:
            emails = invitations.messages(
                notify, answer, "REQUEST", attending, team_name=access.team.name, zone=zone
            )
        await _check_double_booking(tx, access, people, event["starts_at"], event["ends_at"], None)
        await tx.insert(Event, event)
        for user_id in sorted(people, key=str):
            await tx.insert(EventParticipant, {"event_id": event["id"], "user_id": user_id})
        for row in told_rows:
            await tx.insert(Notification, row)
        for row in emails:
            await tx.insert(OutboxMessage, row)
    return answer


_VERBS = {
    NotificationKind.event_scheduled: "scheduled",
    NotificationKind.event_moved: "changed",
    NotificationKind.event_cancelled: "cancelled",
}


def _message(
    access: TeamAccess, event: Event | EventPublic, people: set[uuid.UUID], kind: NotificationKind
) -> notifications.Message:
    """The participants' notification of `kind` about the event."""
    label = EventKind(event.kind).value.replace("_", "-").capitalize()
    title = f"{event.title or label} ({access.team.name}) {_VERBS[kind]}"
    return notifications.Message(people, kind, title, f"/events/{event.id}", access.team.id)


async def _tell(
    session: AsyncSession,
    principal: Principal,
    access: TeamAccess,
    event: Event,
    people: set[uuid.UUID],
    kind: NotificationKind,
    told: notifications.Recipients,
) -> None:
    """Tell the participants (`told`: read with them, `attendees_told`)."""
    message = _message(access, event, people, kind)
    await notifications.tell_each(session, [message], actor=principal, known=told)


async def participant_ids(session: AsyncSession, event_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await session.execute(
        select(col(EventParticipant.user_id)).where(col(EventParticipant.event_id) == event_id)
    )
    return set(rows.scalars())


OBSERVATION_ONLY = ("learning_target", "strategy")


async def update(
    session: AsyncSession,
    principal: Principal,
    access: TeamAccess,
    event: Event,
    data: EventUpdate,
    *,
    notify: Settings | None = None,
) -> EventPublic:
    if not policies.can_schedule(principal, access, EventKind(event.kind)):
        raise Forbidden(policies.not_scheduler("change"))
    if event.status == EventStatus.cancelled:
        raise Conflict("The event is cancelled; schedule a new one instead")
    changes = rows.patch(event, data)
    if event.status == EventStatus.held and changes.keys() & {"starts_at", "participant_ids"}:
        raise Conflict("The event was held: when it happened and who took part stay as they were")
    tx = Transaction(session=session)
    current = await participant_ids(session, event.id)
    people = current
    if "participant_ids" in changes:
        people = await _participants(
            tx,
            access,
            EventKind(event.kind),
            changes["participant_ids"],
            event.observer_id,
            event.observed_id,
            principal.staff.id,
        )
    starts = (changes.get("starts_at") or event.starts_at).astimezone(UTC)
    ends = (changes.get("ends_at") or event.ends_at).astimezone(UTC)
    if (starts, ends) != (event.starts_at, event.ends_at):
        await _check_school_year(session, access, EventKind(event.kind), starts, ends)
    await _check_double_booking(tx, access, people, starts, ends, event.id)
    observation_only = sorted(changes.keys() & OBSERVATION_ONLY)
    if observation_only and event.kind != EventKind.observation:
        name = observation_only[0]
        raise Unprocessable.for_field(name, f"{name} is only for observations", "not_observation")
    shown = (event.title, event.location, event.starts_at, event.ends_at)
    for key in ("title", "location", *OBSERVATION_ONLY):
        if key in changes:
            setattr(event, key, changes[key])
    if event.kind == EventKind.observation and (starts, ends) != (event.starts_at, event.ends_at):
        await coverage.observation_moved(session, event.id, event.starts_at, event.ends_at)
    event.starts_at, event.ends_at = starts, ends
    rows.changed(event)
    session.add(event)
    await session.flush()
    if people != current:
        await session.execute(
            delete(EventParticipant).where(col(EventParticipant.event_id) == event.id)
        )
        await session.execute(
            insert(EventParticipant), [{"event_id": event.id, "user_id": u} for u in people]
        )
    moved = NotificationKind.event_moved
    attending, told = await invitations.attendees_told(session, event.id, moved)
    if (event.title, event.location, event.starts_at, event.ends_at) != shown:
        await _tell(session, principal, access, event, people, moved, told)
    if notify is not None:
        # What a calendar shows changed: the participants get the new version, and anyone
        # taken off it a cancellation.
        name = access.team.name
        if (event.title, event.location, event.starts_at, event.ends_at) != shown or (
            people - current
        ):
            await invitations.send(
                session, notify, event, "REQUEST", moved=True, people=attending, team_name=name
            )
        if current - people:
            await invitations.send(
                session,
                notify,
                event,
                "CANCEL",
                only=current - people,
                people=attending,
                team_name=name,
            )
    return _public(event, attending)


async def cancel(
    session: AsyncSession,
    principal: Principal,
    access: TeamAccess,
    event: Event,
    reason: str | None,
    *,
    notify: Settings | None = None,
) -> EventPublic:
    if not policies.can_schedule(principal, access, EventKind(event.kind)):
        raise Forbidden(policies.not_scheduler("cancel"))
    if event.status == EventStatus.cancelled:
        raise Conflict("The event is already cancelled")
    if event.status == EventStatus.held:
        raise Conflict("The event was held; it cannot be cancelled")
    event.status = EventStatus.cancelled
    event.cancelled_at = utcnow()
    event.cancel_reason = reason
    rows.changed(event)
    if event.kind == EventKind.observation:
        why = "The observation was cancelled" + (f": {reason}" if reason else "")
        await coverage.observation_cancelled(session, event.id, why[:1000])
    session.add(event)
    await session.flush()
    cancelled = NotificationKind.event_cancelled
    attending, told = await invitations.attendees_told(session, event.id, cancelled)
    people = {u.id for u in attending}
    await _tell(session, principal, access, event, people, cancelled, told)
    if notify is not None:
        await invitations.send(
            session, notify, event, "CANCEL", people=attending, team_name=access.team.name
        )
    return _public(event, attending)


async def confirm_held(
    session: AsyncSession,
    principal: Principal,
    access: TeamAccess,
    event: Event,
    if_match: str | None,
) -> EventPublic:
    """A participant says the event took place (a year-end meeting: an administrator); 403
    first, then `if_match` must name the event's current version (428/412)."""
    attending = await invitations.attendees(session, event.id)
    people = {u.id for u in attending}
    if not policies.can_confirm_held(principal, access, EventKind(event.kind), people):
        raise Forbidden(
            "Only an administrator of a member's school confirms a year-end meeting"
            if event.kind == EventKind.year_end_meeting
            else "Only a team member who took part confirms the event was held"
        )
    require_current(if_match, "event", event.version)
    if event.status == EventStatus.held:
        raise Conflict("The event is already confirmed held")
    await mark_held(session, event, principal.staff.id)
    session.add(event)
    await session.flush()
    return _public(event, attending)


class Holdable(Protocol):
    """What deciding whether an event can be marked held reads of it (an `Event`, or its
    columns read with other checks)."""

    kind: EventKind
    status: EventStatus
    starts_at: datetime
    deleted_at: datetime | None


def holds(event: Holdable, now: datetime, plan: tuple[bool, str | None] | None) -> bool:
    """Whether marking the event held changes it (False: held already), or 409 when it cannot
    be: deleted, cancelled, not started yet, or an observation before the team's plan is
    approved (`plan`: the rule and the plan's status, `plan_rule_columns`; unless the program's
    rules allow it)."""
    if event.status == EventStatus.held:
        return False
    if event.deleted_at is not None:
        raise Conflict("The event was deleted; restore it first")
    if event.status == EventStatus.cancelled:
        raise Conflict("The event was cancelled")
    if now < event.starts_at:
        raise Conflict(
            f"The {EventKind(event.kind).value.replace('_', '-')} has not started yet "
            f"(it starts at {event.starts_at.isoformat()})"
        )
    if event.kind == EventKind.observation:
        assert plan is not None, "an observation is held by its plan's rule"
        _require_plan_approved(*plan)
    return True


async def mark_held(
    session: AsyncSession,
    event: Event,
    by: uuid.UUID,
    *,
    plan: tuple[bool, str | None] | None = None,
) -> None:
    """The event took place, as `by` says (or their record of it shows): `holds` decides.
    `plan`: the rule and the plan's status (`plan_rule_columns`) when the caller read them
    with its own checks."""
    if plan is None and event.kind == EventKind.observation and event.status != EventStatus.held:
        found = (await session.execute(_PLAN_RULE, {"team_id": event.team_id})).one()
        plan = (found[0], found[1])
    now = utcnow()
    if not holds(event, now, plan):
        return
    event.status = EventStatus.held
    event.held_at = now
    event.held_by_id = by
    rows.changed(event)


# Marking an event held in a write transaction (`holds` said it changes it).
_HOLD = (
    table_of(Event)
    .update()
    .where(col(Event.id) == bindparam("event_id"))
    .values(
        status=EventStatus.held,
        held_at=bindparam("now"),
        held_by_id=bindparam("by"),
        updated_at=bindparam("now"),
        version=col(Event.version) + 1,
    )
)


def hold_change(event_id: uuid.UUID, by: uuid.UUID, now: datetime) -> Change:
    """`mark_held`'s change as a statement, for a write transaction that checked `holds`."""
    return Change(_HOLD, {"event_id": event_id, "by": by, "now": now})


def plan_rule_columns(team_id: Any = None) -> list[Any]:
    """Whether observations wait for an approved plan, and the plan of the team `team_id` (a
    column, or the bind parameter `team_id`): what `holds` checks of an observation, as
    columns of a statement."""
    team = bindparam("team_id") if team_id is None else team_id
    return [
        rule_column("observations_need_approved_plan").label("need_plan"),
        select(col(ActionPlan.status))
        .where(col(ActionPlan.team_id) == team, col(ActionPlan.deleted_at).is_(None))
        .scalar_subquery()
        .label("plan_status"),
    ]


_PLAN_RULE = select(*plan_rule_columns())


def _require_plan_approved(need: bool, status: str | None) -> None:
    if need and status not in (PlanStatus.approved, PlanStatus.completed):
        raise Conflict(
            "Observations are held once the team's action plan is approved "
            f"(it is {status or 'not written'}); the district's program rules say so"
        )


async def soft_delete(
    session: AsyncSession,
    principal: Principal,
    access: TeamAccess,
    event: Event,
    *,
    notify: Settings | None = None,
) -> None:
    if not policies.can_schedule(principal, access, EventKind(event.kind)):
        raise Forbidden(policies.not_scheduler("delete"))
    rows.soft_delete(event)
    if event.kind == EventKind.observation:
        await coverage.observation_cancelled(session, event.id, "The observation was deleted")
    session.add(event)
    await session.flush()
    if notify is not None and event.status == EventStatus.scheduled:
        await invitations.send(session, notify, event, "CANCEL")


async def restore(
    session: AsyncSession, principal: Principal, access: TeamAccess, event: Event
) -> EventPublic:
    if not team_policies.is_team_admin(principal, access):
        raise Forbidden("Only an administrator of a member's school can restore events")
    rows.restore(event, "event")
    session.add(event)
    await session.flush()
    return _public(event, await invitations.attendees(session, event.id))


def list_query(
    principal: Principal,
    *,
    team_id: uuid.UUID | None,
    teacher_id: uuid.UUID | None,
    kind: EventKind | None,
    starts_from: datetime | None,
    starts_before: datetime | None,
    include_cancelled: bool,
) -> tuple[PageQuery, dict[str, Any]]:
    """The calendar the caller sees, in time order, with the values of its parameters."""
    given = (team_id, teacher_id, kind, starts_from, starts_before)
    query = _list_query(
        team_policies.team_reach(principal),
        *(v is not None for v in given),
        include_cancelled,
    )
    values = {
        **caller_values(principal),
        "team_id": team_id,
        "teacher_id": teacher_id,
        "kind": kind,
        "starts_from": starts_from,
        "starts_before": starts_before,
    }
    return query, values


@functools.cache
def _list_query(
    reach: team_policies.TeamReach,
    by_team: bool,
    by_teacher: bool,
    by_kind: bool,
    by_from: bool,
    by_before: bool,
    include_cancelled: bool,
) -> PageQuery:
    """The list statement for one kind of caller and combination of filters (built once each).
    Lists never show deleted events, so whether the caller is an administrator is moot."""
    stmt = select(*table_of(Event).columns).where(policies.events_within(reach, False))
    if by_team:
        stmt = stmt.where(col(Event.team_id) == bindparam("team_id"))
    if by_teacher:
        stmt = stmt.where(
            col(Event.id).in_(
                select(col(EventParticipant.event_id)).where(
                    col(EventParticipant.user_id) == bindparam("teacher_id")
                )
            )
        )
    if by_kind:
        stmt = stmt.where(col(Event.kind) == bindparam("kind"))
    if by_from:  # events still running at `from` are included
        stmt = stmt.where(Event.ends_at > bindparam("starts_from"))
    if by_before:
        stmt = stmt.where(Event.starts_at < bindparam("starts_before"))
    if not include_cancelled:
        stmt = stmt.where(col(Event.status) != EventStatus.cancelled)
    return PageQuery(stmt, [Event.starts_at, Event.id], per_row=lambda row: [participants(row.id)])


def team_calendar_statement(team_id: uuid.UUID) -> Bound:
    """A team's events (cancelled ones too, not deleted ones) in time order, as EventPublic."""
    return Bound(_team_calendar(), {"team_id": team_id})


@functools.cache
def _team_calendar() -> AnySelect:
    return (
        select(*table_of(Event).columns, participants(Event.id))
        .where(col(Event.team_id) == bindparam("team_id"), col(Event.deleted_at).is_(None))
        .order_by(col(Event.starts_at), col(Event.id))
    )


def one_statement(principal: Principal, event_id: uuid.UUID) -> Bound:
    """One event as EventPublic, if the caller may see it (deleted ones: its administrators)."""
    stmt = _one(team_policies.team_reach(principal), principal.is_admin)
    return Bound(stmt, {**caller_values(principal), "event_id": event_id})


@functools.cache
def _one(reach: team_policies.TeamReach, deleted_too: bool) -> AnySelect:
    return select(*table_of(Event).columns, participants(Event.id)).where(
        col(Event.id) == bindparam("event_id"), policies.events_within(reach, deleted_too, one=True)
    )


def participants(event_id: Any) -> Any:
    """An event's participants, in name order, as a column (`MemberRef`s)."""
    people = (
        select(col(User.id), col(User.given_name), col(User.family_name))
        .join(EventParticipant, col(EventParticipant.user_id) == User.id)
        .where(EventParticipant.event_id == event_id)
        .order_by(User.family_name, User.given_name, col(User.id))
    )
    return nested(people).label("participants")


def _public(event: Event, attending: list[User]) -> EventPublic:
    """The event as the API shows it, from its row and its `attendees` (read once by the
    change that answers it)."""
    return _public_of(columns_of(event), attending)


def _public_of(
    event: Mapping[str, Any], attending: Sequence[User | invitations.Participant]
) -> EventPublic:
    """`_public` of the event's columns."""
    people = [
        {"id": u.id, "given_name": u.given_name, "family_name": u.family_name} for u in attending
    ]
    return EventPublic.model_validate({**event, "participants": people})
