"""The program's rules: every staff member reads them (they decide what progress asks of a
team); district administrators change them (`auth.deps.DistrictAdmin`, checked before the
handler runs)."""

from app.auth.principal import Principal


def can_edit(p: Principal) -> bool:
    return p.is_district_admin
