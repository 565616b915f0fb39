"""password reset tokens

Account tokens serve password resets too ("forgot my password", or an administrator's reset).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03 07:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _purposes(values: str) -> None:
    with op.batch_alter_table("account_token", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_account_token_purpose"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_account_token_purpose"), sa.text(f"purpose IN ({values})")
        )


def upgrade() -> None:
    _purposes("'invitation', 'password_reset'")


def downgrade() -> None:
    op.execute("DELETE FROM account_token WHERE purpose = 'password_reset'")
    _purposes("'invitation'")
