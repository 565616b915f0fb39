"""Who reads a reflection: private, the author; team, the author and the team's members (as
teachers, from the time they may read the team's confidential records: app/teams/policies.py);
program, every staff member of the district. No role widens this: administrators read private
and team posts no more than anyone else."""

import functools
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    false,
    literal_column,
    or_,
    select,
)
from sqlmodel import col

from app.auth.principal import CALLER_ID, Principal
from app.reflections.models import Reflection, ReflectionComment, Visibility
from app.teams.models import Team, TeamMember
from app.users.models import Role


class Reader(StrEnum):
    """What kind of reader the caller is, for reflections."""

    teacher = "teacher"  # their own, their teams' and program posts
    staff = "staff"  # their own and program posts (administrators)
    none = "none"  # an integration key: nothing


def reader(p: Principal) -> Reader:
    if p.user is None:
        return Reader.none
    return Reader.teacher if p.role == Role.teacher else Reader.staff


def readable(p: Principal) -> ColumnElement[bool]:
    """The posts the caller reads. Names the caller by bind parameters: run statements using
    it with `caller_values(p)`."""
    return readable_by(reader(p))


_LIVE = col(Reflection.deleted_at).is_(None)


def _my_teams() -> Select[uuid.UUID]:
    """The caller's teams (by bind parameter), a list that does not depend on the post."""
    return select(col(TeamMember.team_id)).where(col(TeamMember.user_id) == bindparam(CALLER_ID))


@functools.cache
def readable_by(kind: Reader) -> ColumnElement[bool]:
    if kind is Reader.none:
        return false()
    return and_(_LIVE, or_(*_cases(kind)))


@functools.cache
def readable_parts(kind: Reader) -> tuple[ColumnElement[bool], ...]:
    """`readable_by(kind)` as disjoint parts that together are the whole rule, each with an
    index that walks its posts newest first: the caller's own (by author), others' program
    posts (the partial index of migration 0049) and, for teachers, others' posts on their
    teams (by team). A list reads the newest of each part and sorts those (`PageQuery`'s
    `parts`): walking every post newest first and testing each went past every post the
    reader may not see (5 ms for a teacher's page when 10,500 private posts were newer than
    the last program post, bench/README.md). None for an integration key."""
    return tuple(and_(_LIVE, case) for case in _cases(kind))


@functools.cache
def _cases(kind: Reader) -> tuple[ColumnElement[bool], ...]:
    """Whose posts a reader reads, as disjoint cases (a post not deleted, and one of these).
    Visibility is a literal so that the planner knows the partial index applies."""
    if kind is Reader.none:
        return ()
    me: Any = bindparam(CALLER_ID)
    others = col(Reflection.author_id) != me
    parts: list[ColumnElement[bool]] = [
        col(Reflection.author_id) == me,
        and_(
            others,
            col(Reflection.visibility) == _literal(Visibility.program),
            col(Reflection.hidden_at).is_(None),
        ),
    ]
    if kind is Reader.teacher:
        # Asked of each post (EXISTS my place on its team, one index lookup) rather than as
        # `team_id IN` my teams alone: the time I joined makes that list depend on the post,
        # so SQLite built it again for every post it walked (a page's capped count: 266 -> 150
        # µs on a district's 4,000 posts).
        on_my_team = (
            select(col(TeamMember.user_id))
            .join(Team, col(Team.id) == TeamMember.team_id)
            .where(
                col(TeamMember.team_id) == Reflection.team_id,
                TeamMember.user_id == me,
                col(Team.deleted_at).is_(None),
                or_(
                    col(TeamMember.sees_since).is_(None),
                    col(TeamMember.sees_since) <= Reflection.created_at,
                ),
            )
            .exists()
        )
        # The EXISTS goes behind `team_id IN` my teams, which does not depend on the post
        # (built once per statement, and the team index's way in): a post of a team I am not
        # on is passed over by a lookup in that list instead of the EXISTS's two index
        # searches (a page's capped count on a district's 4,000 posts, SQLite: 215 -> 103 µs).
        parts.append(
            and_(
                others,
                col(Reflection.visibility) == _literal(Visibility.team),
                col(Reflection.team_id).in_(_my_teams()),
                on_my_team,
            )
        )
    return tuple(parts)


def _literal(visibility: Visibility) -> ColumnElement[str]:
    """The value written into the statement (a partial index's condition must match it)."""
    return literal_column(visibility.sql)


@functools.cache
def sees_links(kind: Reader) -> ColumnElement[bool]:
    """Whether the caller sees which team, event and observation record a post is about: its
    author and that team's members. A program post is read district-wide; what it links to is
    the team's business. (Caller by bind parameters, as `readable`.)"""
    if kind is Reader.none:
        return false()
    mine: ColumnElement[bool] = col(Reflection.author_id) == bindparam(CALLER_ID)
    if kind is not Reader.teacher:
        return mine
    return or_(mine, col(Reflection.team_id).in_(_my_teams()))


def can_edit(p: Principal, reflection: Reflection) -> bool:
    return p.user is not None and reflection.author_id == p.user.id


def can_hide(p: Principal, reflection: Reflection) -> bool:
    """Take a program post off the blog: district administrators (its author still reads it,
    with the reason). Private and team posts are no administrator's to see, let alone hide."""
    return p.is_district_admin and reflection.visibility == Visibility.program


def can_edit_comment(p: Principal, comment: ReflectionComment) -> bool:
    """Edit or delete a comment: its author."""
    return p.user is not None and comment.author_id == p.user.id


def can_hide_comment(p: Principal) -> bool:
    """Hide a comment on a post they read: administrators (a teacher deletes their own)."""
    return p.is_admin
