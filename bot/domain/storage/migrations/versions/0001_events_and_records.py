"""Conversation events and interaction records.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("type_name", sa.String(255), nullable=False),
        sa.Column("timestamp", sa.Float),
        sa.Column("intent_name", sa.String(255)),
        sa.Column("action_name", sa.String(255)),
        sa.Column("data", sa.Text),
    )
    op.create_index("ix_conversation_events_sender_id", "conversation_events", ["sender_id"])
    op.create_table(
        "interaction_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(16), nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("intent", sa.String(255)),
        sa.Column("intent_confidence", sa.Float),
        sa.Column("entities", sa.JSON),
        sa.Column("faq_id", sa.String(255)),
        sa.Column("faq_score", sa.Float),
        sa.Column("faq_candidates", sa.JSON),
        sa.Column("action", sa.String(255)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latency_ms", sa.Float),
    )
    for column in ("conversation_id", "customer_id", "faq_id", "created_at"):
        op.create_index(f"ix_interaction_records_{column}", "interaction_records", [column])


def downgrade() -> None:
    op.drop_table("interaction_records")
    op.drop_table("conversation_events")
