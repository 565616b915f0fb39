"""School years: every staff member reads them (they bound the calendar and set what is due);
district administrators record and change them (`auth.deps.DistrictAdmin`, checked before the
handler runs)."""

from app.auth.principal import Principal


def can_edit(p: Principal) -> bool:
    return p.is_district_admin
