"""activity_waits: each activity's own waiting list, so that a full workshop never costs a
party its place at the event

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "activity_waits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_waits_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_activity_waits_registration_id_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_waits")),
        sa.UniqueConstraint(
            "registration_id", "activity_id", name=op.f("uq_activity_waits_registration_id")
        ),
    )
    with op.batch_alter_table("activity_waits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_waits_activity_id"), ["activity_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("activity_waits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_waits_activity_id"))
    op.drop_table("activity_waits")
