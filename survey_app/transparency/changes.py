"""What moved between two versions of a year's publication: services, names, figures and actions, old → new."""

from __future__ import annotations

from typing import Any


def N_(text: str) -> str:  # noqa: N802 - gettext's name for "extract, do not translate here"
    """Marks a label for the catalogues: the record keeps the Italian, the page translates it (``change_field``)."""
    return text


SERVICE_FIELDS = {"servizio": N_("nome del servizio"), "ufficio": N_("ufficio"), "ente": N_("ente"),
                  "compilazioni": N_("questionari compilati"), "quota_soddisfatti": N_("% soddisfatti"),
                  "media": N_("media"), "ics": N_("ICS"), "nps": N_("NPS"),
                  "esito": N_("esito rispetto allo standard"), "standard": N_("standard")}
QUESTION_FIELDS = {"domanda": N_("testo della domanda"), "n": N_("risposte valide"), "media": N_("media"),
                   "quota_soddisfatti": N_("% soddisfatti o NPS"),
                   "ic95_inf": N_("intervallo di confidenza: minimo"),
                   "ic95_sup": N_("intervallo di confidenza: massimo"), "standard": N_("standard"),
                   "esito_standard": N_("esito rispetto allo standard"), "soppresso": N_("dato soppresso")}
ACTION_FIELDS = {"descrizione": N_("descrizione"), "riferimento": N_("riferimento"),
                 "ufficio": N_("ufficio responsabile"), "data_inizio": N_("inizio"), "data_scadenza": N_("scadenza"),
                 "stato": N_("stato"), "esito": N_("esito")}
# Where and by whom a version's files say they are published (publishing.identity)
IDENTITY_FIELDS = {"address": N_("indirizzo della pagina pubblica"), "name": N_("ente che pubblica"),
                   "code": N_("codice IPA di chi pubblica"), "email": N_("email di contatto"),
                   "website": N_("sito di chi pubblica")}


def _change(servizio: str, codice: str, domanda: str, campo: str, prima: Any, dopo: Any,
            ente: str | None = None) -> dict[str, Any]:
    """One change; ``ente`` names the body whose service it is (the whole publication's when empty), so that each
    ente's page lists its own changes."""
    return {"servizio": servizio, "servizio_codice": codice, "domanda_codice": domanda, "campo": campo,
            "prima": prima, "dopo": dopo, "ente": ente or ""}


def files_per_ente_added() -> dict[str, Any]:
    """A version that adds each ente's own files to a year published before they were made (same figures)."""
    return _change("", "", "", N_("file di ciascun ente"), N_("assenti"), N_("aggiunti"))


def identity_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    """Where or by whom the files say they are published, when it differs from the version before (``old``: None for
    a version whose files do not say)."""
    if old is None:
        return []
    return [_change("", "", "", field, old.get(field), value) for field, value in new.items() if old.get(field) != value]


def of_ente(changes: list[dict[str, Any]], ente: str, services: set[str]) -> list[dict[str, Any]]:
    """The changes an ente's page lists: its own, and those of the whole publication. Changes recorded before they
    named their ente are told by the service (``services``: the ente's service codes in the version)."""
    return [c for c in changes if c.get("ente", None) == ente or (c.get("ente") == "" and not c["servizio_codice"])
            or ("ente" not in c and c["servizio_codice"] in services)]


def _question_key(row: dict[str, Any]) -> tuple:
    # A new questionnaire version may change a question's scale within the year: the table then has one row
    # per scale under the same code, and each must be compared with its own.
    return row["servizio_codice"], row["domanda_codice"], row["scala_min"], row["scala_max"]


def _question_label(row: dict[str, Any], keys: set) -> str:
    """The question code, with its scale where the code stands for more than one row."""
    same_code = [k for k in keys if k[:2] == (row["servizio_codice"], row["domanda_codice"])]
    if len(same_code) > 1 and row["scala_min"] is not None:
        return f"{row['domanda_codice']} (scala {row['scala_min']}–{row['scala_max']})"
    return row["domanda_codice"]


def _fields(before: dict, after: dict, fields: dict[str, str], servizio: str, codice: str,
            domanda: str, ente: str) -> list[dict[str, Any]]:
    return [_change(servizio, codice, domanda, label, before.get(name), after.get(name), ente)
            for name, label in fields.items() if before.get(name) != after.get(name)]


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per service, question or action added or removed, and per published value that changed."""
    changes: list[dict[str, Any]] = []
    before = {r["servizio_codice"]: r for r in old["sintesi"]}
    after = {r["servizio_codice"]: r for r in new["sintesi"]}
    for code, row in after.items():
        if code not in before:
            changes.append(_change(row["servizio"], code, "", N_("servizio"), N_("assente"), N_("aggiunto"), row["ente"]))
        else:
            changes += _fields(before[code], row, SERVICE_FIELDS, row["servizio"], code, "", row["ente"])
    changes += [_change(row["servizio"], code, "", N_("servizio"), N_("presente"), N_("rimosso"), row["ente"])
                for code, row in before.items() if code not in after]

    old_questions = {_question_key(r): r for r in old["domande"]}
    new_questions = {_question_key(r): r for r in new["domande"]}
    keys = set(old_questions) | set(new_questions)
    for key, row in new_questions.items():
        label = _question_label(row, keys)
        previous = old_questions.get(key)
        if previous is None:
            changes.append(_change(row["servizio"], key[0], label, N_("domanda"), N_("assente"), N_("aggiunta"),
                                   row["ente"]))
        else:
            changes += _fields(previous, row, QUESTION_FIELDS, row["servizio"], key[0], label, row["ente"])
    changes += [_change(row["servizio"], key[0], _question_label(row, keys), N_("domanda"), N_("presente"),
                        N_("rimossa"), row["ente"])
                for key, row in old_questions.items() if key not in new_questions]

    def action_key(a: dict[str, Any]) -> tuple:
        return a["servizio_codice"], a["titolo"], a["data_inizio"]

    old_actions = {action_key(a): a for a in old["azioni"]}
    new_actions = {action_key(a): a for a in new["azioni"]}
    for key, action in new_actions.items():
        where = f"azione «{action['titolo']}»"
        if key not in old_actions:
            changes.append(_change(action["servizio"], key[0], "", where, N_("assente"), N_("aggiunta"),
                                   action["ente"]))
        else:
            for change in _fields(old_actions[key], action, ACTION_FIELDS, action["servizio"], key[0], "",
                                  action["ente"]):
                changes.append({**change, "campo": f"{where}: {change['campo']}"})
    changes += [_change(a["servizio"], key[0], "", f"azione «{a['titolo']}»", N_("presente"), N_("rimossa"),
                        a["ente"])
                for key, a in old_actions.items() if key not in new_actions]
    return changes
