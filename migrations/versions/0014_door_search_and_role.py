"""the door: a door-only role, short booking codes, and the folded words registrations are found by

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 16:00:00.000000

"""

import re
import secrets
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BATCH = 2000

# Frozen copies (a migration must not import app code that will change) of
# models/registrations.py new_booking_code and folding.py terms_for.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LOOK_ALIKES = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ŧ": "t", "æ": "ae", "œ": "oe"}
)
WORD = re.compile(r"[^\W_]+")


def _fold(text):
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.casefold().translate(LOOK_ALIKES)


def _terms(name, phone, code):
    parts = WORD.findall(_fold(name))
    digits = "".join(c for c in _fold(phone) if c.isascii() and c.isdigit())
    if digits:
        parts.append(digits)
        if len(digits) > 8:
            parts.append(digits[-8:])
    parts.append(code.lower())
    return list(dict.fromkeys(term[:64] for term in parts))


def _backfill():
    """A booking code (unique within its event) and the search terms of every registration
    (none for an anonymised one)."""
    conn = op.get_bind()
    registrations = sa.table(
        "registrations",
        sa.column("id", sa.Integer),
        sa.column("event_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("phone", sa.String),
        sa.column("booking_code", sa.String),
        sa.column("anonymised_at", sa.DateTime),
    )
    terms = sa.table(
        "registration_search_terms",
        sa.column("registration_id", sa.Integer),
        sa.column("term", sa.String),
        sa.column("event_id", sa.Integer),
    )
    fill = (
        registrations.update()
        .where(registrations.c.id == sa.bindparam("b_id"))
        .values(booking_code=sa.bindparam("b_code"))
    )
    # Event by event (keyset pages over (event_id, id)), so only one event's codes are held.
    event_id, after, taken = 0, 0, set()
    while True:
        rows = conn.execute(
            sa.select(
                registrations.c.id,
                registrations.c.event_id,
                registrations.c.name,
                registrations.c.phone,
                registrations.c.anonymised_at,
            )
            .where(sa.tuple_(registrations.c.event_id, registrations.c.id) > (event_id, after))
            .order_by(registrations.c.event_id, registrations.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values, words = [], []
        for row in rows:
            if row.event_id != event_id:
                event_id, taken = row.event_id, set()
            code = "".join(secrets.choice(ALPHABET) for _ in range(6))
            while code in taken:
                code = "".join(secrets.choice(ALPHABET) for _ in range(6))
            taken.add(code)
            values.append({"b_id": row.id, "b_code": code})
            if row.anonymised_at is None:
                words.extend(
                    {"registration_id": row.id, "term": term, "event_id": row.event_id}
                    for term in _terms(row.name, row.phone, code)
                )
        conn.execute(fill, values)
        if words:
            conn.execute(terms.insert(), words)
        after = rows[-1].id


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(
            "role", "role IN ('organiser', 'ministry', 'admin', 'door')"
        )

    op.create_table(
        "registration_search_terms",
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column(
            "term",
            sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_registration_search_terms_registration_id_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "registration_id", "term", name=op.f("pk_registration_search_terms")
        ),
    )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("booking_code", sa.String(length=6), nullable=True))
    _backfill()
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.alter_column("booking_code", existing_type=sa.String(length=6), nullable=False)
        batch_op.create_unique_constraint(
            "uq_registrations_event_booking_code", ["event_id", "booking_code"]
        )
    # After the backfill: one sort instead of an index kept up to date row by row.
    op.create_index(
        "ix_registration_search_terms_event_term",
        "registration_search_terms",
        ["event_id", "term", "registration_id"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_registration_search_terms_event_term", table_name="registration_search_terms")
    op.drop_table("registration_search_terms")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_registrations_event_booking_code", type_="unique")
        batch_op.drop_column("booking_code")

    # Without the role there are no door accounts: they go with what belongs to them (tokens,
    # memberships: ON DELETE CASCADE); their check-ins, walk-ins and audit entries stay, by
    # nobody (SET NULL). Done by hand, as the foreign keys say, for every table that refers
    # to users: SQLite migrates with foreign keys off (migrations/env.py).
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    door = "(SELECT id FROM users WHERE role = 'door')"
    for table in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(table):
            if fk["referred_table"] != "users":
                continue
            (column,) = fk["constrained_columns"]
            if (fk.get("options") or {}).get("ondelete", "").upper() == "CASCADE":
                op.execute(f"DELETE FROM {table} WHERE {column} IN {door}")
            else:
                op.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} IN {door}")
    op.execute("DELETE FROM users WHERE role = 'door'")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint("role", "role IN ('organiser', 'ministry', 'admin')")
