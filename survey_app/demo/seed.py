"""Realistic synthetic answers for a demo: the same seed and end date give the same data.

Generic over the catalogue: every service gets a quality level (some good, some below their
standard), answers spread over the last 24 months with seasonal swings and a slow trend,
across the channels, counters and languages, a share of them from a survey firm's batches.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from flask import current_app, has_app_context
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from .. import summary
from ..campaigns import link_answers
from ..models import Compilazione, Domanda, ImportBatch, QuestionarioVersione, Risposta, Servizio
from ..models.base import random_keys

DAYS = 730
# A comment fits the mood it comes with (a praise beside a 5 and a complaint beside a 1, never the other way round):
# by the citizen's latent satisfaction, low, middling or high.
COMMENTS = {
    "low": ("Troppa attesa allo sportello.", "Moduli difficili da trovare sul sito.",
            "Orari di apertura poco comodi per chi lavora."),
    "middle": ("Sarebbe utile prenotare online l'appuntamento.", "Servirebbe più personale nei mesi estivi.",
               "Orari di apertura poco comodi per chi lavora."),
    "high": ("Personale gentile e preparato.", "Tutto chiaro e veloce, grazie.", "Very helpful staff."),
}
DIMENSION_EFFECT = {"tempestività": -0.45, "accessibilità": -0.1, "trasparenza": -0.15, "efficacia": 0.15}


@dataclass
class Plan:
    servizio: Servizio
    quality: float  # latent mean satisfaction on a 1–5 scale
    trend: float  # change per year
    main: QuestionarioVersione
    kiosk: QuestionarioVersione | None


def _stable(text: str) -> float:
    """A fixed number in [-1, 1) per text, so item effects do not depend on catalogue order."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 2**31 - 1


def _month_weights(days: list[date]) -> np.ndarray:
    # Busier in spring and autumn, quiet in August and at Christmas.
    month_factor = {1: 0.9, 2: 1.0, 3: 1.2, 4: 1.2, 5: 1.15, 6: 1.0, 7: 0.8, 8: 0.45, 9: 1.0, 10: 1.15,
                    11: 1.1, 12: 0.7}
    weekday_factor = (1.1, 1.05, 1.05, 1.0, 0.95, 0.3, 0.05)
    weights = np.array([month_factor[d.month] * weekday_factor[d.weekday()] for d in days])
    return weights / weights.sum()


def _season(day: date) -> float:
    # Worse in summer (holidays, fewer staff), better in spring.
    return 0.2 * np.cos(2 * np.pi * (day.timetuple().tm_yday - 110) / 365)


def seed_responses(session: Session, responses: int = 3000, seed: int = 1, end: date | None = None) -> int:
    """Add ``responses`` submissions ending on ``end`` (default today); returns how many were written."""
    rng = np.random.default_rng(seed)
    zone = ZoneInfo(current_app.config["SURVEY_TIMEZONE"]) if has_app_context() else ZoneInfo("Europe/Rome")
    # No answer after this hour (local, as stored): a demo seeded at 10:00 had today's answers at 13:00.
    now = datetime.now(zone).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    end = end or now.date()
    services = list(session.scalars(
        select(Servizio).order_by(Servizio.slug).options(selectinload(Servizio.sedi))))
    if not services:
        raise ValueError("nessun servizio nel catalogo: caricare prima il catalogo")
    versions = {v.id: v for v in session.scalars(
        select(QuestionarioVersione).options(selectinload(QuestionarioVersione.domande)
                                             .selectinload(Domanda.opzioni)))}
    offsets = rng.permutation(np.linspace(-0.65, 0.45, len(services)))
    plans = [
        Plan(s, 4.15 + offsets[i], float(rng.normal(0.1, 0.12)),
             s.questionario.versione_corrente,
             s.questionario_chiosco.versione_corrente if s.questionario_chiosco else None)
        for i, s in enumerate(services)
    ]
    for plan in plans:
        versions[plan.main.id] = plan.main
        if plan.kiosk:
            versions[plan.kiosk.id] = plan.kiosk
    batches = [ImportBatch(fonte="Demo Ricerche S.r.l.", metodo=m, nome_file=f"demo-{m.lower()}.csv",
                           sha256=hashlib.sha256(f"demo-{seed}-{m}".encode()).hexdigest(), righe=0)
               for m in ("CATI", "PAPI")]
    session.add_all(batches)
    session.flush()

    days = [end - timedelta(days=i) for i in range(DAYS)]
    day_index = rng.choice(len(days), size=responses, p=_month_weights(days))
    hours = rng.choice(np.arange(8, 18), size=responses, p=np.array([4, 9, 10, 10, 8, 4, 5, 6, 5, 3]) / 64)
    service_index = rng.choice(len(plans), size=responses,
                               p=_service_weights([p.servizio for p in plans]))
    submissions, items = [], []
    for i in range(responses):
        plan = plans[service_index[i]]
        day = days[day_index[i]]
        channel, batch, version = _channel(rng, plan, batches)
        sede = plan.servizio.sedi[rng.integers(len(plan.servizio.sedi))] if plan.servizio.sedi and \
            channel in ("qr", "chiosco", "sportello", "carta") else None
        years_ago = (end - day).days / 365
        latent = plan.quality + _season(day) - plan.trend * years_ago + rng.normal(0, 0.55)
        submissions.append({
            "servizio_id": plan.servizio.id, "versione_id": version.id,
            "data_ora": min(datetime(day.year, day.month, day.day, int(hours[i])), now),
            "canale": channel, "sede_id": sede.id if sede else None,
            "lingua": "en" if rng.random() < 0.06 else "it",
            "import_batch_id": batch.id if batch else None,
        })
        items.append(_answers(rng, version, latent, channel == "chiosco"))
    ids = random_keys(len(submissions))
    for key, submission in zip(ids, submissions, strict=True):
        submission["id"] = key
    for start in range(0, len(submissions), 20000):
        session.execute(insert(Compilazione), submissions[start:start + 20000])
    rows = [dict(row, compilazione_id=cid) for cid, answer in zip(ids, items, strict=True) for row in answer]
    for key, row in zip(random_keys(len(rows)), rows, strict=True):
        row["id"] = key
    for start in range(0, len(rows), 20000):
        session.execute(insert(Risposta), rows[start:start + 20000])
    for batch in batches:
        batch.righe = batch.righe_importate = sum(1 for s in submissions if s["import_batch_id"] == batch.id)
    # The rows went in with Core, past the ORM hook: recompute the daily counts.
    link_answers(session.connection())  # the answers given during the catalogue's campaigns count for them
    summary.rebuild(session)
    session.commit()
    return len(submissions)


def _service_weights(services: list[Servizio]) -> np.ndarray:
    users = np.array([float(s.utenti_annui or 1000) for s in services])
    weights = np.sqrt(users)
    return weights / weights.sum()


def _channel(rng, plan: Plan, batches):
    draw = rng.random()
    if plan.kiosk is not None and plan.servizio.sedi and draw < 0.22:
        return "chiosco", None, plan.kiosk
    if draw < 0.30:
        batch = batches[0] if rng.random() < 0.6 else batches[1]
        return ("telefono" if batch.metodo == "CATI" else "carta"), batch, plan.main
    if plan.servizio.sedi and draw < 0.60:
        return "qr", None, plan.main
    return ("email" if draw > 0.96 else "web"), None, plan.main


def _scale_value(rng, latent: float, low: int, high: int, effect: float) -> int:
    on_five = latent + effect + rng.normal(0, 0.6)
    value = low + (on_five - 1) / 4 * (high - low)
    return int(np.clip(np.rint(value), low, high))


def _answers(rng, version: QuestionarioVersione, latent: float, kiosk: bool) -> list[dict]:
    rows: list[dict] = []
    given: dict[str, object] = {}
    for d in version.domande:
        if not d.shown_for(given):
            continue
        row = {"domanda_id": d.id, "valore": None, "opzione": None, "testo": None, "importanza": None,
               "non_so": False}
        effect = DIMENSION_EFFECT.get(d.dimensione or "", 0.0) + 0.25 * _stable(d.codice + d.testo_it)
        if d.tipo in ("scala", "nps", "si_no", "faccine") and not d.obbligatoria and rng.random() < 0.07:
            continue  # skipped item
        if d.tipo == "scala":
            if d.non_so and rng.random() < 0.04:
                row["non_so"] = True
            else:
                row["valore"] = _scale_value(rng, latent, d.scala_min, d.scala_max, effect)
                given[d.codice] = row["valore"]
            if d.importanza and rng.random() < 0.6:
                row["importanza"] = int(np.clip(np.rint(3.8 + 1.2 * _stable(d.codice) + rng.normal(0, 0.8)), 1, 5))
        elif d.tipo == "faccine":
            score = latent + rng.normal(0, 0.35)
            row["valore"] = 3 if score >= 3.6 else 2 if score >= 2.9 else 1
            given[d.codice] = row["valore"]
        elif d.tipo == "nps":
            row["valore"] = int(np.clip(np.rint((latent - 1) / 4 * 10 + 0.6 + rng.normal(0, 1.4)), 0, 10))
        elif d.tipo == "si_no":
            row["valore"] = int(rng.random() < (latent - 1) / 4)
        elif d.tipo in ("scelta_singola", "scelta_multipla"):
            if rng.random() < (0.85 if d.mostra_se else 0.7):
                codes = [o.codice for o in d.opzioni]
                weights = np.linspace(2.0, 0.5, len(codes))
                k = 1 if d.tipo == "scelta_singola" else int(rng.integers(1, min(3, len(codes)) + 1))
                chosen = rng.choice(len(codes), size=k, replace=False, p=weights / weights.sum())
                rows += [dict(row, opzione=codes[c]) for c in sorted(chosen)]
                given[d.codice] = [codes[c] for c in chosen]
            continue
        elif d.tipo == "testo":
            if kiosk or rng.random() > 0.08:
                continue
            pool = COMMENTS["low" if latent < 3.0 else "high" if latent >= 3.8 else "middle"]
            row["testo"] = pool[int(rng.integers(len(pool)))]
        rows.append(row)
    return rows
