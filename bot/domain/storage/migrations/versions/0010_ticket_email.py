"""Where the answer to a ticket is also emailed (the customer gave an address, or had verified one).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as table:
        table.add_column(sa.Column("contact_email", sa.String(255)))


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as table:
        table.drop_column("contact_email")
