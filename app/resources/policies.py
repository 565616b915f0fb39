"""The resource library: every staff member reads what is not retired and marks it reviewed;
administrators (school or district) curate it (the Admin dependency on those routes)."""

from sqlalchemy import ColumnElement
from sqlmodel import col

from app.auth.principal import Principal
from app.resources.models import Resource


def readable(_p: Principal) -> ColumnElement[bool]:
    return col(Resource.deleted_at).is_(None)
