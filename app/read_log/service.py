"""A team's read log, newest first (who may read it: read_log/policies.py)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import col

from app.core.pagination import PageQuery
from app.core.sql import json_object
from app.read_log.models import ConfidentialRead
from app.users.models import User

_READER = (
    select(
        json_object(
            id=col(User.id), given_name=col(User.given_name), family_name=col(User.family_name)
        )
    )
    .where(col(User.id) == ConfidentialRead.reader_id)
    .scalar_subquery()
    .label("reader")
)
_LOG = PageQuery(
    select(
        col(ConfidentialRead.id),
        col(ConfidentialRead.kind),
        col(ConfidentialRead.record_id),
        col(ConfidentialRead.at),
        _READER,
    ).where(col(ConfidentialRead.team_id) == bindparam("team_id")),
    (col(ConfidentialRead.at).desc(), col(ConfidentialRead.id).desc()),
)


def team_log_query(team_id: uuid.UUID) -> tuple[PageQuery, dict[str, Any]]:
    return _LOG, {"team_id": team_id}
