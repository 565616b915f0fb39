"""Reflections the caller may read or change, or 404/403 before the handler runs."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends

from app.auth.deps import StaffCaller
from app.auth.principal import caller_values
from app.core.access import load_visible, read_visible
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import Forbidden, NotFound
from app.reflections import policies, service
from app.reflections.models import Reflection
from app.reflections.schemas import ReflectionPublic

MISSING = "No such reflection"


async def get_reflection_view(
    reflection_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller
) -> ReflectionPublic:
    """The post as the API shows it: the list's statement plus the id."""
    stmt = service.one_statement(caller, reflection_id)
    return await read_visible(reads, ReflectionPublic, stmt, missing=MISSING)


ReflectionView = Annotated[ReflectionPublic, Depends(get_reflection_view)]


async def open_readable_reflection(
    reflection_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller
) -> AsyncIterator[uuid.UUID]:
    """The id of a post the caller may read, with a snapshot open for reading what belongs to
    it (its comments) as of the same moment."""
    async with reads.snapshot():
        if await reads.value(service.seen_statement(caller, reflection_id)) is None:
            raise NotFound(MISSING)
        yield reflection_id


ReadableReflectionId = Annotated[uuid.UUID, Depends(open_readable_reflection, scope="function")]


async def get_readable_reflection(
    reflection_id: uuid.UUID, session: SessionDep, caller: StaffCaller
) -> Reflection:
    return await load_visible(
        session,
        Reflection,
        reflection_id,
        policies.readable(caller),
        missing=MISSING,
        params=caller_values(caller),
    )


ReadableReflection = Annotated[Reflection, Depends(get_readable_reflection)]


async def get_editable_reflection(
    reflection_id: uuid.UUID, session: SessionDep, caller: StaffCaller
) -> Reflection:
    found = await load_visible(
        session,
        Reflection,
        reflection_id,
        policies.readable(caller),
        missing=MISSING,
        lock=True,
        params=caller_values(caller),
    )
    if not policies.can_edit(caller, found):
        raise Forbidden("Only its author changes a reflection")
    return found


EditableReflection = Annotated[Reflection, Depends(get_editable_reflection)]
