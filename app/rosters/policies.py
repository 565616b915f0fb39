"""Who imports staff rosters and reads the import log: district administrators and roster keys
everything; a school administrator the imports they ran (what an import may change is the
staff rules' business: app/users/policies.change_problem)."""

from sqlalchemy import ColumnElement, true
from sqlmodel import col

from app.auth.principal import Principal
from app.rosters.models import RosterImport


def visible_imports(p: Principal) -> ColumnElement[bool]:
    if p.manages_district_staff:
        return true()
    return col(RosterImport.actor_user_id) == p.staff.id
