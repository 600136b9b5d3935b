"""The complaint a customer's file belongs to (bot/domain/attachments.py: link_to_complaint).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments") as table:
        table.add_column(sa.Column("complaint_ref", sa.String(32)))
        table.create_index("ix_attachments_complaint_ref", ["complaint_ref"])


def downgrade() -> None:
    with op.batch_alter_table("attachments") as table:
        table.drop_index("ix_attachments_complaint_ref")
        table.drop_column("complaint_ref")
