"""Every user-facing string is in each catalogue (Latvian, Russian), translated, and keeps its placeholders.

English is the source language: its words are the msgids themselves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "pgettext": ((1, "c"), 2),
    "N_": None,
}  # N_: the audit log's message ids, translated when shown (services/audit.py)
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def catalogue(language: str):
    with open(ROOT / "eventsvc/translations" / language / "LC_MESSAGES/messages.po", "rb") as f:
        return read_po(f)


def source_messages() -> set[tuple[str | None, str]]:
    found = set()
    method_map = [
        ("eventsvc/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    options = {
        pattern: {"extensions": "jinja2.ext.do"}
        for pattern in ("templates/**.html", "templates/**.txt")
    }
    for _, _, message, _, context in extract_from_dir(
        str(ROOT), method_map, options, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.add((context, msgid))
    return found


TRANSLATED = ("lv", "ru")


def test_every_offered_language_has_a_catalogue():
    from eventsvc.config import load_config

    offered = load_config("/nonexistent", env={}, overrides={"SECRET_KEY": "x"})[
        "EVENTSVC_LANGUAGES"
    ]
    assert set(offered) == set(TRANSLATED) | {"en"}


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_holds_every_source_string(language):
    translations = catalogue(language)
    missing = [
        (ctx, msgid)
        for ctx, msgid in source_messages()
        if translations.get(msgid, context=ctx) is None
    ]
    assert missing == [], "run `make update-messages` and translate"


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_is_complete_and_not_fuzzy(language):
    untranslated = [
        m.id
        for m in catalogue(language)
        if m.id and (m.fuzzy or not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert untranslated == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_their_placeholders(language):
    for message in catalogue(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == expected, message.id
