"""Content revisions: a counter per team (and one for the district, the nil id) that triggers
raise in the commit of any change to what a team's composite documents (its summary, its
year-end report row) are built from, so a worker may keep what it built and know exactly when
it is stale (app/core/kept.py)

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-04 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# How each table of a team's content names its team (in terms of one of its rows, `{row}`).
TEAM_TABLES = {
    "team": "{row}.id",
    "team_member": "{row}.team_id",
    "team_invitation": "{row}.team_id",
    "action_plan": "{row}.team_id",
    "event": "{row}.team_id",
    "observation_record": "{row}.team_id",
    "conference_record": "{row}.team_id",
    "learning_form": "{row}.team_id",
    "reflection": "{row}.team_id",
    "coverage_request": "{row}.team_id",
    "event_participant": "(SELECT team_id FROM event WHERE id = {row}.event_id)",
    "reflection_comment": "(SELECT team_id FROM reflection WHERE id = {row}.reflection_id)",
}
# Rows every team's documents may show or depend on: names, schools and their time zones,
# memberships, school years, focus areas, the program's rules. A new account is on no team.
DISTRICT_TABLES = {
    "user_account": ("UPDATE", "DELETE"),
    "school_membership": ("INSERT", "UPDATE", "DELETE"),
    "school": ("INSERT", "UPDATE", "DELETE"),
    "school_year": ("INSERT", "UPDATE", "DELETE"),
    "focus_area": ("INSERT", "UPDATE", "DELETE"),
    "program_rules": ("INSERT", "UPDATE", "DELETE"),
}

SQLITE_NIL = "'" + "0" * 32 + "'"  # SQLite stores UUIDs as 32 hex digits
PG_NIL = "'00000000-0000-0000-0000-000000000000'::uuid"

SQLITE_BUMP = """INSERT INTO content_revision (team_id, revision) SELECT {team}, 1 WHERE {team} IS NOT NULL
        ON CONFLICT (team_id) DO UPDATE SET revision = revision + 1;"""


def _sqlite() -> list[str]:
    found = []
    for table, team in TEAM_TABLES.items():
        new, old = team.format(row="NEW"), team.format(row="OLD")
        found += [
            f"""CREATE TRIGGER content_revision_{table}_insert AFTER INSERT ON {table}
    BEGIN
        {SQLITE_BUMP.format(team=new)}
    END""",
            f"""CREATE TRIGGER content_revision_{table}_update AFTER UPDATE ON {table}
    BEGIN
        {SQLITE_BUMP.format(team=new)}
        {SQLITE_BUMP.format(team=f"(SELECT {old} WHERE {old} IS NOT {new})")}
    END""",
            f"""CREATE TRIGGER content_revision_{table}_delete AFTER DELETE ON {table}
    BEGIN
        {SQLITE_BUMP.format(team=old)}
    END""",
        ]
    for table, events in DISTRICT_TABLES.items():
        found += [
            f"""CREATE TRIGGER content_revision_{table}_{event.lower()} AFTER {event} ON {table}
    BEGIN
        {SQLITE_BUMP.format(team=SQLITE_NIL)}
    END"""
            for event in events
        ]
    return found


# PostgreSQL: constraint triggers deferred to the commit, so the counter's row is locked only
# while the transaction commits (not from its first write: two members writing to one team at
# once do not wait for each other's whole request), and raised once per transaction and team
# (a transaction-local setting remembers it: an import of 20,000 rows raises it once).
POSTGRESQL = [
    """CREATE FUNCTION peercoach_content_changed(changed uuid) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        seen text := 'peercoach.revised_' || replace(changed::text, '-', '');
    BEGIN
        IF changed IS NULL OR current_setting(seen, true) = '1' THEN
            RETURN;
        END IF;
        PERFORM set_config(seen, '1', true);
        INSERT INTO content_revision (team_id, revision) VALUES (changed, 1)
        ON CONFLICT (team_id) DO UPDATE SET revision = content_revision.revision + 1;
    END
    $$""",
    f"""CREATE FUNCTION peercoach_district_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM peercoach_content_changed({PG_NIL});
        RETURN NULL;
    END
    $$""",
]


def _postgresql() -> list[str]:
    found = list(POSTGRESQL)
    for table, team in TEAM_TABLES.items():
        new, old = team.format(row="NEW"), team.format(row="OLD")
        found += [
            f"""CREATE FUNCTION peercoach_content_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM peercoach_content_changed({new});
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM peercoach_content_changed({old});
        END IF;
        RETURN NULL;
    END
    $$""",
            f"""CREATE CONSTRAINT TRIGGER content_revision_{table}
    AFTER INSERT OR UPDATE OR DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION peercoach_content_{table}()""",
        ]
    for table, events in DISTRICT_TABLES.items():
        found.append(
            f"""CREATE CONSTRAINT TRIGGER content_revision_{table}
    AFTER {" OR ".join(events)} ON {table}
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION peercoach_district_changed()"""
        )
    return found


def upgrade() -> None:
    op.create_table(
        "content_revision",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_content_revision")),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _sqlite() if sqlite else _postgresql():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, events in [
            *((t, ("INSERT", "UPDATE", "DELETE")) for t in TEAM_TABLES),
            *DISTRICT_TABLES.items(),
        ]:
            for event in events:
                op.execute(f"DROP TRIGGER IF EXISTS content_revision_{table}_{event.lower()}")
    else:
        for table in [*TEAM_TABLES, *DISTRICT_TABLES]:
            op.execute(f"DROP TRIGGER IF EXISTS content_revision_{table} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS peercoach_content_{table}()")
        op.execute("DROP FUNCTION IF EXISTS peercoach_district_changed()")
        op.execute("DROP FUNCTION IF EXISTS peercoach_content_changed(uuid)")
    op.drop_table("content_revision")
