"""Who reads a reflection: private, the author; team, the author and the team's members (as
teachers, from the time they may read the team's confidential records: app/teams/policies.py);
program, every staff member of the district. No role widens this: administrators read private
and team posts no more than anyone else."""

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlmodel import col

from app.auth.principal import Principal
from app.reflections.models import Reflection, Visibility
from app.teams.models import Team, TeamMember
from app.users.models import Role


def readable(p: Principal) -> ColumnElement[bool]:
    if p.user is None:
        return false()
    visible = [Reflection.author_id == p.user.id, Reflection.visibility == Visibility.program]
    if p.role == Role.teacher:
        my_teams = (
            select(TeamMember.team_id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(
                TeamMember.user_id == p.user.id,
                Team.deleted_at.is_(None),
                or_(
                    TeamMember.sees_since.is_(None),
                    col(TeamMember.sees_since) <= Reflection.created_at,
                ),
            )
        )
        visible.append(
            and_(Reflection.visibility == Visibility.team, Reflection.team_id.in_(my_teams))
        )
    return and_(Reflection.deleted_at.is_(None), or_(*visible))


def sees_links(p: Principal) -> ColumnElement[bool]:
    """Whether the caller sees which team, event and observation record a post is about: its
    author and that team's members. A program post is read district-wide; what it links to is
    the team's business."""
    if p.user is None:
        return false()
    mine: ColumnElement[bool] = col(Reflection.author_id) == p.user.id
    if p.role != Role.teacher:
        return mine
    my_teams = select(TeamMember.team_id).where(TeamMember.user_id == p.user.id)
    return or_(mine, Reflection.team_id.in_(my_teams))


def can_edit(p: Principal, reflection: Reflection) -> bool:
    return p.user is not None and reflection.author_id == p.user.id
