"""a team's schools (the schools its members belong to), kept by triggers, so an
administrator's teams are one index range of their school instead of the school's members
joined to their teams on each request

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0046"
down_revision: str | None = "0045"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Whether a team still has a member in a school, after a member or a membership went.
STILL_THERE = (
    "EXISTS (SELECT 1 FROM team_member tm JOIN school_membership sm ON sm.user_id = tm.user_id"
    " WHERE tm.team_id = {team} AND sm.school_id = {school})"
)
# A member went: the schools only they placed the team in.
MEMBER_GONE = (
    "DELETE FROM team_school WHERE team_id = OLD.team_id"
    " AND school_id IN (SELECT school_id FROM school_membership WHERE user_id = OLD.user_id)"
    f" AND NOT {STILL_THERE.format(team='OLD.team_id', school='team_school.school_id')}"
)
MEMBER_CAME = (
    "INSERT {or_ignore}INTO team_school (team_id, school_id)"
    " SELECT NEW.team_id, school_id FROM school_membership WHERE user_id = NEW.user_id{on_conflict}"
)
# A membership went: the member's teams that nobody else places in that school.
MEMBERSHIP_GONE = (
    "DELETE FROM team_school WHERE school_id = OLD.school_id"
    " AND team_id IN (SELECT team_id FROM team_member WHERE user_id = OLD.user_id)"
    f" AND NOT {STILL_THERE.format(team='team_school.team_id', school='OLD.school_id')}"
)
MEMBERSHIP_CAME = (
    "INSERT {or_ignore}INTO team_school (team_id, school_id)"
    " SELECT team_id, NEW.school_id FROM team_member WHERE user_id = NEW.user_id{on_conflict}"
)
# What the kept documents read raises their team's revision (migration 0043); these rows change
# only with a member's or a membership's change, which raise it already, but the rule is kept
# table by table (tests/coaching/test_kept.py).
REVISION_LITE = """INSERT INTO content_revision (team_id, revision) SELECT {row}.team_id, 1
        ON CONFLICT (team_id) DO UPDATE SET revision = revision + 1;"""
LITE = {"or_ignore": "OR IGNORE ", "on_conflict": ""}
PG = {"or_ignore": "", "on_conflict": " ON CONFLICT DO NOTHING"}

# SQLite's writers take the whole database in turn: nothing can interleave.
SQLITE = [
    f"""CREATE TRIGGER team_school_member_insert AFTER INSERT ON team_member
    BEGIN {MEMBER_CAME.format(**LITE)}; END""",
    f"""CREATE TRIGGER team_school_member_delete AFTER DELETE ON team_member
    BEGIN {MEMBER_GONE}; END""",
    f"""CREATE TRIGGER team_school_member_update AFTER UPDATE OF team_id, user_id ON team_member
    BEGIN {MEMBER_GONE}; {MEMBER_CAME.format(**LITE)}; END""",
    f"""CREATE TRIGGER team_school_membership_insert AFTER INSERT ON school_membership
    BEGIN {MEMBERSHIP_CAME.format(**LITE)}; END""",
    f"""CREATE TRIGGER team_school_membership_delete AFTER DELETE ON school_membership
    BEGIN {MEMBERSHIP_GONE}; END""",
    f"""CREATE TRIGGER team_school_membership_update
    AFTER UPDATE OF school_id, user_id ON school_membership
    BEGIN {MEMBERSHIP_GONE}; {MEMBERSHIP_CAME.format(**LITE)}; END""",
    f"""CREATE TRIGGER content_revision_team_school_insert AFTER INSERT ON team_school
    BEGIN {REVISION_LITE.format(row="NEW")} END""",
    f"""CREATE TRIGGER content_revision_team_school_delete AFTER DELETE ON team_school
    BEGIN {REVISION_LITE.format(row="OLD")} END""",
]

# PostgreSQL's writers interleave: a statement does not see another transaction's uncommitted
# member or membership, so two changes that each find the other's row missing would both
# conclude wrongly (one deletes a school another member still places the team in; one misses
# a school a membership added at the same moment brings). Each change therefore holds, until
# its transaction ends, advisory locks on the person and then on the teams it touches (the same
# order everywhere): the second change waits and its statements see the first's rows.
LOCK = "PERFORM pg_advisory_xact_lock(hashtextextended('team_school ' || {key}::text, 0))"
POSTGRESQL = [
    f"""CREATE FUNCTION peercoach_team_school_member() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            {LOCK.format(key="OLD.user_id")};
            {LOCK.format(key="OLD.team_id")};
            {MEMBER_GONE};
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            {LOCK.format(key="NEW.user_id")};
            {LOCK.format(key="NEW.team_id")};
            {MEMBER_CAME.format(**PG)};
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER team_school_member
    AFTER INSERT OR UPDATE OF team_id, user_id OR DELETE ON team_member
    FOR EACH ROW EXECUTE FUNCTION peercoach_team_school_member()""",
    f"""CREATE FUNCTION peercoach_team_school_membership() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            {LOCK.format(key="OLD.user_id")};
            {LOCK.format(key="t.team_id")}
              FROM (SELECT team_id FROM team_member WHERE user_id = OLD.user_id
                    ORDER BY team_id) AS t;
            {MEMBERSHIP_GONE};
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            {LOCK.format(key="NEW.user_id")};
            {LOCK.format(key="t.team_id")}
              FROM (SELECT team_id FROM team_member WHERE user_id = NEW.user_id
                    ORDER BY team_id) AS t;
            {MEMBERSHIP_CAME.format(**PG)};
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER team_school_membership
    AFTER INSERT OR UPDATE OF school_id, user_id OR DELETE ON school_membership
    FOR EACH ROW EXECUTE FUNCTION peercoach_team_school_membership()""",
    """CREATE FUNCTION peercoach_content_team_school() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM peercoach_content_changed(NEW.team_id);
        ELSE
            PERFORM peercoach_content_changed(OLD.team_id);
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE CONSTRAINT TRIGGER content_revision_team_school
    AFTER INSERT OR DELETE ON team_school
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION peercoach_content_team_school()""",
]


def upgrade() -> None:
    op.create_table(
        "team_school",
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_team_school_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_team_school_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("team_id", "school_id", name=op.f("pk_team_school")),
    )
    op.create_index(
        "ix_team_school_school_id_team_id", "team_school", ["school_id", "team_id"], unique=False
    )
    op.execute(
        "INSERT INTO team_school (team_id, school_id) SELECT DISTINCT tm.team_id, sm.school_id"
        " FROM team_member tm JOIN school_membership sm ON sm.user_id = tm.user_id"
    )
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in ("member", "membership"):
            for change in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS team_school_{table}_{change}")
        for change in ("insert", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS content_revision_team_school_{change}")
    else:
        op.execute("DROP TRIGGER IF EXISTS content_revision_team_school ON team_school")
        op.execute("DROP FUNCTION IF EXISTS peercoach_content_team_school()")
        op.execute("DROP TRIGGER IF EXISTS team_school_member ON team_member")
        op.execute("DROP TRIGGER IF EXISTS team_school_membership ON school_membership")
        op.execute("DROP FUNCTION IF EXISTS peercoach_team_school_member()")
        op.execute("DROP FUNCTION IF EXISTS peercoach_team_school_membership()")
    op.drop_index("ix_team_school_school_id_team_id", table_name="team_school")
    op.drop_table("team_school")
