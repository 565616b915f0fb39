"""What one roster import is asked to do, and the limits it works within."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.config import Settings
from app.rosters.formats import RosterFormat
from app.rosters.schemas import ImportMode
from app.rosters.sources import ReadLimits


@dataclass(frozen=True)
class ImportOptions:
    format: RosterFormat
    mode: ImportMode
    dry_run: bool
    force: bool  # lets a sync deactivate more than the configured share of staff
    max_deactivate_share: float
    school_time_zone: str  # given to schools an org file creates
    max_lines: int = 1_000_000
    max_seconds: float = 60.0
    max_people: int = 100_000
    max_errors: int = 100
    staff_lookup_budget: int = 20

    @classmethod
    def from_settings(
        cls, settings: Settings, fmt: RosterFormat, mode: ImportMode, *, dry_run: bool, force: bool
    ) -> ImportOptions:
        return cls(
            fmt, mode, dry_run, force,
            settings.roster_sync_max_deactivate_share, settings.district_time_zone,
            settings.roster_max_lines, settings.roster_max_parse_seconds,
            settings.roster_max_people, settings.roster_max_errors,
            settings.staff_lookup_budget,
        )  # fmt: skip

    def limits(self) -> ReadLimits:
        return ReadLimits(self.max_lines, self.max_seconds, self.max_people, self.max_errors)
