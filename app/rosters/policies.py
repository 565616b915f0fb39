"""Who imports staff rosters and reads the import log: district administrators and roster keys
everything; a school administrator the imports they ran (what an import may change is the
staff rules' business: app/users/policies.change_problem)."""

import functools

from sqlalchemy import ColumnElement, bindparam, true
from sqlmodel import col

from app.auth.principal import CALLER_ID, Principal
from app.rosters.models import RosterImport


def visible_imports(p: Principal) -> ColumnElement[bool]:
    """The imports the caller may read, for the list and the single record alike. Names the
    caller by bind parameters: run a statement using it with `caller_values(p)`."""
    return imports_within(p.manages_district_staff)


@functools.cache
def imports_within(everything: bool) -> ColumnElement[bool]:
    """`visible_imports` for a kind of caller (built once each)."""
    if everything:
        return true()
    return col(RosterImport.actor_user_id) == bindparam(CALLER_ID)
