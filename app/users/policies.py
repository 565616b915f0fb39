"""Who may see or change which staff records. Plain functions; the service and deps use them."""

import functools
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, bindparam, exists, false, select, true
from sqlalchemy.orm import aliased
from sqlmodel import col

from app.auth.principal import CALLER_ID, CALLER_SCHOOLS, Principal, SchoolReach
from app.users.models import Role, SchoolMembership, StaffDirectoryEntry, User

# The filters below are built once per reach (they are parts of cached list templates); the
# caller's own values are bind parameters, filled in per request by `caller_values`.


def record_reach(principal: Principal) -> SchoolReach:
    """Whose full record the caller may read: everyone's for district administrators and
    `read` keys, their schools' staff for school administrators, their own for teachers."""
    if principal.reads_district:
        return SchoolReach.district
    if principal.is_school_admin:
        return SchoolReach.schools
    return SchoolReach.own


def colleague_reach(principal: Principal) -> SchoolReach:
    """Whom a user may find by name: people sharing one of their schools."""
    return SchoolReach.district if principal.reads_district else SchoolReach.schools


@functools.cache
def within(reach: SchoolReach, *, one: bool = False) -> ColumnElement[bool]:
    """Filter for the users within `reach` of the caller named by `caller_values`.

    `one`: for a statement that reads one person by id (a single record, an access check): the
    same rule asked of that row, as `teams.policies.teams_within` does. A school
    administrator's reach is "a member of one of my schools": asked as a set (`id IN` the
    schools' members) SQLite first gathers all 500 members of a school (0.21 ms for one
    record), asked of the row (`EXISTS` a membership there) it is one index lookup (0.006 ms);
    a page walks names in order and is faster with the set (1.9 ms against 3.7 ms with
    EXISTS). tests/test_read_interface.py compares both forms person by person."""
    if reach is SchoolReach.district:
        return true()
    if reach is SchoolReach.schools:
        in_my_schools = select(col(SchoolMembership.user_id)).where(
            col(SchoolMembership.school_id).in_(bindparam(CALLER_SCHOOLS, expanding=True))
        )
        if one:
            return in_my_schools.where(col(SchoolMembership.user_id) == User.id).exists()
        return col(User.id).in_(in_my_schools)
    return col(User.id) == bindparam(CALLER_ID)


@functools.cache
def directory_within(one_school: bool, several_mine: bool = True) -> ColumnElement[bool]:
    """`within(SchoolReach.schools)` read from the staff directory: entries of people who share
    one of the caller's schools. With a school asked for (`one_school`, bind parameter
    `school_id`), that school's entries of such people. Otherwise the entries of the caller's
    schools; when they have several (`several_mine`), each person's entry of the first of them
    they belong to, so a person at two of them is listed once."""
    entry = StaffDirectoryEntry
    other = aliased(StaffDirectoryEntry)
    mine = col(other.school_id).in_(bindparam(CALLER_SCHOOLS, expanding=True))
    same_person = col(other.user_id) == entry.user_id
    if one_school:
        shares = select(col(other.user_id)).where(same_person, mine)
        return and_(col(entry.school_id) == bindparam("school_id"), exists(shares))
    listed = col(entry.school_id).in_(bindparam(CALLER_SCHOOLS, expanding=True))
    if not several_mine:
        return listed
    earlier = select(col(other.user_id)).where(
        same_person, mine, col(other.school_id) < entry.school_id
    )
    return and_(listed, ~exists(earlier))


class Management(StrEnum):
    """Whom a caller may change: `can_manage_user`, by kind of caller."""

    everyone = "everyone"  # district administrators, roster keys, the operator
    schools = "schools"  # school administrators: non-district staff of their schools
    no_one = "no_one"


def management(principal: Principal) -> Management:
    if principal.manages_district_staff:
        return Management.everyone
    if principal.is_school_admin:
        return Management.schools
    return Management.no_one


@functools.cache
def managed(kind: Management) -> ColumnElement[bool]:
    """`can_manage_user` asked of the row, for a statement reading one person by id among those
    the caller may know (`within(record_reach(p), one=True)` beside it; for a school
    administrator that is already "shares one of my schools"): what the function decides of
    the person as the row has them, so that a check can go with a list of what belongs to the
    account (tests/test_users.py compares the two for every kind of caller and person)."""
    if kind is Management.everyone:
        return true()
    if kind is Management.schools:
        return col(User.role) != Role.district_admin
    return false()


def can_manage_user(principal: Principal, role: Role, user_school_ids: set[uuid.UUID]) -> bool:
    """May the caller change this person at all, as they are now? District administrators
    (and roster keys): anyone; school administrators: non-district staff of their schools."""
    kind = management(principal)
    if kind is Management.everyone:
        return True
    if kind is Management.schools:
        return role != Role.district_admin and bool(user_school_ids & principal.school_ids)
    return False


def assignment_problem(
    principal: Principal,
    role: Role,
    old_school_ids: set[uuid.UUID],
    new_school_ids: set[uuid.UUID],
) -> str | None:
    """Why the caller may not give a user this role and these schools, or None if they may."""
    if principal.manages_district_staff:
        return None
    if role == Role.district_admin:
        return "Only district administrators can grant the district_admin role"
    if not new_school_ids:
        return "School administrators must place staff in at least one of their schools"
    if (old_school_ids ^ new_school_ids) - principal.school_ids:
        return "You can only add or remove memberships of schools you administer"
    return None


@dataclass(frozen=True)
class StaffState:
    """What the rules below look at of a staff record."""

    role: Role
    school_ids: frozenset[uuid.UUID]
    is_active: bool


class ChangeProblem(StrEnum):
    """Why a change is refused; each names the field to blame."""

    outside = "outside"  # the person is not one the caller manages
    self_change = "self"  # your own role or active flag
    role = "role"
    schools = "schools"


NOT_YOURS = (
    "This person is not one of the staff you manage; a district administrator can change them"
)


def change_problem(
    principal: Principal,
    user_id: uuid.UUID | None,
    current: StaffState | None,
    new: StaffState,
) -> tuple[ChangeProblem, str] | None:
    """Why the caller may not create (`current` None) or change a staff record so, or None.

    The one rule for every way a person is created or changed: `POST /users`, `PATCH /users`,
    roster imports (API, JSON, command line) and a sync's deactivations. It looks at who the
    person is *now*, not only at what the request says they become."""
    if current is not None:
        if not can_manage_user(principal, current.role, set(current.school_ids)):
            return ChangeProblem.outside, NOT_YOURS
        is_self = principal.user is not None and principal.user.id == user_id
        if is_self and (new.role != current.role or (current.is_active and not new.is_active)):
            return (
                ChangeProblem.self_change,
                "You cannot change your own role or deactivate yourself",
            )
        if new.role == current.role and new.school_ids == current.school_ids:
            return None
    old = set(current.school_ids) if current is not None else set()
    problem = assignment_problem(principal, new.role, old, set(new.school_ids))
    if problem is None:
        return None
    kind = ChangeProblem.role if new.role == Role.district_admin else ChangeProblem.schools
    return kind, problem
