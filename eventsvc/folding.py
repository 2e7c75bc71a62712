"""Names as people type them: one folding for what is stored and for what is searched.

Case, diacritics and a few look-alike letters are ignored ("berzins" finds "Bērziņš",
"GUNARS" finds "Gunārs", "федор" finds "Фёдор"). Python folds both sides, so SQLite and
PostgreSQL compare the same plain strings and agree; the database only finds the words that
begin with what was typed (models/registrations.py RegistrationSearchTerm).
"""

from __future__ import annotations

import re
import unicodedata

# Letters that carry their difference in the letter itself, not in a combining mark, so
# that NFKD leaves them alone (ё, й and every Latvian letter decompose on their own).
_LOOK_ALIKES = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "ŧ": "t", "æ": "ae", "œ": "oe"}
)
WORD = re.compile(r"[^\W_]+")  # letters and digits (not "_", which \w counts)
_PHONE_QUERY = re.compile(r"\+?[0-9 ().-]+")
TERM_LENGTH = 64
MAX_QUERY_WORDS = 5


def fold(text: str) -> str:
    """Lower case, without diacritics: NFKD, combining marks dropped, casefold, look-alikes."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.casefold().translate(_LOOK_ALIKES)


def words(text: str | None) -> list[str]:
    return WORD.findall(fold(text or ""))


def phone_digits(phone: str | None) -> str:
    """The digits of a phone number, without spaces, "+" or brackets."""
    return "".join(c for c in fold(phone or "") if c.isascii() and c.isdigit())


def terms_for(
    name: str | None, phone: str | None = None, booking_code: str | None = None
) -> list[str]:
    """The words a registration is found by: its name's, its phone's digits (also without the
    country code, as people say their number) and its booking code; each once."""
    parts = words(name)
    digits = phone_digits(phone)
    if digits:
        parts.append(digits)
        if len(digits) > 8:
            parts.append(digits[-8:])  # a Latvian number without +371
    if booking_code:
        parts.append(booking_code.lower())
    return list(dict.fromkeys(term[:TERM_LENGTH] for term in parts))


def search_text(name: str | None, phone: str | None = None, booking_code: str | None = None) -> str:
    """The same words in one string, each after a space (for the door phone's offline list,
    where " " + a word's beginning finds it)."""
    return " " + " ".join(terms_for(name, phone, booking_code))


def search_terms(query: str | None) -> list[str]:
    """What a search box asks for: folded words, each to be the beginning of a word of the
    search text; a phone number typed with spaces or "+" is one run of digits."""
    query = (query or "").strip()[:100]
    if _PHONE_QUERY.fullmatch(query) and sum(c.isdigit() for c in query) >= 3:
        return [phone_digits(query)[:TERM_LENGTH]]
    return [word[:TERM_LENGTH] for word in words(query)[:MAX_QUERY_WORDS]]


def prefix_range(term: str) -> tuple[str, str]:
    """The words that begin with `term` are those from `term` up to (not including) the next
    string of its length: what `LIKE 'term%'` means, as a range that a plain B-tree index
    answers on SQLite (binary collation) and PostgreSQL (the "C" collation of the column)."""
    last = ord(term[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # no code points there; the next one is after them
        last = 0xE000
    return term, term[:-1] + chr(last)
