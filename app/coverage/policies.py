"""Coverage is visible to the requester, their team, and administrators of the school where the
class needs covering; those administrators (and district administrators) decide."""

from sqlalchemy import ColumnElement, or_, select, true

from app.auth.principal import Principal
from app.coverage.models import CoverageRequest
from app.teams.models import TeamMember


def readable(p: Principal) -> ColumnElement[bool]:
    if p.is_district_admin:
        return true()
    if p.is_school_admin:
        return CoverageRequest.school_id.in_(p.school_ids)
    assert p.user is not None
    my_teams = select(TeamMember.team_id).where(TeamMember.user_id == p.user.id)
    return or_(CoverageRequest.requester_id == p.user.id, CoverageRequest.team_id.in_(my_teams))


def can_decide(p: Principal, request: CoverageRequest) -> bool:
    """Arrange or decline: administrators of the school where the class needs covering."""
    return p.is_district_admin or (p.is_school_admin and request.school_id in p.school_ids)


def can_withdraw(p: Principal, request: CoverageRequest) -> bool:
    return p.user is not None and request.requester_id == p.user.id
