"""Observation and conference records: confidential to the team. Members (as teachers) of a
live team read them (app/teams/policies.can_read_confidential), each those written from the
time they may see the team's records (confidential_since); the observer writes an observation's
record and its author edits it; any member writes a conference's record."""

from datetime import datetime

from app.auth.principal import Principal
from app.events.models import Event
from app.records.models import ObservationRecord
from app.teams import policies as team_policies
from app.teams.policies import TeamAccess


def in_reach(p: Principal, access: TeamAccess, created_at: datetime) -> bool:
    """A record of a team whose confidential records the caller reads: written late enough."""
    return written_since(team_policies.confidential_since(p, access), created_at)


def written_since(since: datetime | None, created_at: datetime) -> bool:
    """Whether a record written at `created_at` is within a member's reach from `since`
    (None: everything)."""
    return since is None or created_at >= since


def can_write_observation(p: Principal, event: Event) -> bool:
    return p.user is not None and event.observer_id == p.user.id


def can_edit_observation(p: Principal, record: ObservationRecord) -> bool:
    return p.user is not None and record.author_id == p.user.id
