"""conference records keep who wrote what; post-conference answers

A conference record names who wrote each answer as it stands (`written_by`) and who saved it
last; a post-conference record has room for the strategies modelled and the questions posed.
Records written before this do not know who wrote which answer: their `written_by` starts empty
and fills as members save.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 06:50:12.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conference_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("strategies_modelled", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("questions_posed", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("written_by", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("updated_by_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_conference_record_updated_by_id_user_account"),
            "user_account",
            ["updated_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute("UPDATE conference_record SET written_by = '{}'")
    with op.batch_alter_table("conference_record", schema=None) as batch_op:
        batch_op.alter_column("written_by", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("conference_record", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_conference_record_updated_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("updated_by_id")
        batch_op.drop_column("written_by")
        batch_op.drop_column("questions_posed")
        batch_op.drop_column("strategies_modelled")
