"""Who reads a reflection: private, the author; team, the author and the team's members;
program, every staff member of the district. No role widens this: administrators read
private and team posts no more than anyone else."""

from sqlalchemy import ColumnElement, and_, false, or_, select

from app.auth.principal import Principal
from app.reflections.models import Reflection, Visibility
from app.teams.models import Team, TeamMember


def readable(p: Principal) -> ColumnElement[bool]:
    if p.user is None:
        return false()
    my_teams = (
        select(TeamMember.team_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.user_id == p.user.id, Team.deleted_at.is_(None))
    )
    return and_(
        Reflection.deleted_at.is_(None),
        or_(
            Reflection.author_id == p.user.id,
            Reflection.visibility == Visibility.program,
            and_(Reflection.visibility == Visibility.team, Reflection.team_id.in_(my_teams)),
        ),
    )


def can_edit(p: Principal, reflection: Reflection) -> bool:
    return p.user is not None and reflection.author_id == p.user.id
