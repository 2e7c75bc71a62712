"""Security headers on pages, the API, the door page and its service worker; no inline script
or style in any template; and the door page's JavaScript working in Chromium under its real
Content-Security-Policy (no bypass_csp), camera scanner included."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eventsvc.extensions import db as _db
from eventsvc.services import mailer
from eventsvc.services import registration as rules
from eventsvc.web import API_CSP, HSTS, PAGE_CSP

from . import factories
from .conftest import CHROMIUM, CHROMIUM_ARGS, LatvianBrowser, login, wait_for_js

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
on_sqlite = pytest.mark.parametrize("app", ["sqlite"], indirect=True)


def directives(policy: str) -> dict[str, set[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = set(values)
    return parsed


def assert_common_headers(response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP in development


# --- the policies as written ---------------------------------------------------------------


def test_the_page_policy_allows_no_inline_code():
    policy = directives(PAGE_CSP)
    assert policy["default-src"] == {"'self'"}
    assert policy["script-src"] == {"'self'"} and policy["style-src"] == {"'self'"}
    assert not any(
        "unsafe" in value or value.startswith(("'nonce-", "'sha"))
        for values in policy.values()
        for value in values
    )
    assert policy["object-src"] == {"'none'"} and policy["frame-ancestors"] == {"'none'"}
    assert policy["base-uri"] == {"'self'"} and policy["form-action"] == {"'self'"}
    assert policy["img-src"] == {"'self'", "data:"}
    # What the door's camera scanner needs: a blob: Worker, the API, the camera stream.
    assert policy["worker-src"] == {"'self'", "blob:"} and policy["connect-src"] == {"'self'"}


# --- headers on responses ------------------------------------------------------------------


def test_headers_on_a_page(client, world, in_days):
    event = factories.event(world.org_a, in_days(5))
    for url in ("/", f"/events/{event.id}", "/login", "/static/css/site.css"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Security-Policy"] == PAGE_CSP, url
        assert_common_headers(response)
        response.close()  # the static file's handle
    assert (
        client.get("/no/such/page").headers["Content-Security-Policy"] == PAGE_CSP
    )  # error pages too


def test_headers_on_api_responses(client, world, in_days):
    event = factories.event(world.org_a, in_days(5))
    for url, status in (
        ("/api/v1/events", 200),
        (f"/api/v1/events/{event.id}", 200),
        ("/api/v1/openapi.json", 200),
        ("/api/v1/events/999999", 404),
        ("/api/v1/registrations/nonsense", 404),
        (f"/api/v1/events/{event.id}/checkins/state", 401),
    ):
        response = client.get(url)
        assert response.status_code == status, url
        assert response.mimetype == "application/json", url
        assert response.headers["Content-Security-Policy"] == API_CSP, url
        assert_common_headers(response)


def test_headers_on_the_door_page_and_its_service_worker(client, world, in_days):
    event = factories.event(world.org_a, in_days(1))
    login(client, world.organiser_a.email)
    page = client.get(f"/manage/events/{event.id}/checkin")
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == PAGE_CSP
    assert "camera=(self)" in page.headers["Permissions-Policy"]
    assert_common_headers(page)
    worker = client.get("/manage/checkin-sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Content-Security-Policy"] == PAGE_CSP
    assert worker.headers["Service-Worker-Allowed"] == "/manage/"
    assert_common_headers(worker)
    api = client.get(f"/api/v1/events/{event.id}/checkins/state")
    assert api.status_code == 200 and api.headers["Content-Security-Policy"] == API_CSP


def test_hsts_over_https_and_in_production(app, client, world, monkeypatch):
    assert (
        client.get("/", base_url="https://localhost").headers["Strict-Transport-Security"] == HSTS
    )
    assert "Strict-Transport-Security" not in client.get("/").headers
    monkeypatch.setitem(app.config, "ENV_NAME", "production")  # behind a proxy that speaks HTTPS
    assert client.get("/").headers["Strict-Transport-Security"] == HSTS
    assert client.get("/api/v1/events").headers["Strict-Transport-Security"] == HSTS


def test_the_mail_frame_has_its_own_sandboxed_policy(
    app, client, world, in_days, now, tmp_path, monkeypatch
):
    monkeypatch.setitem(app.config, "EVENTSVC_MAIL_BACKEND", "mailbox")
    monkeypatch.setitem(app.config, "EVENTSVC_MAILBOX_DIR", str(tmp_path))
    event = factories.event(world.org_a, in_days(5))
    rules.register(event.id, factories.registration_request(email="anna@example.lv"), now)
    _db.session.commit()
    assert mailer.deliver_due(now).sent == 1
    name = sorted(tmp_path.glob("*.eml"))[0].stem
    page = client.get(f"/dev/mailbox/{name}")
    assert page.headers["Content-Security-Policy"] == PAGE_CSP  # the page itself: like any other
    assert '<iframe class="mail-frame"' in page.get_data(
        as_text=True
    ) and " sandbox " in page.get_data(as_text=True)
    frame = client.get(f"/dev/mailbox/{name}/html")
    policy = directives(frame.headers["Content-Security-Policy"])
    assert policy["default-src"] == {"'none'"} and "sandbox" in policy
    assert policy["style-src"] == {"'unsafe-inline'"}  # mail HTML is styled inline
    assert (
        policy["frame-ancestors"] == {"'self'"} and frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    )
    assert "script-src" not in policy  # so default-src 'none': no script at all
    assert 'style="' in frame.get_data(as_text=True)
    image = client.get(frame.get_data(as_text=True).split('src="')[1].split('"')[0])
    assert image.mimetype == "image/png" and "sandbox" in image.headers["Content-Security-Policy"]


# --- the templates -------------------------------------------------------------------------

INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "style attribute": re.compile(r"""[\s"']style\s*=""", re.I),
    "<style> element": re.compile(r"<style[\s>]", re.I),
    "on… handler": re.compile(r"""[\s"'/]on[a-z]+\s*=""", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_no_template_has_inline_script_or_style():
    """Pages carry no inline code: the CSP would refuse it. Mail templates (templates/mail/)
    are not pages; mail clients need their inline styles, and the development mailbox shows
    them under a policy of its own (above)."""
    found = []
    templates = [
        p for p in TEMPLATES.rglob("*.html") if "mail" not in p.relative_to(TEMPLATES).parts[:1]
    ]
    assert len(templates) > 30
    for path in templates:
        text = path.read_text()
        for what, pattern in INLINE.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert found == []


def test_the_scan_finds_what_it_looks_for():
    samples = [
        "<script>alert(1)</script>",
        '<p style="color:red">',
        "<style>p{}</style>",
        '<button onclick="go()">',
        "<body onload=go()>",
        "<a href='javascript:go()'>",
        '<rect style="fill:red"/>',
    ]
    for sample in samples:
        assert any(pattern.search(sample) for pattern in INLINE.values()), sample
    for fine in (
        '<script src="/static/js/checkin.js" defer></script>',
        '<rect class="bar-came" fill="#000"/>',
        '<div class="stylish" data-online="1">',
        '<option value="1">',
        "{% if online %}",
    ):
        assert not any(pattern.search(fine) for pattern in INLINE.values()), fine


# --- the door page in Chromium, under its real policy ------------------------------------------

WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


def watched_context(browser, **args):
    """A context that keeps the page's CSP (no bypass_csp) and records what it refuses."""
    context = browser.new_context(**args)
    context.add_init_script(WATCH_CSP)
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(f"uncaught: {error.error}"))
    return context, errors


def watch_console(page, errors: list[str]) -> None:
    def console(message) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and not url.endswith("/favicon.ico"):  # the site has none
            errors.append(f"{message.text} ({url})")

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))


def open_door(page, live_server, world, event) -> None:
    page.goto(f"{live_server}/login")
    page.fill("#email", world.organiser_a.email)
    page.fill("#password", factories.PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(f"{live_server}/manage/")
    page.goto(f"{live_server}/manage/events/{event.id}/checkin")
    page.wait_for_selector(
        "#door[data-list-size='1']"
    )  # the script ran: the offline list is on the phone


@pytest.fixture
def door_event(world, in_days, now):
    event = factories.event(world.org_a, in_days(1), capacity=20)
    anna = rules.register(
        event.id, factories.registration_request(name="Anna Bērziņa", party_size=2), now
    ).registration
    _db.session.commit()
    return event, anna


@on_sqlite
def test_the_door_page_works_under_its_csp(world, door_event, live_server, browser):
    event, anna = door_event
    context, errors = watched_context(browser)
    page = context.new_page()
    watch_console(page, errors)
    try:
        open_door(page, live_server, world, event)
        response = page.goto(f"{live_server}/manage/events/{event.id}/checkin")
        assert response.headers["content-security-policy"] == PAGE_CSP
        page.wait_for_selector("#door[data-list-size='1']")
        page.fill("#code", anna.ticket_secret)
        page.press(
            "#code", "Enter"
        )  # sent by checkin.js through the API (the form's submit is prevented)
        page.wait_for_selector("#result.result-ok")
        assert "Anna Bērziņa" in page.inner_text("#result")
        wait_for_js(page, "document.querySelector('[data-count=checked_in]').textContent === '2'")
        page.click("#result button")  # the Undo button made by the script
        page.wait_for_selector("#result.result-neutral")
        wait_for_js(page, "navigator.serviceWorker.controller !== null")  # the service worker too
        assert page.evaluate("window.__csp") == []
        assert errors == []
    finally:
        context.close()


def y4m_with_qr(path: Path, text: str, width: int = 640, height: int = 480) -> None:
    """A video file for Chromium's fake camera: a QR code on white, in YUV 4:2:0."""
    import qrcode

    qr = qrcode.QRCode(border=4, box_size=8)
    qr.add_data(text)
    image = qr.make_image(fill_color="black", back_color="white").get_image().convert("L")
    frame = bytearray(b"\xff" * (width * height))
    left, top = (width - image.width) // 2, (height - image.height) // 2
    pixels = image.tobytes()
    for y in range(image.height):
        start = (top + y) * width + left
        frame[start : start + image.width] = pixels[y * image.width : (y + 1) * image.width]
    chroma = b"\x80" * (width * height // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(3):
            out.write(b"FRAME\n" + bytes(frame) + chroma)


@on_sqlite
def test_the_camera_scanner_works_under_the_csp(world, door_event, live_server, browser, tmp_path):
    """Chromium's fake camera shows a ticket's QR code: the vendored qr-scanner loads, starts
    its blob: Worker, plays the stream and checks the person in, with nothing refused."""
    event, anna = door_event
    video = tmp_path / "ticket.y4m"
    y4m_with_qr(video, anna.ticket_secret)
    camera = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    # A browser of its own: the fake camera is chosen at launch.
    camera_browser = LatvianBrowser(
        browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + camera)
    )
    try:
        context, errors = watched_context(camera_browser, permissions=["camera"])
        page = context.new_page()
        watch_console(page, errors)
        open_door(page, live_server, world, event)
        page.click("#camera-button")
        page.wait_for_selector("#result.result-ok", timeout=20000)
        assert "Anna Bērziņa" in page.inner_text("#result")
        # The stream is shown (not shrunk away), with the scanner's frame from checkin.css.
        assert (
            page.evaluate("document.getElementById('camera').getBoundingClientRect().width") > 100
        )
        wait_for_js(
            page, "getComputedStyle(document.querySelector('.camera-overlay')).display !== 'none'"
        )
        assert (
            page.evaluate(
                "getComputedStyle(document.querySelector('.camera-overlay')).borderTopStyle"
            )
            == "solid"
        )
        assert page.evaluate("window.__csp") == []
        assert errors == []
    finally:
        camera_browser.close()


@on_sqlite
def test_the_mail_frame_shows_its_styled_mail_under_its_own_policy(
    app, world, in_days, now, tmp_path, monkeypatch, live_server, browser
):
    """The development mailbox frames the mail's HTML (inline styles, the QR code from its
    part) without a refusal on the page or in the frame."""
    monkeypatch.setitem(app.config, "EVENTSVC_MAIL_BACKEND", "mailbox")
    monkeypatch.setitem(app.config, "EVENTSVC_MAILBOX_DIR", str(tmp_path))
    event = factories.event(world.org_a, in_days(5))
    rules.register(event.id, factories.registration_request(email="anna@example.lv"), now)
    _db.session.commit()
    assert mailer.deliver_due(now).sent == 1
    name = sorted(tmp_path.glob("*.eml"))[0].stem
    context, errors = watched_context(browser)
    page = context.new_page()
    watch_console(page, errors)
    try:
        page.goto(f"{live_server}/dev/mailbox/{name}")
        frame = page.frame_locator(".mail-frame")
        frame.locator("img").wait_for()
        body = page.frames[1]
        assert body.evaluate("getComputedStyle(document.body).fontFamily").startswith(
            "Arial"
        )  # the inline style applied
        assert (
            body.evaluate("document.querySelector('img').naturalWidth") > 100
        )  # the QR code loaded
        assert page.evaluate("window.__csp") == [] and errors == []
    finally:
        context.close()
