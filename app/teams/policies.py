"""Who may see, join and change a coaching team. Plain functions over a loaded TeamAccess."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, select, true

from app.auth.principal import Principal
from app.teams.models import Team, TeamMember
from app.users.models import SchoolMembership


@dataclass
class TeamAccess:
    """A team with what permission checks need: its members and their schools."""

    team: Team
    member_ids: set[uuid.UUID] = field(default_factory=set)
    member_school_ids: set[uuid.UUID] = field(default_factory=set)


def is_member(p: Principal, access: TeamAccess) -> bool:
    return p.user is not None and p.user.id in access.member_ids


def is_team_admin(p: Principal, access: TeamAccess) -> bool:
    """District administrators, and administrators of a member's school."""
    if p.is_district_admin:
        return True
    return p.is_school_admin and bool(p.school_ids & access.member_school_ids)


def can_view(p: Principal, access: TeamAccess) -> bool:
    """Plans, calendars and progress: the team and its administrators (deleted: admins only)."""
    if access.team.deleted_at is not None:
        return is_team_admin(p, access)
    return is_member(p, access) or is_team_admin(p, access)


def can_edit(p: Principal, access: TeamAccess) -> bool:
    """Team details and membership: members and administrators."""
    return access.team.deleted_at is None and (is_member(p, access) or is_team_admin(p, access))


def can_place(p: Principal, candidate_school_ids: set[uuid.UUID]) -> bool:
    """May the caller put this teacher on a team? Colleagues of their schools; districts: anyone."""
    if p.is_district_admin:
        return True
    return bool(p.school_ids & candidate_school_ids)


def visible_teams(p: Principal, include_deleted: bool) -> ColumnElement[bool]:
    """Filter for the teams a caller may list; list filters only narrow it."""
    if p.is_district_admin:
        scope: ColumnElement[bool] = true()
    elif p.is_school_admin:
        in_my_schools = (
            select(TeamMember.team_id)
            .join(SchoolMembership, SchoolMembership.user_id == TeamMember.user_id)
            .where(SchoolMembership.school_id.in_(p.school_ids))
        )
        scope = Team.id.in_(in_my_schools)
    else:
        assert p.user is not None
        mine = select(TeamMember.team_id).where(TeamMember.user_id == p.user.id)
        scope = Team.id.in_(mine)
        return and_(scope, Team.deleted_at.is_(None))
    return scope if include_deleted else and_(scope, Team.deleted_at.is_(None))
