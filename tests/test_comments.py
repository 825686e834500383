"""The staff comments page: scope, filters, paging, marks, redaction and deletion that leave the counts alone."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from survey_app.models import AuditLog, CommentoStato, RiepilogoRisposte, Risposta
from survey_app.staff.comments import REDACTED

from .helpers import add_answers, csrf_token, login
from .test_summary import counts

PERSONAL = "Sono Mario Rossi, tel. 333 1234567"
TEXTS = {"basso": "Attesa troppo lunga", "medio": "Gentili al 100% o quasi", "alto": PERSONAL,
         "nessuno": "scritto in snake_case", "tributi": "Commento segreto dei tributi"}


@pytest.fixture
def answers(catalogue) -> dict[str, int]:
    """Comments on anagrafe and tributi ('breve': D3 is the overall item on 1–5, D7 free text): name to answer id."""
    rows = {
        # D1 (the first rated item) says 5, the overall D3 says 1: the score shown is D3's.
        "basso": add_answers(catalogue, "anagrafe", datetime(2025, 3, 10, 9), {"D1": 5, "D3": 1, "D7": TEXTS["basso"]}),
        "medio": add_answers(catalogue, "anagrafe", datetime(2025, 6, 1, 10), {"D3": 3, "D7": TEXTS["medio"]}),
        "alto": add_answers(catalogue, "anagrafe", datetime(2026, 1, 15, 11), {"D3": 5, "D7": TEXTS["alto"]}),
        "nessuno": add_answers(catalogue, "anagrafe", datetime(2026, 2, 1, 12), {"D1": 2, "D7": TEXTS["nessuno"]}),
        "tributi": add_answers(catalogue, "tributi", datetime(2025, 4, 1, 8), {"D3": 4, "D7": TEXTS["tributi"]}),
    }
    add_answers(catalogue, "anagrafe", datetime(2025, 3, 11, 9), {"D3": 2})  # no comment: never listed
    return {name: catalogue.scalar(select(Risposta.id).where(Risposta.compilazione_id == c.id,
                                                             Risposta.testo.is_not(None)))
            for name, c in rows.items()}


def shown(client, query: str = "", status: int = 200) -> set[str]:
    """The comments (by name in TEXTS) on the page for this query string."""
    response = client.get(f"/staff/commenti{query}")
    assert response.status_code == status
    html = unescape(response.get_data(as_text=True))
    return {name for name, text in TEXTS.items() if text in html}


@pytest.fixture
def manager(answers, client, runner):
    login(client, runner, "resp@example.org", "--role", "responsabile", "--scope", "anagrafe")
    return client


@pytest.fixture
def transparency(answers, client, runner):
    login(client, runner, "tra@example.org", "--role", "trasparenza")
    return client


def post(client, url: str, **data):
    token = csrf_token(client.get("/staff/commenti").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_a_responsabile_sees_only_the_comments_of_the_services_in_scope(manager, answers):
    assert shown(manager) == {"basso", "medio", "alto", "nessuno"}
    assert shown(manager, "?servizio=tributi", 404) == set()
    tributi = answers["tributi"]
    assert post(manager, f"/staff/commenti/{tributi}/stato", stato="letto").status_code == 404
    assert post(manager, f"/staff/commenti/{tributi}/oscura").status_code == 404
    assert post(manager, f"/staff/commenti/{tributi}/elimina", conferma="1").status_code == 404
    assert post(manager, "/staff/commenti/999999/stato", stato="letto").status_code == 404


def test_newest_first_with_date_to_the_hour_question_and_the_overall_score(transparency):
    assert shown(transparency) == set(TEXTS)
    html = unescape(transparency.get("/staff/commenti").get_data(as_text=True))
    positions = [html.index(TEXTS[name]) for name in ("nessuno", "alto", "medio", "tributi", "basso")]
    assert positions == sorted(positions)
    assert "10/03/2025 09:00" in html and "Suggerimenti" in html and "(D7)" in html
    assert "D3, 1–5" in html  # the score comes from the overall item, not from D1


def test_a_firms_row_with_a_date_alone_is_not_shown_at_midnight(catalogue, transparency):
    """A firm's row gives a day, not a time: the comments said "04/11/2025 00:00", a real midnight to the eye."""
    add_answers(catalogue, "anagrafe", datetime(2025, 11, 4), {"D3": 4, "D7": "Scritto sul questionario di carta"},
                canale="carta")
    html = unescape(transparency.get("/staff/commenti").get_data(as_text=True))
    assert '<time datetime="2025-11-04T00:00">04/11/2025</time>' in html and "04/11/2025 00:00" not in html


def test_each_filter_and_their_combination(transparency):
    assert shown(transparency, "?anno=2025") == {"basso", "medio", "tributi"}
    assert shown(transparency, "?anno=2024") == set()
    assert shown(transparency, "?servizio=tributi") == {"tributi"}
    assert shown(transparency, "?domanda=D7") == set(TEXTS)
    assert shown(transparency, "?voto=basso") == {"basso"}
    assert shown(transparency, "?voto=medio") == {"medio"}
    assert shown(transparency, "?voto=alto") == {"alto", "tributi"}
    assert shown(transparency, "?stato=nuovo") == set(TEXTS)
    assert shown(transparency, "?stato=letto") == set()
    assert shown(transparency, "?q=ATTESA") == {"basso"}
    assert shown(transparency, "?anno=2025&servizio=anagrafe&voto=alto") == set()
    assert shown(transparency, "?anno=2026&servizio=anagrafe&domanda=D7&voto=alto&stato=nuovo&q=rossi") == {"alto"}
    # The filters stay in the form.
    html = transparency.get("/staff/commenti?anno=2025&voto=basso&q=attesa").get_data(as_text=True)
    assert '<option value="2025" selected>' in html and '<option value="basso" selected>' in html
    assert 'value="attesa"' in html
    # In English the question filter offers the catalogue's English text (it offered the Italian).
    english = transparency.get("/staff/commenti?lang=en").get_data(as_text=True)
    assert '<option value="D7">D7 · Suggestions</option>' in english and "Suggerimenti" not in english


def test_the_comments_answer_with_a_trailing_slash_too(transparency):
    """/staff/commenti/ was a 404, where the other staff lists (/staff/azioni/, /staff/utenti/) end with one."""
    assert transparency.get("/staff/commenti/?anno=2025").status_code == 200


def test_search_takes_like_wildcards_literally(transparency):
    assert shown(transparency, "?q=%25") == {"medio"}
    assert shown(transparency, "?q=_") == {"nessuno"}
    assert shown(transparency, "?q=snake%25case") == set()


def test_fifty_a_page_with_the_filters_kept(catalogue, transparency):
    start = datetime(2024, 1, 1, 8)
    for i in range(55):
        add_answers(catalogue, "tributi", start + timedelta(hours=i), {"D7": f"nota n.{i:02d}"})
    first = unescape(transparency.get("/staff/commenti?servizio=tributi&anno=2024").get_data(as_text=True))
    assert first.count("nota n.") == 50 and "nota n.54" in first and "nota n.04" not in first
    assert "/staff/commenti?pagina=2&amp;anno=2024&amp;servizio=tributi" in transparency.get(
        "/staff/commenti?servizio=tributi&anno=2024").get_data(as_text=True)
    second = unescape(transparency.get("/staff/commenti?servizio=tributi&anno=2024&pagina=2").get_data(as_text=True))
    assert second.count("nota n.") == 5 and "nota n.00" in second and "Meno recenti" not in second
    assert "Più recenti" in second
    assert "55 commenti" in first
    # Past the last page: the comments are there, and the way back (it said "Nessun commento con questi filtri").
    beyond = unescape(transparency.get("/staff/commenti?servizio=tributi&anno=2024&pagina=9").get_data(as_text=True))
    assert "La pagina 9 non c'è: i commenti con questi filtri sono 55." in beyond
    assert "Nessun commento con questi filtri" not in beyond
    # One page only: no empty list of pages.
    single = transparency.get("/staff/commenti?servizio=tributi&anno=2024&q=n.54").get_data(as_text=True)
    assert "nota n.54" in single and "Pagine dei commenti" not in single


@pytest.mark.parametrize(("query", "status"), [
    ("anno=abc", 400), ("anno=20255", 400), ("anno=0000", 400), ("pagina=0", 400), ("pagina=x", 400),
    ("pagina=%C2%B2", 400), ("pagina=99999999", 400), ("voto=altissimo", 400), ("stato=boh", 400),
    ("domanda=d7", 400), ("domanda=D7%27--", 400), ("q=a%00b", 400), ("q=" + "x" * 201, 400),
    ("domanda=D99", 404), ("domanda=D3", 404), ("servizio=nessuno", 404), ("pagina=7", 200),
])
def test_bad_parameters_are_refused_never_a_server_error(transparency, query, status):
    assert transparency.get(f"/staff/commenti?{query}").status_code == status


def test_marking_read_and_handled_keeps_the_list_as_filtered(transparency, answers, catalogue):
    target = answers["basso"]
    response = post(transparency, f"/staff/commenti/{target}/stato?anno=2025&voto=basso&evil=x", stato="letto")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/commenti?anno=2025&voto=basso#commento-{target}"
    state = catalogue.get(CommentoStato, target)
    assert state.stato == "letto" and state.aggiornato_da is not None and state.aggiornato_il is not None
    assert shown(transparency, "?stato=letto") == {"basso"}
    assert "basso" not in shown(transparency, "?stato=nuovo")
    assert post(transparency, f"/staff/commenti/{target}/stato", stato="gestito").status_code == 302
    assert shown(transparency, "?stato=gestito") == {"basso"} and shown(transparency, "?stato=letto") == set()
    assert post(transparency, f"/staff/commenti/{target}/stato", stato="oscurato").status_code == 400
    assert post(transparency, f"/staff/commenti/{target}/stato", stato="").status_code == 400


def test_redact_and_delete_remove_the_text_but_never_the_counts(manager, answers, catalogue):
    def totals():
        return catalogue.execute(select(func.count(), func.sum(RiepilogoRisposte.n))).one(), counts(catalogue)

    before = totals()
    target = answers["alto"]
    # Redacting asks first, as deleting does: neither can be undone.
    assert post(manager, f"/staff/commenti/{target}/oscura").status_code == 400
    catalogue.expire_all()
    assert catalogue.get(Risposta, target).testo == PERSONAL
    response = post(manager, f"/staff/commenti/{target}/oscura?stato=nuovo", conferma="1")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/commenti?stato=nuovo#")
    page = unescape(manager.get("/staff/commenti").get_data(as_text=True))
    assert PERSONAL not in page and REDACTED in page
    redacted_row = page.split(f'id="commento-{target}"', 1)[1].split("</tr>", 1)[0]
    assert "Elimina il testo" not in redacted_row and "Oscura il testo" not in redacted_row  # nothing left to remove
    # Screen readers hear which row a button is on by its place on the page, not by a 19-digit key.
    # (and by the service and time, which a button named only "commento 3 della pagina" did not say).
    assert re.search(r"\(commento 1 della pagina: [^,()]+, \d\d/\d\d/\d{4} \d\d:\d\d\)", page)
    assert f"commento n. {target}" not in page
    catalogue.expire_all()
    assert catalogue.get(Risposta, target).testo == REDACTED
    assert catalogue.get(CommentoStato, target).stato == "oscurato"
    assert shown(manager, "?stato=oscurato") == set()  # the text is gone; the row is there
    assert REDACTED in manager.get("/staff/commenti?stato=oscurato").get_data(as_text=True)
    # Delete: the confirmation is required, then the text is emptied and the answer row stays.
    other = answers["basso"]
    assert post(manager, f"/staff/commenti/{other}/elimina").status_code == 400
    assert catalogue.get(Risposta, other).testo == TEXTS["basso"]
    assert post(manager, f"/staff/commenti/{other}/elimina", conferma="1").status_code == 302
    catalogue.expire_all()
    assert catalogue.get(Risposta, other).testo == ""
    assert catalogue.get(CommentoStato, other).stato == "oscurato"
    assert TEXTS["basso"] not in manager.get("/staff/commenti").get_data(as_text=True)
    # The audit log says who, which answer and how long, never the text.
    entries = {e.azione: e for e in catalogue.scalars(select(AuditLog).where(AuditLog.azione.like("commento.%")))}
    assert entries["commento.oscura"].oggetto == f"risposta {target}"
    assert entries["commento.oscura"].dettagli == {"servizio": "anagrafe", "lunghezza": len(PERSONAL)}
    assert entries["commento.elimina"].dettagli == {"servizio": "anagrafe", "lunghezza": len(TEXTS["basso"])}
    for entry in catalogue.scalars(select(AuditLog)):
        logged = json.dumps([entry.oggetto, entry.dettagli], ensure_ascii=False)
        assert "Mario" not in logged and "Attesa" not in logged
    assert totals() == before
    assert catalogue.scalar(select(func.count()).select_from(Risposta).where(Risposta.testo.is_not(None))) == 5
    # Doing it again changes nothing and logs nothing more.
    assert post(manager, f"/staff/commenti/{target}/oscura", conferma="1").status_code == 302
    assert catalogue.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.azione.like("commento.%"))) == 2


def test_transparency_marks_but_does_not_redact(transparency, answers, catalogue):
    target = answers["alto"]
    assert post(transparency, f"/staff/commenti/{target}/oscura", conferma="1").status_code == 403
    assert post(transparency, f"/staff/commenti/{target}/elimina", conferma="1").status_code == 403
    assert post(transparency, f"/staff/commenti/{target}/stato", stato="letto").status_code == 302
    catalogue.expire_all()
    assert catalogue.get(Risposta, target).testo == PERSONAL
    assert "Oscura il testo" not in transparency.get("/staff/commenti").get_data(as_text=True)


def test_an_admin_redacts_any_service(answers, client, runner, catalogue):
    login(client, runner, "admin@example.org", "--role", "admin")
    assert post(client, f"/staff/commenti/{answers['tributi']}/oscura", conferma="1").status_code == 302
    catalogue.expire_all()
    assert catalogue.get(Risposta, answers["tributi"]).testo == REDACTED


def test_every_post_needs_the_csrf_token(manager, answers, catalogue):
    target = answers["alto"]
    assert manager.post(f"/staff/commenti/{target}/stato", data={"stato": "letto"}).status_code == 400
    assert manager.post(f"/staff/commenti/{target}/oscura", data={"conferma": "1"}).status_code == 400
    assert manager.post(f"/staff/commenti/{target}/elimina", data={"conferma": "1"}).status_code == 400
    catalogue.expire_all()
    assert catalogue.get(Risposta, target).testo == PERSONAL and catalogue.get(CommentoStato, target) is None


def test_survey_firms_and_strangers_are_kept_out(answers, client, runner):
    assert client.get("/staff/commenti").status_code == 302  # to the login page
    login(client, runner, "firm@example.org", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Acme")
    assert client.get("/staff/commenti").status_code == 403
    token = csrf_token(client.get("/staff/password").get_data(as_text=True))
    response = client.post(f"/staff/commenti/{answers['alto']}/stato", data={"csrf_token": token, "stato": "letto"})
    assert response.status_code == 403


def test_no_download_of_comments(transparency):
    html = transparency.get("/staff/commenti").get_data(as_text=True)
    assert ".csv" not in html and ".xlsx" not in html
    assert transparency.get("/staff/commenti.csv").status_code == 404
