"""Integration keys: district administrators create, list and revoke them (DistrictAdmin); a
key's own rights are its scopes (app/auth/principal.py)."""

from sqlalchemy import ColumnElement, true

from app.auth.principal import Principal


def manageable(_p: Principal) -> ColumnElement[bool]:
    return true()
