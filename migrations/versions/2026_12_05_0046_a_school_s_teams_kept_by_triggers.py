"""a school's teams kept by triggers: each team with a member at a school, and how many of its
members are there, so an administrator's teams (and a school's, for a list, a report or a feed)
are one index's rows instead of every member of the school probed into `team_member`

The row of (school, team) exists exactly while `members` > 0, where `members` is the number of
the team's members who belong to the school. Triggers on `team_member` and `school_membership`
keep it; the app never writes it (app/teams/models.py `SchoolTeam`).

PostgreSQL: a change of a team's members and a change of that person's schools, in two
transactions at once, would each miss the other's uncommitted row (each trigger reads the other
table). Both triggers therefore first lock the person's account row (`FOR NO KEY UPDATE`, which
foreign-key checks do not wait for), so the second waits for the first to commit and then
reads it. Rows of `school_team` are locked in (school, team) order, whichever trigger runs.

Documents kept by workers (migration 0043) read the table (a report row's schools, a feed's
time zones), so it raises its team's content revision as every table they read does.

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-05 18:08:46.710958
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0046"
down_revision: str | None = "0045"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One member more or fewer at each (school, team) a change of `team_member` (the person's
# schools) or of `school_membership` (the person's teams) touches. {user}, {team}, {school}:
# the changed row's columns, NEW or OLD.
ADD_MEMBER = """INSERT INTO school_team (school_id, team_id, members)
        SELECT school_id, {team}, 1 FROM school_membership
         WHERE user_id = {user} ORDER BY school_id
        ON CONFLICT (school_id, team_id) DO UPDATE SET members = school_team.members + 1"""
DROP_MEMBER = """UPDATE school_team SET members = members - 1
         WHERE team_id = {team}
           AND school_id IN (SELECT school_id FROM school_membership WHERE user_id = {user})"""
ADD_SCHOOL = """INSERT INTO school_team (school_id, team_id, members)
        SELECT {school}, team_id, 1 FROM team_member
         WHERE user_id = {user} ORDER BY team_id
        ON CONFLICT (school_id, team_id) DO UPDATE SET members = school_team.members + 1"""
DROP_SCHOOL = """UPDATE school_team SET members = members - 1
         WHERE school_id = {school}
           AND team_id IN (SELECT team_id FROM team_member WHERE user_id = {user})"""
EMPTY = "DELETE FROM school_team WHERE {column} = {value} AND members <= 0"

OLD_MEMBER = {"team": "OLD.team_id", "user": "OLD.user_id"}
NEW_MEMBER = {"team": "NEW.team_id", "user": "NEW.user_id"}
OLD_SCHOOL = {"school": "OLD.school_id", "user": "OLD.user_id"}
NEW_SCHOOL = {"school": "NEW.school_id", "user": "NEW.user_id"}


def _drop_member(v: dict[str, str]) -> str:
    return f"{DROP_MEMBER.format(**v)}; {EMPTY.format(column='team_id', value=v['team'])}"


def _drop_school(v: dict[str, str]) -> str:
    return f"{DROP_SCHOOL.format(**v)}; {EMPTY.format(column='school_id', value=v['school'])}"


SQLITE = [
    f"""CREATE TRIGGER school_team_member_insert AFTER INSERT ON team_member
    BEGIN {ADD_MEMBER.format(**NEW_MEMBER)}; END""",
    f"""CREATE TRIGGER school_team_member_delete AFTER DELETE ON team_member
    BEGIN {_drop_member(OLD_MEMBER)}; END""",
    f"""CREATE TRIGGER school_team_member_update AFTER UPDATE OF team_id, user_id ON team_member
    BEGIN {_drop_member(OLD_MEMBER)}; {ADD_MEMBER.format(**NEW_MEMBER)}; END""",
    f"""CREATE TRIGGER school_team_membership_insert AFTER INSERT ON school_membership
    BEGIN {ADD_SCHOOL.format(**NEW_SCHOOL)}; END""",
    f"""CREATE TRIGGER school_team_membership_delete AFTER DELETE ON school_membership
    BEGIN {_drop_school(OLD_SCHOOL)}; END""",
    f"""CREATE TRIGGER school_team_membership_update
    AFTER UPDATE OF school_id, user_id ON school_membership
    BEGIN {_drop_school(OLD_SCHOOL)}; {ADD_SCHOOL.format(**NEW_SCHOOL)}; END""",
]

# The account row of the person, locked before the other table is read (see the docstring);
# the rows about to lose a member, locked in (school, team) order before the UPDATE.
LOCK_PERSON = "PERFORM 1 FROM user_account WHERE id = {user} FOR NO KEY UPDATE"
LOCK_TEAM_ROWS = """PERFORM 1 FROM school_team WHERE team_id = {team}
           AND school_id IN (SELECT school_id FROM school_membership WHERE user_id = {user})
         ORDER BY school_id FOR UPDATE"""
LOCK_SCHOOL_ROWS = """PERFORM 1 FROM school_team WHERE school_id = {school}
           AND team_id IN (SELECT team_id FROM team_member WHERE user_id = {user})
         ORDER BY team_id FOR UPDATE"""


def _plpgsql(name: str, old: str, new: str) -> str:
    return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            {old};
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            {new};
        END IF;
        RETURN NULL;
    END
    $$"""


POSTGRESQL = [
    _plpgsql(
        "peercoach_school_team_member",
        f"{LOCK_PERSON.format(**OLD_MEMBER)}; {LOCK_TEAM_ROWS.format(**OLD_MEMBER)}; "
        f"{_drop_member(OLD_MEMBER)}",
        f"{LOCK_PERSON.format(**NEW_MEMBER)}; {ADD_MEMBER.format(**NEW_MEMBER)}",
    ),
    """CREATE TRIGGER school_team_member
    AFTER INSERT OR UPDATE OF team_id, user_id OR DELETE ON team_member
    FOR EACH ROW EXECUTE FUNCTION peercoach_school_team_member()""",
    _plpgsql(
        "peercoach_school_team_membership",
        f"{LOCK_PERSON.format(**OLD_SCHOOL)}; {LOCK_SCHOOL_ROWS.format(**OLD_SCHOOL)}; "
        f"{_drop_school(OLD_SCHOOL)}",
        f"{LOCK_PERSON.format(**NEW_SCHOOL)}; {ADD_SCHOOL.format(**NEW_SCHOOL)}",
    ),
    """CREATE TRIGGER school_team_membership
    AFTER INSERT OR UPDATE OF school_id, user_id OR DELETE ON school_membership
    FOR EACH ROW EXECUTE FUNCTION peercoach_school_team_membership()""",
]


# The content revision of the row's team (as migration 0043 raises it for the team's tables).
SQLITE_BUMP = """INSERT INTO content_revision (team_id, revision) SELECT {team}, 1
        ON CONFLICT (team_id) DO UPDATE SET revision = revision + 1;"""
SQLITE_REVISIONS = [
    f"""CREATE TRIGGER content_revision_school_team_{event.lower()} AFTER {event} ON school_team
    BEGIN {" ".join(SQLITE_BUMP.format(team=f"{row}.team_id") for row in rows)} END"""
    for event, rows in (("INSERT", ["NEW"]), ("UPDATE", ["NEW", "OLD"]), ("DELETE", ["OLD"]))
]
POSTGRESQL_REVISIONS = [
    """CREATE FUNCTION peercoach_content_school_team() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM peercoach_content_changed(NEW.team_id);
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM peercoach_content_changed(OLD.team_id);
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE CONSTRAINT TRIGGER content_revision_school_team
    AFTER INSERT OR UPDATE OR DELETE ON school_team
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION peercoach_content_school_team()""",
]


def upgrade() -> None:
    op.create_table(
        "school_team",
        sa.Column("school_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_school_team_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_school_team_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("school_id", "team_id", name=op.f("pk_school_team")),
    )
    op.create_index(op.f("ix_school_team_team_id"), "school_team", ["team_id"], unique=False)
    op.execute(
        "INSERT INTO school_team (school_id, team_id, members) "
        "SELECT s.school_id, m.team_id, count(*) FROM team_member m "
        "JOIN school_membership s ON s.user_id = m.user_id GROUP BY s.school_id, m.team_id"
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in (
        [*SQLITE, *SQLITE_REVISIONS] if sqlite else [*POSTGRESQL, *POSTGRESQL_REVISIONS]
    ):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in (
            "content_revision_school_team_insert",
            "content_revision_school_team_update",
            "content_revision_school_team_delete",
            "school_team_membership_update",
            "school_team_membership_delete",
            "school_team_membership_insert",
            "school_team_member_update",
            "school_team_member_delete",
            "school_team_member_insert",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS content_revision_school_team ON school_team")
        op.execute("DROP FUNCTION IF EXISTS peercoach_content_school_team()")
        op.execute("DROP TRIGGER IF EXISTS school_team_membership ON school_membership")
        op.execute("DROP TRIGGER IF EXISTS school_team_member ON team_member")
        op.execute("DROP FUNCTION IF EXISTS peercoach_school_team_membership()")
        op.execute("DROP FUNCTION IF EXISTS peercoach_school_team_member()")
    op.drop_index(op.f("ix_school_team_team_id"), table_name="school_team")
    op.drop_table("school_team")
