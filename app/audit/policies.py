"""The audit trail: district administrators read all of it; nobody else reads any of it, and
nobody changes it (there is no route that writes it; events come from the actions themselves).

It names who read which confidential record and when, never what the record says, so reading
it gives no administrator a way to the content that the records' own rules refuse them."""

from app.auth.principal import Principal


def can_read_trail(principal: Principal) -> bool:
    return principal.key is None and principal.is_district_admin
