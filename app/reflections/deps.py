"""Reflections the caller may read or change, or 404/403 before the handler runs."""

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select
from sqlmodel import col

from app.auth.deps import StaffCaller
from app.auth.principal import caller_values
from app.core.access import load_visible, read_visible
from app.core.deps import ReadsDep, SessionDep
from app.core.errors import Forbidden, NotFound
from app.core.reads import Within
from app.reflections import policies, service
from app.reflections.models import Reflection, ReflectionComment
from app.reflections.schemas import ReflectionPublic

MISSING = "No such reflection"


async def get_reflection_view(
    reflection_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller
) -> ReflectionPublic:
    """The post as the API shows it: the list's statement plus the id."""
    stmt = service.one_statement(caller, reflection_id)
    return await read_visible(reads, ReflectionPublic, stmt, missing=MISSING)


ReflectionView = Annotated[ReflectionPublic, Depends(get_reflection_view)]


async def within_readable_reflection(reflection_id: uuid.UUID, caller: StaffCaller) -> Within:
    """A post the caller must read for what belongs to it (its comments) to be listed: its
    check goes with the page (`Reads.page(within=)`), which answers 404 for a post they may not
    read."""
    return Within(service.seen_statement(caller, reflection_id), MISSING)


WithinReadableReflection = Annotated[Within, Depends(within_readable_reflection)]


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


async def get_commented_post(
    reflection_id: uuid.UUID, reads: ReadsDep, caller: StaffCaller
) -> service.CommentedPost:
    """A post the caller reads (404 otherwise), for a comment on it."""
    stmt = service.commented_statement(caller, reflection_id)
    return await read_visible(reads, service.CommentedPost, stmt, missing=MISSING)


CommentedPost = Annotated[service.CommentedPost, Depends(get_commented_post)]


async def get_changing_reflection(
    reflection_id: uuid.UUID, session: SessionDep, caller: StaffCaller
) -> Reflection:
    """A post the caller reads, locked until the change commits."""
    return await load_visible(
        session,
        Reflection,
        reflection_id,
        policies.readable(caller),
        missing=MISSING,
        lock=True,
        params=caller_values(caller),
    )


ChangingReflection = Annotated[Reflection, Depends(get_changing_reflection)]


async def get_editable_reflection(found: ChangingReflection, caller: StaffCaller) -> Reflection:
    if not policies.can_edit(caller, found):
        raise Forbidden("Only its author changes a reflection")
    return found


EditableReflection = Annotated[Reflection, Depends(get_editable_reflection)]


async def get_hideable_reflection(found: ChangingReflection, caller: StaffCaller) -> Reflection:
    if not policies.can_hide(caller, found):
        raise Forbidden("District administrators hide program posts")
    return found


HideableReflection = Annotated[Reflection, Depends(get_hideable_reflection)]

COMMENT_MISSING = "No such comment"


async def get_comment(
    post: ReadableReflection, comment_id: uuid.UUID, session: SessionDep
) -> ReflectionComment:
    """A live comment on a post the caller reads (404 otherwise), locked for a change."""
    stmt = (
        select(ReflectionComment)
        .where(
            col(ReflectionComment.id) == comment_id,
            col(ReflectionComment.reflection_id) == post.id,
            col(ReflectionComment.deleted_at).is_(None),
            col(ReflectionComment.hidden_at).is_(None),
        )
        .with_for_update()
    )
    comment = (await session.execute(stmt)).scalar_one_or_none()
    if comment is None:
        raise NotFound(COMMENT_MISSING)
    return comment


async def get_editable_comment(
    comment: Annotated[ReflectionComment, Depends(get_comment)], caller: StaffCaller
) -> ReflectionComment:
    if not policies.can_edit_comment(caller, comment):
        raise Forbidden("Only its author edits or deletes a comment")
    return comment


EditableComment = Annotated[ReflectionComment, Depends(get_editable_comment)]


async def get_hideable_comment(
    comment: Annotated[ReflectionComment, Depends(get_comment)], caller: StaffCaller
) -> ReflectionComment:
    if not policies.can_hide_comment(caller):
        raise Forbidden("Administrators hide comments; authors delete their own")
    return comment


HideableComment = Annotated[ReflectionComment, Depends(get_hideable_comment)]
