"""Every user-facing string is in the Latvian catalogue, translated, and keeps its placeholders."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def catalogue(language: str):
    with open(ROOT / "eventsvc/translations" / language / "LC_MESSAGES/messages.po", "rb") as f:
        return read_po(f)


def source_messages() -> set[tuple[str | None, str]]:
    found = set()
    method_map = [("eventsvc/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
    options = {pattern: {"extensions": "jinja2.ext.do"} for pattern in ("templates/**.html", "templates/**.txt")}
    for _, _, message, _, context in extract_from_dir(str(ROOT), method_map, options, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        found.add((context, msgid))
    return found


def test_latvian_catalogue_holds_every_source_string():
    lv = catalogue("lv")
    missing = [(ctx, msgid) for ctx, msgid in source_messages() if lv.get(msgid, context=ctx) is None]
    assert missing == [], "run `make update-messages` and translate"


def test_latvian_catalogue_is_complete_and_not_fuzzy():
    lv = catalogue("lv")
    untranslated = [
        m.id for m in lv
        if m.id and (m.fuzzy or not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert untranslated == []


def test_translations_keep_their_placeholders():
    for message in catalogue("lv"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == expected, message.id
