"""An agent's own availability (available | away), apart from whether their console is open.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as table:
        table.add_column(sa.Column("availability", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("agents") as table:
        table.drop_column("availability")
