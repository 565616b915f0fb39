"""Rules for coaching teams. Functions flush; the request commits."""

from __future__ import annotations

import functools
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import Uuid, bindparam, case, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.auth.principal import Principal, caller_values
from app.core import rows
from app.core.db import columns_of, table_of, utcnow
from app.core.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable
from app.core.pagination import Page, PageParams, PageQuery
from app.core.reads import Bound, Reads
from app.core.sql import AnySelect, constant, json_object, nested
from app.focus_areas.models import FocusArea
from app.notifications import service as notifications
from app.notifications.models import NotificationKind
from app.plans import service as plans
from app.plans.models import ActionPlan, PlanStatus
from app.school_years.models import SchoolYear
from app.schools.models import School
from app.teams import policies
from app.teams.models import (
    HistoryConsent,
    InvitationStatus,
    SchoolTeam,
    Team,
    TeamInvitation,
    TeamMember,
)
from app.teams.policies import TeamAccess
from app.teams.schemas import (
    TeamContinue,
    TeamCreate,
    TeamInvitationCreate,
    TeamInvitationPublic,
    TeamPublic,
    TeamUpdate,
)
from app.users.models import Role, SchoolMembership, User

MIN_MEMBERS = 2


# ---- loading -------------------------------------------------------------------------------


# The members joined to a team row, under names of their own: the visibility rules'
# subqueries name `team_member` and `school_membership` and must not correlate to them.
_MEMBER = aliased(TeamMember, name="member")
_PLACE = aliased(SchoolMembership, name="place")

MISSING = "No such team"


def joined_with_members(stmt: Any, team: Any) -> Any:
    """`stmt` with the members of its `team` (the table or an alias of it) joined: one row per
    member and school, ending with (member id, since when they read its records, school id);
    `access_from` reads them. One statement instead of the team and then its members."""
    return (
        stmt.add_columns(col(_MEMBER.user_id), col(_MEMBER.sees_since), col(_PLACE.school_id))
        .outerjoin(_MEMBER, col(_MEMBER.team_id) == team.id)
        .outerjoin(_PLACE, col(_PLACE.user_id) == _MEMBER.user_id)
    )


def access_from(team: Team, rows: Any) -> TeamAccess:
    """The team's access facts from the rows of a `joined_with_members` statement."""
    access = TeamAccess(team=team)
    for *_, user_id, sees_since, school_id in rows:
        if user_id is not None:
            access.sees_since[user_id] = sees_since
        if school_id is not None:
            access.member_school_ids.add(school_id)
    return access


@functools.cache
def _team_with_members(visible: Any, for_update: bool) -> Any:
    """The team `team_id` with its members, if `visible` (a rule of teams.policies, built once
    per kind of caller): built once each, so a write under a team neither builds nor keys it."""
    stmt = joined_with_members(select(Team), Team).where(
        col(Team.id) == bindparam("team_id"), visible
    )
    return stmt.with_for_update(of=Team) if for_update else stmt


async def with_members(session: AsyncSession, team: Team) -> TeamAccess:
    """The team's members, since when each reads its records, and their schools, read now."""
    stmt = joined_with_members(select(col(Team.id)), Team).where(col(Team.id) == team.id)
    return access_from(team, await session.execute(stmt))


async def get_viewable(
    session: AsyncSession,
    principal: Principal,
    team_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> TeamAccess | None:
    """The team with its members, if the caller may see it (None: answer 404).

    One statement decides, the list's filter plus the id, so an unknown id and a team the
    caller may not see cost the same; it reads the members too. `for_update` locks the team
    row until the transaction ends (PostgreSQL), for changes to its membership."""
    stmt = _team_with_members(policies.visible_teams(principal, True, one=True), for_update)
    values = {**caller_values(principal), "team_id": team_id}
    found = (await session.execute(stmt, values)).all()
    if not found:
        return None
    return access_from(found[0][0], found)


_later = aliased(Team, name="later")


def _related(team: Any) -> list[Any]:
    """What TeamPublic shows beside the team's own columns, looked up per team (`team`: the
    team table or a page of it)."""
    members = (
        select(
            col(User.id),
            col(User.given_name),
            col(User.family_name),
            col(TeamMember.joined_at),
            col(TeamMember.sees_since).is_(None).label("sees_earlier_records"),
        )
        .join(TeamMember, col(TeamMember.user_id) == User.id)
        .where(TeamMember.team_id == team.id)
        .order_by(User.family_name, User.given_name, col(User.id))
    )
    invited = (
        select(col(User.id), col(User.given_name), col(User.family_name))
        .join(TeamInvitation, col(TeamInvitation.invitee_id) == User.id)
        .where(
            TeamInvitation.team_id == team.id,
            col(TeamInvitation.status) == constant(InvitationStatus.pending),
        )
        .order_by(User.family_name, User.given_name, col(User.id))
    )
    focus_area = select(json_object(id=col(FocusArea.id), name=col(FocusArea.name))).where(
        FocusArea.id == team.focus_area_id
    )
    plan = select(col(ActionPlan.status), col(ActionPlan.learning_target)).where(
        ActionPlan.team_id == team.id
    )
    continued_as = select(col(_later.id)).where(_later.continued_from_id == team.id)
    return [
        continued_as.scalar_subquery().label("continued_as_id"),
        focus_area.scalar_subquery().label("focus_area"),
        nested(members).label("members"),
        nested(invited).label("invited"),
        plan.with_only_columns(col(ActionPlan.status)).scalar_subquery().label("plan_status"),
        plan.with_only_columns(col(ActionPlan.learning_target))
        .scalar_subquery()
        .label("learning_target"),
    ]


# A team as TeamPublic shows it (narrow it with `.where`).
_AS_PUBLIC = select(*table_of(Team).columns, *_related(Team))


def seen_statement(principal: Principal, team_id: uuid.UUID) -> Bound:
    """The team's id if the caller sees it, deleted or not (`visible_teams` plus the id)."""
    values = {**caller_values(principal), "team_id": team_id}
    return Bound(_seen(policies.team_reach(principal)), values)


@functools.cache
def _seen(reach: policies.TeamReach) -> AnySelect:
    return select(col(Team.id)).where(
        col(Team.id) == bindparam("team_id"),
        policies.teams_within(reach, include_deleted=True, one=True),
    )


def standing_statement(principal: Principal, team_id: uuid.UUID) -> Bound:
    """The team's id with the caller's standing on it (`confidential_columns`), if the caller
    sees it (deleted ones too, for administrators)."""
    stmt = _standing(policies.team_reach(principal), policies.may_be_member(principal))
    return Bound(stmt, {**caller_values(principal), "team_id": team_id})


@functools.cache
def _standing(reach: policies.TeamReach, teacher: bool) -> AnySelect:
    return _seen(reach).add_columns(*policies.confidential_columns_for(teacher, Team))


def view_statement(principal: Principal, team_id: uuid.UUID) -> Bound:
    """One team as TeamPublic, if the caller sees it (deleted ones too, for administrators:
    they restore them)."""
    return Bound(
        _view(policies.team_reach(principal)), {**caller_values(principal), "team_id": team_id}
    )


@functools.cache
def _view(reach: policies.TeamReach) -> AnySelect:
    return _AS_PUBLIC.where(
        col(Team.id) == bindparam("team_id"),
        policies.teams_within(reach, include_deleted=True, one=True),
    )


class _Seen(BaseModel):
    id: uuid.UUID


# What a team as TeamPublic is kept under (core/kept.py), by one team's read and by the lists:
# one copy per caller and team; it never changes by itself, only when a counter moves.
_KEPT_AS = "team"


def _holds(_team: TeamPublic, _now: Any) -> None:
    return None


# A team as TeamPublic whose caller's right to it was just read in the same snapshot.
_ONE_PUBLIC = Bound(_AS_PUBLIC.where(col(Team.id) == bindparam("team_id")), {})


async def one_team(reads: Reads, principal: Principal, team_id: uuid.UUID) -> TeamPublic:
    """`view_statement`'s team (404 unless the caller sees it), as this worker kept it for the
    caller (the same copy `page_of_teams` keeps) unless anything it shows has changed: kept,
    one statement, the caller's right to the team with its revision counters."""

    async def read() -> TeamPublic:
        seen = await reads.one(_Seen, seen_statement(principal, team_id), counters_of="id")
        if seen is None:
            raise NotFound(MISSING)

        async def build() -> TeamPublic:
            found = await reads.one(TeamPublic, _ONE_PUBLIC, {"team_id": team_id})
            assert found is not None  # seen in this snapshot
            return found

        return await reads.kept(principal, _KEPT_AS, team_id, build, until=_holds)

    return await reads.at_one_moment(read)


async def to_public(session: AsyncSession, team_id: uuid.UUID) -> TeamPublic:
    """A team just written, as the API shows it (in the writing transaction: no access check,
    the writer's was made before the change)."""
    stmt = _AS_PUBLIC.where(col(Team.id) == team_id)
    return TeamPublic.model_validate((await session.execute(stmt)).mappings().one())


def list_query(
    principal: Principal,
    *,
    school_year: str | None,
    focus_area_id: uuid.UUID | None,
    member_id: uuid.UUID | None,
    school_id: uuid.UUID | None,
    include_deleted: bool,
    plan_status: PlanStatus | None = None,
) -> tuple[PageQuery, dict[str, Any]]:
    """The teams the caller may list, with the values of its parameters. Newest school year
    first, then by name."""
    given = (school_year, focus_area_id, member_id, school_id, plan_status)
    query = _list_query(
        policies.reach_at_school(principal, school_id),
        include_deleted,
        *(v is not None for v in given),
    )
    values = {
        **caller_values(principal),
        "school_year": school_year,
        "focus_area_id": focus_area_id,
        "member_id": member_id,
        "school_id": school_id,
        "plan_status": plan_status,
    }
    return query, values


@functools.cache
def _list_query(
    reach: policies.TeamReach,
    include_deleted: bool,
    by_year: bool,
    by_focus_area: bool,
    by_member: bool,
    by_school: bool,
    by_plan_status: bool,
) -> PageQuery:
    """The list statement for one kind of caller and combination of filters (built once each):
    the page's teams, in list order (`team_id`: what each is kept under)."""
    stmt: AnySelect = select(
        col(Team.id), col(Team.id).label("team_id"), col(Team.school_year), col(Team.name)
    ).where(policies.teams_within(reach, include_deleted))
    if by_year:
        stmt = stmt.where(col(Team.school_year) == bindparam("school_year"))
    if by_focus_area:
        stmt = stmt.where(col(Team.focus_area_id) == bindparam("focus_area_id"))
    if by_member:
        stmt = stmt.where(
            col(Team.id).in_(
                select(col(TeamMember.team_id)).where(
                    col(TeamMember.user_id) == bindparam("member_id")
                )
            )
        )
    if by_school:
        stmt = stmt.where(policies.with_member_at_school())
    if by_plan_status:
        stmt = stmt.where(
            col(Team.id).in_(
                select(col(ActionPlan.team_id)).where(
                    col(ActionPlan.status) == bindparam("plan_status"),
                    col(ActionPlan.deleted_at).is_(None),
                )
            )
        )
    return PageQuery(stmt, [col(Team.school_year).desc(), Team.name, Team.id])


# Some teams as TeamPublic, by id (the caller's right to them was read just before).
_PUBLIC = _AS_PUBLIC.where(col(Team.id).in_(bindparam("team_ids", expanding=True, type_=Uuid())))


async def page_of_teams(
    reads: Reads, principal: Principal, params: PageParams, **filters: Any
) -> Page[TeamPublic]:
    """A page of the teams the caller may list (`list_query`'s filters), from one snapshot:
    the page's teams with their revision counters, then each team as this worker kept it for
    the caller unless anything it shows has changed (core/kept.py), the others read in one
    statement. A team's members, invitations, plan and names cost a lookup each per row (a
    page of 50 was 1.6 ms of SQLite's time); kept, the page is one statement."""
    query, values = list_query(principal, **filters)

    async def build(missing: list[uuid.UUID]) -> dict[uuid.UUID, TeamPublic]:
        found = await reads.all(TeamPublic, Bound(_PUBLIC, {"team_ids": missing}))
        return {t.id: t for t in found}

    page, kept = await reads.kept_page(
        principal, _KEPT_AS, query, params, values, build, until=_holds
    )
    return page.holding(TeamPublic, [kept[t.team_id] for t in page.items])


# ---- changes -------------------------------------------------------------------------------


async def _check_focus_area(session: AsyncSession, focus_area_id: uuid.UUID | None) -> None:
    if focus_area_id is None:
        return
    area = await session.get(FocusArea, focus_area_id)
    if area is None or not area.is_active:
        raise Unprocessable(
            "Unknown focus area",
            errors=[
                FieldError(
                    field="body.focus_area_id", message="no such active focus area", type="unknown"
                )
            ],
        )


async def _check_candidates(
    session: AsyncSession, principal: Principal, user_ids: set[uuid.UUID], field: str
) -> dict[uuid.UUID, dict[str, Any]]:
    """Invitees must be active teachers the caller may place (colleagues of their schools).
    Returns each as a MemberRef shows them."""
    rows = await session.execute(
        select(
            col(User.id),
            col(User.role),
            col(User.is_active),
            col(SchoolMembership.school_id),
            col(User.given_name),
            col(User.family_name),
        )
        .outerjoin(SchoolMembership, col(SchoolMembership.user_id) == User.id)
        .where(col(User.id).in_(user_ids))
    )
    found: dict[uuid.UUID, tuple[Role, bool, set[uuid.UUID]]] = {}
    refs: dict[uuid.UUID, dict[str, Any]] = {}
    for user_id, role, active, school_id, given_name, family_name in rows:
        entry = found.setdefault(user_id, (Role(role), active, set()))
        refs[user_id] = {"id": user_id, "given_name": given_name, "family_name": family_name}
        if school_id is not None:
            entry[2].add(school_id)
    errors = []
    for user_id in sorted(user_ids, key=str):
        candidate = found.get(user_id)
        if candidate is None or not policies.can_place(principal, candidate[2]):
            # Unknown and out-of-reach users read the same, so ids do not leak.
            errors.append(
                FieldError(field=field, message=f"unknown colleague {user_id}", type="unknown")
            )
        elif candidate[0] != Role.teacher or not candidate[1]:
            errors.append(
                FieldError(
                    field=field, message=f"{user_id} is not an active teacher", type="not_teacher"
                )
            )
    if errors:
        raise Unprocessable("Team members must be active teachers you work with", errors=errors)
    return refs


async def _current_school_year(session: AsyncSession) -> str:
    label = await session.scalar(
        select(col(SchoolYear.label)).where(col(SchoolYear.is_current).is_(True))
    )
    if label is None:
        raise Unprocessable.for_field(
            "school_year",
            "name the school year: the district has not marked one current",
            "missing",
        )
    return label


async def create(session: AsyncSession, principal: Principal, data: TeamCreate) -> Team:
    """A teacher forms a team: they are its first member, and the colleagues they name are
    invited (each joins when they accept). Administrators do not form teams."""
    if principal.user is None or principal.role != Role.teacher:
        raise Forbidden("Teams are formed by teachers; administrators review their plans")
    me = principal.user.id
    invitees = set(data.invitee_ids) - {me}
    if not invitees:
        raise Unprocessable.for_field(
            "invitee_ids", "invite at least one colleague: a team has two or more teachers",
            "too_short",
        )  # fmt: skip
    await _check_candidates(session, principal, invitees, "body.invitee_ids")
    await _check_focus_area(session, data.focus_area_id)
    school_year = data.school_year or await _current_school_year(session)
    team = Team(
        name=data.name,
        school_year=school_year,
        focus_area_id=data.focus_area_id,
        focus_area_other=data.focus_area_other,
        created_by_id=me,
    )
    return await _found(session, team, me, invitees, data.learning_target)


async def _found(
    session: AsyncSession,
    team: Team,
    me: uuid.UUID,
    invitees: set[uuid.UUID],
    learning_target: str | None,
) -> Team:
    """A new team with its founder as first member, its founding invitations, and its draft
    plan holding the learning target."""
    session.add(team)
    await session.flush()
    session.add(TeamMember(team_id=team.id, user_id=me, sees_since=None))
    session.add_all(
        TeamInvitation(team_id=team.id, invitee_id=u, invited_by_id=me, founding=True)
        for u in sorted(invitees, key=str)
    )
    # Every team has its action plan from the start, as a draft.
    session.add(ActionPlan(team_id=team.id, learning_target=learning_target))
    await session.flush()
    await notifications.tell(
        session, invitees, NotificationKind.team_invitation,
        f"You are invited to the peer coaching team {team.name}", "/team-invitations",
        team_id=team.id,
    )  # fmt: skip
    return team


async def continue_team(
    session: AsyncSession, principal: Principal, access: TeamAccess, data: TeamContinue
) -> Team:
    """A member carries the team into a later school year: a new team with its focus area and
    learning target and a new draft plan; the caller is its first member and the other
    teachers of the team are invited to it (each joins by accepting, as when a team forms).
    The earlier team and its records stay as they were."""
    assert principal.user is not None
    old = access.team
    school_year = data.school_year or await _current_school_year(session)
    if school_year <= old.school_year:
        raise Unprocessable.for_field(
            "school_year",
            f"continue into a school year after {old.school_year}",
            "not_later",
        )
    await _lock(session, old.id)
    taken = await session.execute(select(col(Team.id)).where(col(Team.continued_from_id) == old.id))
    if taken.first() is not None:
        raise Conflict("This team has already continued into another school year")
    target = await session.scalar(
        select(col(ActionPlan.learning_target)).where(col(ActionPlan.team_id) == old.id)
    )
    teachers = await session.execute(
        select(col(User.id)).where(
            col(User.id).in_(access.member_ids - {principal.user.id}),
            col(User.role) == Role.teacher,
            col(User.is_active).is_(True),
        )
    )
    team = Team(
        name=data.name or old.name,
        school_year=school_year,
        focus_area_id=old.focus_area_id,
        focus_area_other=old.focus_area_other,
        continued_from_id=old.id,
        created_by_id=principal.user.id,
    )
    return await _found(session, team, principal.user.id, set(teachers.scalars()), target)


async def update(session: AsyncSession, team: Team, data: TeamUpdate) -> Team:
    """Change the team; its learning target is the plan's (plans.service.set_learning_target)."""
    if "learning_target" in data.model_fields_set:
        await plans.set_learning_target(session, team.id, data.learning_target)
        data = TeamUpdate.model_validate(
            data.model_dump(exclude_unset=True, exclude={"learning_target"})
        )
    changes = rows.patch(team, data)
    if "focus_area_id" in changes:
        await _check_focus_area(session, changes["focus_area_id"])
    for key, value in changes.items():
        setattr(team, key, value)
    rows.changed(team)
    session.add(team)
    await session.flush()
    return team


async def soft_delete(session: AsyncSession, principal: Principal, team: Team) -> None:
    rows.soft_delete(team)
    team.deleted_by_id = principal.user.id if principal.user else None
    session.add(team)
    await session.flush()


async def restore(session: AsyncSession, team: Team) -> Team:
    rows.restore(team, "team")
    team.deleted_by_id = None
    session.add(team)
    await session.flush()
    return team


# ---- membership: invitations, leaving, consent to earlier records -------------------------


INVITATION_ORDER = (col(TeamInvitation.created_at), col(TeamInvitation.id))


def invitations_statement(
    *, team_id: uuid.UUID | None = None, invitee_id: uuid.UUID | None = None
) -> AnySelect:
    """Pending invitations of a team, or to a teacher, with the team and the inviter named."""
    return _pending_of(team_id, invitee_id).order_by(*INVITATION_ORDER)


def invitations_query(
    *, team_id: uuid.UUID | None = None, invitee_id: uuid.UUID | None = None
) -> tuple[PageQuery, dict[str, Any]]:
    """`invitations_statement` as a list template, with the values of its parameters."""
    query = _invitations_query(team_id is not None, invitee_id is not None)
    return query, {"team_id": team_id, "invitee_id": invitee_id}


@functools.cache
def _invitations_query(by_team: bool, by_invitee: bool) -> PageQuery:
    team_id: Any = bindparam("team_id") if by_team else None
    invitee_id: Any = bindparam("invitee_id") if by_invitee else None
    return PageQuery(_pending_of(team_id, invitee_id), INVITATION_ORDER)


def _pending_of(team_id: Any, invitee_id: Any) -> AnySelect:
    inviter = aliased(User)
    stmt = (
        select(
            col(TeamInvitation.id),
            json_object(
                id=col(Team.id), name=col(Team.name), school_year=col(Team.school_year)
            ).label("team"),
            json_object(
                id=col(User.id), given_name=col(User.given_name), family_name=col(User.family_name)
            ).label("invitee"),
            case(
                (col(TeamInvitation.invited_by_id).is_(None), None),
                else_=json_object(
                    id=col(inviter.id),
                    given_name=col(inviter.given_name),
                    family_name=col(inviter.family_name),
                ),
            ).label("invited_by"),
            col(TeamInvitation.status),
            col(TeamInvitation.created_at),
        )
        .join(Team, col(Team.id) == TeamInvitation.team_id)
        .join(User, col(User.id) == TeamInvitation.invitee_id)
        .outerjoin(inviter, col(inviter.id) == TeamInvitation.invited_by_id)
        .where(
            col(TeamInvitation.status) == constant(InvitationStatus.pending),
            col(Team.deleted_at).is_(None),
        )
    )
    if team_id is not None:
        stmt = stmt.where(TeamInvitation.team_id == team_id)
    if invitee_id is not None:
        stmt = stmt.where(TeamInvitation.invitee_id == invitee_id)
    return stmt


async def invite(
    session: AsyncSession, principal: Principal, access: TeamAccess, data: TeamInvitationCreate
) -> TeamInvitationPublic:
    """A member invites a colleague; they join when they accept. Answered from what was
    written and checked, as the team's invitations list shows it."""
    assert principal.user is not None
    if data.user_id in access.member_ids:
        raise Conflict("Already a member of this team")
    invitee = await _check_candidates(session, principal, {data.user_id}, "body.user_id")
    pending = await session.execute(
        select(col(TeamInvitation.id)).where(
            col(TeamInvitation.team_id) == access.team.id,
            col(TeamInvitation.invitee_id) == data.user_id,
            col(TeamInvitation.status) == constant(InvitationStatus.pending),
        )
    )
    if pending.first() is not None:
        raise Conflict("This colleague is already invited")
    sent = TeamInvitation(
        team_id=access.team.id, invitee_id=data.user_id, invited_by_id=principal.user.id
    )
    session.add(sent)
    try:
        await session.flush()
    except IntegrityError as exc:  # a parallel invitation was stored first
        raise Conflict("This colleague is already invited") from exc
    await notifications.tell(
        session, [data.user_id], NotificationKind.team_invitation,
        f"You are invited to the peer coaching team {access.team.name}", "/team-invitations",
        team_id=access.team.id, actor=principal,
    )  # fmt: skip
    team = access.team
    return TeamInvitationPublic.model_validate(
        {
            **columns_of(sent),
            "team": {"id": team.id, "name": team.name, "school_year": team.school_year},
            "invitee": invitee[data.user_id],
            "invited_by": principal.staff.member_ref(),
        }
    )


async def _pending(
    session: AsyncSession, invitation_id: uuid.UUID, **where: uuid.UUID
) -> TeamInvitation:
    stmt = select(TeamInvitation).where(col(TeamInvitation.id) == invitation_id)
    for column, value in where.items():
        stmt = stmt.where(getattr(TeamInvitation, column) == value)
    found = (await session.execute(stmt.with_for_update())).scalar_one_or_none()
    if found is None:
        raise NotFound("No such invitation")
    if found.status != InvitationStatus.pending:
        raise Conflict(f"The invitation was already {InvitationStatus(found.status).value}")
    return found


async def revoke_invitation(
    session: AsyncSession, access: TeamAccess, invitation_id: uuid.UUID
) -> None:
    found = await _pending(session, invitation_id, team_id=access.team.id)
    found.status, found.decided_at = InvitationStatus.revoked, utcnow()
    await session.flush()


async def answer_invitation(
    session: AsyncSession, principal: Principal, invitation_id: uuid.UUID, *, accept: bool
) -> uuid.UUID:
    """The invitee accepts (and becomes a member) or declines. Returns the team's id."""
    assert principal.user is not None
    found = await _pending(session, invitation_id, invitee_id=principal.user.id)
    if accept:
        team = (
            await session.execute(
                select(Team).where(col(Team.id) == found.team_id).with_for_update()
            )
        ).scalar_one()
        if team.deleted_at is not None:
            raise Conflict("The team was deleted")
        if principal.role != Role.teacher:
            raise Conflict("Only teachers join coaching teams")
        now = utcnow()
        # Founding invitations open the team's whole history; later ones what comes next,
        # until the members before the newcomer consent (consent_to_history).
        session.add(
            TeamMember(
                team_id=team.id,
                user_id=principal.user.id,
                joined_at=now,
                sees_since=None if found.founding else now,
            )
        )
    found.status = InvitationStatus.accepted if accept else InvitationStatus.declined
    found.decided_at = utcnow()
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("Already a member of this team") from exc
    return found.team_id


async def _lock(session: AsyncSession, team_id: uuid.UUID) -> None:
    """Membership changes of one team, one at a time (PostgreSQL row lock; SQLite writers are
    serial anyway): two removals cannot both pass the two-teacher rule, two consents both
    miss each other."""
    await session.execute(select(col(Team.id)).where(col(Team.id) == team_id).with_for_update())


async def _open_history_if_agreed(
    session: AsyncSession, team_id: uuid.UUID, newcomer_id: uuid.UUID
) -> None:
    """Open the newcomer's earlier records once every member who joined before them agreed."""
    newcomer = await session.get(TeamMember, (team_id, newcomer_id))
    if newcomer is None or newcomer.sees_since is None:
        return
    before = select(col(TeamMember.user_id)).where(
        col(TeamMember.team_id) == team_id,
        col(TeamMember.user_id) != newcomer_id,
        col(TeamMember.joined_at) < newcomer.joined_at,
    )
    agreed = select(col(HistoryConsent.member_id)).where(
        col(HistoryConsent.team_id) == team_id, col(HistoryConsent.newcomer_id) == newcomer_id
    )
    waiting = (await session.execute(before.where(col(TeamMember.user_id).not_in(agreed)))).first()
    if waiting is None and (await session.execute(before)).first() is not None:
        newcomer.sees_since = None
        await session.flush()


async def consent_to_history(
    session: AsyncSession, principal: Principal, access: TeamAccess, newcomer_id: uuid.UUID
) -> None:
    """A member agrees that a later member may read the records written before they joined.
    The access to them opens when every member who was there before the newcomer agreed."""
    assert principal.user is not None
    await _lock(session, access.team.id)
    since = access.sees_since.get(newcomer_id, "absent")
    if since == "absent":
        raise NotFound("Not a member of this team")
    if since is None:
        raise Conflict("This member already reads the team's earlier records")
    me = await session.get(TeamMember, (access.team.id, principal.user.id))
    newcomer = await session.get(TeamMember, (access.team.id, newcomer_id))
    assert me is not None
    assert newcomer is not None
    if me.joined_at >= newcomer.joined_at:
        raise Conflict("Only members who joined before them decide about earlier records")
    exists = await session.get(HistoryConsent, (access.team.id, newcomer_id, principal.user.id))
    if exists is None:
        session.add(
            HistoryConsent(
                team_id=access.team.id, newcomer_id=newcomer_id, member_id=principal.user.id
            )
        )
        await session.flush()
    await _open_history_if_agreed(session, access.team.id, newcomer_id)


async def remove_member(session: AsyncSession, access: TeamAccess, user_id: uuid.UUID) -> None:
    """A member leaves, or the members take someone off the team (never an administrator)."""
    await _lock(session, access.team.id)
    access = await with_members(session, access.team)  # as of the lock
    if user_id not in access.member_ids:
        raise NotFound("Not a member of this team")
    if len(access.member_ids) <= MIN_MEMBERS:
        raise Conflict("A coaching team keeps at least two teachers; delete the team instead")
    await session.execute(
        delete(TeamMember).where(
            col(TeamMember.team_id) == access.team.id, col(TeamMember.user_id) == user_id
        )
    )
    # Someone who had not yet agreed is gone: later members may now have everyone's consent.
    for newcomer_id, since in access.sees_since.items():
        if since is not None and newcomer_id != user_id:
            await _open_history_if_agreed(session, access.team.id, newcomer_id)


class Zone(BaseModel):
    time_zone: str


def time_zone_statement(team_id: uuid.UUID) -> Bound:
    """The time zone of the members' school (the first by name, if they span several): the
    zone a team's days are counted in (its calendar's dates, its documents' times)."""
    return Bound(_TIME_ZONE, {"team_id": team_id})


def time_zone_of(team_id: Any) -> AnySelect:
    """The zone rule as a select, for a team id given as a bind parameter or as a column (a
    correlated lookup per row, as calendar feeds use it).

    The team id is compared in this select's own WHERE, never in a subquery nested in it: a
    column of the enclosing query correlates only one level down, and deeper it would be read
    as a table of its own (every member of every team with an event: a wrong zone, and 50 ms
    a feed at district scale)."""
    return (
        select(col(School.time_zone))
        .join(SchoolTeam, col(SchoolTeam.school_id) == School.id)
        .where(col(SchoolTeam.team_id) == team_id)
        .order_by(School.name)
        .limit(1)
    )


_TIME_ZONE = time_zone_of(bindparam("team_id"))


async def time_zone(session: AsyncSession, team_id: uuid.UUID) -> ZoneInfo:
    """The team's zone inside a write session (UTC if no member has a school)."""
    found = time_zone_statement(team_id)
    name = await session.scalar(found.stmt, found.values)
    return ZoneInfo(name or "UTC")
