"""needs known in advance: ticked accessibility needs on registrations, counted per event; the
needs digest's once-per-event mark; the language the service writes to a staff member in

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-28 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# A frozen copy of eventsvc/needs.py's list (a migration must not import app code that will
# change): each need's counter in event_stats, and the largest mask registrations take.
NEED_COUNTERS = (
    "needs_wheelchair",
    "needs_hearing_loop",
    "needs_sign_language",
    "needs_easy_read",
    "needs_assistant",
    "needs_transport",
    "needs_childcare",
)
ALL_BITS = 127


def upgrade():
    # Every registration so far ticked nothing: 0, and so is every counter of it.
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("needs_mask", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_check_constraint(
            "needs_mask_known", f"needs_mask >= 0 AND needs_mask <= {ALL_BITS}"
        )
    with op.batch_alter_table("event_stats", schema=None) as batch_op:
        for name in NEED_COUNTERS:
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("needs_digest_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=True))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("needs_digest_at")
    with op.batch_alter_table("event_stats", schema=None) as batch_op:
        for name in NEED_COUNTERS:
            batch_op.drop_column(name)
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_registrations_needs_mask_known"), type_="check")
        batch_op.drop_column("needs_mask")
