"""event_stats: places taken and parties waiting, so that counting an event's places reads
one row instead of all its registrations

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 14:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NEW_COUNTERS = ("confirmed_in_person_people", "confirmed_online_people", "waiting_parties")

# A frozen copy (a migration must not import app code that will change): the counters of the
# registrations there are already; the app keeps them in step from now on.
FILL = """
UPDATE event_stats SET
    confirmed_in_person_people = (SELECT coalesce(sum(party_size), 0) FROM registrations r
        WHERE r.event_id = event_stats.event_id AND r.status = 'confirmed' AND r.attendance = 'in_person'),
    confirmed_online_people = (SELECT coalesce(sum(party_size), 0) FROM registrations r
        WHERE r.event_id = event_stats.event_id AND r.status = 'confirmed' AND r.attendance = 'online'),
    waiting_parties = (SELECT count(*) FROM registrations r
        WHERE r.event_id = event_stats.event_id AND r.status = 'waitlisted')
"""


def upgrade():
    with op.batch_alter_table("event_stats", schema=None) as batch_op:
        for name in NEW_COUNTERS:
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default="0", nullable=False))
    op.execute(FILL)


def downgrade():
    with op.batch_alter_table("event_stats", schema=None) as batch_op:
        for name in NEW_COUNTERS:
            batch_op.drop_column(name)
