"""The names on the public pages in the reader's language.

A published version is frozen in Italian, as the law asks: its files never change. Its English pages show the
catalogue's English name of a service or an office and English text of a question, but only where the catalogue's
Italian is still the published one word for word; a service renamed or a question reworded since keeps the Italian
it was published with, never a translation of something else. The dimensions are a fixed vocabulary.
"""

from __future__ import annotations

import dataclasses

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from analysis.publication import Publication

from ..extensions import db
from ..i18n import UNTRANSLATED
from ..models import Domanda, Questionario, Servizio, Ufficio
from .formatting import page_language

DIMENSIONS = {"accessibilità": _l("accessibilità"), "tempestività": _l("tempestività"),
              "trasparenza": _l("trasparenza"), "efficacia": _l("efficacia")}

# An improvement action is written in Italian only.
ACTION_TEXTS = ("titolo", "descrizione", "esito")


def question_label(code: str, titles: dict[str, str]) -> str:
    """A question's code as readers see it: "D1", or for a second questionnaire of the service (the kiosk's),
    "D1 (Mettiamoci la faccia)" instead of the internal "mettiamoci-la-faccia.D1"."""
    questionnaire, dot, own = code.partition(".")
    if not dot:
        return code
    return f"{own} ({titles.get(questionnaire, questionnaire)})"


def in_page_language(pub: Publication) -> Publication:
    """The publication with its names in the page's language (module docstring); Italian pages get it as stored,
    save the readable question labels."""
    english = page_language() == "en"
    titles = {code: (en if english and en else it) for code, it, en in db.session.execute(
        select(Questionario.codice, Questionario.titolo_it, Questionario.titolo_en))}
    services: dict[str, str] = {}
    offices: dict[str, str] = {}
    texts: dict[str, str] = {}
    if english:
        services = {(slug, it): en for slug, it, en in db.session.execute(
            select(Servizio.slug, Servizio.nome_it, Servizio.nome_en).where(Servizio.nome_en.is_not(None)))}
        offices = dict(db.session.execute(select(Ufficio.nome, Ufficio.nome_en).where(Ufficio.nome_en.is_not(None)))
                       .all())
        texts = dict(db.session.execute(select(Domanda.testo_it, Domanda.testo_en)
                                        .where(Domanda.testo_en.is_not(None)).distinct()).all())

    def service(row: dict, italian_only: tuple[str, ...] = ()) -> dict:
        if not english:
            return row
        translated = {"servizio": services.get((row["servizio_codice"], row["servizio"])),
                      "ufficio": offices.get(row.get("ufficio") or "")}
        return {**row, **{field: text for field, text in translated.items() if text},
                UNTRANSLATED: {*italian_only, *(field for field, text in translated.items() if not text)}}

    def question(row: dict) -> dict:
        row = {**service(row), "etichetta": question_label(row["domanda_codice"], titles)}
        if english:
            text = texts.get(row["domanda"])
            row["domanda"] = text or row["domanda"]
            if not text:
                row[UNTRANSLATED] = {*row[UNTRANSLATED], "domanda"}
            dimension = DIMENSIONS.get(row.get("dimensione") or "")
            row["dimensione"] = str(dimension) if dimension else row.get("dimensione")
        return row

    return dataclasses.replace(pub, summary=[service(r) for r in pub.summary],
                               questions=[question(r) for r in pub.questions],
                               actions=[service(a, ACTION_TEXTS) for a in pub.actions])


def changes_in_page_language(changes: dict[int, list[dict]]) -> dict[int, list[dict]]:
    """Each version's changes with the services named in the page's language (the record keeps the Italian name
    of the day: a service renamed since keeps it)."""
    if page_language() != "en":
        return changes
    services = {(slug, it): en for slug, it, en in db.session.execute(
        select(Servizio.slug, Servizio.nome_it, Servizio.nome_en).where(Servizio.nome_en.is_not(None)))}

    def named(change: dict) -> dict:
        name = services.get((change["servizio_codice"], change["servizio"]))
        return {**change, "servizio": name} if name else {**change, UNTRANSLATED: {"servizio"}}

    return {version: [named(c) for c in items] for version, items in changes.items()}
