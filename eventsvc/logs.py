"""Logging for every process (gunicorn workers, `flask` commands, the mail worker): one line
per record on stderr, where systemd or the container runtime collects it, at the level of
EVENTSVC_LOG_LEVEL (INFO by default). create_app() calls `configure_logging` once per
process; nothing else configures logging (tests leave it to pytest).

What is logged is for an operator and holds no personal data: ids, counts, routes, times.
"""

from __future__ import annotations

import logging
import re
import sys
from types import TracebackType
from typing import TextIO, TypeAlias

from flask import g, has_request_context

ExcInfo: TypeAlias = (
    tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
)
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
HANDLER_NAME = "eventsvc"
# PostgreSQL explains a refused row with its values ("Key (event_id, lower(email))=(4,
# ilze@example.lv) already exists", "Failing row contains (…)"): a traceback keeps the rest.
_SERVER_DETAIL = re.compile(r"^DETAIL: .*$", re.MULTILINE)


class _RequestId(logging.Filter):
    """Each line carries the id of the request it was written in ("-" outside requests), so
    an error's traceback can be found next to its request line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            request_id = g.get("request_id") if has_request_context() else None
            record.request_id = request_id or "-"
        return True


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # Another handler may have cached the traceback's text unredacted: format our own.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatException(self, ei: ExcInfo) -> str:
        return _SERVER_DETAIL.sub(
            "DETAIL:  (the row's values are not logged)", super().formatException(ei)
        )


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Our records at `level` and other libraries' warnings, one line each on `stream`
    (stderr). Safe to call again: the handler it added before is replaced."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(_Formatter(FORMAT))
    handler.addFilter(_RequestId())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("eventsvc").setLevel(level)
