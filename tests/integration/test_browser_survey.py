"""A customer in a real browser: the survey email rendered, a score clicked, the follow-up probe answered.

Debian's Chromium, headless, through Playwright (`tests/browser.py`), against the real worker, web tier and Kafka
broker. Screenshots of the thanks pages land in `test-artifacts/`.
"""

from __future__ import annotations

import dataclasses
import re
from email import message_from_bytes, policy

import pytest
from playwright.sync_api import Page, expect

from cxloop.model import Interaction
from cxloop.settings import Settings
from cxloop.surveys import survey_id
from tests.browser import browser_fixture, new_page, save_screenshot
from tests.integration.test_whole_loop import a_call
from tests.support import Service, TopicReader, publish_record, wait_for

pytestmark = pytest.mark.integration
browser = browser_fixture()


def survey_email(settings: Settings, worker: Service, sid: str) -> bytes:
    """The survey's .eml from the outbox, once dispatch wrote it (the outbox renames complete files into place)."""
    path = settings.outbox / f"{sid}.eml"

    def written() -> bytes | None:
        worker.supervise()
        return path.read_bytes() if path.exists() else None

    return wait_for(written, 60, what=f"the survey email {path.name} in the outbox")


def html_part(eml: bytes) -> str:
    body = message_from_bytes(eml, policy=policy.default).get_body(preferencelist=("html",))
    assert body is not None, "the survey email has an HTML part"
    return str(body.get_content())


def focused(page: Page) -> dict[str, str | None]:
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName, id: e.id || null, label: e.getAttribute('aria-label'), href: e.getAttribute('href'),
                text: e.textContent}; }""")


def merged_response(settings: Settings, sid: str, comment: str) -> tuple[dict, list[dict]]:
    """The survey-scored version carrying the comment, and every version of that survey read so far."""
    scored = TopicReader(settings, "survey-scored")
    try:
        merged = scored.wait_for(lambda s: s["survey_id"] == sid and s["comment"] == comment, timeout=60)[0]
        return merged, [s for s in scored.records if s["survey_id"] == sid]
    finally:
        scored.close()


def test_detractor_clicks_a_score_in_the_rendered_email_and_comments(
    settings: Settings, worker: Service, web: Service, browser
) -> None:
    call = a_call("call-b1001")
    publish_record(settings, "interaction-completed", call.customer_id, call.to_record())
    sid = survey_id("call-nps", "call-b1001")
    email_html = html_part(survey_email(settings, worker, sid))
    comment = "On hold for 40 minutes & nobody called back — “fix it” <b>please</b>"

    with new_page(browser, "browser-survey-en") as page:
        page.set_content(email_html)
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_text("How likely are you to recommend")).to_be_visible()
        scores = page.get_by_role("link", name=re.compile(r"^\d+$"))
        expect(scores).to_have_text([str(s) for s in range(11)])  # NPS: one button per score 0-10

        with page.expect_response(lambda r: "/r/" in r.url and r.request.method == "GET") as click:
            page.get_by_role("link", name="3", exact=True).click()
        assert click.value.status == 200, f"the click was answered {click.value.status}"
        expect(page).to_have_url(re.compile(rf"^{re.escape(settings.public_url)}/r/[^?]+\?score=3$"))

        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        expect(page.get_by_text("Your answer has been recorded.")).to_be_visible()
        expect(page.locator("label[for=comment]")).to_have_text("What disappointed you most?")  # NPS 3: detractor
        for other in ("What would have made it better?", "What did we do well?"):
            expect(page.get_by_text(other)).to_have_count(0)
        box = page.get_by_label("What disappointed you most?")
        expect(box).to_have_attribute("name", "comment")
        box.fill(comment)

        with page.expect_response(lambda r: "/r/" in r.url and r.request.method == "POST") as posted:
            page.get_by_role("button", name="Send").click()
        assert posted.value.status == 200, f"the comment was answered {posted.value.status}"
        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        expect(page.get_by_text("Thank you, we have your comment.")).to_be_visible()
        expect(page.locator("textarea")).to_have_count(0)  # the thanks page, not the form again
        shot = save_screenshot(page, "browser-survey-thanks-en")
    assert shot.stat().st_size > 0

    merged, versions = merged_response(settings, sid, comment)
    assert (merged["score"], merged["metric"], merged["category"], merged["program_id"]) == (3, "nps", "detractor",
                                                                                            "call-nps")
    assert merged["source"] == "email_click", "the comment joins the clicked answer"
    assert {v["score"] for v in versions} == {3}
    assert all(v["comment"] in (None, comment) for v in versions), [v["comment"] for v in versions]


def test_keyboard_only_spanish_customer_answers_the_follow_up(
    settings: Settings, worker: Service, web: Service, browser
) -> None:
    ticket: Interaction = dataclasses.replace(
        a_call("ticket-b2002"), trigger="ticket_solved", channel="email", customer_id="cust-lucia",
        customer_email="lucia@clientes.example", customer_locale="es-MX", customer_timezone="America/Mexico_City",
    )
    publish_record(settings, "interaction-completed", ticket.customer_id, ticket.to_record())
    sid = survey_id("service-csat", "ticket-b2002")
    email_html = html_part(survey_email(settings, worker, sid))
    comment = "Esperé 40 minutos y nadie me llamó. ¿Por qué?"
    probe = "¿Qué fue lo que más le decepcionó?"

    with new_page(browser, "browser-survey-es", locale="es-MX") as page:
        page.set_content(email_html)
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.get_by_text("¿Qué tan satisfecho quedó")).to_be_visible()
        expect(page.get_by_role("link", name=re.compile(r"^\d+$"))).to_have_text(["1", "2", "3", "4", "5"])

        # Tab through the score buttons to "2" (CSAT detractor) and press Enter: no mouse anywhere.
        for _ in range(2):
            page.keyboard.press("Tab")
        now = focused(page)
        assert (now["tag"], now["label"]) == ("A", "2"), f"two Tabs should reach score 2, focus is on {now}"
        assert now["href"] and now["href"].endswith("?score=2")
        with page.expect_response(lambda r: "/r/" in r.url and r.request.method == "GET") as click:
            page.keyboard.press("Enter")
        assert click.value.status == 200, f"the keyboard click was answered {click.value.status}"
        expect(page).to_have_url(re.compile(r"\?score=2$"))

        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page).to_have_title("Gracias")
        expect(page.get_by_text("Hemos registrado su respuesta.")).to_be_visible()
        box = page.locator("textarea")
        expect(box).to_have_count(1)
        labels = box.evaluate("e => Array.from(e.labels, l => l.textContent)")
        assert labels == [probe], f"the textarea's <label> is the Spanish detractor probe, got {labels}"
        expect(page.get_by_label(probe)).to_have_attribute("id", "comment")
        expect(box).to_have_accessible_name(probe)
        expect(box).to_have_accessible_description("Su comentario (opcional)")

        page.keyboard.press("Tab")
        expect(box).to_be_focused()  # the first stop on the page is the comment box
        page.keyboard.type(comment)
        expect(box).to_have_value(comment)
        page.keyboard.press("Tab")
        send = page.get_by_role("button", name="Enviar")
        expect(send).to_be_focused()
        assert send.evaluate("e => getComputedStyle(e).outlineStyle") == "solid", "keyboard focus is visible"
        with page.expect_response(lambda r: "/r/" in r.url and r.request.method == "POST") as posted:
            page.keyboard.press("Enter")
        assert posted.value.status == 200, f"the comment was answered {posted.value.status}"

        expect(page.get_by_text("Gracias, hemos recibido su comentario.")).to_be_visible()
        expect(page.get_by_text("Ya puede cerrar esta página.")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.locator("textarea")).to_have_count(0)
        shot = save_screenshot(page, "browser-survey-thanks-es")
    assert shot.stat().st_size > 0

    merged, versions = merged_response(settings, sid, comment)
    assert (merged["score"], merged["metric"], merged["category"], merged["program_id"]) == (2, "csat", "detractor",
                                                                                            "service-csat")
    assert {v["score"] for v in versions} == {2}
