"""Observation and conference records: confidential to the team. Members (as teachers) of a
live team read them (app/teams/policies.can_read_confidential), each those written from the
time they may see the team's records (confidential_since); the observer writes an observation's
record and its author edits it; any member writes a conference's record. A teacher reads the
observation records they wrote, on a team or after leaving it (`own_records`); nothing else of
a team they left."""

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam
from sqlmodel import col

from app.auth.principal import CALLER_ID, Principal
from app.records.models import ObservationRecord
from app.teams import policies as team_policies
from app.teams.policies import TeamAccess
from app.users.models import Role


def in_reach(p: Principal, access: TeamAccess, created_at: datetime) -> bool:
    """A record of a team whose confidential records the caller reads: written late enough."""
    return written_since(team_policies.confidential_since(p, access), created_at)


def written_since(since: datetime | None, created_at: datetime) -> bool:
    """Whether a record written at `created_at` is within a member's reach from `since`
    (None: everything)."""
    return since is None or created_at >= since


def can_write_observation(p: Principal, observer_id: uuid.UUID | None) -> bool:
    """The observer of an observation (`observer_id`: its event's) writes its record."""
    return p.user is not None and observer_id == p.user.id


def may_read_own_records(p: Principal) -> bool:
    """A teacher. A member promoted to administrator reads no record, their own included: an
    administrator never reads observation notes, whatever they once wrote."""
    return p.user is not None and p.role == Role.teacher


def own_records() -> ColumnElement[bool]:
    """The observation records the caller wrote (the caller by bind parameter: run with
    `caller_values`)."""
    return col(ObservationRecord.author_id) == bindparam(CALLER_ID)


def can_edit_observation(p: Principal, record: ObservationRecord) -> bool:
    return p.user is not None and record.author_id == p.user.id
