"""one learning target: the plan's

The team, its plan and its pre-conference record each held a learning target, and they drifted.
The plan's is now the one: a plan without one takes the latest target a pre-conference agreed,
else the team's; an agreed target that differs from the plan's is kept at the head of its
record's summary, so nothing written is lost. Then the two copies go.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 06:23:15.053986
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _team_list_order_again() -> None:
    """SQLite's batch mode rebuilt the team table and its indexes from reflection, which drops
    an index column's direction: put `school_year DESC` back (migration 0014's index)."""
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_team_list_order", table_name="team")
        op.create_index(
            "ix_team_list_order", "team", [sa.text("school_year DESC"), "name", "id"], unique=False
        )


def upgrade() -> None:
    op.execute(
        """
        UPDATE action_plan SET version = version + 1, learning_target = COALESCE(
            (SELECT c.learning_target_agreed FROM conference_record AS c
              WHERE c.team_id = action_plan.team_id AND c.learning_target_agreed IS NOT NULL
              ORDER BY c.updated_at DESC, c.id LIMIT 1),
            (SELECT t.learning_target FROM team AS t WHERE t.id = action_plan.team_id))
        WHERE learning_target IS NULL AND (
            EXISTS (SELECT 1 FROM conference_record AS c
                     WHERE c.team_id = action_plan.team_id
                       AND c.learning_target_agreed IS NOT NULL)
            OR EXISTS (SELECT 1 FROM team AS t
                        WHERE t.id = action_plan.team_id AND t.learning_target IS NOT NULL))
        """
    )
    op.get_bind().execute(
        sa.text(
            """
            UPDATE conference_record SET version = version + 1,
                summary = :label || learning_target_agreed
                          || COALESCE(:gap || summary, '')
            WHERE learning_target_agreed IS NOT NULL
              AND learning_target_agreed <> COALESCE(
                (SELECT p.learning_target FROM action_plan AS p
                  WHERE p.team_id = conference_record.team_id), '')
            """
        ),
        {"label": "Learning target agreed: ", "gap": "\n\n"},
    )
    with op.batch_alter_table("conference_record", schema=None) as batch_op:
        batch_op.drop_column("learning_target_agreed")
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_column("learning_target")
    _team_list_order_again()


def downgrade() -> None:
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(sa.Column("learning_target", sa.TEXT(), nullable=True))
    _team_list_order_again()
    with op.batch_alter_table("conference_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("learning_target_agreed", sa.TEXT(), nullable=True))
    op.execute(
        """
        UPDATE team SET learning_target =
            (SELECT p.learning_target FROM action_plan AS p WHERE p.team_id = team.id)
        """
    )
