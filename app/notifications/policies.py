"""Notifications: each person reads and marks only their own (anyone else's is 404), and sets
only their own email choices. Who is told what is decided where it happens (service.py's
callers), and a notification never carries more than its title and a link."""

from sqlalchemy import ColumnElement, bindparam
from sqlmodel import col

from app.auth.principal import CALLER_ID, Principal
from app.notifications.models import Notification


def own(_p: Principal) -> ColumnElement[bool]:
    """A caller's notifications (names the caller by CALLER_ID)."""
    return col(Notification.user_id) == bindparam(CALLER_ID)
