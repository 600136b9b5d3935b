"""Undelivered messages are tried again later: the whole message, how often it was tried, when next.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("undelivered_messages") as table:  # batch: SQLite cannot ALTER much
        table.add_column(sa.Column("message", sa.Text))  # the message as Rasa sends it (JSON), buttons included
        table.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        table.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True)))
        table.create_index("ix_undelivered_messages_due", ["delivered_at", "next_attempt_at"])


def downgrade() -> None:
    with op.batch_alter_table("undelivered_messages") as table:
        table.drop_index("ix_undelivered_messages_due")
        for column in ("delivered_at", "next_attempt_at", "attempts", "message"):
            table.drop_column(column)
