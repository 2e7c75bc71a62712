"""audit log: full names for the kinds in `detail` ("event_status", not "es")

An argument [kind, name, …] of an entry's detail (services/audit_detail.py) named its kind
with a two-letter code; it now says what it is. This rewrites the stored entries, and back on
downgrade. The longer names take more room, so `detail` becomes TEXT and new entries may
take 300 characters (audit_detail.DETAIL_LENGTH), which hold what 200 held with the codes.
On downgrade an entry written before is restored exactly; one written since that does not
fit 200 characters again loses names from its lists, then parts, as the app cut them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 10:00:00.000000

"""

import json
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# A frozen copy (a migration must not import app code that will change).
FULL_NAMES = {
    "es": "event_status",
    "rs": "registration_status",
    "ro": "role",
    "ek": "event_kind",
    "cm": "checkin_method",
    "ef": "event_field",
    "uf": "user_field",
    "of": "organisation_field",
    "sf": "stats_filter",
    "st": "stats_table",
}
CODES = {name: code for code, name in FULL_NAMES.items()}
BATCH = 1000
OLD_LENGTH = 200  # what the column held before
MORE = "…"  # ends a list of names cut short, or stands for parts left out

audit_log = sa.table("audit_log", sa.column("id", sa.Integer), sa.column("detail", sa.Text))


def _rename(arg, kinds: dict[str, str]) -> bool:
    """Rename the kind of a [kind, name, …] argument, and of any such list inside it (a
    filter is [field name, [kind, value]]); True if anything changed."""
    if not isinstance(arg, list) or not arg:
        return False
    changed = False
    if isinstance(arg[0], str) and arg[0] in kinds:
        arg[0] = kinds[arg[0]]
        changed = True
    for item in arg:
        changed = _rename(item, kinds) or changed
    return changed


def _load(detail: str):
    """The parts of a detail in the JSON form (a part, or a list of parts); None for text."""
    if not detail.startswith(("{", "[")):
        return None
    try:
        data = json.loads(detail)
    except ValueError:
        return None
    return data if isinstance(data, (dict, list)) else None


def _dump(data) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def renamed(detail: str, kinds: dict[str, str]) -> str | None:
    """`detail` with its kinds renamed by `kinds`, in the form it is stored (compact JSON);
    None when there is nothing to rename (plain text, or no such kind in it)."""
    data = _load(detail)
    changed = False
    for part in [data] if isinstance(data, dict) else data or []:
        args = part.get("a") if isinstance(part, dict) else None
        if isinstance(args, dict):
            for arg in args.values():
                changed = _rename(arg, kinds) or changed
    return _dump(data) if changed else None


def fitted(detail: str, limit: int) -> str:
    """`detail` within `limit` characters: the last names of the longest lists left out,
    then the last parts (a frozen copy of how the app cut a detail), or plain text cut."""
    data = _load(detail)
    if len(detail) <= limit or data is None:
        return detail[:limit]
    parts = [data] if isinstance(data, dict) else data
    cut = {"m": MORE}
    while len(text := _dump(parts[0] if len(parts) == 1 else parts)) > limit:
        lists = [
            arg
            for part in parts
            if isinstance(part, dict) and isinstance(part.get("a"), dict)
            for arg in part["a"].values()
            if isinstance(arg, list) and len([x for x in arg[1:] if x != MORE]) >= 2
        ]
        if lists:
            longest = max(lists, key=lambda arg: len(_dump(arg)))
            if longest[-1] == MORE:
                del longest[-2]
            else:
                longest[-1] = MORE
        elif len(parts) > 2 and parts[-1] == cut:
            del parts[-2]
        elif len(parts) > 1 and parts[-1] != cut:
            parts[-1] = cut
        else:
            return text[:limit]
    return text


def _upgraded(detail: str) -> str | None:
    return renamed(detail, FULL_NAMES)


def _downgraded(detail: str) -> str | None:
    """With the codes again, within the 200 characters of the old column."""
    new = renamed(detail, CODES)
    text = detail if new is None else new
    return fitted(text, OLD_LENGTH) if len(text) > OLD_LENGTH else new


def _rewrite(rewritten: Callable[[str], str | None]) -> None:
    """Every entry, in batches by id (an audit log can be long), rewritten where
    `rewritten(detail)` gives a new detail."""
    conn = op.get_bind()
    after = 0
    while True:
        rows = conn.execute(
            sa.select(audit_log.c.id, audit_log.c.detail)
            .where(audit_log.c.id > after)
            .order_by(audit_log.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        after = rows[-1].id
        changes = [
            {"entry_id": row.id, "new_detail": new}
            for row in rows
            if (new := rewritten(row.detail or "")) is not None
        ]
        if changes:
            conn.execute(
                audit_log.update()
                .where(audit_log.c.id == sa.bindparam("entry_id"))
                .values(detail=sa.bindparam("new_detail")),
                changes,
            )


def upgrade():
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column(
            "detail", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=False
        )
    _rewrite(_upgraded)


def downgrade():
    _rewrite(_downgraded)
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column(
            "detail", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=False
        )
