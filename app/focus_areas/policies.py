"""The focus-area catalog: every staff member and `read` key reads it (retired areas too, when
asked); district administrators edit it (the DistrictAdmin dependency)."""

from sqlalchemy import ColumnElement, true

from app.auth.principal import Principal


def readable(_p: Principal) -> ColumnElement[bool]:
    return true()
