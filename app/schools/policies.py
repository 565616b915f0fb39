"""Schools: every signed-in staff member and `read` key sees all of them (the StaffOrReadKey
dependency); district administrators add and change them (DistrictAdmin). A teacher's request
of their school (coverage, support) is for one of their own schools."""

import functools
import uuid

from sqlalchemy import ColumnElement, true

from app.auth.principal import Principal
from app.core.errors import Unprocessable


def readable(_p: Principal) -> ColumnElement[bool]:
    """Every school, for whoever may read schools at all."""
    return readable_schools()


@functools.cache
def readable_schools() -> ColumnElement[bool]:
    """`readable`, the same for every caller (built once)."""
    return true()


def school_of_request(p: Principal, requested: uuid.UUID | None) -> uuid.UUID:
    """The school a request by the caller is for (coverage, support): the one they name, which
    must be one of theirs, or their only school. 422 on `school_id` otherwise."""
    if requested is not None:
        if requested not in p.school_ids:
            raise Unprocessable.for_field("school_id", "not one of your schools")
        return requested
    if len(p.school_ids) == 1:
        return next(iter(p.school_ids))
    raise Unprocessable.for_field("school_id", "you belong to several schools (or none): say which")
