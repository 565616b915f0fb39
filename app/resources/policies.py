"""The resource library: every staff member reads what is not retired and marks it reviewed;
administrators (school or district) curate it (the Admin dependency on those routes)."""

import functools

from sqlalchemy import ColumnElement
from sqlmodel import col

from app.auth.principal import Principal
from app.resources.models import Resource


def readable(_p: Principal) -> ColumnElement[bool]:
    """Every staff member reads the library, retired resources aside."""
    return readable_resources()


@functools.cache
def readable_resources() -> ColumnElement[bool]:
    """`readable`, the same for every caller (built once)."""
    return col(Resource.deleted_at).is_(None)
