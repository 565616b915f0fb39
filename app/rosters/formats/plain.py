"""The plain CSV a secretary makes in a spreadsheet, and its JSON twin for scripts."""

from __future__ import annotations

from collections.abc import Iterable

from app.core.errors import FieldError, Unprocessable
from app.rosters.records import PersonRecord, Roster, staff_role
from app.rosters.sources import Table

# Our field -> the header names accepted for it (compared case-insensitively).
HEADERS = {
    "email": {"email", "e-mail", "email address", "mail"},
    "given_name": {"given_name", "given name", "first name", "firstname", "first_name", "given"},
    "family_name": {"family_name", "family name", "last name", "lastname", "last_name", "surname"},
    "role": {"role", "position"},
    "school": {"school", "schools", "school name", "building"},
    "sourced_id": {"sourced_id", "sourcedid", "staff id", "staff_id", "employee id"},
    "enabled": {"enabled", "active"},
}
REQUIRED = ("email", "given_name", "family_name", "role")
COLUMNS = {name: name for name in HEADERS} | {"schools": "school"}
TRUE, FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}


def read_csv(table: Table) -> Roster:
    columns: dict[str, str] = {}
    for header in table.header:
        for canonical, aliases in HEADERS.items():
            if header.lower() in aliases:
                columns[canonical] = header
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise Unprocessable(
            f"Missing columns: {', '.join(missing)}",
            errors=[
                FieldError(field=f"header.{c}", message="column missing", type="missing")
                for c in missing
            ],
        )
    by_header = {header: canonical for canonical, header in columns.items()}
    rows = (
        (number, {by_header[k]: v for k, v in values.items()})
        for number, values in table.records(list(by_header))
    )
    return read_rows(
        rows, fmt="csv", max_people=table.limits.max_people, max_errors=table.limits.max_errors
    )


def read_rows(
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    fmt: str,
    max_people: int = 100_000,
    max_errors: int = 100,
) -> Roster:
    """Rows of {field: text} from the CSV or the JSON body."""
    roster = Roster(format=fmt, max_people=max_people, max_errors=max_errors)
    for number, data in rows:
        ref = f"row {number}"
        bad = False
        for column in REQUIRED:
            if not data.get(column):
                roster.error(ref, column, "required", "missing")
                bad = True
        role = staff_role(data.get("role") or "")
        if data.get("role") and role is None:
            roster.error(ref, "role", f"unknown role {data['role']!r}", "unknown_role")
            bad = True
        enabled = None
        if text := (data.get("enabled") or "").lower():
            if text not in TRUE | FALSE:
                roster.error(ref, "enabled", "must be true or false", "invalid")
                bad = True
            enabled = text in TRUE
        if bad:
            continue
        school = data.get("school")
        roster.add_person(
            PersonRecord(
                ref=ref,
                columns=COLUMNS,
                email=data["email"],
                given_name=data["given_name"],
                family_name=data["family_name"],
                role=role,
                sourced_id=data.get("sourced_id") or None,
                schools=[s.strip() for s in school.split(";") if s.strip()] if school else None,
                enabled=enabled,
            )
        )
    return roster
