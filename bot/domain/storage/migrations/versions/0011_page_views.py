"""The pages a widget customer viewed on the shop's site, for the agent who takes their chat.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_views",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("title", sa.String(300)),
        sa.Column("referrer", sa.String(255)),
        sa.Column("device", sa.String(64)),
        sa.Column("viewed_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("page_views")
