"""Rules for coaching teams and the focus-area catalog. Functions flush; the request commits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.db import columns_of, utcnow
from app.core.errors import Conflict, FieldError, NotFound, Unprocessable, reject_nulls
from app.plans.models import ActionPlan
from app.teams import policies
from app.teams.models import FocusArea, Team, TeamMember
from app.teams.policies import TeamAccess
from app.teams.schemas import (
    FocusAreaCreate,
    FocusAreaUpdate,
    TeamCreate,
    TeamMemberAdd,
    TeamPublic,
    TeamUpdate,
)
from app.users.models import Role, SchoolMembership, User

MIN_MEMBERS = 2


# ---- focus areas -----------------------------------------------------------------------------


def focus_area_statement(include_inactive: bool) -> Select[Any]:
    stmt = select(*FocusArea.__table__.columns)
    if not include_inactive:
        stmt = stmt.where(FocusArea.is_active.is_(True))
    return stmt.order_by(FocusArea.name, FocusArea.id)


async def _focus_name_free(session: AsyncSession, name: str, exclude: uuid.UUID | None) -> None:
    stmt = select(FocusArea.id).where(func.lower(FocusArea.name) == name.lower())
    if exclude is not None:
        stmt = stmt.where(FocusArea.id != exclude)
    if (await session.execute(stmt)).first() is not None:
        raise Conflict("A focus area with this name already exists")


async def create_focus_area(session: AsyncSession, data: FocusAreaCreate) -> FocusArea:
    await _focus_name_free(session, data.name, None)
    area = FocusArea(name=data.name, description=data.description)
    session.add(area)
    await session.flush()
    return area


async def update_focus_area(
    session: AsyncSession, area_id: uuid.UUID, data: FocusAreaUpdate
) -> FocusArea:
    area = await session.get(FocusArea, area_id)
    if area is None:
        raise NotFound("No such focus area")
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        await _focus_name_free(session, changes["name"], area.id)
    for key, value in changes.items():
        if value is not None or key == "description":
            setattr(area, key, value)
    session.add(area)
    await session.flush()
    return area


# ---- loading -------------------------------------------------------------------------------


async def load_access(session: AsyncSession, team_id: uuid.UUID) -> TeamAccess | None:
    """The team with its members and their schools, in two queries."""
    team = await session.get(Team, team_id)
    if team is None:
        return None
    rows = await session.execute(
        select(TeamMember.user_id, SchoolMembership.school_id)
        .outerjoin(SchoolMembership, SchoolMembership.user_id == TeamMember.user_id)
        .where(TeamMember.team_id == team_id)
    )
    access = TeamAccess(team=team)
    for user_id, school_id in rows:
        access.member_ids.add(user_id)
        if school_id is not None:
            access.member_school_ids.add(school_id)
    return access


async def get_viewable(
    session: AsyncSession, principal: Principal, team_id: uuid.UUID
) -> TeamAccess | None:
    """The team if the caller is on it or administers a member's school, else None (-> 404)."""
    access = await load_access(session, team_id)
    return access if access is not None and policies.can_view(principal, access) else None


async def to_public_many(session: AsyncSession, teams: Iterable[Any]) -> list[TeamPublic]:
    """Teams (table rows or column dicts) as TeamPublic, with members, focus areas and plan
    statuses fetched in one query each for the whole batch."""
    items = [t if isinstance(t, dict) else columns_of(t) for t in teams]
    ids = [t["id"] for t in items]
    members: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    statuses: dict[uuid.UUID, str] = {}
    areas: dict[uuid.UUID, dict[str, Any]] = {}
    if ids:
        member_rows = await session.execute(
            select(TeamMember.team_id, User.id, User.given_name, User.family_name)
            .join(User, User.id == TeamMember.user_id)
            .where(TeamMember.team_id.in_(ids))
            .order_by(User.family_name, User.given_name, User.id)
        )
        for team_id, user_id, given, family in member_rows:
            members[team_id].append({"id": user_id, "given_name": given, "family_name": family})
        plan_rows = await session.execute(
            select(ActionPlan.team_id, ActionPlan.status).where(ActionPlan.team_id.in_(ids))
        )
        statuses = {team_id: status for team_id, status in plan_rows}
        area_ids = {t["focus_area_id"] for t in items if t["focus_area_id"] is not None}
        if area_ids:
            area_rows = await session.execute(
                select(FocusArea.id, FocusArea.name).where(FocusArea.id.in_(area_ids))
            )
            areas = {a_id: {"id": a_id, "name": name} for a_id, name in area_rows}
    return [
        TeamPublic.model_validate(
            {
                **t,
                "focus_area": areas.get(t["focus_area_id"]) if t["focus_area_id"] else None,
                "members": members[t["id"]],
                "plan_status": statuses.get(t["id"]),
            }
        )
        for t in items
    ]


async def to_public(session: AsyncSession, team: Team) -> TeamPublic:
    return (await to_public_many(session, [team]))[0]


def list_statement(
    principal: Principal,
    *,
    school_year: str | None,
    focus_area_id: uuid.UUID | None,
    member_id: uuid.UUID | None,
    school_id: uuid.UUID | None,
    include_deleted: bool,
) -> Select[Any]:
    stmt = select(*Team.__table__.columns).where(policies.visible_teams(principal, include_deleted))
    if school_year is not None:
        stmt = stmt.where(Team.school_year == school_year)
    if focus_area_id is not None:
        stmt = stmt.where(Team.focus_area_id == focus_area_id)
    if member_id is not None:
        stmt = stmt.where(
            Team.id.in_(select(TeamMember.team_id).where(TeamMember.user_id == member_id))
        )
    if school_id is not None:
        stmt = stmt.where(
            Team.id.in_(
                select(TeamMember.team_id)
                .join(SchoolMembership, SchoolMembership.user_id == TeamMember.user_id)
                .where(SchoolMembership.school_id == school_id)
            )
        )
    return stmt.order_by(Team.school_year.desc(), Team.name, Team.id)


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
) -> None:
    """Members must be active teachers the caller may place (colleagues of their schools)."""
    rows = await session.execute(
        select(User.id, User.role, User.is_active, SchoolMembership.school_id)
        .outerjoin(SchoolMembership, SchoolMembership.user_id == User.id)
        .where(User.id.in_(user_ids))
    )
    found: dict[uuid.UUID, tuple[Role, bool, set[uuid.UUID]]] = {}
    for user_id, role, active, school_id in rows:
        entry = found.setdefault(user_id, (Role(role), active, set()))
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


async def create(session: AsyncSession, principal: Principal, data: TeamCreate) -> Team:
    assert principal.user is not None
    member_ids = set(data.member_ids)
    creator_is_teacher = principal.user.role == Role.teacher
    if creator_is_teacher:
        member_ids.add(principal.user.id)
    if len(member_ids) < MIN_MEMBERS:
        raise Unprocessable(
            "A coaching team has at least two teachers",
            errors=[
                FieldError(
                    field="body.member_ids", message="at least two teachers", type="too_short"
                )
            ],
        )
    others = member_ids - ({principal.user.id} if creator_is_teacher else set())
    await _check_candidates(session, principal, others, "body.member_ids")
    await _check_focus_area(session, data.focus_area_id)
    team = Team(
        name=data.name,
        school_year=data.school_year,
        focus_area_id=data.focus_area_id,
        focus_area_other=data.focus_area_other,
        learning_target=data.learning_target,
        created_by_id=principal.user.id,
    )
    session.add(team)
    await session.flush()
    await session.execute(
        insert(TeamMember),
        [{"team_id": team.id, "user_id": u} for u in sorted(member_ids, key=str)],
    )
    # Every team has its action plan from the start, as a draft.
    session.add(ActionPlan(team_id=team.id, learning_target=data.learning_target))
    await session.flush()
    return team


async def update(session: AsyncSession, team: Team, data: TeamUpdate) -> Team:
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, ("name", "school_year"))
    if "focus_area_id" in changes:
        await _check_focus_area(session, changes["focus_area_id"])
    for key, value in changes.items():
        setattr(team, key, value)
    team.updated_at = utcnow()
    session.add(team)
    await session.flush()
    return team


async def soft_delete(session: AsyncSession, principal: Principal, team: Team) -> None:
    team.deleted_at = utcnow()
    team.deleted_by_id = principal.user.id if principal.user else None
    session.add(team)
    await session.flush()


async def restore(session: AsyncSession, team: Team) -> Team:
    if team.deleted_at is None:
        raise Conflict("The team is not deleted")
    team.deleted_at = None
    team.deleted_by_id = None
    team.updated_at = utcnow()
    session.add(team)
    await session.flush()
    return team


async def add_member(
    session: AsyncSession, principal: Principal, access: TeamAccess, data: TeamMemberAdd
) -> None:
    if data.user_id in access.member_ids:
        raise Conflict("Already a member of this team")
    await _check_candidates(session, principal, {data.user_id}, "body.user_id")
    session.add(TeamMember(team_id=access.team.id, user_id=data.user_id))
    await session.flush()


async def remove_member(session: AsyncSession, access: TeamAccess, user_id: uuid.UUID) -> None:
    if user_id not in access.member_ids:
        raise NotFound("Not a member of this team")
    if len(access.member_ids) <= MIN_MEMBERS:
        raise Conflict("A coaching team keeps at least two teachers; delete the team instead")
    await session.execute(
        delete(TeamMember).where(
            TeamMember.team_id == access.team.id, TeamMember.user_id == user_id
        )
    )
