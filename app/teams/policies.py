"""Who may see, join and change a coaching team, and who reads its confidential records.

Seeing a team is decided once, as a SQL filter (`visible_teams`): the list and the single load
(`service.get_viewable`: the filter plus an id) use it, so they cannot disagree. What a caller may
do with a team they can see is decided by plain functions over the loaded `TeamAccess`.

Confidential content (observation and conference records, team reflections, the summary's
records) is read by members only, and a member is a *teacher* on the team: someone whose role
changed to administrator keeps their place on the list but reads nothing and decides nothing as
a member; no administrator reads records, whatever path they try. The rule has a SQL form for
reads (`confidential_columns`, decided in the snapshot that reads the records) and a Python form
for changes (`can_read_confidential`, `confidential_since`); tests/coaching/
test_confidential_rule.py holds them to the same answer for every kind of caller.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, false, null, select, true
from sqlmodel import col

from app.auth.principal import CALLER_ID, CALLER_SCHOOLS, Principal
from app.teams.models import SchoolTeam, Team, TeamMember
from app.users.models import Role


@dataclass
class TeamAccess:
    """A team with what permission checks need: its members, since when each reads the team's
    confidential records (None: all of them), and the members' schools."""

    team: Team
    sees_since: dict[uuid.UUID, datetime | None] = field(default_factory=dict)
    member_school_ids: set[uuid.UUID] = field(default_factory=set)

    @property
    def member_ids(self) -> set[uuid.UUID]:
        return set(self.sees_since)


class TeamReach(StrEnum):
    """Which teams a caller sees, by kind of caller."""

    district = "district"  # every team
    schools = "schools"  # teams with a member in the caller's schools
    own = "own"  # the caller's own teams
    none = "none"  # an integration key: no team


def team_reach(p: Principal) -> TeamReach:
    if p.is_district_admin:
        return TeamReach.district
    if p.is_school_admin:
        return TeamReach.schools
    return TeamReach.own if p.user is not None else TeamReach.none


def visible_teams(p: Principal, include_deleted: bool, *, one: bool = False) -> ColumnElement[bool]:
    """The teams a caller may see (plans, calendars, progress): their own teams, and for
    administrators the teams with a member in their schools (district: all). Deleted teams:
    administrators only, and only when asked for. List filters only narrow this.

    Built once per kind of caller: it names the caller by bind parameters, so a statement using
    it runs with `caller_values(p)` (app/auth/principal.py). `one`: see `teams_within`."""
    return teams_within(team_reach(p), include_deleted, one=one)


@functools.cache
def teams_within(
    reach: TeamReach, include_deleted: bool, *, one: bool = False
) -> ColumnElement[bool]:
    """`visible_teams` for a kind of caller (built once each).

    `one`: for a statement that reads one team by its id (an access check, a single record):
    the same rule, asked of that row. An administrator's reach is "a member in one of my
    schools", read from `school_team` (kept by the database's triggers, migration 0046). Asked
    as a set (`team.id IN` the schools' teams) it is right for a page of teams (the set built
    once, then the walk); asked of the row (`EXISTS` a row for that team and one of my schools)
    it is one index lookup, which a single check wants and a page would repeat for every team
    it walks. Both forms are built from the same select below, and tests/test_read_interface.py
    compares them team by team."""
    if reach is TeamReach.district:
        scope: ColumnElement[bool] = true()
    elif reach is TeamReach.schools:
        in_my_schools = select(col(SchoolTeam.team_id)).where(
            col(SchoolTeam.school_id).in_(bindparam(CALLER_SCHOOLS, expanding=True))
        )
        if one:
            scope = in_my_schools.where(col(SchoolTeam.team_id) == Team.id).exists()
        else:
            scope = col(Team.id).in_(in_my_schools)
    elif reach is TeamReach.own:
        mine = select(col(TeamMember.team_id)).where(
            col(TeamMember.user_id) == bindparam(CALLER_ID)
        )
        return and_(col(Team.id).in_(mine), col(Team.deleted_at).is_(None))
    else:
        return false()
    return scope if include_deleted else and_(scope, col(Team.deleted_at).is_(None))


def with_member_at_school() -> ColumnElement[bool]:
    """Teams with a member at the school `school_id` (a bind parameter): a list's filter."""
    return col(Team.id).in_(
        select(col(SchoolTeam.team_id)).where(col(SchoolTeam.school_id) == bindparam("school_id"))
    )


def reach_at_school(p: Principal, school_id: uuid.UUID | None) -> TeamReach:
    """The reach a list of teams "with a member at `school_id`" needs besides that filter. An
    administrator's teams are those with a member at one of their schools, so at one of their
    own schools the filter alone says it (and the schools' teams are not gathered twice); at
    any other school both apply."""
    reach = team_reach(p)
    if reach is TeamReach.schools and school_id is not None and school_id in p.school_ids:
        return TeamReach.district
    return reach


def is_member(p: Principal, access: TeamAccess) -> bool:
    """On the team, as a teacher (see the module docstring)."""
    return p.user is not None and p.role == Role.teacher and p.user.id in access.sees_since


def on_member_list(p: Principal, access: TeamAccess) -> bool:
    """On the team's list whatever their role now: such a person never judges the team."""
    return p.user is not None and p.user.id in access.sees_since


def is_team_admin(p: Principal, access: TeamAccess) -> bool:
    """District administrators, and administrators of a member's school."""
    if p.is_district_admin:
        return True
    return p.is_school_admin and bool(p.school_ids & access.member_school_ids)


def can_read_confidential(p: Principal, access: TeamAccess) -> bool:
    """Observation and conference records, team reflections: members of a live team only."""
    return access.team.deleted_at is None and is_member(p, access)


def confidential_columns(p: Principal, team: Any) -> tuple[Any, ...]:
    """`can_read_confidential` and `confidential_since` as columns of a statement reading a
    team's row (`team`: the team table), for reads that decide in the same snapshot as they
    read: `reads_confidential` (bool) and `confidential_since` (None: all records). Names the
    caller by bind parameters: run with `caller_values(p)`."""
    return confidential_columns_for(may_be_member(p), team)


def may_be_member(p: Principal) -> bool:
    """Whether the caller is the kind who reads a team's records when on it (`is_member`:
    teachers only)."""
    return p.user is not None and p.role == Role.teacher


@functools.cache
def confidential_columns_for(teacher: bool, team: Any) -> tuple[Any, ...]:
    """`confidential_columns` for a kind of caller (built once each)."""
    if not teacher:
        return (false().label("reads_confidential"), null().label("confidential_since"))
    return (
        reads_confidential_for(teacher, team).label("reads_confidential"),
        _mine(team).scalar_subquery().label("confidential_since"),
    )


def _mine(team: Any) -> Any:
    return select(col(TeamMember.sees_since)).where(
        TeamMember.team_id == team.id, col(TeamMember.user_id) == bindparam(CALLER_ID)
    )


@functools.cache
def reads_confidential_for(teacher: bool, team: Any) -> ColumnElement[bool]:
    """`can_read_confidential` asked in SQL of a team's row (`team`: the team table), for a
    kind of caller (the caller by bind parameter): a filter, where `confidential_columns`
    reads it as a column."""
    if not teacher:
        return false()
    on_team = exists(_mine(team).with_only_columns(col(TeamMember.user_id)))
    return and_(on_team, team.deleted_at.is_(None))


def written_in_reach(created_at: Any, team_id: Any) -> ColumnElement[bool]:
    """`records.policies.in_reach` asked in SQL of a team's confidential record by its columns
    (when it was written, its team): no place of the caller (by bind parameter) on that team
    that sees only records written after it. Only a filter within `reads_confidential_for`:
    it says nothing of who may read the team's records at all."""
    later = col(TeamMember.sees_since) > created_at
    return ~exists().where(
        col(TeamMember.team_id) == team_id, col(TeamMember.user_id) == bindparam(CALLER_ID), later
    )


def confidential_since(p: Principal, access: TeamAccess) -> datetime | None:
    """Of the confidential records a member may read, the oldest allowed creation time (None:
    all). Call only when `can_read_confidential` holds."""
    assert p.user is not None
    return access.sees_since[p.user.id]


def can_edit(p: Principal, access: TeamAccess) -> bool:
    """Team details (name, year, focus area, target): members and administrators."""
    return access.team.deleted_at is None and (is_member(p, access) or is_team_admin(p, access))


def can_manage_membership(p: Principal, access: TeamAccess) -> bool:
    """Invitations, removals and consents come from the team's members, never from an
    administrator: an account an administrator controls must not be able to join a team
    without the team asking for it."""
    return access.team.deleted_at is None and is_member(p, access)


def can_decide_plan(p: Principal, access: TeamAccess) -> bool:
    """Approve, return or complete a plan: an administrator of a member's school who is not
    on the team themselves (a member promoted to administrator does not judge their team)."""
    return is_team_admin(p, access) and not on_member_list(p, access)


def can_place(p: Principal, candidate_school_ids: set[uuid.UUID]) -> bool:
    """May the caller invite this teacher? Colleagues of their schools."""
    if p.is_district_admin:
        return True
    return bool(p.school_ids & candidate_school_ids)
