"""registrations: the version of the privacy notice the resident agreed to

Revision ID: 0019
Revises: 0011
Create Date: 2026-11-27 16:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        # Empty for registrations made before versions were kept.
        batch_op.add_column(
            sa.Column("consent_notice_version", sa.String(length=20), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("consent_notice_version")
