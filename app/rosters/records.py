"""What every roster format is read into: schools and people in one shape, so matching,
permissions, sync and writing are decided once (in `service`) whatever the file looked like."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.errors import FieldError
from app.users.models import Role

# The staff roles a roster can name, by the words the formats and spreadsheets use for them
# (compared lower-case without spaces, underscores or hyphens).
STAFF_ROLES = {
    "teacher": Role.teacher,
    "schooladmin": Role.school_admin,
    "schooladministrator": Role.school_admin,
    "administrator": Role.school_admin,
    "principal": Role.school_admin,
    "assistantprincipal": Role.school_admin,
    "siteadministrator": Role.school_admin,
    "districtadmin": Role.district_admin,
    "districtadministrator": Role.district_admin,
    "systemadministrator": Role.district_admin,
}
RANK = {Role.teacher: 0, Role.school_admin: 1, Role.district_admin: 2}


def staff_role(text: str) -> Role | None:
    key = text.lower().replace(" ", "").replace("_", "").replace("-", "")
    return STAFF_ROLES.get(key)


@dataclass(slots=True)
class SchoolRecord:
    """A school named by an org file (OneRoster orgs.csv, Clever schools.csv)."""

    ref: str  # "orgs.csv row 3": where errors point
    sourced_id: str
    name: str
    columns: dict[str, str]  # our field -> the file's column, for error messages


@dataclass(slots=True)
class PersonRecord:
    """One staff member as a file states them. `None` means "the file does not say" (a delta
    that leaves a field as it is), not "empty"."""

    ref: str  # "row 5" (plain CSV) or "users.csv row 5"
    columns: dict[str, str]  # our field -> the file's column, for error messages
    email: str
    given_name: str
    family_name: str
    role: Role | None
    sourced_id: str | None
    schools: list[str] | None  # school names or roster ids
    enabled: bool | None = None


@dataclass(slots=True)
class Removal:
    """A person a delta file marks `tobedeleted`."""

    ref: str
    sourced_id: str


class TooManyPeople(Exception):
    """More staff than one import takes (`Roster.max_people`)."""


@dataclass
class Roster:
    format: str  # csv, json, oneroster-1.1, oneroster-1.2, clever
    people: list[PersonRecord] = field(default_factory=list)
    schools: list[SchoolRecord] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)
    # True when the file lists its schools (an org file): a sync covers exactly those schools.
    # Otherwise a sync covers the schools the people rows name.
    lists_schools: bool = False
    # A delta names changes only: a sync deactivates people marked tobedeleted, not the absent.
    delta: bool = False
    skipped: int = 0  # people who are not staff (students, guardians, aides, ...)
    # The first `max_errors` errors, and how many there were: a file of 200,000 bad rows must
    # not become an error log of megabytes that every reader of the import log downloads.
    errors: list[FieldError] = field(default_factory=list)
    error_count: int = 0
    max_errors: int = 100
    max_people: int = 100_000

    def error(self, ref: str, column: str, message: str, kind: str = "invalid") -> None:
        self.error_count += 1
        if len(self.errors) < self.max_errors:
            self.errors.append(FieldError(field=f"{ref}.{column}", message=message, type=kind))

    def add_person(self, person: PersonRecord) -> None:
        if len(self.people) >= self.max_people:
            raise TooManyPeople(person.ref)
        self.people.append(person)
