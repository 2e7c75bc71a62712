"""People without email, in a real browser at 1366×900 (the organiser's desk): the question
before the Tume discussion moves online, the to-call list, the message to registrants, and the
large-print letters as they print (print media, a PDF: one A4 sheet per letter, large type);
axe on every new page in lv, ru and en.

Screenshots go to EVENTSVC_SHOTS when it names a folder (to look at), else under tmp_path."""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import Attendance, Event, EventFormat, PhoneCall, Registration, User
from eventsvc.services import registration as rules
from eventsvc.services.events import EventData, update_event
from eventsvc.services.notifications import notify
from eventsvc.services.registration import RegistrationRequest
from eventsvc.timezones import utcnow

from .test_accessibility import axe_violations, demo, new_page, on_sqlite, sign_in  # noqa: F401

DESK = {"width": 1366, "height": 900}
LM = "lm@demo.eventsvc.lv"  # the organiser of the Tume discussion in the demo data
PEOPLE = (  # registered by phone: no email address
    ("Valentīna Ivanova", "+371 2612 0001", "ru"),
    ("Jānis Ozols", "+371 2612 0002", "lv"),
)


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("EVENTSVC_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def tume(demo):  # noqa: F811  (the fixture imported above)
    """The demo's Tume panel discussion (in person and online), with two people registered by
    phone beside the residents who wrote their email."""
    event = _db.session.scalar(select(Event).where(Event.title.like("Sociālais darbs kopienā%")))
    for name, phone, language in PEOPLE:
        rules.register(
            event.id,
            RegistrationRequest(
                name=name,
                phone=phone,
                language=language,
                consent=True,
                attendance=Attendance.IN_PERSON,
            ),
            utcnow(),
        )
    _db.session.commit()
    return event


def open_desk(browser, live_server, language: str, text_size: str = "normal"):
    context, page = new_page(browser, live_server, language, viewport=DESK)
    if text_size != "normal":
        context.add_cookies([{"name": "text_size", "value": text_size, "url": live_server}])
    sign_in(page, live_server, LM)
    return context, page


def fits_the_width(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@on_sqlite
def test_the_organiser_sees_who_is_phoned_and_chooses_to_tell_them(
    tume, live_server, browser, shots
):
    context, page = open_desk(browser, live_server, "lv")
    page.goto(f"{live_server}/manage/events/{tume.id}/edit")
    page.select_option("#format", "online")
    page.get_by_role("button", name="Saglabāt", exact=True).click()

    page.wait_for_selector("h1:has-text('Paziņot reģistrētajiem par šīm izmaiņām?')")
    question = page.locator("main")
    assert "Norises formāts: bija Klātienē un tiešsaistē, tagad Tiešsaistē" in question.inner_text()
    phoned = page.locator(".phone-list li").all_inner_texts()
    assert phoned == [
        "Jānis Ozols – +371 2612 0002 (latviešu)",
        "Valentīna Ivanova – +371 2612 0001 (krievu)",
    ]
    emailed = sum(1 for r in _registrations(tume) if r.email)
    assert emailed > 1 and f"{emailed} reģistrācijām paziņosim pa e-pastu." in question.inner_text()
    assert fits_the_width(page)
    page.screenshot(path=str(shots / "notify-preview-lv-1366.png"), full_page=True)
    _db.session.expire_all()
    assert _db.session.get(Event, tume.id).format is EventFormat.HYBRID  # nothing saved yet

    page.get_by_role("button", name="Saglabāt un paziņot viņiem").click()
    page.wait_for_url(f"{live_server}/manage/events/{tume.id}")
    assert (
        "Izmaiņas saglabātas, un reģistrētajiem tiek paziņots."
        in page.locator(".flashes").inner_text()
    )
    assert page.locator("#to-call-title").inner_text() == "2 cilvēkiem jāpiezvana"
    page.screenshot(path=str(shots / "event-to-call-count-lv-1366.png"), full_page=True)
    _db.session.expire_all()
    assert _db.session.get(Event, tume.id).format is EventFormat.ONLINE

    page.get_by_role("link", name="Atvērt zvanāmo sarakstu").click()
    page.wait_for_url(f"{live_server}/manage/events/{tume.id}/calls")
    calls = page.locator(".call")
    assert calls.count() == 2
    russian = calls.nth(1).locator(".script")
    assert russian.get_attribute("lang") == "ru"
    assert "Организатор изменил мероприятие" in russian.inner_text()
    page.screenshot(path=str(shots / "calls-lv-1366.png"), full_page=True)

    calls.nth(0).get_by_role("button", name=re.compile("Piezvanīts: atzīmēt kā izdarītu")).click()
    page.wait_for_url(f"{live_server}/manage/events/{tume.id}/calls")
    assert page.locator(".call").count() == 1
    assert "Jānis Ozols" in page.locator("table.data").inner_text()
    done = _db.session.scalars(select(PhoneCall).where(PhoneCall.done_at.is_not(None))).all()
    assert [c.registration.name for c in done] == ["Jānis Ozols"]
    page.screenshot(path=str(shots / "calls-one-done-lv-1366.png"), full_page=True)
    context.close()


@on_sqlite
def test_the_organiser_may_save_without_telling_anyone(tume, live_server, browser):
    context, page = open_desk(browser, live_server, "lv")
    page.goto(f"{live_server}/manage/events/{tume.id}/edit")
    page.fill("#venue_name", "Tumes pagasta pārvalde")
    page.get_by_role("button", name="Saglabāt", exact=True).click()
    page.get_by_role("button", name="Saglabāt, nevienam nepaziņojot").click()
    page.wait_for_url(f"{live_server}/manage/events/{tume.id}")
    assert "Reģistrētajiem netika paziņots." in page.locator(".flashes").inner_text()
    assert page.locator("#to-call-title").count() == 0
    _db.session.expire_all()
    assert _db.session.get(Event, tume.id).venue_name == "Tumes pagasta pārvalde"
    assert _db.session.scalar(select(PhoneCall.id)) is None
    context.close()


def _to_call(tume, online: bool = True) -> None:
    """The discussion moved online (or an hour later): both phoned people on the list; and a
    message for Jānis."""
    now = utcnow()
    data = EventData.from_event(tume)
    if online:
        data.format = EventFormat.ONLINE
    else:
        data.starts_at += timedelta(hours=1)
        data.ends_at += timedelta(hours=1)
        data.desk_opens_at += timedelta(hours=1)
    update_event(_organiser(), tume, data, now)
    janis = next(r for r in _registrations(tume) if r.name == "Jānis Ozols")
    notify(
        "organiser_message",
        janis,
        now,
        {
            "subject": "Saite uz tiešraidi",
            "body": "Saiti nosūtīsim arī ar SMS.\nJautājumi: zvaniet.",
        },
    )
    _db.session.commit()


def _organiser():
    return _db.session.scalar(select(User).where(User.email == LM))


def _registrations(event):
    return _db.session.scalars(select(Registration).where(Registration.event_id == event.id))


@on_sqlite
@pytest.mark.parametrize(
    ("language", "text_size"), [("ru", "normal"), ("lv", "largest"), ("ru", "largest")]
)
def test_the_new_pages_read_well(language, text_size, tume, live_server, browser, shots):
    """Each new page in Russian, and at A++ (largest text), fits 1366 px; screenshots."""
    _to_call(tume)
    context, page = open_desk(browser, live_server, language, text_size)
    suffix = f"{language}-{'app' if text_size == 'largest' else '1366'}"

    def shot(name: str) -> None:
        assert fits_the_width(page), name
        page.screenshot(path=str(shots / f"{name}-{suffix}.png"), full_page=True)

    page.goto(f"{live_server}/manage/")
    shot("event-list")
    page.goto(f"{live_server}/manage/events/{tume.id}")
    shot("event")
    page.goto(f"{live_server}/manage/events/{tume.id}/calls")
    assert page.locator(".call").count() == 2
    shot("calls")
    page.goto(f"{live_server}/manage/events/{tume.id}/edit")
    page.fill("#venue_name", "Tumes pagasta pārvalde")
    page.locator("form.form button[type=submit]").last.click()
    page.wait_for_selector(".phone-list")
    shot("notify-preview")
    page.goto(f"{live_server}/manage/events/{tume.id}/cancel")
    shot("cancel")
    page.goto(f"{live_server}/manage/events/{tume.id}/message")
    shot("message")
    page.check("#audience-0")
    page.fill("#subject", "Tiešraide sāksies 13:00")
    page.fill("#text", "Saiti nosūtīsim dienu iepriekš.\nUz tikšanos!")
    page.locator("button[value=preview]").click()
    page.wait_for_selector(".mail-text")
    assert "Saiti nosūtīsim dienu iepriekš." in page.locator(".mail-text").inner_text()
    shot("message-preview")
    page.goto(f"{live_server}/manage/events/{tume.id}/letters")
    assert page.locator("article.letter").count() == 2
    shot("letters")
    context.close()


@on_sqlite
def test_the_letters_print_one_a4_sheet_each_in_large_type(tume, live_server, browser, shots):
    _to_call(tume, online=False)
    # A third letter, with no news: the ticket (QR code and booking code).
    rules.register(
        tume.id,
        RegistrationRequest(
            name="Ārija Kalēja",
            phone="+371 2612 0003",
            consent=True,
            attendance=Attendance.IN_PERSON,
        ),
        utcnow(),
    )
    _db.session.commit()
    _db.session.expire_all()
    # Only Ārija has nothing new; the two others are to hear of the new time.
    context, page = open_desk(browser, live_server, "en")  # the organiser reads English
    page.goto(f"{live_server}/manage/events/{tume.id}/letters")
    letters = page.locator("article.letter")
    assert letters.count() == 3
    assert [letters.nth(i).get_attribute("lang") for i in range(3)] == ["lv", "lv", "ru"]
    assert page.locator("#print-ticket").is_visible()  # the print button (ticket.js)
    ticket = letters.nth(0)  # Ārija Kalēja (Ā sorts with A): no news, her ticket
    assert ticket.locator(".letter-ticket img").evaluate(
        "img => img.complete && img.naturalWidth > 0"
    )
    booking_code = _db.session.scalar(
        select(Registration.booking_code).where(Registration.name == "Ārija Kalēja")
    )
    assert f"Rezervācijas kods: {booking_code}" in ticket.inner_text()
    assert "Здравствуйте, Valentīna Ivanova!" in letters.nth(2).inner_text()
    assert "+371 6000" in letters.nth(2).locator(".letter-contact").inner_text()

    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden() and page.locator(".no-print").is_hidden()
    sizes = letters.evaluate_all("els => els.map(el => parseFloat(getComputedStyle(el).fontSize))")
    assert all(size >= 16 * 96 / 72 - 0.01 for size in sizes), sizes  # 16 pt: large print
    breaks = letters.evaluate_all("els => els.map(el => getComputedStyle(el).breakAfter)")
    assert breaks == ["page", "page", "auto"]
    page.set_viewport_size({"width": 658, "height": 1015})  # A4 inside its margins, at 96 dpi
    page.screenshot(path=str(shots / "letters-print-media.png"), full_page=True)
    pdf = page.pdf(format="A4", print_background=True)
    (shots / "letters.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 3  # one sheet per letter
    texts = [" ".join(p.extract_text().split()) for p in reader.pages]
    assert "Ārija Kalēja" in texts[0] and "Jānis Ozols" in texts[1] and "Valentīna" in texts[2]
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 2 and abs(float(box.height) - 841.9) < 2  # A4
    context.close()


@on_sqlite
@pytest.mark.parametrize("language", ("lv", "ru", "en"))
def test_the_new_pages_pass_axe(language, tume, live_server, browser):
    _to_call(tume)
    found: dict[str, list[str]] = {}
    context, page = open_desk(browser, live_server, language)

    def check(name: str) -> None:
        assert page.evaluate("document.documentElement.lang") == language, name
        found[name] = axe_violations(page)

    page.goto(f"{live_server}/manage/events/{tume.id}")
    check("event page with people to phone")
    page.goto(f"{live_server}/manage/events/{tume.id}/calls")
    check("to-call list")
    page.locator(".call button[type=submit]").first.click()
    page.wait_for_selector("table.data")
    check("to-call list with a call made")
    page.goto(f"{live_server}/manage/events/{tume.id}/letters")
    check("letters")
    page.goto(f"{live_server}/manage/events/{tume.id}/cancel")
    check("cancel with who is phoned")
    page.goto(f"{live_server}/manage/events/{tume.id}/edit")
    page.fill("#venue_name", "Tumes pagasta pārvalde")
    page.locator("form.form button[type=submit]").last.click()
    page.wait_for_selector(".phone-list")
    check("question before a notifying change")
    page.goto(f"{live_server}/manage/events/{tume.id}/message")
    check("message form")
    page.locator("button[value=preview]").click()
    page.wait_for_selector(".error-summary")
    check("message form with errors")
    page.fill("#subject", "Tiešraide")
    page.fill("#text", "Saite sekos.")
    page.locator("button[value=preview]").click()
    page.wait_for_selector(".mail-text")
    check("message preview")
    context.close()
    assert {name: v for name, v in found.items() if v} == {}
