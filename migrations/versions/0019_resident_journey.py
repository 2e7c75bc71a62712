"""the resident's journey: which privacy notice a registration agreed to; private stream links

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27 16:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        # Empty for registrations made before versions were kept.
        batch_op.add_column(
            sa.Column("consent_notice_version", sa.String(length=20), nullable=True)
        )
    with op.batch_alter_table("events", schema=None) as batch_op:
        # Every link becomes registrants-only until its organiser marks it public.
        batch_op.add_column(
            sa.Column("stream_public", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("stream_public")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("consent_notice_version")
