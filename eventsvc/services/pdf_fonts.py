"""The font every PDF of the service prints with (tickets, certificates): DejaVu Sans, which
has Latvian and Cyrillic letters. Found at run time in EVENTSVC_PDF_FONT_DIR (by default
Debian's fonts-dejavu-core); a server without it gets a plain error, not a broken PDF."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from . import ServiceError

FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")


class FontMissing(ServiceError):
    """The server has no font for the PDF: an installation problem, said plainly."""


def pdf_fonts(what: str) -> tuple[Path, Path]:
    """The regular and bold font files; FontMissing (naming `what` needs them) if absent."""
    folder = Path(current_app.config["EVENTSVC_PDF_FONT_DIR"])
    regular, bold = (folder / name for name in FONT_FILES)
    missing = [str(p) for p in (regular, bold) if not p.is_file()]
    if missing:
        raise FontMissing(
            f"{what} needs the DejaVu Sans fonts: "
            + ", ".join(missing)
            + " not found (apt-get install fonts-dejavu-core, or set EVENTSVC_PDF_FONT_DIR)"
        )
    return regular, bold
