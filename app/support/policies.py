"""Support requests: a teacher sees their own; administrators those of their schools (district:
all) and answer them; whoever sees a request may close it."""

import functools

from sqlalchemy import ColumnElement, bindparam, true
from sqlmodel import col

from app.auth.principal import CALLER_ID, CALLER_SCHOOLS, Principal, SchoolReach, school_reach
from app.support.models import SupportRequest


def readable(p: Principal) -> ColumnElement[bool]:
    """The requests the caller may see, for the list and the single record alike. Names the
    caller by bind parameters: run a statement using it with `caller_values(p)`."""
    return readable_within(school_reach(p))


@functools.cache
def readable_within(reach: SchoolReach) -> ColumnElement[bool]:
    """`readable` for a kind of caller (built once each)."""
    if reach is SchoolReach.district:
        return true()
    if reach is SchoolReach.schools:
        return col(SupportRequest.school_id).in_(bindparam(CALLER_SCHOOLS, expanding=True))
    return col(SupportRequest.requester_id) == bindparam(CALLER_ID)


def can_answer(p: Principal, request: SupportRequest) -> bool:
    return p.is_district_admin or (p.is_school_admin and request.school_id in p.school_ids)
