"""Learning forms: confidential to the team, like its records. The team's members (as
teachers) of a live team read them (teams.policies.can_read_confidential), each those written
from the time they may see the team's records; each teacher writes only their own, until the
plan is completed. A teacher reads the forms they wrote, on a team or after leaving it."""

import uuid

from sqlalchemy import ColumnElement, bindparam
from sqlmodel import col

from app.auth.principal import CALLER_ID, Principal
from app.learning_forms.models import LearningForm
from app.teams import policies as team_policies
from app.teams.policies import TeamAccess


def can_write(p: Principal, access: TeamAccess, teacher_id: uuid.UUID) -> bool:
    """Your own form, on a live team you are a member of."""
    return (
        team_policies.can_read_confidential(p, access)
        and p.user is not None
        and p.user.id == teacher_id
    )


def own_forms() -> ColumnElement[bool]:
    """The forms the caller wrote (the caller by bind parameter: run with `caller_values`)."""
    return col(LearningForm.teacher_id) == bindparam(CALLER_ID)
