"""Staff records the caller may read or change, or 404/403 before the handler runs."""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from app.auth.deps import Admin, AdminOrReadKey
from app.auth.principal import Principal, caller_values
from app.core.access import load_visible, read_visible
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import Forbidden
from app.core.reads import Within
from app.users import policies, service
from app.users.models import Role, User
from app.users.schemas import UserPublic

MISSING = "No such user"


@dataclass
class StaffRecord:
    user: User
    school_ids: list[uuid.UUID]


async def _load(
    session: SessionDep, caller: Principal, user_id: uuid.UUID, *, lock: bool
) -> StaffRecord:
    user = await load_visible(
        session,
        User,
        user_id,
        policies.within(policies.record_reach(caller), one=True),
        params=caller_values(caller),
        missing=MISSING,
        lock=lock,
    )
    return StaffRecord(user, (await service.school_ids_of(session, [user.id]))[user.id])


async def get_user_view(user_id: uuid.UUID, reads: ReadsDep, caller: AdminOrReadKey) -> UserPublic:
    """404 when the caller may not know the person exists: the list's filter plus the id."""
    one = service.one_statement(caller, user_id)
    return await read_visible(reads, UserPublic, one, missing=MISSING)


UserView = Annotated[UserPublic, Depends(get_user_view)]


async def get_changeable_user(
    user_id: uuid.UUID, session: SessionDep, caller: Admin
) -> StaffRecord:
    """Locked until the change commits; who may change what is users.policies.change_problem."""
    return await _load(session, caller, user_id, lock=True)


ChangeableUser = Annotated[StaffRecord, Depends(get_changeable_user)]


async def within_managed_user(user_id: uuid.UUID, reads: ReadsDep, caller: Admin) -> Within:
    """A person the caller manages, for what belongs to the account (their sign-in bindings)
    to be listed: the check goes with the page (`Reads.page(within=)`); an empty page is
    explained in its snapshot: 404 if the caller may not know the person, 403 if they see but
    do not manage them (`policies.can_manage_user`)."""

    async def explain() -> None:
        found = await get_user_view(user_id, reads, caller)
        if not policies.can_manage_user(caller, found.role, set(found.school_ids)):
            raise Forbidden(policies.NOT_YOURS)

    return Within(service.managed_statement(caller, user_id), MISSING, explain=explain)


WithinManagedUser = Annotated[Within, Depends(within_managed_user)]


async def get_managed_user(found: ChangeableUser, caller: Admin) -> StaffRecord:
    """A person the caller manages, for a change (404 if they may not know the person, 403 if
    they see but do not manage them): the account locked until it commits."""
    if not policies.can_manage_user(caller, Role(found.user.role), set(found.school_ids)):
        raise Forbidden(policies.NOT_YOURS)
    return found


ManagedUser = Annotated[StaffRecord, Depends(get_managed_user)]
