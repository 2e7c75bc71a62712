"""Tickets by email through the outbox, with a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
import zxingcpp
from icalendar import Calendar
from PIL import Image
from sqlalchemy import func, select

from eventsvc.extensions import db as _db
from eventsvc.models import Attendance, EventFormat, OutboxMessage, OutboxStatus, Registration
from eventsvc.services import mailer
from eventsvc.services import registration as rules
from eventsvc.services.tickets import registration_by_ticket
from eventsvc.timezones import utcnow

from . import factories
from .conftest import csrf_from


def decode_qr(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1
    return results[0].text


def register(event, now, **fields):
    outcome = rules.register(event.id, factories.registration_request(**fields), now)
    _db.session.commit()
    return outcome.registration


@pytest.fixture
def event(world, in_days):
    return factories.event(
        world.org_a, in_days(10), capacity=3, desk_opens_at=in_days(10) - timedelta(minutes=30)
    )


def test_confirmation_arrives_once_with_text_html_qr_and_ics(client, event, smtp_server, now):
    token = csrf_from(client, f"/events/{event.id}")
    client.post(
        f"/events/{event.id}/register",
        data={
            "name": "Anna Bērziņa",
            "email": "anna@example.lv",
            "party_size": "2",
            "language": "lv",
            "consent": "y",
            "csrf_token": token,
        },
    )
    assert smtp_server.inbox.messages == []  # the request did not wait for SMTP
    report = mailer.deliver_due(utcnow() + timedelta(seconds=1))  # after the request, however slow
    assert report.sent == 1
    assert mailer.deliver_due(utcnow() + timedelta(seconds=2)).sent == 0
    (mail,) = smtp_server.inbox.parsed()
    registration = _db.session.scalar(select(Registration))
    assert mail["To"] == "anna@example.lv"
    assert event.title in mail["Subject"]

    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Anna Bērziņa" in text and registration.manage_token in text
    assert 'src="cid:qr"' in html and registration.manage_token in html
    assert "Pasta iela 1A" in text

    parts = list(mail.walk())
    inline = [p for p in parts if p.get("Content-ID") == "<qr>"]
    assert len(inline) == 1 and inline[0].get_content_type() == "image/png"
    attached_png = [
        p for p in parts if p.get_content_type() == "image/png" and p.get("Content-ID") is None
    ]
    assert len(attached_png) == 1 and attached_png[0].get_filename().endswith(".png")
    secret = decode_qr(attached_png[0].get_payload(decode=True))
    assert secret == registration.ticket_secret
    assert decode_qr(inline[0].get_payload(decode=True)) == secret
    # The token is what the door will accept, for this event only, and carries no person.
    assert registration_by_ticket(event.id, secret).id == registration.id
    assert registration_by_ticket(event.id + 1, secret) is None
    assert "anna" not in secret.lower() and str(registration.id) != secret

    (ics,) = [p for p in parts if p.get_content_type() == "text/calendar"]
    (vevent,) = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")
    assert vevent.decoded("dtstart") == event.starts_at.replace(microsecond=0)
    assert _db.session.scalar(select(OutboxMessage.status)) is OutboxStatus.SENT


def test_mail_is_in_the_registrants_language(event, smtp_server, now):
    register(event, now, name="John", email="john@example.org", language="en")
    register(event, now, name="Jānis", email="janis@example.lv", language="lv")
    register(event, now, name="Ирина", email="irina@example.lv", language="ru")
    mailer.deliver_due(now)
    english, latvian, russian = smtp_server.inbox.parsed()
    assert "Your place is reserved." in english.get_body(preferencelist=("plain",)).get_content()
    assert "Jūsu vieta ir rezervēta." in latvian.get_body(preferencelist=("plain",)).get_content()
    assert "Ваше место забронировано." in russian.get_body(preferencelist=("plain",)).get_content()
    assert "Ваше место забронировано." in russian.get_body(preferencelist=("html",)).get_content()


def test_waitlisted_mail_has_position_and_no_ticket_promotion_sends_it(event, smtp_server, now):
    first = register(event, now, party_size=3)
    waiting = register(event, now, email="w@example.lv", language="en")
    mailer.deliver_due(now)
    waiting_mail = smtp_server.inbox.parsed()[1]
    assert "position 1" in waiting_mail.get_body(preferencelist=("plain",)).get_content()
    assert not [p for p in waiting_mail.walk() if p.get_content_type() == "image/png"]
    rules.cancel_registration(first, now)
    _db.session.commit()
    mailer.deliver_due(now)
    kinds = [m["Subject"] for m in smtp_server.inbox.parsed()[2:]]
    promoted = [m for m in smtp_server.inbox.parsed()[2:] if m["To"] == "w@example.lv"]
    assert len(kinds) == 2 and len(promoted) == 1
    assert (
        decode_qr(
            next(p for p in promoted[0].walk() if p.get("Content-ID") == "<qr>").get_payload(
                decode=True
            )
        )
        == waiting.ticket_secret
    )


def test_repeated_registration_resends_the_existing_ticket(event, smtp_server, now):
    original = register(event, now, email="anna@example.lv")
    again = rules.register(
        event.id, factories.registration_request(email="anna@example.lv", name="Cits"), now
    )
    _db.session.commit()
    assert again.registration.id == original.id
    mailer.deliver_due(now)
    first, second = smtp_server.inbox.parsed()

    def qr(m):
        return decode_qr(
            next(p for p in m.walk() if p.get("Content-ID") == "<qr>").get_payload(decode=True)
        )

    assert qr(first) == qr(second) == original.ticket_secret
    assert (
        "Anna" in second.get_body(preferencelist=("plain",)).get_content()
    )  # the real name, not "Cits"


def test_smtp_down_keeps_the_message_and_delivers_it_once_later(client, event, smtp_server, now):
    smtp_server.stop()
    token = csrf_from(client, f"/events/{event.id}")
    response = client.post(
        f"/events/{event.id}/register",
        data={
            "name": "Anna",
            "email": "anna@example.lv",
            "party_size": "1",
            "language": "lv",
            "consent": "y",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302  # registering does not depend on the mail server
    now = utcnow()
    report = mailer.deliver_due(now)
    assert report.server_unavailable and report.sent == 0
    message = _db.session.scalar(select(OutboxMessage))
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)

    from .conftest import SMTPServer

    restarted = SMTPServer(smtp_server.port)
    restarted.start()
    try:
        assert mailer.deliver_due(now).sent == 1
        assert mailer.deliver_due(now).sent == 0
        assert len(restarted.inbox.messages) == 1
    finally:
        restarted.stop()


def test_a_temporary_refusal_backs_off_then_fails_visibly(client, world, event, smtp_server, now):
    from .conftest import login

    register(event, now, email="gone@example.lv")
    smtp_server.inbox.refuse["gone@example.lv"] = "451 4.3.0 try again later"
    moment = now
    for attempt in range(1, mailer.MAX_ATTEMPTS + 1):
        report = mailer.deliver_due(moment)
        message = _db.session.scalar(select(OutboxMessage))
        assert message.attempts == attempt
        if attempt < mailer.MAX_ATTEMPTS:
            assert report.retried == 1 and message.status is OutboxStatus.PENDING
            assert message.next_attempt_at == moment + mailer.backoff(attempt)
            assert mailer.deliver_due(moment).retried == 0  # not due yet
            moment = message.next_attempt_at
        else:
            assert report.failed == 1 and message.status is OutboxStatus.FAILED
    assert "451" in message.last_error
    assert mailer.backoff(1) == timedelta(seconds=30) and mailer.backoff(3) == timedelta(minutes=2)

    login(client, world.admin.email)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "gone@example.lv" in page and "451" in page
    token = csrf_from(client, "/admin/outbox")
    client.post(f"/admin/outbox/{message.id}/retry", data={"csrf_token": token})
    _db.session.expire_all()
    assert _db.session.get(OutboxMessage, message.id).status is OutboxStatus.PENDING


def test_only_admins_see_the_outbox(client, world):
    from .conftest import login

    login(client, world.organiser_a.email)
    assert client.get("/admin/outbox").status_code == 403


def test_two_workers_deliver_200_messages_exactly_once(app, world, in_days, smtp_server, now):
    event = factories.event(world.org_a, in_days(10), capacity=1000)
    for i in range(200):
        rules.register(event.id, factories.registration_request(email=f"p{i}@example.lv"), now)
    _db.session.commit()
    barrier = threading.Barrier(2)
    reports = []

    def worker():
        with app.app_context():
            barrier.wait(timeout=60)  # both start together, even on a busy machine
            reports.append(mailer.deliver_due(now))
            _db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)  # 200 mails through SMTP: minutes on a busy machine
    assert len(reports) == 2, "a worker did not finish"
    assert sum(r.sent for r in reports) == 200
    ids = [m["X-Eventsvc-Message"] for m in smtp_server.inbox.parsed()]
    assert len(ids) == 200 and len(set(ids)) == 200
    assert (
        _db.session.scalar(select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT))
        == 200
    )


def test_changing_the_time_tells_each_active_registrant_once(world, smtp_server, in_days, now):
    from eventsvc.services.events import EventData, cancel_event, update_event

    event = factories.event(
        world.org_a,
        in_days(10),
        capacity=10,
        format=EventFormat.HYBRID,
        stream_url="https://x.lv/s",
    )
    register(event, now, email="a@example.lv", attendance=Attendance.IN_PERSON)
    register(event, now, email="b@example.lv", attendance=Attendance.ONLINE, language="en")
    c = register(event, now, email="c@example.lv", attendance=Attendance.IN_PERSON)
    register(
        event, now, phone="+37120000000", email=None, attendance=Attendance.IN_PERSON
    )  # no email: nobody to write to
    rules.cancel_registration(c, now)
    _db.session.commit()
    mailer.deliver_due(now)
    smtp_server.inbox.messages.clear()

    data = EventData.from_event(event)
    data.starts_at += timedelta(hours=2)
    data.ends_at += timedelta(hours=2)
    data.summary = "Jauns apraksts"  # not a change anyone is told about
    update_event(world.organiser_a, event, data, now)
    _db.session.commit()
    mailer.deliver_due(now)
    notices = smtp_server.inbox.parsed()
    assert sorted(m["To"] for m in notices) == ["a@example.lv", "b@example.lv"]
    english = (
        next(m for m in notices if m["To"] == "b@example.lv")
        .get_body(preferencelist=("plain",))
        .get_content()
    )
    assert "Time: was" in english and "now" in english

    data = EventData.from_event(event)
    data.summary = "Vēl cits apraksts"
    update_event(world.organiser_a, event, data, now)
    _db.session.commit()
    assert mailer.deliver_due(now).sent == 0  # nothing residents need to hear

    cancel_event(world.organiser_a, event, now)
    _db.session.commit()
    mailer.deliver_due(now)
    cancelled = smtp_server.inbox.parsed()[2:]
    assert sorted(m["To"] for m in cancelled) == ["a@example.lv", "b@example.lv"]
    assert not [p for m in cancelled for p in m.walk() if p.get_content_type() == "image/png"]


def test_printable_ticket_page_and_qr(client, event, now):
    confirmed = register(event, now, party_size=3)
    waiting = register(event, now, party_size=1)
    page = client.get(f"/r/{confirmed.manage_token}/ticket").get_data(as_text=True)
    assert f'src="/r/{confirmed.manage_token}/qr.png"' in page and "ticket.css" in page
    png = client.get(f"/r/{confirmed.manage_token}/qr.png")
    assert png.mimetype == "image/png" and "no-store" in png.headers["Cache-Control"]
    assert decode_qr(png.data) == confirmed.ticket_secret
    assert client.get(f"/r/{waiting.manage_token}/qr.png").status_code == 404
    assert client.get(f"/r/{confirmed.manage_token[:-3]}xyz/ticket").status_code == 404


def test_organiser_prints_the_ticket_of_a_phone_registration(client, world, event, now):
    from .conftest import login

    registration = register(event, now, email=None, phone="+37120000000")
    login(client, world.organiser_a.email)
    base = f"/manage/events/{event.id}/registrations/{registration.id}"
    assert client.get(base + "/ticket").status_code == 200
    assert decode_qr(client.get(base + "/qr.png").data) == registration.ticket_secret
    login_b = client.application.test_client()
    login(login_b, world.organiser_b.email)
    assert login_b.get(base + "/qr.png").status_code == 404


def test_development_mailbox_shows_the_message(app, client, event, now, tmp_path):
    saved = app.config["EVENTSVC_MAIL_BACKEND"], app.config["EVENTSVC_MAILBOX_DIR"]
    app.config.update(EVENTSVC_MAIL_BACKEND="mailbox", EVENTSVC_MAILBOX_DIR=str(tmp_path))
    try:
        registration = register(event, now, email="anna@example.lv")
        assert mailer.deliver_due(now).sent == 1
        inbox = client.get("/dev/mailbox/").get_data(as_text=True)
        assert "anna@example.lv" in inbox and event.title in inbox
        name = sorted(tmp_path.glob("*.eml"))[0].stem
        page = client.get(f"/dev/mailbox/{name}").get_data(as_text=True)
        assert registration.manage_token in page
        html = client.get(f"/dev/mailbox/{name}/html")
        assert "sandbox" in html.headers["Content-Security-Policy"]
        body = html.get_data(as_text=True)
        assert "cid:qr" not in body and f"/dev/mailbox/{name}/part/" in body
        image_url = body.split('src="')[1].split('"')[0]
        assert decode_qr(client.get(image_url).data) == registration.ticket_secret
        assert client.get("/dev/mailbox/../../etc/passwd").status_code == 404
    finally:
        app.config["EVENTSVC_MAIL_BACKEND"], app.config["EVENTSVC_MAILBOX_DIR"] = saved
    assert client.get("/dev/mailbox/").status_code == 404  # not there with a real mail server


def test_no_smtp_connection_without_asking(app, event, now):
    register(event, now, email="anna@example.lv")
    with pytest.raises(pytest.fail.Exception, match="unexpected SMTP connection"):
        mailer.deliver_due(now)


def test_a_message_that_breaks_the_connection_is_charged_not_the_queue(
    event, smtp_server, now, monkeypatch
):
    import smtplib

    register(event, now, email="breaks@example.lv")
    register(event, now, email="fine@example.lv")
    real_sendmail = smtplib.SMTP.sendmail

    def sendmail(self, from_addr, to_addrs, *args, **kwargs):
        if "breaks@example.lv" in to_addrs:
            raise smtplib.SMTPServerDisconnected("connection dropped")
        return real_sendmail(self, from_addr, to_addrs, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "sendmail", sendmail)
    report = mailer.deliver_due(now)
    assert (report.retried, report.sent) == (1, 1)
    assert [m["To"] for m in smtp_server.inbox.parsed()] == ["fine@example.lv"]
