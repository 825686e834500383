"""The privacy notice (GDPR art. 13) and the accessibility statement (AgID model), from the instance's config.

Both pages state facts that only the administration knows: who the controller and its DPO are, when the
accessibility statement was drawn up. They come from ``instances/<name>/config.py``; every key is optional and the
defaults (in ``settings.Defaults``) are empty. Where a value is missing the page says so ("non ancora indicato
dall'ente") and never makes one up; in production each missing value is logged once as a warning, and the app
still starts. A malformed value (a date that is not ISO, an unknown status) is treated as missing and logged.
Texts from the config (addresses, names, the list of non-accessible content) are shown as written, in every
language of the interface.

::

    # Controllers: each ente is the controller for its own services. Keyed by the catalogue's enti[].codice; the
    # privacy notice lists every ente that offers at least one service, with these details where given.
    LEGAL_ENTI = {
        "cuorgne": {
            "indirizzo": "Via Garibaldi 9, 10082 Cuorgnè (TO)",
            "pec": "protocollo@pec.example.it",
            "email": "info@example.it",
            "dpo_nome": "Studio Esempio S.r.l.",   # the DPO (Responsabile della protezione dei dati), person or firm
            "dpo_email": "dpo@example.it",
            "dpo_pec": "dpo@pec.example.it",
        },
    }
    # Data processors (art. 28 GDPR) of the installation, e.g. whoever hosts or maintains it.
    LEGAL_RESPONSABILI = [{"nome": "Esempio Cloud S.r.l.", "attivita": "hosting e manutenzione della piattaforma"}]
    # The accessibility statement.
    ACCESSIBILITY = {
        "ente": "Comune di Cuorgnè",               # the administration responsible for the site
        "stato": "parzialmente conforme",          # "conforme" | "parzialmente conforme" | "non conforme"
        "data_dichiarazione": "2025-03-15",        # ISO dates: drawn up, and last reviewed
        "data_revisione": "2025-09-30",
        "feedback": "mailto:accessibilita@example.it",  # or "https://…"; a bare e-mail address becomes mailto:
        "contenuti_non_accessibili": ["…"],        # what is not accessible yet, one text per item
    }

The site's address in the statement is ``settings.public_base_url()`` (PUBLIC_BASE_URL, else the request's host).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from limits import parse_many
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Ente, Ufficio
from .settings import public_base_url

ENTE_KEYS = ("indirizzo", "pec", "email", "dpo_nome", "dpo_email", "dpo_pec")
STATI = ("conforme", "parzialmente conforme", "non conforme")


@dataclass(frozen=True)
class Titolare:
    """An ente as controller: its name from the catalogue, its contacts from LEGAL_ENTI."""

    codice: str
    nome: str
    sito: str | None = None
    indirizzo: str | None = None
    pec: str | None = None
    email: str | None = None
    dpo_nome: str | None = None
    dpo_email: str | None = None
    dpo_pec: str | None = None

    @property
    def missing(self) -> list[str]:
        """What the notice cannot state for this ente, as config keys."""
        gaps = [] if self.indirizzo else ["indirizzo"]
        if not (self.pec or self.email):
            gaps.append("pec/email")
        if not (self.dpo_email or self.dpo_pec):
            gaps.append("dpo_email/dpo_pec")
        return gaps


@dataclass(frozen=True)
class Responsabile:
    nome: str
    attivita: str | None = None


@dataclass(frozen=True)
class Dichiarazione:
    """The accessibility statement's facts; None where the config does not give them."""

    url: str
    ente: str | None = None
    stato: str | None = None
    data_dichiarazione: date | None = None
    data_revisione: date | None = None
    feedback: str | None = None  # a mailto: or http(s) URL
    contenuti_non_accessibili: list[str] = field(default_factory=list)

    @property
    def feedback_label(self) -> str | None:
        """The link's visible text: the address without mailto:, or the URL."""
        if not self.feedback:
            return None
        return self.feedback.removeprefix("mailto:").split("?", 1)[0]

    @property
    def missing(self) -> list[str]:
        return [name for name in ("ente", "stato", "data_dichiarazione", "data_revisione", "feedback")
                if not getattr(self, name)]


# --- reading the config --------------------------------------------------------------------------------------------

def _warn_once(key: str, message: str) -> None:
    """Log a configuration problem once per process: the pages are rendered on every visit."""
    warned = current_app.extensions.setdefault("legal_warned", set())
    if key not in warned:
        warned.add(key)
        current_app.logger.warning(message)


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _ente_details(codice: str, entry: Any) -> dict[str, str | None]:
    if not isinstance(entry, Mapping):
        if entry is not None:
            _warn_once(f"ente:{codice}", f"LEGAL_ENTI[{codice!r}] is not a dict: ignored.")
        return {}
    unknown = sorted(set(entry) - set(ENTE_KEYS))
    if unknown:
        _warn_once(f"ente-keys:{codice}", f"LEGAL_ENTI[{codice!r}]: unknown keys {unknown} "
                                          f"(known: {', '.join(ENTE_KEYS)}).")
    return {key: _text(entry.get(key)) for key in ENTE_KEYS}


def titolari(session: Session) -> list[Titolare]:
    """Every ente offering at least one service, with its contacts from LEGAL_ENTI."""
    configured = current_app.config.get("LEGAL_ENTI") or {}
    enti = session.scalars(select(Ente).where(Ente.uffici.any(Ufficio.servizi.any())).order_by(Ente.nome))
    return [Titolare(codice=e.codice, nome=e.nome, sito=e.sito, **_ente_details(e.codice, configured.get(e.codice)))
            for e in enti]


def responsabili() -> list[Responsabile]:
    items = current_app.config.get("LEGAL_RESPONSABILI") or []
    if not isinstance(items, list | tuple):
        _warn_once("responsabili-list", "LEGAL_RESPONSABILI is not a list of dicts: ignored.")
        return []
    found = [Responsabile(_text(i.get("nome")), _text(i.get("attivita"))) for i in items
             if isinstance(i, Mapping) and _text(i.get("nome"))]
    if len(found) != len(items):
        _warn_once("responsabili", "LEGAL_RESPONSABILI: entries without a 'nome' are ignored.")
    return found


def _date(name: str, value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        _warn_once(f"date:{name}", f"ACCESSIBILITY[{name!r}] = {value!r} is not an ISO date (YYYY-MM-DD): ignored.")
        return None


def _feedback(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    if text.startswith(("mailto:", "https://", "http://")):
        return text
    if "@" in text and " " not in text and ":" not in text:
        return f"mailto:{text}"
    _warn_once("feedback", f"ACCESSIBILITY['feedback'] = {text!r} is neither a mailto: nor an http(s) link: ignored.")
    return None


def dichiarazione() -> Dichiarazione:
    config = current_app.config.get("ACCESSIBILITY") or {}
    stato = _text(config.get("stato"))
    if stato is not None and stato.lower() not in STATI:
        _warn_once("stato", f"ACCESSIBILITY['stato'] = {stato!r}: expected one of {', '.join(STATI)}; ignored.")
        stato = None
    items = config.get("contenuti_non_accessibili") or []
    if isinstance(items, str):  # one text instead of a list of one
        items = [items]
    return Dichiarazione(
        url=public_base_url(),
        ente=_text(config.get("ente")),
        stato=stato.lower() if stato else None,
        data_dichiarazione=_date("data_dichiarazione", config.get("data_dichiarazione")),
        data_revisione=_date("data_revisione", config.get("data_revisione")),
        feedback=_feedback(config.get("feedback")),
        contenuti_non_accessibili=[t for t in (_text(i) for i in items) if t],
    )


def _warn_missing(page: str, gaps: list[str]) -> None:
    if gaps and current_app.config["SURVEY_ENV"] == "production":
        _warn_once(f"missing:{page}", f"The {page} page says 'not yet given' for: {', '.join(gaps)}. "
                                      "Set them in the instance's config.py (see survey_app/legal.py).")


# --- page contexts -------------------------------------------------------------------------------------------------

def privacy_context(session: Session) -> dict[str, Any]:
    people = titolari(session)
    _warn_missing("privacy", [f"LEGAL_ENTI[{t.codice!r}] {gap}" for t in people for gap in t.missing])
    from .public.routes import SENT_MINUTES  # the public blueprint imports this module

    # What the notice promises of the submission counters and of the cookie, from the settings that decide them.
    windows = [item.get_expiry() for item in parse_many(current_app.config["SUBMIT_RATE_LIMIT"])]
    return {"titolari": people, "responsabili": responsabili(),
            "retention_months": int(current_app.config["COMMENT_RETENTION_MONTHS"]),
            "limit_minutes": max(windows, default=60) // 60, "sent_minutes": SENT_MINUTES}


def accessibility_context() -> dict[str, Any]:
    statement = dichiarazione()
    _warn_missing("accessibility", [f"ACCESSIBILITY[{name!r}]" for name in statement.missing])
    return {"dichiarazione": statement}
