"""feedback after an event (invitations on the registration's side, anonymous answers on the
event's side) and attendance certificates

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 17:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

DEFAULT_QUESTIONS = "usefulness,come_again,needs_met,improve"


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "feedback_questions",
                sa.String(length=100),
                server_default=DEFAULT_QUESTIONS,
                nullable=False,
            )
        )
    op.create_table(
        "feedback_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_feedback_invitations_registration_id_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_invitations")),
        sa.UniqueConstraint(
            "registration_id", name=op.f("uq_feedback_invitations_registration_id")
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feedback_invitations_token_hash")),
    )
    # No foreign key, column or time joins an answer to an invitation or a person.
    op.create_table(
        "feedback_answers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("usefulness", sa.SmallInteger(), nullable=True),
        sa.Column("come_again", sa.String(length=10), nullable=True),
        sa.Column("needs_met", sa.String(length=10), nullable=True),
        sa.Column("information", sa.String(length=10), nullable=True),
        sa.Column("improve", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "usefulness IS NULL OR usefulness BETWEEN 1 AND 5",
            name=op.f("ck_feedback_answers_usefulness_1_5"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_feedback_answers_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_answers")),
    )
    op.create_index(
        op.f("ix_feedback_answers_event_id"), "feedback_answers", ["event_id"], unique=False
    )
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=4, scale=1), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("hours > 0", name=op.f("ck_certificates_hours_positive")),
        sa.ForeignKeyConstraint(
            ["issued_by_id"],
            ["users.id"],
            name=op.f("fk_certificates_issued_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_certificates_registration_id_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("registration_id", name=op.f("uq_certificates_registration_id")),
    )


def downgrade():
    op.drop_table("certificates")
    op.drop_index(op.f("ix_feedback_answers_event_id"), table_name="feedback_answers")
    op.drop_table("feedback_answers")
    op.drop_table("feedback_invitations")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("feedback_questions")
