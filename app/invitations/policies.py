"""Who invites whom: a staff administrator who manages the person (district administrators:
anyone; school administrators: non-district staff of their schools), never an integration
key. Activating needs no account: the emailed token is the proof."""

import uuid

from app.auth.principal import Principal
from app.users import policies as user_policies
from app.users.models import Role


def can_invite(p: Principal, role: Role, school_ids: set[uuid.UUID]) -> bool:
    return p.user is not None and user_policies.can_manage_user(p, role, school_ids)
