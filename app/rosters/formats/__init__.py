"""Roster formats: each reads files into a `Roster`. `read()` picks the format (or checks the
one asked for) from the file names and headers."""

from __future__ import annotations

from enum import StrEnum

from app.rosters.formats import clever, oneroster, plain
from app.rosters.records import Roster
from app.rosters.sources import RosterFiles, file_error


class RosterFormat(StrEnum):
    auto = "auto"
    csv = "csv"
    oneroster = "oneroster"
    clever = "clever"


# A lone CSV is named by its header (the upload's file name is whatever the user chose).
_LONE = {
    "users.csv": lambda h: (
        "sourcedId" in h and ("orgSourcedIds" in h or "primaryOrgSourcedId" in h)
    ),
    "teachers.csv": lambda h: "Teacher_id" in h,
    "staff.csv": lambda h: "Staff_id" in h and "School_id" in h,
}


def detect(files: RosterFiles) -> RosterFormat:
    names = files.names()
    if len(names) == 1:
        (name,) = names
        header = set(files.header(name))
        for logical, matches in _LONE.items():
            if matches(header):
                files.rename(name, logical)
                return RosterFormat.oneroster if logical == "users.csv" else RosterFormat.clever
        return RosterFormat.csv
    if oneroster.looks_like(files):
        return RosterFormat.oneroster
    if clever.looks_like(files):
        return RosterFormat.clever
    raise file_error(
        "file",
        f"cannot tell the roster format of {', '.join(sorted(names))}: expected one CSV, "
        "OneRoster files (manifest.csv, orgs.csv, users.csv, roles.csv) or Clever files "
        "(schools.csv, teachers.csv, staff.csv)",
        "format",
    )


def read(files: RosterFiles, fmt: RosterFormat = RosterFormat.auto) -> Roster:
    found = detect(files)
    if fmt not in (RosterFormat.auto, found):
        raise file_error("format", f"the file looks like {found.value}, not {fmt.value}", "format")
    if found == RosterFormat.oneroster:
        return oneroster.read(files)
    if found == RosterFormat.clever:
        return clever.read(files)
    (name,) = files.names()
    return plain.read_csv(files.table(name))
