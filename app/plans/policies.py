"""Who edits, submits and decides a team's action plan. Seeing it is seeing the team
(app/teams/policies.visible_teams); editing and submitting are the members' (as teachers);
approving, returning and completing belong to an administrator of a member's school who is not
on the team."""

from app.auth.principal import Principal
from app.teams import policies as team_policies
from app.teams.policies import TeamAccess


def can_edit(p: Principal, access: TeamAccess) -> bool:
    return access.team.deleted_at is None and team_policies.is_member(p, access)


def can_move(p: Principal, access: TeamAccess, *, by_admin: bool) -> bool:
    """May the caller make a move of the review workflow (plans.service.RULES)?"""
    if by_admin:
        return team_policies.can_decide_plan(p, access)
    return team_policies.is_member(p, access)
