"""Coverage is visible to the requester, their team, and administrators of the school where the
class needs covering; those administrators (and district administrators) decide."""

import functools
from typing import Any

from sqlalchemy import ColumnElement, bindparam, or_, select, true
from sqlmodel import col

from app.auth.principal import CALLER_ID, CALLER_SCHOOLS, Principal, SchoolReach, school_reach
from app.coverage.models import CoverageRequest
from app.teams.models import TeamMember


def readable(p: Principal) -> ColumnElement[bool]:
    """The requests the caller may see, for the list and the single record alike: their own and
    their teams' (administrators: their schools'). Names the caller by bind parameters: run a
    statement using it with `caller_values(p)`."""
    return readable_within(school_reach(p))


@functools.cache
def readable_within(reach: SchoolReach) -> ColumnElement[bool]:
    """`readable` for a kind of caller (built once each)."""
    if reach is SchoolReach.district:
        return true()
    if reach is SchoolReach.schools:
        return col(CoverageRequest.school_id).in_(bindparam(CALLER_SCHOOLS, expanding=True))
    me: Any = bindparam(CALLER_ID)
    my_teams = select(col(TeamMember.team_id)).where(TeamMember.user_id == me)
    return or_(CoverageRequest.requester_id == me, col(CoverageRequest.team_id).in_(my_teams))


def can_decide(p: Principal, request: CoverageRequest) -> bool:
    """Arrange or decline: administrators of the school where the class needs covering."""
    return p.is_district_admin or (p.is_school_admin and request.school_id in p.school_ids)


def can_withdraw(p: Principal, request: CoverageRequest) -> bool:
    return p.user is not None and request.requester_id == p.user.id
