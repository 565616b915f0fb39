"""The growth record of a year-end meeting: read by whoever sees the team (its members and the
administrators of its members' schools: by design, unlike every other record), written by the
team's members and those administrators, together at the meeting."""

from app.auth.principal import Principal
from app.teams import policies as team_policies
from app.teams.policies import TeamAccess


def can_write(p: Principal, access: TeamAccess) -> bool:
    if access.team.deleted_at is not None:
        return False
    return team_policies.is_member(p, access) or team_policies.is_team_admin(p, access)
