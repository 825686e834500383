"""Security suite (1 of 2): CSRF on every POST of the URL map, open redirects and the one helper that stops them,
the security headers on every route and error page, path traversal in every download, upload size limits.

Every URL comes from the app's URL map with a real object behind each part (the staff route matrix's ``world``),
so a new route is checked without anyone adding it here. XSS, formula and SQL injection: test_security_suite_injection.
"""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from flask import url_for
from flask.globals import _cv_app

from survey_app.api.auth import create_token
from survey_app.extensions import db as _db
from survey_app.transparency.publishing import publish_year
from survey_app.urls import safe_local_url

from .helpers import csrf_token, hidden_fields, log_in, table_counts
from .test_imports import HEADER
from .test_staff_route_matrix import staff_rules, world  # noqa: F401  (fixture)

YEAR = 2025
# POST routes outside the staff area (the matrix checks those): each one is checked here, and
# test_every_post_route_is_checked_for_csrf makes sure a new one cannot slip between the two.
NON_STAFF_POSTS = {"public.questionnaire", "kiosk.tap", "kiosk.reasons", "staff.login", "api.create_import"}
# URL parts of the routes outside /staff whose value differs from the matrix's (which serve the staff ones).
ENDPOINT_ARGS = {"transparency.service_or_file": {"name": "anagrafe"},
                 "transparency.download": {"versione": 1, "name": f"soddisfazione-{YEAR}.csv"},
                 "kiosk.legal_page": {"page": "privacy"},
                 "static": {"filename": "css/app.css"}}
SENTINEL = "SENTINEL-SECRET-7f3a9c"


def every_url(app, method: str, values: dict) -> list[tuple[str, str]]:
    """(endpoint, URL) of every route taking ``method``: the matrix's staff URLs, and the others built here."""
    found = [(endpoint, url) for endpoint, url, _roles in staff_rules(app, method, values)]
    for rule in app.url_map.iter_rules():
        if method in rule.methods and (not rule.rule.startswith("/staff") or rule.endpoint == "staff.login"):
            args = {name: values.get(name, 1) for name in rule.arguments} | ENDPOINT_ARGS.get(rule.endpoint, {})
            with app.test_request_context():
                found.append((rule.endpoint, url_for(rule.endpoint, **args)))
    return sorted(found)


@pytest.fixture
def site(app, db, world):  # noqa: F811  (the matrix's fixture)
    """The matrix's world, its year published, an API token, a secret file in the instance folder, an admin logged in.

    The test itself runs outside the ``db`` fixture's app context: each request then gets its own (and its own
    ``g``, where Flask-Login and Flask-WTF cache the user and the CSRF token), as in production.
    """
    publish_year(db, YEAR, actor="test")
    _token, secret = create_token(db, "Sicurezza", "Doxa", ["anagrafe", "tributi"])
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "secret_key").write_text(SENTINEL)
    context = _cv_app.get()
    context.pop()
    admin = app.test_client()
    log_in(admin, "admin@matrice.it", world["passwords"]["admin"])
    yield {**world, "values": {**world["values"], "anno": YEAR}, "admin": admin, "bearer": secret}
    context.push()  # for the db fixture to close


def counts(app) -> dict[str, int]:
    with app.app_context():
        return table_counts(_db.session)


def lands_on_site(url: str) -> bool:
    """Whether a browser following ``url`` (from a Location header or an href) stays on this site.

    Browsers drop tabs and line breaks anywhere, strip C0 controls and spaces at the ends and read a backslash
    as a slash.
    """
    cleaned = re.sub(r"[\t\n\r]", "", unescape(url)).strip("".join(map(chr, range(33)))).replace("\\", "/")
    return urlsplit(urljoin("http://localhost/staff/login", cleaned)).netloc == "localhost"


# --- CSRF ---------------------------------------------------------------------------------------------------------


def test_every_post_route_is_checked_for_csrf(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods}
    staff = {endpoint for endpoint, _url, _roles in staff_rules(app, "POST", {})}
    assert len(staff) >= 25
    assert posts - staff == NON_STAFF_POSTS, "a POST route outside /staff without a CSRF test here"


def test_posts_outside_the_staff_area_without_their_csrf_token_are_refused_and_write_nothing(app, site):
    client, other = app.test_client(), app.test_client()
    foreign = csrf_token(other.get("/staff/login").get_data(as_text=True))  # valid, but another browser's
    fields = hidden_fields(client.get("/s/anagrafe").get_data(as_text=True))
    client.get("/k/anagrafe?sede=sportello-1")
    before = counts(app)
    for token in ({}, {"csrf_token": foreign}, {"csrf_token": "x"}):
        answers = {"form_token": fields["form_token"], "D3": "4", "D7": "senza token", **token}
        assert client.post("/s/anagrafe", data=answers).status_code == 400, token
        assert client.post("/k/anagrafe?sede=sportello-1", data={"D1": "3", **token}).status_code == 400, token
        login = client.post("/staff/login", data={"email": "admin@matrice.it",
                                                  "password": site["passwords"]["admin"], **token})
        assert login.status_code == 400, token
    assert client.get("/staff/password").status_code == 302  # not logged in
    # The API takes a bearer token only: a staff session's cookie is no credential there.
    admin = site["admin"]
    body = {"questionario": "breve", "metodo": "CATI",
            "righe": [{"id_esterno": "C1", "data": "15/03/2025", "servizio": "tributi", "D3": 4}]}
    refused = admin.post("/api/v1/imports", json=body)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert admin.get("/api/v1/imports").status_code == 401
    assert admin.get("/staff/password").status_code == 200  # the cookie is a live staff session
    assert counts(app) == before
    # The same posts with the token go through: nothing above was refused for another reason.
    assert client.post("/s/anagrafe", data={**fields, "D3": "4"}).status_code == 302
    kiosk_token = csrf_token(client.get("/k/anagrafe?sede=sportello-1").get_data(as_text=True))
    assert client.post("/k/anagrafe?sede=sportello-1", data={"D1": "1", "csrf_token": kiosk_token}).status_code == 302
    before = counts(app)
    reasons = {"motivi": "tempo-attesa", "invia": "1"}
    assert client.post("/k/anagrafe/motivi?sede=sportello-1", data=reasons).status_code == 400
    assert counts(app) == before
    assert client.post("/k/anagrafe/motivi?sede=sportello-1",
                       data={**reasons, "csrf_token": kiosk_token}).status_code == 302
    assert counts(app)["risposte"] == before["risposte"] + 1
    dry_run = client.post("/api/v1/imports", json={**body, "dry_run": True},
                          headers={"Authorization": f"Bearer {site['bearer']}"})
    assert dry_run.status_code == 200 and dry_run.json["stato"] == "verificato", dry_run.json
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    login = client.post("/staff/login", data={"email": "admin@matrice.it", "password": site["passwords"]["admin"],
                                              "csrf_token": token})
    assert login.status_code == 302 and client.get("/staff/password").status_code == 200


# --- Open redirects -------------------------------------------------------------------------------------------------

LOCAL = ["/", "/staff/", "/staff/commenti?anno=2025&q=a%20b", "/s/anagrafe?canale=qr#domanda", "/a/b/../c"]
AWAY = ["//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "/\\/evil.example",
        "https://evil.example", "http:evil.example", "javascript:alert(1)", "data:text/html,x", "evil.example",
        "/\t/evil.example", "\t//evil.example", "/\n/evil.example", "/\r/evil.example", "/\x0b/evil.example",
        "/\x00/evil.example", " //evil.example", "", None]


def test_the_helper_keeps_paths_of_this_site_only():
    for target in LOCAL:
        assert safe_local_url(target, "/riserva") == target and lands_on_site(target)
    for target in AWAY:
        assert safe_local_url(target, "/riserva") == "/riserva", repr(target)
    # The oracle the other tests use: it reads these as a browser does.
    for target in ("//evil.example", "/\\evil.example", "\\\\evil.example", "/\t/evil.example", " //evil.example",
                   "https://evil.example"):
        assert not lands_on_site(target), repr(target)


def test_the_login_never_sends_anyone_off_site(app, catalogue):
    from survey_app.users import create_user

    _user, password = create_user(catalogue, "redirect@example.org", "admin")
    catalogue.commit()
    tried = ["//evil.example", "/%09/evil.example", "/%5Cevil.example", "/%5C%5Cevil.example", "https://evil.example",
             "%09//evil", "/%0B/evil", "/%2F/evil.example", "%2F%2Fevil.example", "/\\evil.example",
             "javascript:alert(1)", "/staff/commenti?anno=2025"]
    for target in tried:
        client = app.test_client()
        page = client.get(f"/staff/login?next={target}")
        if page.status_code == 400:  # a control character: refused before the view (errors.py)
            assert "caratteri di controllo" in page.get_data(as_text=True), target
            continue
        token = csrf_token(page.get_data(as_text=True))
        done = client.post(f"/staff/login?next={target}", data={"csrf_token": token, "email": "redirect@example.org",
                                                               "password": password})
        location = done.headers["Location"]
        assert done.status_code == 302 and lands_on_site(location), (target, location)
        # A path of this site goes through as given ("/%2F/evil.example" is one: browsers do not decode it).
        assert location in ("/staff/", "/staff/commenti?anno=2025", "/%2F/evil.example"), (target, location)
    assert client.get("/staff/password").status_code == 200  # the last login went through


def test_links_built_from_the_address_stay_on_site(app, catalogue):
    client = app.test_client()
    pages = [client.get("/%5Cevil.example"), client.get("/%5C%5Cevil.example/x?canale=qr"),
             client.get("/", environ_overrides={"PATH_INFO": "//evil.example/x"}),
             client.get("/", environ_overrides={"PATH_INFO": "/\\evil.example"}),
             client.get("/%09/evil.example"), client.get("/s/%5Cevil?lang=en"), client.get("/staff/%5Cevil.example")]
    for response in pages:
        text = response.get_data(as_text=True)
        assert response.status_code in (400, 404), response.request.path
        links = re.findall(r'(?:href|src|action)="([^"]*)"', text)
        assert len(links) > 5
        for link in links:
            assert lands_on_site(link), (response.request.path, link)
        lang = unescape(re.search(r'class="lang-link" href="([^"]*)"', text)[1])
        assert "evil" not in lang or lang.startswith("/evil.example/x?"), lang  # Werkzeug's path drops a leading //
    assert 'class="lang-link" href="/?lang=en"' in pages[0].get_data(as_text=True)
    assert "?canale=qr&amp;lang=en" in pages[1].get_data(as_text=True)
    # An ordinary page keeps its own address, query included.
    page = app.test_client().get("/s/anagrafe?canale=qr&sede=sportello-1").get_data(as_text=True)
    assert 'class="lang-link" href="/s/anagrafe?canale=qr&amp;sede=sportello-1&amp;lang=en"' in page


# --- Security headers ----------------------------------------------------------------------------------------------


def check_headers(response, where: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'"):
        assert directive in csp, (where, response.status_code, directive)
    assert headers.get("X-Frame-Options") == "DENY", where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", where
    scripts = re.search(r"script-src ([^;]*)", csp)
    assert scripts and "'unsafe-inline'" not in scripts[1] and "'unsafe-eval'" not in scripts[1], where
    if response.mimetype == "text/html":
        # Every inline script carries this response's nonce: nothing else runs.
        nonce = re.search(r"'nonce-([^']+)'", scripts[1])
        for tag in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", response.get_data(as_text=True)):
            assert nonce and f'nonce="{nonce[1]}"' in tag, (where, tag)


def test_every_route_and_every_error_page_sends_the_security_headers(app, site):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    admin, anonymous = site["admin"], app.test_client()
    urls = every_url(app, "GET", site["values"])
    assert len(urls) >= 50 and {"static", "transparency.download", "api.get_import", "kiosk.faces"} <= dict(urls).keys()
    statuses = set()
    for client in (admin, anonymous):
        for endpoint, url in urls:
            response = client.get(url)
            assert response.status_code < 500, (endpoint, url)
            statuses.add(response.status_code)
            check_headers(response, url)
            response.close()
    assert {200, 302, 401, 404} <= statuses
    # Error pages, from the site's own handlers and from the API's.
    responsabile = app.test_client()
    log_in(responsabile, "responsabile@matrice.it", site["passwords"]["responsabile"])
    errors = {400: admin.get("/staff/servizi/anagrafe?anno=abc"), 403: responsabile.get("/staff/utenti/"),
              404: anonymous.get("/nessuna-pagina"), 405: anonymous.get("/staff/logout")}
    app.config["MAX_CONTENT_LENGTH"] = 1024
    errors[413] = anonymous.post("/s/anagrafe", data={"D7": "x" * 4096})
    app.config["SUBMIT_RATE_LIMIT"] = "1 per minute"
    fields = hidden_fields(anonymous.get("/s/anagrafe").get_data(as_text=True))
    anonymous.post("/s/anagrafe", data={**fields, "D3": "4"})
    errors[429] = anonymous.post("/s/anagrafe", data={**fields, "D3": "4"})

    def broken():
        raise RuntimeError("guasto")

    app.view_functions["public.privacy"] = broken
    errors[500] = anonymous.get("/privacy")
    api = {401: anonymous.get("/api/v1/imports"), 404: anonymous.get("/api/v1/nessuna"),
           405: anonymous.delete("/api/v1/imports"),
           413: anonymous.post("/api/v1/imports", json={"righe": ["x" * 2048]},
                               headers={"Authorization": f"Bearer {site['bearer']}"})}
    for status, response in errors.items():
        assert response.status_code == status and response.mimetype == "text/html"
        assert '<html lang="it">' in response.get_data(as_text=True)
        check_headers(response, f"error {status}")
    for status, response in api.items():
        assert response.status_code == status and response.is_json and response.json["errore"]
        check_headers(response, f"API error {status}")


# --- Path traversal ------------------------------------------------------------------------------------------------

TRAVERSALS = ["../../../../../../etc/passwd", "..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
              "%2e%2e/%2e%2e/%2e%2e/etc/passwd", "..%5c..%5c..%5cetc%5cpasswd", "....//....//etc/passwd",
              "..%252f..%252fetc%252fpasswd", "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "/etc/passwd", "%2Fetc%2Fpasswd",
              "..%00.csv", "../instance/secret_key", "..%2Finstance%2Fsecret_key", "../__init__.py", "..\\__init__.py"]
# Each route that names a file or a format, with {} where the name goes.
FILE_ROUTES = ["/static/{}", "/static/css/{}", "/favicon.ico/{}", "/staff/servizi/anagrafe/dati/{}.csv",
               "/staff/servizi/anagrafe/dati/indicatori.{}", "/staff/servizi/anagrafe/domande/{}/dati.csv",
               "/staff/panoramica.{}", f"/trasparenza/{YEAR}/{{}}", f"/trasparenza/{YEAR}/v1/{{}}",
               "/staff/qr/{}.svg", "/staff/qr/anagrafe.{}", "/staff/qr/anagrafe.svg?sede={}",
               "/staff/importazioni/errori/{}.csv", "/staff/importazioni/modello/{}.csv",
               "/staff/importazioni/modello/breve.{}", f"/staff/trasparenza/relazione/{YEAR}.{{}}",
               "/staff/registro.{}"]
FORBIDDEN = ("root:x:0:", SENTINEL, "SQLite format 3", "def create_app", "SECRET_KEY")


def test_no_download_serves_a_file_outside_its_own_data(app, site):
    admin = site["admin"]
    absolute = str(Path(app.instance_path) / "secret_key")
    served = 0
    for route in FILE_ROUTES:
        for name in [*TRAVERSALS, absolute, absolute.lstrip("/")]:
            url = route.format(name)
            response = admin.get(url)
            while response.status_code in (301, 308):  # merged slashes: followed, on this site only
                assert lands_on_site(response.headers["Location"]), url
                response = admin.get(response.headers["Location"])
            assert response.status_code in (400, 404), (url, response.status_code)
            body = response.get_data(as_text=True)
            assert not any(secret in body for secret in FORBIDDEN), url
            served += 1
    assert served >= 250
    # The same routes serve their own files.
    with admin.get("/static/css/app.css") as static:
        assert static.status_code == 200
    assert admin.get(f"/trasparenza/{YEAR}/v1/soddisfazione-{YEAR}.csv").status_code == 200
    assert admin.get("/staff/qr/anagrafe.svg?sede=sportello-1").status_code == 200


# --- Upload size limits --------------------------------------------------------------------------------------------


def test_uploads_over_the_limit_are_a_413_in_italian_and_write_nothing(app, site):
    admin = site["admin"]
    app.config["MAX_CONTENT_LENGTH"] = 4096
    big = (HEADER + "\n" + "X;15/03/2025;anagrafe;;;5;;;5;;;;\n" * 300).encode()
    bearer = {"Authorization": f"Bearer {site['bearer']}"}
    before = counts(app)
    token = csrf_token(admin.get("/staff/importazioni/carica").get_data(as_text=True))
    pages = [admin.post("/staff/importazioni/carica", content_type="multipart/form-data",
                        data={"csrf_token": token, "questionario": "breve", "metodo": "PAPI", "societa": "Demoskopika",
                              "file": (io.BytesIO(big), "lotto.csv")}),
             app.test_client().post("/s/anagrafe", data={"D3": "4", "D7": "x" * 5000}),
             app.test_client().post("/k/anagrafe", data={"D1": "1", "x": "y" * 5000})]
    for page in pages:
        text = unescape(page.get_data(as_text=True))
        assert page.status_code == 413 and 'lang="it"' in text and "File o modulo troppo grande" in text, page.request.path
    api = [admin.post("/api/v1/imports", headers=bearer, content_type="multipart/form-data",
                      data={"questionario": "breve", "metodo": "CATI", "file": (io.BytesIO(big), "lotto.csv")}),
           admin.post("/api/v1/imports", headers=bearer, json={"questionario": "breve", "metodo": "CATI",
                                                               "righe": [{"D7": "x" * 5000}]})]
    for response in api:
        assert response.status_code == 413 and response.json["errore"].startswith("richiesta troppo grande")
    assert counts(app) == before
    # Under the limit, the same upload is read (and previewed): the 413 was the size, nothing else.
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    preview = admin.post("/staff/importazioni/carica", content_type="multipart/form-data",
                         data={"csrf_token": token, "questionario": "breve", "metodo": "PAPI", "societa": "Demoskopika",
                               "file": (io.BytesIO(big), "lotto.csv")})
    assert preview.status_code == 200
