"""A citizen completes questionnaires in Chromium: by keyboard only, and with JavaScript off."""

import pytest
from sqlalchemy import select

from survey_app.extensions import db as _db
from survey_app.models import Compilazione, Risposta

from .conftest import submit

pytestmark = pytest.mark.browser


def stored(live_server, slug, before=None):
    """The service's questionnaires, and the answers of the one not in ``before`` (keys are random, not in order)."""
    with live_server["app"].app_context():
        rows = _db.session.execute(
            select(Compilazione.id, Compilazione.canale, Compilazione.lingua)
            .where(Compilazione.servizio.has(slug=slug))).all()
        answers = {}
        new = [row for row in rows if row not in set(before or ())]
        if before is not None and len(new) == 1:
            for risposta in _db.session.scalars(select(Risposta).filter_by(compilazione_id=new[0].id)):
                answers.setdefault(risposta.domanda.codice, []).append(risposta.valore or risposta.opzione)
        _db.session.remove()
    return rows, answers, new


def star_fills(page, code: str) -> list[bool]:
    """Whether each star is drawn filled, taken in the order they are drawn from left to right."""
    stars = page.evaluate("""code => [...document.querySelectorAll(`#q-${code} label.star`)].map(label => [
        label.getBoundingClientRect().left, getComputedStyle(label.querySelector('svg')).fill])""", code)
    assert len(stars) == 5
    return [fill != "rgb(255, 255, 255)" for _left, fill in sorted(stars)]


def test_stars_are_read_in_the_order_they_are_drawn(live_server, page):
    """One star on the left, five on the right, and the same order for Tab, arrows and a screen reader (the DOM);
    choosing three fills the first three; the pointer over the fourth fills four."""
    page.goto(f"{live_server['url']}/s/sito-istituzionale?nuovo=1")
    stars = page.locator("#q-D1 label.star")
    lefts = [stars.nth(i).bounding_box()["x"] for i in range(5)]
    assert lefts == sorted(lefts) and len(set(lefts)) == 5
    assert [stars.nth(i).inner_text() for i in (0, 4)] == ["1 stella su 5", "5 stelle su 5"]
    assert star_fills(page, "D1") == [False] * 5
    stars.nth(2).click()
    assert page.evaluate("document.querySelector('input[name=D1]:checked').value") == "3"
    assert star_fills(page, "D1") == [True, True, True, False, False]
    stars.nth(3).hover()
    assert star_fills(page, "D1") == [True, True, True, True, False]


def test_non_so_beside_the_stars_fills_none_of_them(page):
    """Choosing "Non so" drew the five stars filled, a five-star answer to the eye (the review of this change): the
    fill follows a chosen star only. The page's own stylesheet on the markup _question.html writes."""
    from pathlib import Path

    css = Path(__file__).resolve().parents[2] / "survey_app" / "static" / "css" / "app.css"
    star = '<svg class="star-icon" viewBox="0 0 24 24" width="40" height="40"><path d="M12 2.5l2.9 6.1 6.6.8z"/></svg>'
    stars = "".join(f'<input type="radio" name="D1" id="D1-{i}" value="{i + 1}"><label class="star" for="D1-{i}">'
                    f"{star}</label>" for i in range(5))
    page.set_content(f'<div id="q-D1"><div class="stars">{stars}<input type="radio" name="D1" id="D1-5" value="ns">'
                     '<label class="star-none" for="D1-5">Non so</label></div></div>')
    page.add_style_tag(path=str(css))
    page.locator("label[for=D1-5]").click()
    assert page.evaluate("document.querySelector('input[name=D1]:checked').value") == "ns"
    assert star_fills(page, "D1") == [False] * 5
    page.locator("label[for=D1-1]").click()
    assert star_fills(page, "D1") == [True, True, False, False, False]


def test_keyboard_only(live_server, page):
    """Tab to the stars, choose with the arrow keys, follow-up appears, submit with Enter."""
    page.goto(f"{live_server['url']}/s/sito-istituzionale")
    before, _, _ = stored(live_server, "sito-istituzionale")
    page.keyboard.press("Tab")  # skip link
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "D1":
            break
    # Tab enters the stars at the first one drawn, on the left: one star
    assert page.evaluate("[document.activeElement.name, document.activeElement.value]") == ["D1", "1"]
    page.keyboard.press("Space")
    # ArrowRight moves right, to more stars, as the eye reads: two steps from 1 reach 3
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.querySelector('input[name=D1]:checked').value") == "3"
    assert star_fills(page, "D1") == [True, True, True, False, False]
    difficulties = page.locator("#q-D2")
    assert difficulties.is_visible() and page.locator("#q-D3").is_hidden()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "D2"
    page.keyboard.press("Space")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "BUTTON":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/s/sito-istituzionale/grazie**")
    after, answers, (new,) = stored(live_server, "sito-istituzionale", before)
    assert len(after) == len(before) + 1
    assert new.canale == "web"
    assert answers["D1"] == [3] and answers["D2"] == ["non-chiare"]
    assert "D3" not in answers


def test_without_javascript(live_server, page_without_js):
    page = page_without_js
    page.goto(f"{live_server['url']}/s/urp-protocollo?lang=en")
    before, _, _ = stored(live_server, "urp-protocollo")
    # the follow-up is there, with its hint, because no script can show it in place
    assert page.locator("#q-D2").is_visible()
    assert page.locator("#D2-quando").is_visible()
    page.locator("label[for=D1-2]").click()  # red face (third card)
    page.get_by_text("waiting time", exact=True).click()  # the label, as a person clicks it
    page.get_by_role("button", name="Send your rating").click()
    page.wait_for_url("**/s/urp-protocollo/grazie**")
    assert "Thank you for your rating" in page.content()
    after, answers, (new,) = stored(live_server, "urp-protocollo", before)
    assert len(after) == len(before) + 1 and new.lingua == "en"
    assert answers == {"D1": [1], "D2": ["tempo-attesa"]}


@pytest.mark.parametrize("width", [1280, 768])
def test_the_kiosk_faces_stay_level_when_a_label_wraps(live_server, page, width):
    """The middle face sat higher than the others: its label ("Né soddisfatto né insoddisfatto") takes two lines."""
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server['url']}/k/anagrafe-stato-civile?sede=sportello-anagrafe")
    labels = page.locator(".kiosk-face").evaluate_all("cards => cards.map(c => c.getBoundingClientRect().height)")
    tops = page.locator(".kiosk-face-icon").evaluate_all("icons => icons.map(i => i.getBoundingClientRect().top)")
    assert len(tops) == 3 and max(tops) - min(tops) < 1, (tops, labels)


def test_kiosk_tap_reasons_thanks_and_reset(live_server, page):
    from .conftest import axe_violations

    start = f"{live_server['url']}/k/front-office?sede=front-office-caresana"
    page.goto(start)
    before, _, _ = stored(live_server, "front-office")
    page.get_by_role("button", name="Non soddisfatto").click()
    page.wait_for_url("**/k/front-office/motivi**")
    assert axe_violations(page) == []
    page.get_by_text("tempo di attesa", exact=True).click()
    page.get_by_role("button", name="Invia").click()
    page.wait_for_url("**/k/front-office/grazie**")
    assert page.get_by_role("status").is_visible()  # the page says it will reset, and can be stopped
    assert page.get_by_text("Tra pochi secondi").is_hidden()  # ...once, not also in the words for no JavaScript
    assert axe_violations(page) == []
    page.wait_for_url("**/k/front-office?sede=front-office-caresana**", timeout=10_000)  # automatic reset
    after, answers, (new,) = stored(live_server, "front-office", before)
    assert len(after) == len(before) + 1 and new.canale == "chiosco"
    assert answers == {"D1": [1], "D2": ["tempo-attesa"]}
    # Two more citizens in a row, both pleased, each after the page went back to the faces by itself (inside the
    # 10 s against double taps: the second was taken for a double tap of the first).
    for _ in range(2):
        page.get_by_role("button", name="Soddisfatto", exact=True).click()
        page.wait_for_url("**/k/front-office/grazie**")
        page.wait_for_url("**/k/front-office?sede=front-office-caresana**", timeout=10_000)
    queue, _, _ = stored(live_server, "front-office", after)
    assert len(queue) == len(after) + 2


def test_more_time_on_the_kiosk_reasons_is_ten_times_as_long_and_then_back_to_the_faces(live_server, page):
    """A citizen who needs longer asks for it (WCAG 2.2.1: ten times the page's time); the reasons page gives it once,
    inside the window its answer is accepted in, then goes back to the faces, or the next person would find a
    stranger's reasons page waiting. The thanks page gives it as often as asked."""
    start = f"{live_server['url']}/k/front-office?sede=front-office-caresana"
    page.clock.install()
    page.goto(start)
    page.get_by_role("button", name="Non soddisfatto").click()
    page.wait_for_url("**/k/front-office/motivi**")
    assert page.get_by_role("status").inner_text().startswith("La pagina torna all'inizio tra 60 secondi.")
    page.clock.run_for(50_000)
    page.get_by_role("button", name="Mi serve più tempo").click()
    assert page.get_by_role("status").inner_text().startswith("Più tempo: la pagina torna all'inizio tra 10 minuti.")
    assert page.get_by_role("button", name="Mi serve più tempo").count() == 0  # once here
    assert page.evaluate("document.activeElement.id") == "kiosk-timer-text"  # focus stays on the timer's words
    page.clock.run_for(599_000)  # past the first 60 s by far: still there
    assert "/k/front-office/motivi" in page.url
    page.clock.run_for(2_000)
    page.wait_for_url("**/k/front-office?sede=front-office-caresana**", timeout=10_000)
    # The thanks page (2 s in this server): more time as often as asked, 20 s each.
    page.get_by_role("button", name="Soddisfatto", exact=True).click()
    page.wait_for_url("**/k/front-office/grazie**")
    for _ in range(2):
        page.get_by_role("button", name="Mi serve più tempo").click()
        page.clock.run_for(15_000)
        assert "/k/front-office/grazie" in page.url
    page.clock.run_for(6_000)
    page.wait_for_url("**/k/front-office?sede=front-office-caresana**", timeout=10_000)


def test_the_kiosk_privacy_notice_leads_back_to_the_faces(live_server, page):
    from .conftest import axe_violations

    start = f"{live_server['url']}/k/front-office?sede=front-office-caresana"
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(start)
    submit(page, page.get_by_role("link", name="Informativa privacy"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Informativa sul trattamento dei dati")
    assert page.get_by_role("status").is_visible()  # it will go back by itself, and says so
    assert axe_violations(page) == []
    submit(page, page.get_by_role("link", name="Torna al questionario").first)
    assert page.url == start and page.get_by_role("button", name="Non soddisfatto").is_visible()


@pytest.mark.parametrize("width", [320, 420])
def test_the_importance_hint_is_never_split_on_a_phone(live_server, page, width):
    """On a phone the scale's key for the importance question ("facoltativo: 1 = per niente, 5 = moltissimo") sits
    on a line of its own under the question, not broken after "facoltativo:"."""
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{live_server['url']}/s/edilizia-privata")
    hint = page.locator("fieldset.importance legend .hint").first
    # Line boxes of the hint's text (a Range over it: a block element alone is one box however many lines it has).
    lines = hint.evaluate("""element => {
        const text = document.createRange();
        text.selectNodeContents(element);
        return new Set(Array.from(text.getClientRects(), rect => Math.round(rect.top))).size;
    }""")
    # ...and it starts where the question's own text starts, not after it.
    starts_own_line = hint.evaluate("""element => {
        const question = document.createRange();
        question.selectNodeContents(element.parentElement.firstChild);
        return Math.abs(element.getBoundingClientRect().left - question.getClientRects()[0].left) < 1;
    }""")
    assert lines == 1 and starts_own_line


def test_back_after_an_error_then_sending_finds_the_notice_not_a_resubmission(live_server, page):
    """The page that listed the errors answered a POST: Back to it asked to send the form again (ERR_CACHE_MISS).
    The script makes that history entry the questionnaire's plain address, so Back reads "already sent"."""
    page.goto(f"{live_server['url']}/s/sito-istituzionale?canale=qr")
    before, _, _ = stored(live_server, "sito-istituzionale")
    submit(page, page.locator("form.cs-form button[type=submit]"))  # the required stars left out
    assert page.locator("#riepilogo-errori").is_visible()
    # Focus starts on the list of errors (it stayed on the page's body, four Tabs from the first link), and its
    # link leads focus to the question.
    assert page.evaluate("document.activeElement.id") == "riepilogo-errori"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "q-D1"
    page.locator("label[for=D1-1]").click()
    submit(page, page.locator("form.cs-form button[type=submit]"))
    page.wait_for_url("**/s/sito-istituzionale/grazie**")
    after, _, _ = stored(live_server, "sito-istituzionale", before)
    assert len(after) == len(before) + 1
    response = page.go_back()
    assert response is not None and response.request.method == "GET"
    assert "Le tue risposte sono già arrivate" in page.content()
    assert len(stored(live_server, "sito-istituzionale")[0]) == len(after)  # nothing sent again
