"""The OpenAPI 3.1 description of the import API, its schemas taken from the pydantic models that check requests."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from .schemas import MAX_ROWS, Batch, BatchList, Error, ImportForm, ImportRequest, ImportResult

REF = "#/components/schemas/{model}"


def _schemas() -> dict[str, Any]:
    _, top = models_json_schema([(m, "validation") for m in (ImportRequest, ImportResult, Batch, BatchList, Error)],
                                ref_template=REF)
    return top["$defs"]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}


def _json(model: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": REF.format(model=model)}}}}


def _multipart() -> dict[str, Any]:
    form = ImportForm.model_json_schema()
    properties = {"file": {"type": "string", "format": "binary", "description": "CSV, XLSX o ODS, al massimo 10 MB."},
                  "questionario": form["properties"]["questionario"],
                  "metodo": {"type": "string", "enum": ["CATI", "PAPI", "CAWI"]},
                  "dry_run": {"type": "boolean", "default": False},
                  "skip_invalid": {"type": "boolean", "default": False}}
    return {"type": "object", "required": ["file", "questionario", "metodo"], "properties": properties}


COMMON_ERRORS = {"400": _error("Richiesta non valida: ad esempio un carattere di controllo nell'indirizzo."),
                 "401": _error("Token mancante, non valido o revocato."),
                 "429": _error("Troppe richieste per questo token.")}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Importazione delle risposte raccolte dalle società di rilevazione",
            "version": "1.0.0",
            "description": (
                "Le società di rilevazione inviano le risposte raccolte per telefono (CATI), su carta (PAPI) o con "
                "il proprio strumento web (CAWI), con le colonne del modello scaricabile dall'area riservata. Ogni "
                "riga è controllata prima di scrivere: il lotto entra per intero, una sola volta, oppure nulla è "
                f"scritto e ogni riga non valida è spiegata. Al massimo {MAX_ROWS} righe per richiesta. Le colonne "
                "facoltative (canale, sede, *_importanza, domande non obbligatorie) si possono lasciare fuori: sono "
                "lette come vuote e l'esito le elenca in colonne_assenti. Il token, "
                "dato dall'amministratore, vale per i servizi della società e si invia come "
                "`Authorization: Bearer cs_…`."),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"token": []}],
        "paths": {
            "/imports": {
                "post": {
                    "operationId": "creaImportazione",
                    "summary": "Importa (o controlla, con dry_run) un lotto di risposte: righe JSON o un file.",
                    "requestBody": {"required": True, "content": {
                        "application/json": {"schema": {"$ref": REF.format(model="ImportRequest")}},
                        "multipart/form-data": {"schema": _multipart()},
                    }},
                    "responses": {
                        "201": _json("ImportResult", "Lotto importato; Location indica il lotto."),
                        "200": _json("ImportResult", "Prova (dry_run): nulla è stato scritto."),
                        "409": _error("Gli stessi dati sono già stati importati (il campo lotto dice dove)."),
                        "413": _error("File troppo grande."),
                        "415": _error("Tipo di contenuto non ammesso."),
                        "422": {"description": "Righe non valide o file illeggibile: nulla è stato scritto.",
                                "content": {"application/json": {"schema": {"oneOf": [
                                    {"$ref": REF.format(model="ImportResult")},
                                    {"$ref": REF.format(model="Error")}]}}}},
                        **COMMON_ERRORS,
                        "400": _error("Richiesta non valida: campi mancanti o di tipo errato, o caratteri di controllo."),
                    },
                },
                "get": {
                    "operationId": "elencaImportazioni",
                    "summary": "I lotti della società, dal più recente (gli ultimi 100).",
                    "responses": {"200": _json("BatchList", "I lotti."), **COMMON_ERRORS},
                },
            },
            "/imports/{batch_id}": {
                "get": {
                    "operationId": "leggiImportazione",
                    "summary": "Un lotto della società: righe, stato, rilevazioni.",
                    "parameters": [{"name": "batch_id", "in": "path", "required": True,
                                    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}],
                    "responses": {"200": _json("Batch", "Il lotto."),
                                  "404": _error("Nessun lotto con questo numero per questa società."),
                                  **COMMON_ERRORS},
                },
            },
        },
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                          "description": "Token dato dall'amministratore (cs_…)."}},
        },
    }
