"""The tables of a publication for people, format-neutral: the XLSX and ODS writers lay out the same sheets.

A ``Sheet`` is a title, typed columns with Italian headings, and rows of plain values (None for an empty or
suppressed cell). Kinds decide the number format: ``text``, ``int``, ``dec1``, ``dec2``, ``dec4`` (Italian
decimals), ``year`` (a whole number without thousands separator: 2025, not 2.025), ``date`` (a ``datetime.date``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .publication import (
    TYPE_LABELS,
    Publication,
    period_text,
    readable_standard,
    standard_outcomes,
    state_as_of,
)

KINDS = ("text", "int", "dec1", "dec2", "dec4", "year", "date")
@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"
    width: float = 14  # characters

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class Sheet:
    name: str
    columns: Sequence[Column]
    rows: list[Sequence[Any]]
    # Lines shown above the table (a title, the period); the table's header row follows them.
    preamble: list[str] = field(default_factory=list)

    @property
    def header_row(self) -> int:
        """1-based row of the column headings."""
        return len(self.preamble) + (2 if self.preamble else 1)


def _yes_no(value: bool) -> str:
    return "sì" if value else "no"


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _scale(row: dict[str, Any]) -> str | None:
    """The overall question's scale, "1–3", beside its mean (absent from versions published before it was kept)."""
    low, high = row.get("scala_min"), row.get("scala_max")
    return f"{int(low)}–{int(high)}" if low is not None and high is not None else None


def _standards(row: dict[str, Any]) -> str:
    """Each standard with its figure and result, in Italian decimals; versions published before the results were
    kept one by one list the standards alone."""
    if row.get("esiti") is not None:
        return standard_outcomes(row["esiti"], decimal=",")
    return readable_standard(row["standard"], decimal=",")


def summary_sheet(pub: Publication) -> Sheet:
    columns = [
        Column("Ente", width=26), Column("Ufficio", width=30), Column("Servizio", width=34),
        Column("Codice servizio", width=22), Column("Questionari compilati", "int", 13),
        Column("Risposte alla domanda complessiva", "int", 14), Column("Soddisfatti (%)", "dec1", 12),
        Column("Intervallo di confidenza 95%: minimo", "dec1", 14),
        Column("Intervallo di confidenza 95%: massimo", "dec1", 14), Column("Media", "dec2", 10),
        Column("Scala della media", width=10),
        Column("Indice di customer satisfaction (0–100)", "dec1", 14), Column("Net Promoter Score", "dec1", 12),
        Column("Margine di errore (± punti)", "dec1", 12), Column("Standard della carta dei servizi", width=40),
        Column("Esito rispetto allo standard", width=18),
    ]
    rows = [[r["ente"], r["ufficio"], r["servizio"], r["servizio_codice"], r["compilazioni"], r["n"],
             r["quota_soddisfatti"], r["ic95_inf"], r["ic95_sup"], r["media"], _scale(r), r["ics"], r["nps"],
             r["margine_errore"], _standards(r), r["esito"]] for r in pub.summary]
    return Sheet("Sintesi", columns, rows, preamble=[
        f"Soddisfazione degli utenti per servizio – {pub.ente['nome'] + ' – ' if pub.ente else ''}anno {pub.year}",
        f"Dati soppressi (celle vuote) dove le risposte sono meno di {pub.threshold}."])


def questions_sheet(pub: Publication) -> Sheet:
    columns = [
        Column("Anno", "year", 7), Column("Ente", width=26), Column("Ufficio", width=30),
        Column("Codice servizio", width=22), Column("Servizio", width=34), Column("Codice domanda", width=12),
        Column("Domanda", width=60), Column("Dimensione", width=14), Column("Tipo di domanda", width=14),
        Column("Scala: minimo", "int", 8), Column("Scala: massimo", "int", 8), Column("Risposte valide", "int", 10),
        Column("Media", "dec2", 9), Column("Soddisfatti (%) o NPS", "dec1", 12),
        Column("Intervallo di confidenza 95%: minimo", "dec1", 14),
        Column("Intervallo di confidenza 95%: massimo", "dec1", 14), Column("Standard", width=30),
        Column("Esito rispetto allo standard", width=16), Column("Dato soppresso", width=10),
    ]
    rows = [[r["anno"], r["ente"], r["ufficio"], r["servizio_codice"], r["servizio"], r["domanda_codice"],
             r["domanda"], r["dimensione"], TYPE_LABELS.get(r["tipo"], r["tipo"]), r["scala_min"], r["scala_max"], r["n"], r["media"],
             r["quota_soddisfatti"], r["ic95_inf"], r["ic95_sup"], readable_standard(r["standard"], ","), r["esito_standard"],
             _yes_no(r["soppresso"])] for r in pub.questions]
    return Sheet("Domande", columns, rows)


def actions_sheet(pub: Publication) -> Sheet:
    columns = [
        Column("Ente", width=26), Column("Ufficio responsabile", width=30), Column("Servizio", width=34),
        Column("Azione", width=36), Column("Descrizione", width=60), Column("Indicatore o standard di riferimento",
                                                                          width=32),
        Column("Inizio", "date", 12), Column("Scadenza", "date", 12), Column("Stato", width=24),
        Column("Esito", width=50),
    ]
    as_of = pub.published_at.date() if pub.published_at else date.today()
    rows = [[a["ente"], a["ufficio"], a["servizio"], a["titolo"], a["descrizione"], readable_standard(a["riferimento"], ","),
             _date(a["data_inizio"]), _date(a["data_scadenza"]), state_as_of(a["stato"], a["data_scadenza"], as_of),
             a["esito"]] for a in pub.actions]
    return Sheet("Programmi di miglioramento", columns, rows, preamble=[
        f"Programmi di miglioramento attivi nell'anno {pub.year}"])


FORMULAS = [
    ("Risposte valide (n)", "Risposte alla domanda, escluse quelle mancanti e «non so»."),
    ("Media", "Media aritmetica dei valori della scala (domande a scala, faccine 1–3, NPS 0–10)."),
    ("Soddisfatti (%)", "Quota di risposte strettamente sopra il punto medio della scala: 4 e 5 su 1–5, "
                        "3 e 4 su 1–4, da 4 a 6 su 1–6, da 6 a 10 su 1–10; per le faccine, la faccina verde."),
    ("Net Promoter Score (NPS)", "% di risposte 9–10 meno % di risposte 0–6 alla domanda 0–10 sulla "
                                 "raccomandazione; nella tabella per domanda è nella colonna «Soddisfatti (%) o NPS»."),
    ("Intervallo di confidenza 95%", "Intervallo di Wilson (z = 1,96) della quota di soddisfatti."),
    ("Indice di customer satisfaction (ICS)", "Media delle medie degli aspetti del servizio riportate su 0–100 "
                                              "((media − minimo) / (massimo − minimo) × 100), pesata con "
                                              "l'importanza dichiarata quando è stata chiesta per ogni aspetto."),
    ("Margine di errore", "1,96 × √(p(1−p)/n) sulla quota di soddisfatti, con la correzione per popolazione "
                          "finita quando è noto il numero di utenti annui del servizio."),
    ("Esito rispetto allo standard", "«raggiunto» se il dato pubblicato (arrotondato) è almeno pari al valore "
                                     "della carta dei servizi, «non raggiunto» altrimenti, «non valutabile» "
                                     "se il dato è soppresso o mancante."),
    ("Arrotondamento", "Media a 2 decimali, quote e intervalli a 1 decimale, arrotondati per eccesso da 5."),
]


def method_sheet(pub: Publication) -> Sheet:
    m = pub.method
    rows: list[list[Any]] = [
        *([["Ente", pub.ente["nome"]]] if pub.ente else []),
        ["Anno di riferimento", str(pub.year)],
        ["Periodo delle risposte", period_text(m["periodo"], m.get("risposte"))],
    ]
    if pub.version:
        rows.append(["Versione della pubblicazione", str(pub.version)])
    if pub.published_at:
        rows.append(["Data di pubblicazione", pub.published_at.strftime("%d/%m/%Y %H:%M")])
    if pub.reason:
        rows.append(["Motivo della versione", pub.reason])
    channels = "; ".join(f"{c['canale']}: {c['compilazioni']}" for c in m["canali"]) or "nessuno"
    rows.append(["Canali di risposta dei cittadini (questionari)", channels])
    batches = "; ".join(f"{b['fonte']}, {b['metodo']}: {b['compilazioni']}" for b in m["lotti"])
    rows.append(["Rilevazioni di società incaricate (questionari)", batches or "nessuna"])
    scales = "; ".join(f"{s['tipo']}" + (f" {s['min']}–{s['max']}" if s["min"] is not None else "")
                       for s in m["scale"])
    rows.append(["Scale di risposta", scales or "nessuna"])
    rows.append(["Anonimato", "Le risposte sono anonime: non sono registrati indirizzo IP, browser né l'ora "
                              "esatta. I commenti liberi non sono pubblicati."])
    rows.append(["Regola di soppressione", f"Le celle con meno di {pub.threshold} risposte valide sono lasciate "
                                           "vuote (media, quota e intervallo) per non rendere riconoscibili "
                                           "i rispondenti."])
    rows += [[name, text] for name, text in FORMULAS]
    for r in pub.summary:
        if r["margine_errore"] is not None:
            rows.append([f"Margine di errore – {r['servizio']}", f"± {_it_number(r['margine_errore'], 1)} punti "
                                                                 f"(n = {r['n']})"])
    return Sheet("Nota metodologica", [Column("Voce", width=44), Column("Descrizione", width=110)], rows,
                 preamble=[f"Nota metodologica – indagine di soddisfazione {pub.year}"])


def _it_number(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}".replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def publication_sheets(pub: Publication) -> list[Sheet]:
    return [summary_sheet(pub), questions_sheet(pub), actions_sheet(pub), method_sheet(pub)]
