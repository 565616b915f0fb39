"""The person to invite or whose password to reset, loaded for an administrator who may
(404/403 before the handler)."""

from typing import Annotated

from fastapi import Depends

from app.auth.deps import Admin
from app.core.errors import Forbidden
from app.invitations import policies
from app.users.deps import ChangeableUser, StaffRecord
from app.users.models import Role


async def get_invitee(found: ChangeableUser, caller: Admin) -> StaffRecord:
    role = Role(found.user.role)
    if not policies.can_send_password_link(caller, role, set(found.school_ids)):
        raise Forbidden("Administrators invite and reset the passwords of the staff they manage")
    return found


Invitee = Annotated[StaffRecord, Depends(get_invitee)]
