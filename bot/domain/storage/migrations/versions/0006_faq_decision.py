"""The FAQ decision (answer, suggest, unknown, selected) on the bot's FAQ replies: the metrics
(FAQ answer rate, fallback rate, unanswered questions) are counted from it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interaction_records") as table:
        table.add_column(sa.Column("faq_decision", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("interaction_records") as table:
        table.drop_column("faq_decision")
