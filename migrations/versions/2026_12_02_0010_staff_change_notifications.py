"""staff change notifications: PostgreSQL tells every worker which staff accounts changed

Statement-level triggers on user_account and school_membership NOTIFY the channel
`peercoach_staff` when the changing transaction commits, whoever wrote (the API, a roster import,
the CLI or SQL by hand). The payload is the changed accounts' ids, comma-separated, or `*` for a
bulk change or a TRUNCATE. Workers keep the staff they authenticated in memory only while they
listen here (app/auth/principal_cache.py). SQLite has no NOTIFY and no such cache: nothing to do.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 04:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE FUNCTION peercoach_staff_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
    IF TG_OP = 'TRUNCATE' OR (TG_TABLE_NAME = 'school_membership' AND TG_OP = 'UPDATE') THEN
        payload := '*';  -- a membership moved between accounts: both changed, so everyone
    ELSIF TG_TABLE_NAME = 'user_account' THEN
        SELECT CASE WHEN count(*) > 100 THEN '*' ELSE string_agg(id::text, ',') END
          INTO payload FROM (SELECT DISTINCT id FROM changed) AS accounts;
    ELSE
        SELECT CASE WHEN count(*) > 100 THEN '*' ELSE string_agg(user_id::text, ',') END
          INTO payload FROM (SELECT DISTINCT user_id FROM changed) AS accounts;
    END IF;
    IF payload IS NOT NULL THEN  -- NULL: the statement changed no row
        PERFORM pg_notify('peercoach_staff', payload);
    END IF;
    RETURN NULL;
END
$$
"""

# (trigger, table, event, transition table): new accounts need no message (nobody has them in
# memory), a new membership does.
TRIGGERS = [
    ("staff_changed_update", "user_account", "UPDATE", "OLD TABLE AS changed"),
    ("staff_changed_delete", "user_account", "DELETE", "OLD TABLE AS changed"),
    ("staff_changed_truncate", "user_account", "TRUNCATE", None),
    ("membership_changed_insert", "school_membership", "INSERT", "NEW TABLE AS changed"),
    ("membership_changed_update", "school_membership", "UPDATE", "OLD TABLE AS changed"),
    ("membership_changed_delete", "school_membership", "DELETE", "OLD TABLE AS changed"),
    ("membership_changed_truncate", "school_membership", "TRUNCATE", None),
]


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for name, table, event, transition in TRIGGERS:
        referencing = f"REFERENCING {transition} " if transition else ""
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} {referencing}"
            "FOR EACH STATEMENT EXECUTE FUNCTION peercoach_staff_changed()"
        )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for name, table, _event, _transition in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION peercoach_staff_changed()")
