"""Who sends whom a link to set their password (an invitation, a reset): a staff administrator
who manages the person (district administrators: anyone; school administrators: non-district
staff of their schools), never an integration key; no administrator ever sees or sets the
password. Using a link needs no account: the emailed token is the proof; asking for a reset
needs none either (the answer is the same whoever asks)."""

import uuid

from app.auth.principal import Principal
from app.users import policies as user_policies
from app.users.models import Role


def can_send_password_link(p: Principal, role: Role, school_ids: set[uuid.UUID]) -> bool:
    return p.user is not None and user_policies.can_manage_user(p, role, school_ids)
