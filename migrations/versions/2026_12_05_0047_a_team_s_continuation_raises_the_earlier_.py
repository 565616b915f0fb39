"""a team's continuation raises the earlier team's content revision

A team shows `continued_as_id`, the id of the later team whose `continued_from_id` names it:
a row of another team. Migration 0043's triggers raise only the changed team's own counter, so
a worker kept the earlier team's summary with no continuation after the team continued (through
the API or by hand). These triggers raise the counter of the team a row continues, when the row
is inserted, deleted, or changes which team it continues (not on its other changes).

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-05 21:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0047"
down_revision: str | None = "0046"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As migration 0043's SQLITE_BUMP: nothing for a null id.
_BUMP = """INSERT INTO content_revision (team_id, revision) SELECT {team}, 1 WHERE {team} IS NOT NULL
        ON CONFLICT (team_id) DO UPDATE SET revision = revision + 1;"""

SQLITE = [
    f"""CREATE TRIGGER content_revision_team_continued_insert AFTER INSERT ON team
    BEGIN
        {_BUMP.format(team="NEW.continued_from_id")}
    END""",
    f"""CREATE TRIGGER content_revision_team_continued_update
    AFTER UPDATE OF continued_from_id ON team
    WHEN NEW.continued_from_id IS NOT OLD.continued_from_id
    BEGIN
        {_BUMP.format(team="NEW.continued_from_id")}
        {_BUMP.format(team="OLD.continued_from_id")}
    END""",
    f"""CREATE TRIGGER content_revision_team_continued_delete AFTER DELETE ON team
    BEGIN
        {_BUMP.format(team="OLD.continued_from_id")}
    END""",
]

# PostgreSQL: deferred to the commit and raised once per transaction and team, as every content
# trigger of migration 0043 (`peercoach_content_changed`).
POSTGRESQL = [
    """CREATE FUNCTION peercoach_content_team_continued() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM peercoach_content_changed(NEW.continued_from_id);
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM peercoach_content_changed(OLD.continued_from_id);
        ELSIF NEW.continued_from_id IS DISTINCT FROM OLD.continued_from_id THEN
            PERFORM peercoach_content_changed(NEW.continued_from_id);
            PERFORM peercoach_content_changed(OLD.continued_from_id);
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE CONSTRAINT TRIGGER content_revision_team_continued
    AFTER INSERT OR UPDATE OR DELETE ON team
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION peercoach_content_team_continued()""",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE if sqlite else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS content_revision_team_continued_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS content_revision_team_continued ON team")
        op.execute("DROP FUNCTION IF EXISTS peercoach_content_team_continued()")
