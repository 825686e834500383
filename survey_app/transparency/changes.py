"""What moved between two versions of a year's publication: services, figures and actions, old → new."""

from __future__ import annotations

from typing import Any

SERVICE_FIELDS = {"compilazioni": "questionari compilati", "quota_soddisfatti": "% soddisfatti", "media": "media",
                  "ics": "ICS", "nps": "NPS", "esito": "esito rispetto allo standard", "standard": "standard"}
QUESTION_FIELDS = {"n": "risposte valide", "media": "media", "quota_soddisfatti": "% soddisfatti o NPS",
                   "esito_standard": "esito rispetto allo standard", "soppresso": "dato soppresso"}


def _change(servizio: str, codice: str, domanda: str, campo: str, prima: Any, dopo: Any) -> dict[str, Any]:
    return {"servizio": servizio, "servizio_codice": codice, "domanda_codice": domanda, "campo": campo,
            "prima": prima, "dopo": dopo}


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per service added or removed and per published figure that changed."""
    changes: list[dict[str, Any]] = []
    before = {r["servizio_codice"]: r for r in old["sintesi"]}
    after = {r["servizio_codice"]: r for r in new["sintesi"]}
    for code, row in after.items():
        if code not in before:
            changes.append(_change(row["servizio"], code, "", "servizio", "assente", "aggiunto"))
            continue
        for name, label in SERVICE_FIELDS.items():
            if before[code].get(name) != row.get(name):
                changes.append(_change(row["servizio"], code, "", label, before[code].get(name), row.get(name)))
    for code, row in before.items():
        if code not in after:
            changes.append(_change(row["servizio"], code, "", "servizio", "presente", "rimosso"))
    old_questions = {(r["servizio_codice"], r["domanda_codice"]): r for r in old["domande"]}
    for row in new["domande"]:
        key = (row["servizio_codice"], row["domanda_codice"])
        previous = old_questions.pop(key, None)
        if previous is None:
            changes.append(_change(row["servizio"], key[0], key[1], "domanda", "assente", "aggiunta"))
            continue
        for name, label in QUESTION_FIELDS.items():
            if previous.get(name) != row.get(name):
                changes.append(_change(row["servizio"], key[0], key[1], label, previous.get(name), row.get(name)))
    for (code, question), row in old_questions.items():
        changes.append(_change(row["servizio"], code, question, "domanda", "presente", "rimossa"))
    if old["azioni"] != new["azioni"]:
        changes.append(_change("", "", "", "programmi di miglioramento", f"{len(old['azioni'])} azioni",
                               f"{len(new['azioni'])} azioni"))
    return changes
