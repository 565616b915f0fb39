"""Support requests: a teacher sees their own; administrators those of their schools (district:
all) and answer them; whoever sees a request may close it."""

from sqlalchemy import ColumnElement, true
from sqlmodel import col

from app.auth.principal import Principal
from app.support.models import SupportRequest


def readable(p: Principal) -> ColumnElement[bool]:
    if p.is_district_admin:
        return true()
    if p.is_school_admin:
        return col(SupportRequest.school_id).in_(p.school_ids)
    return col(SupportRequest.requester_id) == p.staff.id


def can_answer(p: Principal, request: SupportRequest) -> bool:
    return p.is_district_admin or (p.is_school_admin and request.school_id in p.school_ids)
