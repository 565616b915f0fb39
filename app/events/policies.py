"""Who sees an event: whoever sees its team (app/teams/policies.py); deleted events only the
administrators who can restore them. One SQL filter for the list and the single load."""

import functools
import uuid

from sqlalchemy import ColumnElement, and_, exists, select, true
from sqlmodel import col

from app.auth.principal import Principal
from app.events.models import Event, EventKind
from app.teams import policies as team_policies
from app.teams.models import Team
from app.teams.policies import TeamAccess, TeamReach


def visible_events(
    p: Principal, *, include_deleted: bool, one: bool = False
) -> ColumnElement[bool]:
    """Events of the teams the caller sees; deleted ones (and those of deleted teams) only for
    administrators who ask for them. Names the caller by bind parameters: run statements using
    it with `caller_values(p)`. `one`: see `events_within`."""
    return events_within(team_policies.team_reach(p), include_deleted and p.is_admin, one=one)


@functools.cache
def events_within(reach: TeamReach, deleted_too: bool, *, one: bool = False) -> ColumnElement[bool]:
    """`visible_events` for a kind of caller (built once each). `one`: for a statement that
    reads one event by its id: its team asked of that row (see `teams_within`)."""
    if reach is TeamReach.district:
        # Every team: a correlated check lets a page walk the events in time order and stop
        # at 50; `IN (every team)` made SQLite sort all 44,000 events of the bench district
        # first (41 ms against 2 ms a page).
        if deleted_too:
            return true()
        live = exists().where(col(Team.id) == Event.team_id, col(Team.deleted_at).is_(None))
        return and_(live, col(Event.deleted_at).is_(None))
    in_teams: ColumnElement[bool]
    if one:
        # Its own `team` (correlate_except): a statement that joins the event's team too
        # (a record's load) would otherwise correlate it away and leave the check no FROM.
        in_teams = (
            select(col(Team.id))
            .where(
                col(Team.id) == Event.team_id,
                team_policies.teams_within(reach, include_deleted=deleted_too, one=True),
            )
            .correlate_except(Team)
            .exists()
        )
    else:
        teams = select(col(Team.id)).where(
            team_policies.teams_within(reach, include_deleted=deleted_too)
        )
        in_teams = col(Event.team_id).in_(teams)
    return in_teams if deleted_too else and_(in_teams, col(Event.deleted_at).is_(None))


def can_confirm_held(
    p: Principal, access: TeamAccess, kind: EventKind, participants: set[uuid.UUID]
) -> bool:
    """Confirm that an event took place: a year-end meeting, an administrator of a member's
    school (a team does not mark its own); anything else, a member who took part in it."""
    if access.team.deleted_at is not None:
        return False
    if kind == EventKind.year_end_meeting:
        return team_policies.is_team_admin(p, access)
    return team_policies.is_member(p, access) and p.staff.id in participants


def not_scheduler(verb: str) -> str:
    """Why `can_schedule` refused: "Only team members change events; ..."."""
    return (
        f"Only team members {verb} events; "
        "a year-end meeting, an administrator of a member's school"
    )


def can_schedule(p: Principal, access: TeamAccess, kind: EventKind) -> bool:
    """Schedule, change, cancel or delete an event of this kind: a year-end meeting, an
    administrator of a member's school (the team meets them; it does not hold its own);
    anything else, the team's members."""
    if access.team.deleted_at is not None:
        return False
    if kind == EventKind.year_end_meeting:
        return team_policies.is_team_admin(p, access)
    return team_policies.is_member(p, access)
