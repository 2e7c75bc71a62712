"""event text in Russian and English beside the Latvian (events, activities, speakers' titles)

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-27 17:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# Nullable: an empty translation falls back to the Latvian text (models.events.Translated).
COLUMNS = {
    "events": [
        ("title", sa.String(length=200)),
        ("summary", sa.String(length=500)),
        ("description", sa.Text()),
        ("accessibility", sa.Text()),
    ],
    "activities": [("title", sa.String(length=200)), ("description", sa.Text())],
    "speakers": [("title", sa.String(length=200))],
}
LANGUAGES = ("ru", "en")


def upgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, type_ in columns:
                for language in LANGUAGES:
                    batch_op.add_column(sa.Column(f"{name}_{language}", type_, nullable=True))


def downgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _type in columns:
                for language in LANGUAGES:
                    batch_op.drop_column(f"{name}_{language}")
