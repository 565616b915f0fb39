"""Who may sign in how."""

from app.core.config import Settings
from app.users.models import Role


def may_be_password_account(settings: Settings, email: str) -> bool:
    """Whether this address may sign in (or set a password) with a password at all: everyone,
    unless the district requires single sign-on; then only the break-glass addresses its
    settings name."""
    if not settings.sso_required:
        return True
    return email.strip().lower() in {e.strip().lower() for e in settings.sso_break_glass_emails}


def may_use_password(settings: Settings, email: str, role: Role) -> bool:
    """Password sign-in for an account: with single sign-on required, only a break-glass
    district administrator's."""
    return may_be_password_account(settings, email) and (
        not settings.sso_required or role == Role.district_admin
    )
