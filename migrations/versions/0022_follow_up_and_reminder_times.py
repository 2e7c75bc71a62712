"""after the event: residents' consent to a follow-up call, the calls made (and their count in
the totals); each event's reminder times (the day before, two hours before)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-27 19:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

OUTCOMES = ("reached", "not_reached")


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        # Every event so far reminded the day before, and only then.
        batch_op.add_column(
            sa.Column("remind_day_before", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("remind_two_hours", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminded_two_hours_at", sa.DateTime(timezone=True), nullable=True)
        )
        # Nobody agreed before there was anything to agree to.
        batch_op.add_column(
            sa.Column("follow_up_consent_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("follow_up_calls", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("follow_up_called_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("follow_up_called_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "follow_up_outcome",
                sa.Enum(
                    *OUTCOMES,
                    name="followupoutcome",
                    native_enum=False,
                    length=30,
                    create_constraint=True,
                ),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_registrations_follow_up_called_by_id_users"),
            "users",
            ["follow_up_called_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_registrations_follow_up_calls_not_negative"), "follow_up_calls >= 0"
        )
    with op.batch_alter_table("event_stats", schema=None) as batch_op:
        # No call was made before the list existed: 0 is every event's count.
        batch_op.add_column(
            sa.Column("follow_up_calls", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("event_stats", schema=None) as batch_op:
        batch_op.drop_column("follow_up_calls")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_registrations_follow_up_calls_not_negative"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_registrations_follow_up_called_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("ck_registrations_followupoutcome"), type_="check")
        batch_op.drop_column("follow_up_outcome")
        batch_op.drop_column("follow_up_called_by_id")
        batch_op.drop_column("follow_up_called_at")
        batch_op.drop_column("follow_up_calls")
        batch_op.drop_column("follow_up_consent_at")
        batch_op.drop_column("reminded_two_hours_at")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("remind_two_hours")
        batch_op.drop_column("remind_day_before")
