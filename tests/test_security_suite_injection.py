"""Security suite (2 of 2): markup and spreadsheet formulas typed into every free-text field come out inert on every
page and in every export; SQL injection through every filter parameter finds nothing to break.

Payloads go in the way people type them (the admin's catalogue and campaign pages, the improvement actions, the
users and API tokens pages, a citizen's comment, a firm's upload and API rows); pages and exports are then read
from the URL map and from the links the pages themselves offer, with real readers (csv, openpyxl, pandas/odf).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from html.parser import HTMLParser
from urllib.parse import urlsplit

import openpyxl
import pandas as pd

from analysis.publish import FORMULA_STARTS
from survey_app.api.auth import create_token
from survey_app.extensions import db as _db
from survey_app.staff.comments import FILTERS as COMMENT_FILTERS
from survey_app.staff.selection import FILTER_NAMES, PERIOD_NAMES
from survey_app.users.routes import AUDIT_FILTERS

from .helpers import csrf_token, hidden_fields
from .test_imports import HEADER
from .test_security_suite import YEAR, counts, every_url, site  # noqa: F401  (fixture)
from .test_staff_route_matrix import world  # noqa: F401  (fixture)

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HYPERLINK = '=HYPERLINK("http://evil.example","x")'
CMD = "+cmd|' /C calc'!A0"
# A formula at the start of each text (what a spreadsheet would run), markup after it (what a browser would).
TEXTS = {"service": HYPERLINK + SCRIPT, "sede": "@SUM(1)" + SCRIPT, "standard": CMD + SCRIPT,
         "question": "-2+3 " + SCRIPT, "action": CMD + IMG, "campaign": "-2+3" + IMG, "firm": "@SUM(1)" + IMG,
         "comment": HYPERLINK + SCRIPT}
SPREADSHEET = {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "application/vnd.oasis.opendocument.spreadsheet"}
NUMBER = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?(?:[eE]-?[0-9]+)?")


class Forms(HTMLParser):
    """The fields of each form of a page, by the address it posts to: {action: {name: [values]}}."""

    def __init__(self, page: str):
        super().__init__()
        self.page, self.forms, self.form, self.select, self.options, self.textarea = page, {}, None, None, [], None

    def add(self, name, value) -> None:
        if self.form is not None and name:
            self.form.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.form = self.forms.setdefault(a.get("action") or self.page, {})
        elif tag == "input" and a.get("type") not in ("submit", "button", "file", "image", "reset"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.add(a.get("name"), a.get("value", ""))
        elif tag == "textarea":
            self.textarea = [a.get("name"), ""]
        elif tag == "select":
            self.select, self.options = [a.get("name"), "multiple" in a, []], []
        elif tag == "option" and self.select:
            self.options.append(a.get("value", ""))
            if "selected" in a:
                self.select[2].append(a.get("value", ""))

    def handle_data(self, data):
        if self.textarea:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "textarea" and self.textarea:
            name, text = self.textarea
            self.add(name, text[2:] if text.startswith("\r\n") else text[1:] if text.startswith("\n") else text)
            self.textarea = None
        elif tag == "select" and self.select:
            name, multiple, chosen = self.select
            for value in chosen or ([] if multiple or not self.options else self.options[:1]):
                self.add(name, value)
            self.select = None


def forms_of(response, page: str) -> dict[str, dict[str, list[str]]]:
    parser = Forms(page)
    parser.feed(response.get_data(as_text=True))
    return parser.forms


def post_form(client, page: str, action: str | None = None, **changes):
    """GET ``page``, fill its form posting to ``action`` (the page itself by default) as shown, change some fields,
    POST it."""
    path = urlsplit(page).path
    return client.post(action or page, data={**forms_of(client.get(page), path)[action or path], **changes})


def rows_of(response) -> list[list]:
    """Every cell of a downloaded table, read as a person's spreadsheet reads it."""
    body = response.data
    if response.mimetype == "text/csv":
        text = body.decode("utf-8-sig")
        header = text.splitlines()[0]
        return list(csv.reader(io.StringIO(text), delimiter=";" if header.count(";") > header.count(",") else ","))
    if response.mimetype.endswith(".sheet"):
        book = openpyxl.load_workbook(io.BytesIO(body))
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
        assert all(c.data_type != "f" for c in cells), "a formula cell"
        return [[c.value for c in cells]]
    assert b"table:formula" not in zipfile.ZipFile(io.BytesIO(body)).read("content.xml"), "a formula cell"
    sheets = pd.read_excel(io.BytesIO(body), engine="odf", sheet_name=None, header=None)
    return [list(row) for frame in sheets.values() for row in frame.itertuples(index=False)]


def inert(value) -> bool:
    """Text a spreadsheet shows as text: not starting with = + - @ tab or CR, unless it is a plain number."""
    return not (isinstance(value, str) and value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value))


def check_page(response, where: str) -> str:
    text = response.get_data(as_text=True) if response.mimetype in ("text/html", "image/svg+xml") else ""
    if response.mimetype == "text/html":
        assert SCRIPT not in text and "<img src=x" not in text, where
        assert not re.search(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", text, re.I), where
    elif response.mimetype == "image/svg+xml":
        assert "<script" not in text and "<img" not in text, where
    return text


def _seed(app, prepared: dict) -> dict:
    """Every free-text field filled with its payload, through the pages, the public form, an upload and the API."""
    admin, values = prepared["admin"], prepared["values"]
    service = "/staff/catalogo/servizi/anagrafe"

    def done(response, status=302):
        errors = re.findall(r'class="(?:error-message|alert alert-danger)[^"]*"[^>]*>([^<]*)', response.get_data(as_text=True))
        assert response.status_code == status, (response.request.path, errors)

    done(post_form(admin, service, nome_it=TEXTS["service"], nome_en="javascript:alert(1)", descrizione_it=IMG))
    done(post_form(admin, f"{service}/sedi/{values['sede_id']}", nome=TEXTS["sede"], indirizzo=IMG))
    # From the year after the one already published: a published year keeps the targets it was published with.
    done(post_form(admin, service, action=f"{service}/standard", indicatore="media", soglia="4", domanda="D1",
                   descrizione=TEXTS["standard"], dal=str(YEAR + 1)))
    wording = forms_of(admin.get("/staff/catalogo/questionari/breve"), "/staff/catalogo/questionari/breve")
    d3 = next(name for name, value in wording["/staff/catalogo/questionari/breve"].items()
              if value == ["Complessivamente, quanto è soddisfatto?"])
    done(post_form(admin, "/staff/catalogo/questionari/breve", **{d3: TEXTS["question"]}))
    done(post_form(admin, "/staff/azioni/nuova?servizio=anagrafe", titolo=TEXTS["action"],
                   descrizione="\t=1+1" + SCRIPT, esito="@SUM(1)" + IMG, domanda_codice="D3",
                   data_inizio=f"{YEAR}-01-01", data_scadenza=f"{YEAR}-12-31"))
    done(post_form(admin, "/staff/rilevazioni/", codice="xss", titolo=TEXTS["campaign"], questionario="breve",
                   servizi=["anagrafe"], data_inizio=f"{YEAR}-01-01", data_fine=f"{YEAR}-12-31"))
    done(post_form(admin, "/staff/utenti/", email="firm@xss.example", ruolo="rilevatore", servizi=["anagrafe"],
                   societa=TEXTS["firm"]), 200)
    done(post_form(admin, "/staff/token-api/", nome=TEXTS["action"], societa=TEXTS["firm"], servizi=["anagrafe"]), 200)
    # A citizen's comments (two, each with its own one-time token).
    citizen = app.test_client()
    for comment in (TEXTS["comment"], "\r=1+1" + IMG):
        fields = hidden_fields(citizen.get("/s/anagrafe?nuovo=1").get_data(as_text=True))
        done(citizen.post("/s/anagrafe", data={**fields, "D3": "2", "D7": comment}))
    # A firm's file, with a bad row whose cell is a formula, uploaded by the admin; then the firm's API rows.
    lines = [f"U{i};1{i}/03/{YEAR};anagrafe;;sportello-1;5;;;{4 + i % 2};;;;{TEXTS['comment'] if i else CMD}"
             for i in range(6)]
    lines.append(f"U9;15/03/{YEAR};anagrafe;;;5;;;=1+1;;;;{SCRIPT}")
    token = csrf_token(admin.get("/staff/importazioni/carica").get_data(as_text=True))
    preview = admin.post("/staff/importazioni/carica", content_type="multipart/form-data",
                         data={"csrf_token": token, "questionario": "breve", "metodo": "PAPI", "societa": "Demoskopika",
                               "file": (io.BytesIO("\n".join([HEADER, *lines]).encode()), "<img src=x onerror=alert(1)>.csv")})
    done(preview, 200)
    # The preview's error report (gone once the upload is confirmed).
    report = re.search(r'href="(/staff/importazioni/errori/[^"]+)"', preview.get_data(as_text=True))[1]
    errors = admin.get(report.replace("&amp;", "&"))
    assert errors.mimetype == "text/csv"
    confirm = {**forms_of(preview, "")["/staff/importazioni/conferma"], "escludi_non_valide": "y"}
    done(admin.post("/staff/importazioni/conferma", data=confirm))
    with app.app_context():
        _token, secret = create_token(_db.session, TEXTS["action"], TEXTS["firm"], ["anagrafe"])
    rows = [{"id_esterno": f"A{i}", "data": f"20/04/{YEAR}", "servizio": "anagrafe", "D3": 3, "D7": HYPERLINK}
            for i in range(5)]
    api = admin.post("/api/v1/imports", json={"questionario": "breve", "metodo": "CATI", "righe": rows},
                     headers={"Authorization": f"Bearer {secret}"})
    done(api, 201)
    done(post_form(admin, "/staff/trasparenza/", action="/staff/trasparenza/pubblica", anno=str(YEAR), conferma="1"))
    return {"preview": preview, "exports": [(urlsplit(report).path, rows_of(errors))]}


def test_markup_and_formulas_come_out_inert_on_every_page_and_in_every_export(app, site, tmp_path):  # noqa: F811
    seeded = _seed(app, site)
    admin, anonymous = site["admin"], app.test_client()
    # The campaign's page first: its downloads carry the campaign's title (each download is then fetched once).
    pages = ["/staff/servizi/anagrafe?rilevazione=xss", f"/staff/?anno={YEAR}", f"/staff/servizi/anagrafe?anno={YEAR}",
             f"/staff/servizi/anagrafe/domande/D3?anno={YEAR}", f"/staff/servizi/anagrafe/domande/D6?anno={YEAR}",
             "/staff/commenti?q=script", f"/trasparenza/{YEAR}/anagrafe", "/staff/catalogo/servizi/anagrafe",
             f"/staff/catalogo/servizi/anagrafe/sedi/{site['values']['sede_id']}"]
    # PDF, PNG and ZIP files neither run scripts nor open in a spreadsheet: the rest is read.
    pages += [url for _endpoint, url in every_url(app, "GET", site["values"])
              if not urlsplit(url).path.endswith((".pdf", ".png", ".zip"))]
    seen, shown, exports = set(), {}, seeded["exports"]
    check_page(seeded["preview"], "import preview")
    # The English questionnaire by a citizen only: the language sticks to a session, and the staff pages checked
    # below show the Italian names (in English they show the catalogue's English ones).
    queue = [(admin, url) for url in pages] + [(anonymous, url) for url in pages if not url.startswith("/staff")]
    pages.append("/s/anagrafe?lang=en")
    queue.append((anonymous, pages[-1]))
    links = re.compile(r'href="([^"]*(?:\.(?:csv|xlsx|ods)|/dati/[^"]*|dati\.[a-z]+)(?:\?[^"]*)?)"')
    while queue:
        client, url = queue.pop(0)
        key = (client is admin, url if url in pages else urlsplit(url).path)
        if key in seen:
            continue
        seen.add(key)
        with client.get(url) as response:
            assert response.status_code < 500, url
            text = check_page(response, url)
            if response.mimetype == "text/html":
                shown[url] = text
                queue += [(client, u.replace("&amp;", "&")) for u in links.findall(text)]
            elif response.mimetype in SPREADSHEET:
                exports.append((url, rows_of(response)))
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for url in ("/staff/commenti", f"/staff/servizi/anagrafe?anno={YEAR}", "/staff/catalogo/servizi/anagrafe",
                f"/staff/servizi/anagrafe/domande/D3?anno={YEAR}", f"/trasparenza/{YEAR}", "/staff/azioni/"):
        assert escaped in shown[url], url
    for url in ("/staff/utenti/", "/staff/token-api/", "/staff/importazioni/", "/staff/rilevazioni/"):
        assert "&lt;img src=x onerror=alert(1)&gt;" in shown[url], url
    # Every export of the staff area and of the publication, and the files `flask export transparency` writes.
    out = tmp_path / "pubblicazione"
    result = app.test_cli_runner().invoke(args=["export", "transparency", "--year", str(YEAR), "--out", str(out)])
    assert result.exit_code == 0, result.output
    for path in sorted(out.iterdir()):
        kind = {".csv": "text/csv", ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ".ods": "application/vnd.oasis.opendocument.spreadsheet"}.get(path.suffix)
        if kind:
            exports.append((path.name, rows_of(app.response_class(path.read_bytes(), mimetype=kind))))
    names = {urlsplit(url).path for url, _rows in exports}
    assert len(exports) >= 25 and {"/staff/registro.csv", "/staff/panoramica.xlsx", f"soddisfazione-{YEAR}.ods",
                                   f"/staff/trasparenza/relazione/{YEAR}.xlsx"} <= names, sorted(names)
    assert any(re.fullmatch(r"/staff/importazioni/errori/[0-9a-f]{64}\.csv", n) for n in names), sorted(names)
    cells = []
    for url, rows in exports:
        for row in rows:
            for value in row:
                assert inert(value), (url, value)
                cells.append(str(value))
    # The payloads did reach the exports, neutralised the project's way: a leading apostrophe, nothing else changed.
    for text in (TEXTS["service"], TEXTS["question"], TEXTS["action"], TEXTS["campaign"], TEXTS["firm"], "=1+1"):
        assert "'" + text in cells, text


# --- SQL injection -------------------------------------------------------------------------------------------------

ATTACKS = ["' OR '1'='1", "1; DROP TABLE risposte--", "'; DROP TABLE utenti; --", '" OR ""="',
           "1 UNION SELECT email, password_hash FROM utenti--", "%27", "1'; SELECT pg_sleep(5)--",
           "ʼ OR 1=1—２０２５", "%_%", "9" * 40, "A" * 5000 + "'"]
SQL_ERRORS = ("Traceback", "sqlalchemy", "sqlite3", "psycopg", "OperationalError", "ProgrammingError", "DataError",
              "syntax error", "unrecognized token", "SQL:", "pg_catalog")


def test_sql_injection_through_every_filter_finds_nothing_to_break(app, site):  # noqa: F811
    admin, bearer = site["admin"], {"Authorization": f"Bearer {site['bearer']}"}
    selection = [*FILTER_NAMES, *PERIOD_NAMES]
    by_url = {"/staff/": ["anno", "ordina", "verso", "ente"], "/staff/panoramica.csv": ["anno", "ordina", "ente"],
              "/staff/servizi/anagrafe": selection, "/staff/servizi/anagrafe/dati/indicatori.csv": selection,
              "/staff/servizi/anagrafe/domande/D3": selection, "/staff/commenti": [*COMMENT_FILTERS, "pagina"],
              "/staff/registro": [*AUDIT_FILTERS, "pagina"], "/staff/registro.csv": list(AUDIT_FILTERS),
              "/staff/azioni/": ["servizio"], "/staff/azioni/nuova": ["servizio"], "/staff/qr/anagrafe.svg": ["sede"],
              f"/trasparenza/{YEAR}": ["versione", "ente"], f"/trasparenza/{YEAR}/anagrafe": ["versione", "ente"],
              "/s/anagrafe": ["canale", "sede", "lang", "nuovo"], "/k/anagrafe": ["sede", "lang"],
              f"/staff/importazioni/errori/{'0' * 64}.csv": ["questionario", "metodo"], "/trasparenza/": ["lang", "ente"]}
    paths = ["/staff/servizi/{}", "/staff/servizi/anagrafe/domande/{}", "/s/{}", "/k/{}", f"/trasparenza/{YEAR}/{{}}",
             "/staff/catalogo/servizi/{}", "/staff/catalogo/questionari/{}", "/staff/qr/{}.pdf",
             "/staff/importazioni/modello/{}.csv", "/api/v1/imports/{}", "/staff/azioni/{}"]
    before = counts(app)
    requests = 0
    for attack in ATTACKS:
        calls = [(url, {name: attack}) for url, names in by_url.items() for name in names]
        calls += [(path.format(attack.replace("/", "")), {}) for path in paths]
        for url, query in calls:
            response = admin.get(url, query_string=query, headers=bearer if url.startswith("/api/") else {})
            assert response.status_code in (200, 400, 404), (url, query, response.status_code)
            text = response.get_data(as_text=True)
            assert not any(marker in text for marker in SQL_ERRORS), (url, query)
            requests += 1
        # Posted fields: the API's questionnaire, service, row id and answer; the login's e-mail and password.
        body = {"questionario": attack[:100], "metodo": "CATI", "dry_run": True,
                "righe": [{"id_esterno": attack[:200], "data": f"15/03/{YEAR}", "servizio": attack[:100], "D3": attack}]}
        api = admin.post("/api/v1/imports", json=body, headers=bearer)
        assert api.status_code in (400, 422) and not any(m in api.get_data(as_text=True) for m in SQL_ERRORS)
        login = app.test_client()
        token = csrf_token(login.get("/staff/login").get_data(as_text=True))
        refused = login.post("/staff/login", data={"csrf_token": token, "email": attack, "password": attack})
        assert refused.status_code in (400, 401) and not any(m in refused.get_data(as_text=True) for m in SQL_ERRORS)
    assert requests >= 800

    # LIKE wildcards are searched for as typed, not as wildcards.
    def found(q: str) -> int:
        return admin.get("/staff/commenti", query_string={"q": q}).get_data(as_text=True).count("Un commento")

    assert found("commento") == found("nessun-testo") + 1
    assert found("%") == found("_") == found("%commento") == found("nessun-testo")
    after = counts(app)  # every table still there…
    assert {k: v for k, v in after.items() if k != "audit_log"} == {k: v for k, v in before.items() if k != "audit_log"}
    assert after["audit_log"] - before["audit_log"] <= len(ATTACKS)  # …and only the failed logins recorded
