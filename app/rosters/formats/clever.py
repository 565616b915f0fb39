"""Clever's SFTP files: schools.csv, teachers.csv and staff.csv. A person at several schools is
on several rows with the same id; the rows are merged into one person with all the schools."""

from __future__ import annotations

from app.rosters.records import RANK, PersonRecord, Roster, SchoolRecord, TooManyPeople, staff_role
from app.rosters.sources import RosterFiles, Table, file_error
from app.users.models import Role

SCHOOLS = ["School_id", "School_name"]
TEACHERS = ["School_id", "Teacher_id", "Teacher_email", "First_name", "Last_name"]
STAFF = ["School_id", "Staff_id", "Staff_email", "First_name", "Last_name"]
STAFF_OPTIONAL = ["Role", "Title"]
TEACHER_COLUMNS = {
    "email": "Teacher_email",
    "given_name": "First_name",
    "family_name": "Last_name",
    "sourced_id": "Teacher_id",
    "schools": "School_id",
    "role": "Teacher_id",
}
STAFF_COLUMNS = TEACHER_COLUMNS | {
    "email": "Staff_email",
    "sourced_id": "Staff_id",
    "role": "Role",
}
SIGNATURES = {
    "schools.csv": {"School_id", "School_name"},
    "teachers.csv": {"Teacher_id"},
    "staff.csv": {"Staff_id"},
}


def looks_like(files: RosterFiles) -> bool:
    return bool(files.names() & set(SIGNATURES))


def _check(table: Table, required: list[str]) -> None:
    """Clever's headers are case-sensitive; the order of columns does not matter and optional
    columns (Teacher_number, Title, Username, ...) may be there or not."""
    missing = [name for name in required if name not in table.header]
    if missing:
        raise file_error(
            f"{table.name} header",
            f"{table.name} lacks the Clever column(s): {', '.join(missing)}",
            "header",
        )


def read(files: RosterFiles) -> Roster:
    names = files.names()
    if not names & {"teachers.csv", "staff.csv"}:
        raise file_error(
            "teachers.csv", "a Clever import needs teachers.csv or staff.csv", "missing"
        )
    roster = Roster(
        format="clever", max_people=files.limits.max_people, max_errors=files.limits.max_errors
    )
    if "schools.csv" in names:
        roster.lists_schools = True
        table = files.table("schools.csv")
        _check(table, SCHOOLS)
        columns = {"sourced_id": "School_id", "name": "School_name"}
        for number, row in table.records(SCHOOLS):
            ref = f"schools.csv row {number}"
            if not row["School_id"] or not row["School_name"]:
                for column in SCHOOLS:
                    if not row[column]:
                        roster.error(ref, column, "required", "missing")
                continue
            roster.schools.append(SchoolRecord(ref, row["School_id"], row["School_name"], columns))
    people: dict[str, PersonRecord] = {}
    if "teachers.csv" in names:
        _read_people(files.table("teachers.csv"), roster, people, teachers=True)
    if "staff.csv" in names:
        _read_people(files.table("staff.csv"), roster, people, teachers=False)
    for person in people.values():
        roster.add_person(person)
    return roster


def _read_people(
    table: Table, roster: Roster, people: dict[str, PersonRecord], *, teachers: bool
) -> None:
    required = TEACHERS if teachers else STAFF
    _check(table, required)
    id_column = required[1]
    columns = TEACHER_COLUMNS if teachers else STAFF_COLUMNS
    wanted = required + ([] if teachers else STAFF_OPTIONAL)
    for number, row in table.records(wanted):
        ref = f"{table.name} row {number}"
        if not row[id_column] or not row["School_id"]:
            for column in (id_column, "School_id"):
                if not row[column]:
                    roster.error(ref, column, "required", "missing")
            continue
        if teachers:
            role: Role | None = Role.teacher
        else:
            # Clever's staff are counsellors, aides, office staff and administrators: only
            # administrators (by Role, else Title) take part in the coaching program.
            role = staff_role(row.get("Role", "")) or staff_role(row.get("Title", ""))
            if role is None:
                roster.skipped += 1
                continue
        key = f"{id_column}:{row[id_column]}"
        seen = people.get(key)
        if seen is None:
            if len(people) >= roster.max_people:
                raise TooManyPeople(ref)
            people[key] = PersonRecord(
                ref=ref,
                columns=columns,
                email=row[columns["email"]],
                given_name=row["First_name"],
                family_name=row["Last_name"],
                role=role,
                sourced_id=row[id_column],
                schools=[row["School_id"]],
            )
            continue
        # The same person at another school: the rows must agree on who they are.
        for field in ("email", "given_name", "family_name"):
            if getattr(seen, field) != row[columns[field]]:
                roster.error(
                    ref, columns[field], f"differs from {seen.ref} (same {id_column})", "conflict"
                )
        if seen.schools is not None and row["School_id"] not in seen.schools:
            seen.schools.append(row["School_id"])
        if role is not None and seen.role is not None and RANK[role] > RANK[seen.role]:
            seen.role = role
