"""OneRoster 1.1 and 1.2 CSV (the 1EdTech CSV binding): manifest.csv, orgs.csv, users.csv and,
in 1.2, roles.csv. Only staff are kept; students, guardians and other roles are counted as
skipped while the file streams past, so memory grows with the staff, not the district.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from app.rosters.records import RANK, PersonRecord, Removal, Roster, SchoolRecord
from app.rosters.sources import RosterFiles, Table, file_error
from app.users.models import Role

MANIFEST = ["propertyName", "value"]
ORGS = ["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"]
USERS_11 = [
    "sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
    "username", "userIds", "givenName", "familyName", "middleName", "identifier", "email", "sms",
    "phone", "agentSourcedIds", "grades", "password",
]  # fmt: skip
USERS_12 = [
    "sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds",
    "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
    "agentSourcedIds", "grades", "password", "userMasterIdentifier", "preferredGivenName",
    "preferredMiddleName", "preferredFamilyName", "primaryOrgSourcedId", "pronouns",
]  # fmt: skip
# Drafts of 1.2 (and exports built on them) still carry this column; it is accepted, unused.
USERS_12_OPTIONAL = ["resourceSourcedIds"]
ROLES_12 = [
    "sourcedId", "status", "dateLastModified", "userSourcedId", "roleType", "role",
    "beginDate", "endDate", "orgSourcedId", "userProfileSourcedId",
]  # fmt: skip
USER_COLUMNS = {
    "email": "email",
    "given_name": "givenName",
    "family_name": "familyName",
    "sourced_id": "sourcedId",
    "role": "role",
    "schools": "orgSourcedIds",
    "enabled": "enabledUser",
}
USER_COLUMNS_12 = USER_COLUMNS | {"role": "roles.csv", "schools": "primaryOrgSourcedId"}

# The role map: teacher; administrator, principal, siteAdministrator -> school
# administrator; districtAdministrator, systemAdministrator -> district administrator.
# Every other role (student, guardian, parent, relative, aide, proctor, counselor, ext:...) is
# not staff this program serves: skipped and counted.
ROLE_MAP = {
    "teacher": Role.teacher,
    "administrator": Role.school_admin,
    "principal": Role.school_admin,
    "siteadministrator": Role.school_admin,
    "districtadministrator": Role.district_admin,
    "systemadministrator": Role.district_admin,
}
FILE_MODES = {"bulk", "delta", "absent"}
STATUSES = {"", "active", "tobedeleted"}
BOOLEANS = {"true": True, "false": False}


def looks_like(files: RosterFiles) -> bool:
    return bool(files.names() & {"manifest.csv", "orgs.csv", "users.csv", "roles.csv"})


def check_header(table: Table, spec: Sequence[str], optional: Sequence[str] = ()) -> None:
    """Every column of the spec must be there (values may be empty); extension columns must be
    named `metadata.*`; nothing else is allowed."""
    seen = set()
    problems = []
    for name in table.header:
        if name in seen:
            problems.append(f"column {name!r} appears twice")
        seen.add(name)
        if name not in spec and name not in optional and not name.startswith("metadata."):
            problems.append(f"unknown column {name!r} (extensions must be named metadata.*)")
    missing = [name for name in spec if name not in seen]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if problems:
        raise file_error(
            f"{table.name} header",
            f"{table.name} does not have the OneRoster header: {'; '.join(problems)}",
            "header",
        )


@dataclass
class _Orgs:
    schools: set[str] = field(default_factory=set)
    other: set[str] = field(default_factory=set)  # districts, departments, ...: not schools

    def school_refs(self, ids: list[str]) -> list[str]:
        # Ids the file does not know are passed on: they may be schools already imported.
        return [i for i in ids if i not in self.other]


def _manifest(files: RosterFiles) -> tuple[str | None, dict[str, str]]:
    if "manifest.csv" not in files.names():
        return None, {}
    table = files.table("manifest.csv")
    check_header(table, MANIFEST)
    props = {v["propertyName"]: v["value"] for _, v in table.records(MANIFEST)}
    version = props.get("oneroster.version")
    if version not in ("1.1", "1.2"):
        raise file_error(
            "manifest.csv.oneroster.version",
            f"manifest.csv names OneRoster version {version!r}; 1.1 and 1.2 are supported",
            "version",
        )
    modes = {}
    for key, value in props.items():
        if key.startswith("file."):
            if value not in FILE_MODES:
                raise file_error(
                    f"manifest.csv.{key}",
                    f"manifest.csv gives {key} as {value!r}; expected bulk, delta or absent",
                    "invalid",
                )
            modes[key.removeprefix("file.").lower() + ".csv"] = value
    for name, mode in modes.items():
        if mode != "absent" and name not in files.names() and name in _USED:
            raise file_error(
                name, f"manifest.csv lists {name} as {mode} but the file is missing", "missing"
            )
    return version, modes


_USED = {"orgs.csv", "users.csv", "roles.csv"}


def _status(roster: Roster, ref: str, row: dict[str, str]) -> str | None:
    """`status` and `dateLastModified` are empty in bulk files and required in delta files."""
    value, modified = row["status"], row["dateLastModified"]
    if value not in STATUSES:
        roster.error(ref, "status", "must be active or tobedeleted", "invalid")
        return None
    if modified:
        try:
            datetime.fromisoformat(modified)
        except ValueError:
            roster.error(ref, "dateLastModified", "must be an ISO 8601 date and time", "invalid")
            return None
    if value:
        roster.delta = True  # statuses are set in delta files only
        if not modified:
            roster.error(ref, "dateLastModified", "required with a status", "missing")
            return None
    return value or "active"


def read(files: RosterFiles) -> Roster:
    version, modes = _manifest(files)
    names = files.names()
    if "users.csv" not in names or modes.get("users.csv") == "absent":
        raise file_error("users.csv", "a OneRoster import needs users.csv (the staff)", "missing")
    if version is None:  # loose files: the users.csv header tells the version
        version = "1.1" if "orgSourcedIds" in files.header("users.csv") else "1.2"
    roster = Roster(
        format=f"oneroster-{version}",
        max_people=files.limits.max_people,
        max_errors=files.limits.max_errors,
    )
    roster.delta = "delta" in modes.values()
    orgs = _read_orgs(files, roster) if "orgs.csv" in names else _Orgs()
    if version == "1.1":
        _read_users_11(files, roster, orgs)
    else:
        if "roles.csv" not in names:
            raise file_error(
                "roles.csv", "OneRoster 1.2 keeps roles in roles.csv, which is missing", "missing"
            )
        _read_users_12(files, roster, orgs, _read_roles(files, roster, orgs))
    return roster


def _read_orgs(files: RosterFiles, roster: Roster) -> _Orgs:
    table = files.table("orgs.csv")
    check_header(table, ORGS)
    orgs = _Orgs()
    roster.lists_schools = True
    columns = {"sourced_id": "sourcedId", "name": "name"}
    for number, row in table.records(ORGS):
        ref = f"orgs.csv row {number}"
        status = _status(roster, ref, row)
        if not row["sourcedId"]:
            roster.error(ref, "sourcedId", "required", "missing")
            continue
        if row["type"] != "school":
            orgs.other.add(row["sourcedId"])
            continue
        orgs.schools.add(row["sourcedId"])
        if status != "active":
            continue  # a school is never deleted here; its staff are handled one by one
        if not row["name"]:
            roster.error(ref, "name", "required", "missing")
            continue
        roster.schools.append(SchoolRecord(ref, row["sourcedId"], row["name"], columns))
    return orgs


def _enabled(roster: Roster, ref: str, value: str) -> bool | None:
    enabled = BOOLEANS.get(value.lower())
    if enabled is None:
        roster.error(ref, "enabledUser", "must be true or false", "invalid")
    return enabled


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _read_users_11(files: RosterFiles, roster: Roster, orgs: _Orgs) -> None:
    table = files.table("users.csv")
    check_header(table, USERS_11)
    for number, row in table.records(USERS_11):
        ref = f"users.csv row {number}"
        status = _status(roster, ref, row)
        if not row["sourcedId"]:
            roster.error(ref, "sourcedId", "required", "missing")
            continue
        if status == "tobedeleted":
            roster.removals.append(Removal(ref, row["sourcedId"]))
            continue
        role = ROLE_MAP.get(row["role"].lower())
        if role is None:
            if not row["role"]:
                roster.error(ref, "role", "required", "missing")
            roster.skipped += 1
            continue
        enabled = _enabled(roster, ref, row["enabledUser"])
        if status is None or enabled is None:
            continue
        roster.add_person(
            PersonRecord(
                ref=ref,
                columns=USER_COLUMNS,
                email=row["email"] or _email_like(row["username"]),
                given_name=row["givenName"],
                family_name=row["familyName"],
                role=role,
                sourced_id=row["sourcedId"],
                schools=orgs.school_refs(_split(row["orgSourcedIds"])),
                enabled=enabled,
            )
        )


def _email_like(username: str) -> str:
    """Staff without an `email` often sign in with their address as `username`."""
    return username if "@" in username else ""


@dataclass(slots=True)
class _Staff:
    role: Role
    schools: list[str]
    ref: str


def _read_roles(files: RosterFiles, roster: Roster, orgs: _Orgs) -> dict[str, _Staff]:
    """userSourcedId -> the highest staff role a person holds and the schools they hold any
    staff role at. A person with only other roles is absent here and skipped."""
    table = files.table("roles.csv")
    check_header(table, ROLES_12)
    staff: dict[str, _Staff] = {}
    for number, row in table.records(ROLES_12):
        ref = f"roles.csv row {number}"
        status = _status(roster, ref, row)
        for column in ("userSourcedId", "role", "orgSourcedId"):
            if not row[column]:
                roster.error(ref, column, "required", "missing")
                status = None
        if row["roleType"] not in ("primary", "secondary"):
            roster.error(ref, "roleType", "must be primary or secondary", "invalid")
            continue
        role = ROLE_MAP.get(row["role"].lower())
        if status != "active" or role is None:
            continue
        held = staff.get(row["userSourcedId"])
        if held is None:
            held = staff[row["userSourcedId"]] = _Staff(role, [], ref)
        elif RANK[role] > RANK[held.role]:
            held.role = role
        if orgs.school_refs([row["orgSourcedId"]]) and row["orgSourcedId"] not in held.schools:
            held.schools.append(row["orgSourcedId"])
    return staff


def _read_users_12(
    files: RosterFiles, roster: Roster, orgs: _Orgs, staff: dict[str, _Staff]
) -> None:
    table = files.table("users.csv")
    check_header(table, USERS_12, USERS_12_OPTIONAL)
    seen: set[str] = set()
    for number, row in table.records(USERS_12):
        ref = f"users.csv row {number}"
        status = _status(roster, ref, row)
        sourced = row["sourcedId"]
        if not sourced:
            roster.error(ref, "sourcedId", "required", "missing")
            continue
        if status == "tobedeleted":
            roster.removals.append(Removal(ref, sourced))
            continue
        held = staff.get(sourced)
        if held is None and not roster.delta:
            roster.skipped += 1  # students, guardians, ...: no staff role
            continue
        seen.add(sourced)
        enabled = _enabled(roster, ref, row["enabledUser"])
        if status is None or enabled is None:
            continue
        schools = None
        if held is not None:
            schools = list(held.schools)
            primary = row["primaryOrgSourcedId"]
            if primary and orgs.school_refs([primary]) and primary not in schools:
                schools.append(primary)
        roster.add_person(
            PersonRecord(
                ref=ref,
                columns=USER_COLUMNS_12,
                email=row["email"] or _email_like(row["username"]),
                given_name=row["givenName"],
                family_name=row["familyName"],
                # In a delta, a person whose roles did not change has no roles.csv row: their
                # role and schools stay as they are (and someone unknown is skipped).
                role=held.role if held else None,
                sourced_id=sourced,
                schools=schools,
                enabled=enabled,
            )
        )
    if not roster.delta:
        for sourced, held in staff.items():
            if sourced not in seen:
                roster.error(
                    held.ref, "userSourcedId", f"no user {sourced!r} in users.csv", "reference"
                )
