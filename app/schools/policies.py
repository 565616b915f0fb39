"""Schools: every signed-in staff member and `read` key sees all of them (the StaffOrReadKey
dependency); district administrators add and change them (DistrictAdmin)."""

import functools

from sqlalchemy import ColumnElement, true

from app.auth.principal import Principal


def readable(_p: Principal) -> ColumnElement[bool]:
    """Every school, for whoever may read schools at all."""
    return readable_schools()


@functools.cache
def readable_schools() -> ColumnElement[bool]:
    """`readable`, the same for every caller (built once)."""
    return true()
