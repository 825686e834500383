"""The firms' token API: same checks and writes as the CLI, per-firm scope, JSON errors in Italian, rate limits."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import func, select

from survey_app.models import ApiToken, AuditLog, Compilazione, ImportBatch, Rilevazione, Servizio

from .helpers import csrf_token, login
from .test_imports import HEADER

ROW = {"id_esterno": "T1", "data": "15/03/2025", "servizio": "anagrafe", "D1": 5, "D3": "Molto soddisfatto"}


def new_token(runner, firm: str = "Demoskopika", *scope: str) -> str:
    scope_args = [arg for slug in (scope or ("anagrafe",)) for arg in ("--scope", slug)]
    result = runner.invoke(args=["api-tokens", "create", f"{firm} CATI", "--firm", firm, *scope_args])
    assert result.exit_code == 0, result.output
    return result.output.rsplit(": ", 1)[1].strip()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def post_rows(client, secret: str, rows: list[dict], **fields):
    body = {"questionario": "breve", "metodo": "CATI", "righe": rows, **fields}
    return client.post("/api/v1/imports", json=body, headers=bearer(secret))


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_json_rows_land_once_as_the_tokens_firm_and_the_batch_can_be_read_back(catalogue, client, runner):
    servizio = catalogue.scalar(select(Servizio).filter_by(slug="anagrafe"))
    catalogue.add(Rilevazione(codice="primavera", titolo="Primavera 2025", questionario_id=servizio.questionario_id,
                              data_inizio=date(2025, 3, 1), data_fine=date(2025, 4, 30), servizi=[servizio]))
    catalogue.commit()
    secret = new_token(runner)
    rows = [ROW, {**ROW, "id_esterno": "T2", "D1": "4", "D3": 3, "canale": "sportello"}]
    done = post_rows(client, secret, rows, metodo="PAPI")  # paper questionnaires, one filled in at the counter
    assert done.status_code == 201, done.json
    assert done.json["stato"] == "importato" and done.json["righe_importate"] == 2 and done.json["errori"] == []
    batch = catalogue.scalar(select(ImportBatch))
    assert done.headers["Location"].endswith(f"/api/v1/imports/{batch.id}")
    assert (batch.fonte, batch.metodo, batch.utente_id, batch.righe) == ("Demoskopika", "PAPI", None, 2)
    assert batch.token_id == catalogue.scalar(select(ApiToken.id))
    assert sorted(catalogue.scalars(select(Compilazione.canale))) == ["carta", "sportello"]
    read = client.get(f"/api/v1/imports/{batch.id}", headers=bearer(secret))
    assert read.status_code == 200
    assert (read.json["stato"], read.json["righe_importate"], read.json["rilevazioni"]) == ("importato", 2,
                                                                                            ["primavera"])
    assert [b["id"] for b in client.get("/api/v1/imports", headers=bearer(secret)).json["lotti"]] == [batch.id]
    again = post_rows(client, secret, rows)  # the same rows: the same hash
    assert again.status_code == 409 and again.json["lotto"] == batch.id
    # Named by its day in the instance's time zone (at 00:30 in Rome it is still yesterday in UTC).
    created = batch.created_at if batch.created_at.tzinfo else batch.created_at.replace(tzinfo=UTC)
    assert again.json["errore"] == (f"questi dati sono già stati importati (lotto {batch.id} del "
                                    f"{created.astimezone(ZoneInfo('Europe/Rome')):%d/%m/%Y}): nessuna riga scritta")
    # A row whose id came in before is skipped, not written again nor an error: with nothing new, "invariato".
    overlap = post_rows(client, secret, [{**ROW, "D1": 1}])
    assert overlap.status_code == 200 and overlap.json["stato"] == "invariato"
    assert (overlap.json["righe_gia_importate"], overlap.json["righe_non_valide"], overlap.json["errori"]) == (1, 0, [])
    assert count(catalogue, Compilazione) == 2
    mixed = post_rows(client, secret, [{**ROW, "D1": 1}, {**ROW, "id_esterno": "T9"}])
    assert mixed.status_code == 201 and (mixed.json["righe_importate"], mixed.json["righe_gia_importate"]) == (1, 1)
    assert catalogue.get(ImportBatch, mixed.json["lotto"]).righe_scartate == 0  # skipped is not left out
    assert count(catalogue, Compilazione) == 3


def test_a_dry_run_and_invalid_rows_write_nothing_and_skip_invalid_keeps_the_good_ones(catalogue, client, runner):
    secret = new_token(runner)
    checked = post_rows(client, secret, [ROW], dry_run=True)
    assert checked.status_code == 200 and checked.json["stato"] == "verificato" and checked.json["lotto"] is None
    rows = [ROW, {**ROW, "id_esterno": "T2", "D1": 9}, {**ROW, "id_esterno": "T3", "data": "31/02/2025"}]
    refused = post_rows(client, secret, rows)
    assert refused.status_code == 422 and refused.json["stato"] == "rifiutato"
    assert [(e["riga"], e["colonna"]) for e in refused.json["errori"]] == [(2, "D1"), (3, "data")]
    assert refused.json["errori_totali"] == 2 and sum(refused.json["errori_per_motivo"].values()) == 2
    assert count(catalogue, Compilazione) == 0 and count(catalogue, ImportBatch) == 0
    kept = post_rows(client, secret, rows, skip_invalid=True)
    assert kept.status_code == 201
    assert (kept.json["righe"], kept.json["righe_importate"], kept.json["righe_non_valide"]) == (3, 1, 2)
    assert count(catalogue, Compilazione) == 1
    # The rows left out, and why, stay with the batch (the import's answer was the only place they were said).
    batch = client.get(kept.headers["Location"], headers=bearer(secret)).json
    assert [(e["riga"], e["colonna"], e["valore"]) for e in batch["righe_escluse"]] == [(2, "D1", "9"),
                                                                                        (3, "data", "31/02/2025")]
    # The reply names each wrong row's id; the batch keeps no id (a corrected row's answer would be tied to it).
    assert [e["id_esterno"] for e in kept.json["errori"]] == ["T2", "T3"]
    assert {e["id_esterno"] for e in batch["righe_escluse"]} == {""}


def test_a_file_goes_through_the_same_checks(catalogue, client, runner):
    secret = new_token(runner)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Dati"
    ws.append(HEADER.split(";"))
    ws.append(["F1", date(2025, 3, 15), "anagrafe", None, None, "5", None, None, 4])
    buffer = io.BytesIO()
    wb.save(buffer)
    form = {"questionario": "breve", "metodo": "PAPI", "dry_run": "false",
            "file": (io.BytesIO(buffer.getvalue()), "lotto.xlsx")}
    done = client.post("/api/v1/imports", data=form, headers=bearer(secret), content_type="multipart/form-data")
    assert done.status_code == 201, done.json
    batch = catalogue.scalar(select(ImportBatch))
    assert (batch.nome_file, batch.metodo, batch.sha256) == ("lotto.xlsx", "PAPI",
                                                             hashlib.sha256(buffer.getvalue()).hexdigest())
    assert done.json["colonne_assenti"] == []
    form["file"] = (io.BytesIO(buffer.getvalue()), "lotto.xlsx")
    again = client.post("/api/v1/imports", data=form, headers=bearer(secret), content_type="multipart/form-data")
    assert again.status_code == 409 and again.json["errore"].startswith("questo file è già stato importato")
    csv = f"{HEADER}\r\nF2;16/03/2025;anagrafe;;;7;;;4;;;;\r\n".encode("cp1252")
    bad = client.post("/api/v1/imports", headers=bearer(secret), content_type="multipart/form-data",
                      data={"questionario": "breve", "metodo": "CATI", "file": (io.BytesIO(csv), "lotto.csv")})
    assert bad.status_code == 422 and bad.json["errori"][0]["riga"] == 2 and bad.json["errori"][0]["colonna"] == "D1"
    junk = client.post("/api/v1/imports", headers=bearer(secret), content_type="multipart/form-data",
                       data={"questionario": "breve", "metodo": "CATI", "file": (io.BytesIO(b"\x89PNG"), "a.xlsx")})
    assert junk.status_code == 422 and "non è un CSV, XLSX o ODS leggibile" in junk.json["errore"]
    assert count(catalogue, Compilazione) == 1


def test_no_valid_token_no_access_and_revoked_tokens_stop_at_once(catalogue, client, runner):
    secret = new_token(runner)
    token = catalogue.scalar(select(ApiToken))
    assert token.impronta == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(catalogue.execute(select(ApiToken.__table__)).all())  # only the hash is stored
    for headers in ({}, bearer("cs_" + "x" * 43), {"Authorization": f"Basic {secret}"}, bearer(secret + "x")):
        denied = client.post("/api/v1/imports", json={"questionario": "breve", "metodo": "CATI", "righe": [ROW]},
                             headers=headers)
        assert denied.status_code == 401 and denied.headers["WWW-Authenticate"].startswith("Bearer")
        assert denied.json["errore"] == "token mancante, non valido o revocato"
    assert client.get("/api/v1/imports", headers=bearer(secret)).status_code == 200
    assert runner.invoke(args=["api-tokens", "revoke", str(token.id)]).exit_code == 0
    assert client.get("/api/v1/imports", headers=bearer(secret)).status_code == 401
    assert "revocato" in runner.invoke(args=["api-tokens", "list"]).output
    assert count(catalogue, Compilazione) == 0


def test_a_token_keeps_to_its_services_and_its_firms_batches(catalogue, client, runner):
    ours, theirs = new_token(runner, "Demoskopika", "anagrafe"), new_token(runner, "Doxa", "tributi")
    outside = post_rows(client, ours, [{**ROW, "servizio": "tributi"}])
    assert outside.status_code == 422
    assert outside.json["errori"][0]["motivo"] == "servizio non assegnato a questo account o token"
    done = post_rows(client, theirs, [{**ROW, "servizio": "tributi"}])
    assert done.status_code == 201
    batch_id = done.json["lotto"]
    assert client.get(f"/api/v1/imports/{batch_id}", headers=bearer(ours)).status_code == 404
    assert client.get("/api/v1/imports", headers=bearer(ours)).json["lotti"] == []
    # The same external id from another firm is another questionnaire: ids are per firm.
    assert post_rows(client, ours, [ROW]).status_code == 201


def test_bad_requests_get_json_errors_in_italian(catalogue, client, runner, app):
    secret = new_token(runner)
    missing = client.post("/api/v1/imports", json={"metodo": "FAX", "righe": []}, headers=bearer(secret))
    assert missing.status_code == 400
    assert {(d["campo"], d["motivo"]) for d in missing.json["dettagli"]} == {
        ("questionario", "campo obbligatorio"), ("metodo", "valore non ammesso: usare CATI, PAPI o CAWI"),
        ("righe", "troppo corto o vuoto")}  # the values a firm may send, named
    typed = post_rows(client, secret, [ROW, {**ROW, "D1": True}], dry_run="yes")
    # The second row is righe.2, as the rows' own errors number it ("riga": 2); it was righe.1.
    assert {(d["campo"], d["motivo"]) for d in typed.json["dettagli"]} == {
        ("righe.2.D1", "deve essere un testo, un numero o null"), ("dry_run", "deve essere true o false")}
    broken = client.post("/api/v1/imports", data="{righe", content_type="application/json", headers=bearer(secret))
    assert broken.status_code == 400 and broken.json["errore"] == "il corpo non è JSON valido"
    text = client.post("/api/v1/imports", data="a;b", content_type="text/csv", headers=bearer(secret))
    assert text.status_code == 415 and "multipart/form-data" in text.json["errore"]
    no_file = client.post("/api/v1/imports", data={"questionario": "breve", "metodo": "CATI"},
                          content_type="multipart/form-data", headers=bearer(secret))
    assert no_file.status_code == 400 and no_file.json["dettagli"] == [{"campo": "file", "motivo": "campo obbligatorio"}]
    unknown = post_rows(client, secret, [ROW], questionario="ignoto")
    assert unknown.status_code == 422 and unknown.json["errore"] == "questionario sconosciuto «ignoto»"
    assert client.get("/api/v1/nulla", headers=bearer(secret)).json["errore"] == "risorsa inesistente"
    wrong_method = client.delete("/api/v1/imports", headers=bearer(secret))
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]
    # Rows over the API's 10 MB (under the app's own limit) are refused as a file over it is: 12 MB was accepted.
    padded = [{**ROW, "id_esterno": f"P{i}", "D7": "x" * 150} for i in range(48_000)]  # 12.3 MB
    over = post_rows(client, secret, padded, dry_run=True)
    assert over.status_code == 413 and over.json["errore"] == "richiesta troppo grande: al massimo 10 MB per file"
    app.config["MAX_CONTENT_LENGTH"] = 2000
    big = post_rows(client, secret, [{**ROW, "id_esterno": f"B{i}"} for i in range(100)])
    assert big.status_code == 413 and big.json["errore"].startswith("richiesta troppo grande")
    assert count(catalogue, Compilazione) == 0


def test_the_api_is_rate_limited_per_token(catalogue, client, runner, app):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    first, second = new_token(runner), new_token(runner, "Doxa")
    statuses = [client.get("/api/v1/imports", headers=bearer(first)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v1/imports", headers=bearer(first))
    assert limited.json["errore"] == "troppe richieste: riprovare più tardi" and "Retry-After" in limited.headers
    assert client.get("/api/v1/imports", headers=bearer(second)).status_code == 200  # another token, its own count


def test_admins_create_and_revoke_tokens_from_the_staff_area(catalogue, client, runner):
    login(client, runner, "firm@example.org", "--role", "rilevatore", "--scope", "anagrafe", "--firm", "Example")
    assert client.get("/staff/token-api/").status_code == 403
    client.post("/staff/logout", data={"csrf_token": csrf_token(client.get("/staff/importazioni/").get_data(
        as_text=True))})
    login(client, runner, "admin@example.org", "--role", "admin")
    page = client.get("/staff/token-api/")
    assert page.status_code == 200 and "Nessun token creato" in page.get_data(as_text=True)
    token = csrf_token(page.get_data(as_text=True))
    empty = client.post("/staff/token-api/", data={"csrf_token": token, "nome": "", "societa": "Doxa"})
    assert empty.status_code == 400 and "Indicare un nome." in empty.get_data(as_text=True)
    # A control character pasted into a name is refused beside it (it went into batches and the published note).
    for field in ("nome", "societa"):
        data = {"csrf_token": token, "nome": "Doxa web", "societa": "Doxa", "servizi": ["anagrafe"],
                field: "Doxa\x0bweb"}
        pasted = client.post("/staff/token-api/", data=data)
        assert pasted.status_code == 400 and f'id="{field}-errore"' in pasted.get_data(as_text=True), field
    assert catalogue.scalar(select(func.count()).select_from(ApiToken)) == 0
    created = client.post("/staff/token-api/", data={"csrf_token": token, "nome": "Doxa web", "societa": "Doxa",
                                                     "servizi": ["anagrafe", "tributi"]})
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    assert 'value="Doxa web"' not in html and "selected" not in html  # a blank form: kept filled, it invited a copy
    secret = html.split('<code id="nuovo-token">', 1)[1].split("<", 1)[0]
    assert client.get("/api/v1/imports", headers=bearer(secret)).status_code == 200
    assert secret not in client.get("/staff/token-api/").get_data(as_text=True)  # shown once
    stored = catalogue.scalar(select(ApiToken))
    assert (stored.fonte, [s.slug for s in stored.servizi]) == ("Doxa", ["anagrafe", "tributi"])
    assert client.post(f"/staff/token-api/{stored.id}/revoca").status_code == 400  # no CSRF token
    # Revoking cannot be undone: the page asks first, and a post without the second click revokes nothing.
    page = client.get("/staff/token-api/").get_data(as_text=True)
    assert "Revocare il token «Doxa web»?" in page and 'name="conferma" value="1"' in page
    unconfirmed = client.post(f"/staff/token-api/{stored.id}/revoca", data={"csrf_token": token}, follow_redirects=True)
    assert "va confermata con il secondo pulsante" in unconfirmed.get_data(as_text=True)
    assert client.get("/api/v1/imports", headers=bearer(secret)).status_code == 200
    assert client.post(f"/staff/token-api/{stored.id}/revoca",
                       data={"csrf_token": token, "conferma": "1"}).status_code == 302
    assert client.get("/api/v1/imports", headers=bearer(secret)).status_code == 401
    actions = catalogue.scalars(select(AuditLog.azione).where(AuditLog.azione.like("token.%"))
                                .order_by(AuditLog.id)).all()
    assert actions == ["token.crea", "token.revoca"]


def test_openapi_document_describes_the_api(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {"/imports", "/imports/{batch_id}"}
    assert set(doc["paths"]["/imports"]["post"]["requestBody"]["content"]) == {"application/json",
                                                                              "multipart/form-data"}
    assert doc["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_token_creation_refuses_unknown_services_and_no_firm(catalogue, runner):
    unknown = runner.invoke(args=["api-tokens", "create", "x", "--firm", "Doxa", "--scope", "ignoto"])
    assert unknown.exit_code == 1 and "servizi sconosciuti: ignoto" in unknown.output
    no_firm = runner.invoke(args=["api-tokens", "create", "x", "--firm", " ", "--scope", "anagrafe"])
    assert no_firm.exit_code == 1 and "indicare la società" in no_firm.output
    assert count(catalogue, ApiToken) == 0


def test_control_characters_and_huge_ids_are_refused_not_crashes(catalogue, client, runner):
    secret = new_token(runner)
    nul = post_rows(client, secret, [{**ROW, "D7": "ottimo\x00servizio"}])
    assert nul.status_code == 422
    assert nul.json["errori"][0]["motivo"] == "testo con caratteri di controllo non ammessi"
    named = post_rows(client, secret, [ROW], nome_file="a\x00b.json")
    assert named.status_code == 400 and named.json["dettagli"] == [{"campo": "nome_file", "motivo": "formato non valido"}]
    csv = f"{HEADER}\nF1;15/03/2025;anagrafe;;;5;;;4;;;;\n".encode()
    upload = client.post("/api/v1/imports", headers=bearer(secret), content_type="multipart/form-data",
                         data={"questionario": "breve", "metodo": "CATI", "file": (io.BytesIO(csv), "l\x07.csv")})
    assert upload.status_code == 201 and catalogue.scalar(select(ImportBatch.nome_file)) == "l.csv"
    huge = client.get(f"/api/v1/imports/{2**63}", headers=bearer(secret))
    assert huge.status_code == 404 and huge.json["errore"] == "risorsa inesistente"


def test_deep_json_dry_run_state_firm_spelling_and_a_concurrent_repeat(catalogue, client, runner, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from survey_app.imports import load

    secret = new_token(runner, "Demoskopika")
    deep = client.post("/api/v1/imports", data="[" * 100_000, content_type="application/json", headers=bearer(secret))
    assert deep.status_code == 400 and deep.json["errore"] == "il corpo non è JSON valido"
    # A dry run of rows that a real run would refuse is not "verificato".
    bad = post_rows(client, secret, [{**ROW, "D1": 9}], dry_run=True)
    assert bad.status_code == 422 and bad.json["stato"] == "rifiutato"
    partial = post_rows(client, secret, [ROW, {**ROW, "id_esterno": "T2", "D1": 9}], dry_run=True, skip_invalid=True)
    assert partial.status_code == 200 and partial.json["stato"] == "verificato"
    # "DEMOSKOPIKA " from another door is the same firm: its ids are already known, its batches shared.
    assert post_rows(client, secret, [ROW]).status_code == 201
    other = new_token(runner, "DEMOSKOPIKA ")
    assert catalogue.scalars(select(ApiToken.fonte)).all() == ["Demoskopika", "Demoskopika"]
    assert post_rows(client, other, [{**ROW, "D1": 2}]).json["righe_gia_importate"] == 1
    assert len(client.get("/api/v1/imports", headers=bearer(other)).json["lotti"]) == 1

    # Two identical requests racing: the loser's commit hits the unique ids and gets a 409, not a 500.
    def lost_race(*args, **kwargs):
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    monkeypatch.setattr(load, "_write", lost_race)
    raced = post_rows(client, secret, [{**ROW, "id_esterno": "R1"}])
    assert raced.status_code == 409 and "nel frattempo" in raced.json["errore"]
    assert count(catalogue, ImportBatch) == 1


def test_batch_times_are_utc_with_their_offset(catalogue, client, runner):
    secret = new_token(runner)
    batch_id = post_rows(client, secret, [ROW]).json["lotto"]
    stored = catalogue.scalar(select(ImportBatch.created_at))  # naive UTC on SQLite, aware on PostgreSQL
    utc = stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)
    read = client.get(f"/api/v1/imports/{batch_id}", headers=bearer(secret)).json
    assert read["creato_il"] == f"{utc:%Y-%m-%dT%H:%M:%S}+00:00" and read["annullato_il"] is None
    assert runner.invoke(args=["responses", "rollback", str(batch_id)]).exit_code == 0
    listed = client.get("/api/v1/imports", headers=bearer(secret)).json["lotti"][0]
    assert listed["creato_il"] == read["creato_il"] and listed["annullato_il"].endswith("+00:00")


def test_unknown_keys_are_named_on_their_rows_and_every_other_error_too(catalogue, client, runner):
    secret = new_token(runner)
    rows = [ROW,
            {**ROW, "id_esterno": "T2", "D99": 4},
            {**ROW, "id_esterno": "T3", "D1": 9, "Nota Finale": " ottimo "},
            {"Commento": None},  # a key with null is still a key the template does not have
            {**ROW, "id_esterno": "T5", "D1": 2, "d1": 3}]
    refused = post_rows(client, secret, rows)
    assert refused.status_code == 422 and refused.json["stato"] == "rifiutato"
    assert [(e["riga"], e["colonna"], e["valore"], e["motivo"][:17]) for e in refused.json["errori"]] == [
        (2, "D99", "4", "campo sconosciuto"),
        (3, "Nota Finale", "ottimo", "campo sconosciuto"),
        (3, "D1", "9", "valore non ammess"),  # the row's other errors are listed too
        (4, "Commento", "", "campo sconosciuto"),
        (5, "d1", "3", "campo ripetuto: i")]
    assert refused.json["errori"][-1]["motivo"] == "campo ripetuto: indica di nuovo la colonna D1"
    assert refused.json["errori_per_motivo"]["campo sconosciuto"] == 3
    assert count(catalogue, Compilazione) == 0 and count(catalogue, ImportBatch) == 0
    kept = post_rows(client, secret, rows, skip_invalid=True)  # a row with an unknown key is an invalid row
    assert kept.status_code == 201 and (kept.json["righe_importate"], kept.json["righe_non_valide"]) == (1, 4)
    assert count(catalogue, Compilazione) == 1


def test_a_hundred_thousand_rows_each_with_its_own_stray_key_are_counted_not_all_listed(catalogue, client, runner):
    from survey_app.api.schemas import MAX_ROWS
    from survey_app.imports.load import MAX_LISTED_ERRORS

    secret = new_token(runner)
    rows = [{"id_esterno": f"S{i}", "data": "15/03/2025", "servizio": "anagrafe", "D3": 4, f"x{i}": 1}
            for i in range(MAX_ROWS)]
    refused = post_rows(client, secret, rows, dry_run=True)
    assert refused.status_code == 422
    assert len(refused.json["errori"]) == MAX_LISTED_ERRORS and refused.json["errori"][-1]["colonna"] == "x999"
    assert refused.json["errori_totali"] == MAX_ROWS and refused.json["errori_per_motivo"] == {
        "campo sconosciuto": MAX_ROWS}


def test_keys_in_any_spelling_and_the_columns_no_row_had(catalogue, client, runner):
    secret = new_token(runner)
    rows = [{"ID Esterno": "K1", "Data": "15/03/2025", "servizio": "anagrafe", "D1": 5, "d1-importanza": 4, "D3": 4},
            {"id_esterno": "K2", "data": "16/03/2025", "Servizio": "anagrafe", "D3": 2, "D6": "attesa", "Sede": None}]
    done = post_rows(client, secret, rows)
    assert done.status_code == 201, done.json
    assert done.json["colonne_assenti"] == ["canale", "D2", "D4", "D5", "D7"]  # a notice: sede was sent, as null
    # A file refused for its columns: its rows are not read, the errors are on row 1.
    csv = f"{HEADER};D99\r\nF1;16/03/2025;anagrafe;;;5;;;4;;;;;\r\n".encode()
    bad = client.post("/api/v1/imports", headers=bearer(secret), content_type="multipart/form-data",
                      data={"questionario": "breve", "metodo": "CATI", "file": (io.BytesIO(csv), "lotto.csv")})
    assert bad.status_code == 422 and (bad.json["righe"], bad.json["colonne_assenti"]) == (0, [])
    assert bad.json["errori"] == [{"riga": 1, "id_esterno": "", "colonna": "D99", "valore": "D99",
                                   "motivo": "colonna sconosciuta"}]
    short = b"id_esterno;data;servizio;D3\r\nF2;16/03/2025;anagrafe;4\r\n"
    done = client.post("/api/v1/imports", headers=bearer(secret), content_type="multipart/form-data",
                       data={"questionario": "breve", "metodo": "CATI", "file": (io.BytesIO(short), "breve.csv")})
    assert done.status_code == 201 and done.json["colonne_assenti"] == [
        "canale", "sede", "D1", "D1_importanza", "D2", "D4", "D5", "D6", "D7"]


@pytest.mark.parametrize(("sent", "stored"), [
    ("2025-03-15T10:30:00", datetime(2025, 3, 15, 10)), ("2025-03-15T10:30", datetime(2025, 3, 15, 10)),
    ("2025-03-15T09:30:00Z", datetime(2025, 3, 15, 10)),  # UTC: 10:30 in Rome (CET)
    ("2025-07-15T12:05:00+00:00", datetime(2025, 7, 15, 14)),  # summer time
    ("2025-03-15T10:30:00+01:00", datetime(2025, 3, 15, 10)),
    ("2025-03-15 09:30:00+00:00", datetime(2025, 3, 15, 10)),  # as Python's str() and PostgreSQL write it
])
def test_iso_8601_date_times_as_json_serialisers_write_them(catalogue, client, runner, sent, stored):
    """"2026-11-15T10:30:00" was refused as "data non valida" (a survey firm's walk-through): every JSON serialiser
    writes dates so."""
    done = post_rows(client, new_token(runner), [{**ROW, "data": sent}])
    assert done.status_code == 201, done.json
    assert catalogue.scalar(select(Compilazione.data_ora)) == stored


@pytest.mark.parametrize("sent", ["2025-03-15T25:00", "0001-01-01T00:00+01:00", "9999-12-31T23:00-05:00"])
def test_a_wrong_date_says_which_forms_are_understood(catalogue, client, runner, sent):
    """(An offset moving year 1 or 9999 off the calendar was an OverflowError, a 500.)"""
    done = post_rows(client, new_token(runner), [{**ROW, "data": sent}])
    assert done.status_code == 422
    assert done.json["errori"][0]["motivo"].startswith("data non valida (usare gg/mm/aaaa o aaaa-mm-gg, con l'ora")


def test_rows_of_a_published_year_are_said_to_wait_for_a_new_version(catalogue, client, runner, tmp_path):
    """The command line and the upload page said so; the API answered 201 and nothing else (an administrator's
    walk-through): the reply lists the years already published, with their version in force."""
    from .helpers import add_answers

    add_answers(catalogue, "anagrafe", datetime(2025, 2, 1, 10), {"D3": 4})
    assert runner.invoke(args=["export", "transparency", "--year", "2025", "--out", str(tmp_path)]).exit_code == 0
    secret = new_token(runner)
    checked = post_rows(client, secret, [ROW], dry_run=True)
    assert checked.json["anni_pubblicati"] == [{"anno": 2025, "versione": 1}]
    done = post_rows(client, secret, [ROW, {**ROW, "id_esterno": "T2", "data": "02/01/2026"}])
    assert done.status_code == 201 and done.json["anni_pubblicati"] == [{"anno": 2025, "versione": 1}]
    later = post_rows(client, secret, [{**ROW, "id_esterno": "T3", "data": "03/01/2026"}])
    assert later.status_code == 201 and later.json["anni_pubblicati"] == []
