"""outbox: a "sending" state with a lease (claimed_until), so no row lock spans SMTP

Revision ID: 0016
Revises: 0014
Create Date: 2026-11-27 12:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

BEFORE = "status IN ('pending', 'sent', 'failed', 'skipped')"
AFTER = "status IN ('pending', 'sending', 'sent', 'failed', 'skipped')"


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("ck_outbox_messages_outboxstatus"), type_="check")
        batch_op.create_check_constraint("outboxstatus", AFTER)


def downgrade():
    # A message caught mid-send goes back to the queue (at worst sent twice, never lost).
    op.execute("UPDATE outbox_messages SET status = 'pending' WHERE status = 'sending'")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_messages_outboxstatus"), type_="check")
        batch_op.create_check_constraint("outboxstatus", BEFORE)
        batch_op.drop_column("claimed_until")
