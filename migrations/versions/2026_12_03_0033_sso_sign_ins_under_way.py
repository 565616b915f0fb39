"""Single sign-ons under way: from the redirect to the provider until the front end
exchanges its one-time code (app/auth/sso.py)

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-03 09:11:37.175203
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sso_sign_in",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=True),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("client_state", sa.String(length=1000), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("token_version", sa.Integer(), nullable=True),
        sa.Column("expires_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_sso_sign_in_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_sign_in")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_sso_sign_in_code_hash")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_sso_sign_in_state_hash")),
    )
    with op.batch_alter_table("sso_sign_in", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sso_sign_in_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sso_sign_in", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sso_sign_in_expires_at"))

    op.drop_table("sso_sign_in")
