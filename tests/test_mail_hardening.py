"""Mail that cannot be broken or lost: parts that fail, hostile text from the database,
addresses beyond ASCII, refusals, and a server that never answers."""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select, text, update

from eventsvc.extensions import db as _db
from eventsvc.models import Event, OutboxMessage, OutboxStatus, Registration
from eventsvc.services import mailer
from eventsvc.services import registration as rules
from eventsvc.timezones import utcnow

from . import factories
from .conftest import _allowed_smtp_ports, _free_port, login


def register(event, now, **fields) -> Registration:
    outcome = rules.register(event.id, factories.registration_request(**fields), now)
    _db.session.commit()
    return outcome.registration


def set_event_text(event, **columns) -> None:
    """Write straight into the database, past every form (rows from before a rule, or from
    elsewhere, may hold anything)."""
    _db.session.execute(update(Event).where(Event.id == event.id).values(**columns))
    _db.session.commit()
    _db.session.expire_all()


def outbox() -> OutboxMessage:
    _db.session.expire_all()
    return _db.session.scalar(select(OutboxMessage))


def html_parts(mail):
    return [p.get_content() for p in mail.walk() if p.get_content_type() == "text/html"]


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(10), capacity=20)


# --- a part that cannot be built never stops a message -----------------------------------


def test_a_calendar_file_that_cannot_be_built_is_left_out_and_logged(
    event, smtp_server, now, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("calendar broke")

    monkeypatch.setattr(mailer, "calendar_bytes", broken)
    register(event, now, email="anna@example.lv")
    with caplog.at_level(logging.ERROR, logger="eventsvc.services.mailer"):
        report = mailer.deliver_due(now)
    assert report.sent == 1
    (mail,) = smtp_server.inbox.parsed()
    types = [p.get_content_type() for p in mail.walk()]
    assert "text/calendar" not in types and types.count("image/png") == 2  # the ticket went
    (record,) = [r for r in caplog.records if "calendar file" in r.getMessage()]
    assert record.exc_info and "calendar broke" in str(record.exc_info[1])
    assert f"message {outbox().id}" in record.getMessage()
    assert "anna" not in caplog.text  # no address in the log
    assert outbox().status is OutboxStatus.SENT


def test_a_qr_code_that_cannot_be_built_is_left_out_and_logged(
    event, smtp_server, now, monkeypatch, caplog
):
    def broken(secret):
        raise ValueError("qr broke")

    monkeypatch.setattr(mailer, "qr_png", broken)
    registration = register(event, now, email="anna@example.lv")
    with caplog.at_level(logging.ERROR, logger="eventsvc.services.mailer"):
        assert mailer.deliver_due(now).sent == 1
    (mail,) = smtp_server.inbox.parsed()
    assert "image/png" not in [p.get_content_type() for p in mail.walk()]
    html = mail.get_body(preferencelist=("html",)).get_content()
    text_part = mail.get_body(preferencelist=("plain",)).get_content()
    assert "cid:qr" not in html  # no broken image
    assert f"/r/{registration.manage_token}/ticket" in html  # the printable ticket instead
    assert "QR code attached" not in text_part and f"/r/{registration.manage_token}/ticket" in (
        text_part
    )
    (record,) = [r for r in caplog.records if "QR code" in r.getMessage()]
    assert record.exc_info and "qr broke" in str(record.exc_info[1])


def test_a_title_with_line_breaks_still_gets_its_tickets_and_calendar(
    client, event, smtp_server, now
):
    register(event, now, email="anna@example.lv")
    set_event_text(
        event,
        title="Pirmā rinda\r\nSecond: line\x0bend",
        venue_name="Zāle\n2",
        description="Viens\r\nDivi",
    )
    assert mailer.deliver_due(now).sent == 1
    (mail,) = smtp_server.inbox.parsed()
    assert "Pirmā rinda Second: line end" in mail["Subject"]
    (ics,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    (vevent,) = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
    assert str(vevent["summary"]) == "Pirmā rinda Second: line end"
    assert str(vevent["location"]).startswith("Zāle 2")
    assert "Viens\nDivi" in str(vevent["description"])

    response = client.get(f"/events/{event.id}.ics")
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["x-wr-calname"]) == "Pirmā rinda Second: line end"
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["summary"]) == "Pirmā rinda Second: line end"
    assert b"\x0b" not in response.data
    # The whole feed too (the event is published).
    assert client.get("/calendar.ics").status_code == 200


# --- the HTML part escapes everything it shows ---------------------------------------------


def test_the_html_part_escapes_titles_names_and_places(event, smtp_server, now):
    evil = '<a href="https://evil.example">x</a>'
    register(event, now, email="anna@example.lv", name='<b onclick="x()">Anna</b>')
    set_event_text(event, title=evil, venue_name="<img src=x>", venue_address="<i>iela</i>")
    assert mailer.deliver_due(now).sent == 1
    (mail,) = smtp_server.inbox.parsed()
    (html,) = html_parts(mail)
    for raw in ('href="https://evil.example"', "<b ", "<img src=x", "<i>"):
        assert raw not in html
    assert "<title>" in html and "&lt;a href=" in html.split("<title>")[1].split("</title>")[0]
    assert "&lt;b onclick=" in html and "&lt;img src=x&gt;" in html
    assert evil in mail["Subject"]  # the subject is plain text, shown as it is


# --- addresses beyond ASCII ----------------------------------------------------------------


def test_an_idn_domain_travels_as_punycode(event, smtp_server, now):
    register(event, now, email="janis@piemērs.lv")
    assert mailer.deliver_due(now).sent == 1
    (mail,) = smtp_server.inbox.parsed()
    (envelope,) = smtp_server.inbox.envelopes
    assert envelope[1] == ["janis@xn--piemrs-s3a.lv"]
    assert "SMTPUTF8" not in envelope[2]
    assert mail["To"] == "janis@xn--piemrs-s3a.lv"


def test_a_local_part_beyond_ascii_goes_with_smtputf8(event, smtputf8_server, now):
    register(event, now, email="jānis@piemērs.lv")
    assert mailer.deliver_due(now).sent == 1
    (envelope,) = smtputf8_server.inbox.envelopes
    assert envelope[1] == ["jānis@xn--piemrs-s3a.lv"]
    assert "SMTPUTF8" in envelope[2]
    (mail,) = smtputf8_server.inbox.parsed()
    assert mail["To"] == "jānis@xn--piemrs-s3a.lv"
    assert "Anna Bērziņa" in mail.get_body(preferencelist=("plain",)).get_content()
    assert outbox().status is OutboxStatus.SENT


def test_without_smtputf8_such_an_address_fails_at_once_and_organisers_see_it(
    client, world, event, smtp_server, now
):
    from .conftest import csrf_from

    token = csrf_from(client, f"/events/{event.id}")
    response = client.post(
        f"/events/{event.id}/register",
        data={
            "name": "Jānis Ozoliņš",
            "email": "jānis@piemērs.lv",
            "phone": "+371 20000001",
            "party_size": "1",
            "language": "lv",
            "consent": "y",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    # due when it was queued, which on a busy machine may be a while after `now`
    report = mailer.deliver_due(utcnow() + timedelta(seconds=1))
    assert (report.sent, report.failed, report.retried) == (0, 1, 0)
    message = outbox()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    assert "SMTPUTF8" in message.last_error
    assert smtp_server.inbox.messages == []
    assert mailer.deliver_due(now + timedelta(days=1)).failed == 0  # not tried again

    _shows_one_undelivered(client, world, event, "Jānis Ozoliņš", "+371 20000001", "jānis@")


def _shows_one_undelivered(client, world, event, name, phone, address_start):
    """The failed ticket lands on the event's to-call list: its page counts the person, the
    list names them with their phone (not the address) and what to tell them."""
    login(client, world.organiser_a.email)
    page = client.get(f"/manage/events/{event.id}").get_data(as_text=True)
    notice = page.split('id="to-call-title"')[1].split("</section>")[0]
    assert "1 cilvēkam jāpiezvana" in notice
    calls = client.get(f"/manage/events/{event.id}/calls").get_data(as_text=True)
    assert name in calls and phone in calls and address_start not in calls
    assert "Mūsu e-pasts netika piegādāts" in calls and "Jūsu vieta ir rezervēta." in calls
    client.get("/logout")
    other = client.application.test_client()
    login(other, world.organiser_b.email)
    assert other.get(f"/manage/events/{event.id}").status_code in (403, 404)
    assert other.get(f"/manage/events/{event.id}/calls").status_code == 404
    admin = client.application.test_client()
    login(admin, world.admin.email)
    outbox_page = admin.get("/admin/outbox").get_data(as_text=True)
    assert address_start in outbox_page and "Biļete (reģistrācija apstiprināta)" in outbox_page


def test_the_development_mailbox_delivers_addresses_beyond_ascii(app, client, event, now, tmp_path):
    saved = app.config["EVENTSVC_MAIL_BACKEND"], app.config["EVENTSVC_MAILBOX_DIR"]
    app.config.update(EVENTSVC_MAIL_BACKEND="mailbox", EVENTSVC_MAILBOX_DIR=str(tmp_path))
    try:
        register(event, now, email="jānis@piemērs.lv")
        assert mailer.deliver_due(now).sent == 1
        (eml,) = tmp_path.glob("*.eml")
        inbox = client.get("/dev/mailbox/").get_data(as_text=True)
        assert "jānis@xn--piemrs-s3a.lv" in inbox
        assert client.get(f"/dev/mailbox/{eml.stem}").status_code == 200
        assert client.get(f"/dev/mailbox/{eml.stem}/html").status_code == 200
    finally:
        app.config["EVENTSVC_MAIL_BACKEND"], app.config["EVENTSVC_MAILBOX_DIR"] = saved


# --- refusals: 5xx fails at once, 4xx retries ----------------------------------------------


def test_a_permanent_refusal_fails_at_once_and_shows_where_people_look(
    client, world, event, smtp_server, now
):
    register(event, now, email="gone@example.lv", name="Zelma Liepa", phone="+371 20000002")
    register(event, now, email="fine@example.lv")
    smtp_server.inbox.refuse["gone@example.lv"] = "550 5.1.1 mailbox unavailable"
    report = mailer.deliver_due(now)
    assert (report.sent, report.failed, report.retried) == (1, 1, 0)
    gone = _db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient.like("gone%")))
    assert (gone.status, gone.attempts) == (OutboxStatus.FAILED, 1)
    assert gone.last_error.startswith("550")
    assert mailer.deliver_due(now + timedelta(days=1)).failed == 0  # no retries
    _shows_one_undelivered(client, world, event, "Zelma Liepa", "+371 20000002", "gone@")


def test_a_temporary_refusal_is_retried_later_and_then_delivered(event, smtp_server, now):
    register(event, now, email="busy@example.lv")
    smtp_server.inbox.refuse["busy@example.lv"] = "451 4.7.1 greylisted, try again"
    report = mailer.deliver_due(now)
    assert (report.retried, report.failed) == (1, 0)
    message = outbox()
    assert message.status is OutboxStatus.PENDING
    assert message.next_attempt_at == now + mailer.backoff(1)
    del smtp_server.inbox.refuse["busy@example.lv"]
    assert mailer.deliver_due(now).sent == 0  # not due yet
    assert mailer.deliver_due(message.next_attempt_at).sent == 1


# --- a server that never answers ------------------------------------------------------------


class SilentServer:
    """Accepts TCP connections and never says a word (a hung mail server). It lets go after
    `give_up` seconds, so that a worker without a timeout fails the test instead of hanging it."""

    def __init__(self, give_up: float = 20.0):
        self.port = _free_port()
        self.accepted = threading.Event()
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._held: list[socket.socket] = []
        self._give_up = give_up
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        deadline = time.monotonic() + self._give_up
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self._held.append(conn)
            self.connections += 1
            self.accepted.set()
        for conn in self._held:
            conn.close()

    def __enter__(self):
        self._thread.start()
        _allowed_smtp_ports.add(self.port)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        _allowed_smtp_ports.discard(self.port)


@pytest.fixture
def silent_server(app):
    timeout = 1.0
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_TIMEOUT")}
    with SilentServer() as server:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_TIMEOUT=timeout)
        yield server
    app.config.update(saved)


def test_a_hung_server_costs_the_timeout_and_keeps_the_message(app, event, silent_server, now):
    register(event, now, email="anna@example.lv")
    started = time.monotonic()
    result = app.test_cli_runner().invoke(args=["mail", "worker", "--once"])
    elapsed = time.monotonic() - started
    assert silent_server.connections == 1
    assert elapsed < app.config["MAIL_TIMEOUT"] * 5  # a bound, not a benchmark
    assert result.exit_code != 0 and "unavailable" in result.output
    message = outbox()
    assert (message.status, message.attempts, message.claimed_until) == (
        OutboxStatus.PENDING,
        0,
        None,
    )


def test_while_one_worker_waits_on_a_hung_server_its_rows_are_free(app, event, silent_server, now):
    first = register(event, now, email="first@example.lv")
    register(event, now, email="second@example.lv")
    first_message = _db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.registration_id == first.id)
    )
    reports = []

    def worker():
        with app.app_context():
            reports.append(mailer.deliver_due(now, limit=1))
            _db.session.remove()

    thread = threading.Thread(target=worker)
    started = time.monotonic()
    thread.start()
    try:
        assert silent_server.accepted.wait(10), "the worker never reached the server"
        # The first worker is now inside the SMTP conversation with its message claimed.
        # A second worker claims the next message at once (on SQLite no write lock is held).
        claim = mailer.claim_next(now)
        assert claim is not None and claim.id != first_message
        if _db.engine.dialect.name == "postgresql":
            # No row lock spans the conversation, and no transaction is left open.
            with _db.engine.connect() as other:
                other.execute(text("SET lock_timeout = '1s'"))
                locked = other.execute(
                    text("SELECT id FROM outbox_messages WHERE id = :id FOR UPDATE NOWAIT"),
                    {"id": first_message},
                ).scalar()
                assert locked == first_message
                other.rollback()
                idle = other.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND state = 'idle in transaction'"
                    )
                ).scalar()
                assert idle == 0
    finally:
        thread.join(30)
    assert time.monotonic() - started < app.config["MAIL_TIMEOUT"] * 5
    assert reports and reports[0].server_unavailable
    _db.session.expire_all()
    held = _db.session.get(OutboxMessage, first_message)
    assert (held.status, held.attempts) == (OutboxStatus.PENDING, 0)  # handed back


# --- leases --------------------------------------------------------------------------------


def test_a_message_whose_worker_died_is_sent_once_its_lease_expires(event, smtp_server, now):
    register(event, now, email="anna@example.lv")
    claim = mailer.claim_next(now)  # a worker claims it, then dies without a word
    assert claim is not None and outbox().status is OutboxStatus.SENDING
    assert mailer.deliver_due(now).sent == 0  # its lease still runs: nobody else takes it
    _db.session.execute(
        update(OutboxMessage).values(claimed_until=claim.until - mailer.LEASE - timedelta(1))
    )
    _db.session.commit()
    assert mailer.deliver_due(now).sent == 1
    message = outbox()
    assert (message.status, message.attempts, message.claimed_until) == (
        OutboxStatus.SENT,
        2,
        None,
    )
    assert len(smtp_server.inbox.messages) == 1
    # The dead worker, had it come back, could no longer write its outcome over this one.
    assert mailer._record(claim, status=OutboxStatus.PENDING) is False
    assert outbox().status is OutboxStatus.SENT


def test_the_timeout_setting_is_read_and_checked(tmp_path):
    from eventsvc.config import ConfigError, load_config

    assert load_config(str(tmp_path), env={})["MAIL_TIMEOUT"] == 20
    assert load_config(str(tmp_path), env={"MAIL_TIMEOUT": "7.5"})["MAIL_TIMEOUT"] == 7.5
    for wrong in ("0", "-1", "soon", "1000"):
        with pytest.raises(ConfigError, match="MAIL_TIMEOUT"):
            load_config(str(tmp_path), env={"MAIL_TIMEOUT": wrong})
