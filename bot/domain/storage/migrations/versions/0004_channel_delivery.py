"""Channel updates seen (processed once) and replies that could not be delivered.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_updates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("update_id", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "update_id"),
    )
    op.create_table(
        "undelivered_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("recipient_id", sa.String(255), nullable=False, index=True),
        sa.Column("text", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("undelivered_messages")
    op.drop_table("channel_updates")
