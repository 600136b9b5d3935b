"""Complaints, their status history, and complaint references on interaction records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(32), unique=True),
        sa.Column("customer_id", sa.String(255), nullable=False, index=True),
        sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("category", sa.String(32)),
        sa.Column("order_ref", sa.String(32)),
        sa.Column("description", sa.Text),
        sa.Column("contact", sa.String(255)),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("respond_by", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "complaint_status_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("complaint_id", sa.Integer, sa.ForeignKey("complaints.id"), nullable=False, index=True),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("changed_by", sa.String(255), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_notified_at", sa.DateTime(timezone=True)),
    )
    with op.batch_alter_table("interaction_records") as table:
        table.add_column(sa.Column("complaint_ref", sa.String(32)))
        table.create_index("ix_interaction_records_complaint_ref", ["complaint_ref"])


def downgrade() -> None:
    with op.batch_alter_table("interaction_records") as table:
        table.drop_index("ix_interaction_records_complaint_ref")
        table.drop_column("complaint_ref")
    op.drop_table("complaint_status_changes")
    op.drop_table("complaints")
