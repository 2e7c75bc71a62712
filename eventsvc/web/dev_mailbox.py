"""The development mailbox: with no MAIL_SERVER (the embedded default), mail is written to
instance/mailbox/ and shown here as a mail client would show it. Absent in production."""

from __future__ import annotations

import email
import re
import threading
from email import policy
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, url_for

bp = Blueprint("dev_mailbox", __name__, url_prefix="/dev/mailbox")
NAME = re.compile(r"^\d{8}$")


@bp.before_request
def only_with_the_mailbox_backend():
    if current_app.config["EVENTSVC_MAIL_BACKEND"] != "mailbox":
        abort(404)


def _folder() -> Path:
    return Path(current_app.config["EVENTSVC_MAILBOX_DIR"])


def _load(name: str) -> email.message.EmailMessage:
    path = _folder() / f"{name}.eml"
    if not NAME.match(name) or not path.is_file():
        abort(404)
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


@bp.get("/")
def inbox():
    paths = sorted(_folder().glob("*.eml"), reverse=True)[:200] if _folder().exists() else []
    messages = []
    for path in paths:
        parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        messages.append(
            {
                "name": path.stem,
                "to": parsed["To"],
                "subject": parsed["Subject"],
                "date": parsed["Date"],
            }
        )
    return render_template("dev/mailbox.html", messages=messages)


@bp.get("/<name>")
def message(name: str):
    parsed = _load(name)
    text = parsed.get_body(preferencelist=("plain",))
    attachments = [
        {"index": i, "filename": part.get_filename(), "type": part.get_content_type()}
        for i, part in enumerate(parsed.walk())
        if part.get_filename()
    ]
    return render_template(
        "dev/message.html",
        name=name,
        message=parsed,
        text=text.get_content() if text else "",
        has_html=parsed.get_body(preferencelist=("html",)) is not None,
        attachments=attachments,
    )


@bp.get("/<name>/html")
def message_html(name: str):
    """The HTML part, with cid: images pointing at their parts here."""
    parsed = _load(name)
    html_part = parsed.get_body(preferencelist=("html",))
    if html_part is None:
        abort(404)
    by_cid = {
        (part.get("Content-ID") or "").strip("<>"): i
        for i, part in enumerate(parsed.walk())
        if part.get("Content-ID")
    }
    html = re.sub(
        r'src="cid:([^"]+)"',
        lambda m: f'src="{url_for(".part", name=name, index=by_cid.get(m.group(1), -1))}"',
        html_part.get_content(),
    )
    response = Response(html, mimetype="text/html")
    # Its own policy, for this route only: mail HTML is styled inline (as mail clients need),
    # shows its images from the parts below, runs no script, submits and reaches nothing, and
    # is framed only by our own message page (which frames it sandboxed as well).
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'self'; sandbox"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/<name>/part/<int:index>")
def part(name: str, index: int):
    parts = list(_load(name).walk())
    if not 0 <= index < len(parts) or parts[index].is_multipart():
        abort(404)
    chosen = parts[index]
    response = Response(chosen.get_payload(decode=True), mimetype=chosen.get_content_type())
    if chosen.get_filename() and chosen.get("Content-ID") is None:
        response.headers["Content-Disposition"] = f'attachment; filename="{chosen.get_filename()}"'
    # A part opened on its own (an HTML attachment, say) runs nothing either.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; frame-ancestors 'self'; sandbox"
    )
    return response


# --- the in-process worker of the embedded default ----------------------------------


def start_inprocess_worker(app) -> None:
    """`make run` needs no second process: a daemon thread delivers to the mailbox."""
    if app.config["EVENTSVC_MAIL_BACKEND"] != "mailbox" or not app.config.get(
        "EVENTSVC_INPROCESS_MAIL_WORKER"
    ):
        return
    started = threading.Event()

    @app.before_request
    def _start_once():
        if started.is_set():
            return
        started.set()
        threading.Thread(target=_run, args=(app,), name="mailbox-worker", daemon=True).start()


def _run(app, interval: float = 2.0) -> None:
    import time

    from ..services.mailer import deliver_due
    from ..timezones import utcnow

    while True:
        with app.app_context():
            try:
                deliver_due(utcnow())  # one unit of work per message, as `flask mail worker`
            except Exception:
                app.logger.exception("mailbox worker pass failed")
        time.sleep(interval)
