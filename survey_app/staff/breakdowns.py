"""A service's overall question by channel, counter, comune, language and provenance, with the small groups and
the groups that would give them away hidden; and the filters that would select such a group refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pandas as pd
from flask import current_app
from sqlalchemy import select

from analysis.disclosure import protect_combinations
from analysis.engine import Period, question_statistics
from analysis.filters import CITIZENS, METHOD_PREFIX, Filters
from analysis.queries import BREAKDOWNS, load_breakdown_cells, reuse_results

from ..errors import HiddenGroupFilter, NarrowComplement
from ..extensions import db
from ..figures_cache import cached, per_request
from ..models import Ente, ImportBatch, Servizio
from .selection import CHANNEL_NAMES, LANGUAGE_NAMES, Selection, handful_left_out, read_selection

RATED = ("scala", "faccine", "nps", "si_no")  # the questions whose figures a breakdown shows
BREAKDOWN_COLUMNS = ["gruppo", "n", "media", "quota_soddisfatti", "ic95_inf", "ic95_sup", "soppresso"]


def checked_selection(servizio: Servizio, page: bool = False) -> Selection:
    """The URL's period and filters (``read_selection``), refused with a 403 (``filter_problem``) when the filters
    leave out a handful of questionnaires (this page minus the same page without filters would give those few away)
    or select a group that the page without filters hides: a channel of 5 hidden there so that one of 4 could not be
    worked out by subtraction showed its 80% once chosen as the filter, and the 4 answers followed. ``page`` as in
    ``read_selection``."""
    selection = read_selection(servizio, page)
    threshold = current_app.config["SUPPRESSION_THRESHOLD"]
    if selection.filters:
        problem = filter_problem(servizio, selection.period, threshold, selection.options)
        if problem is not None:
            raise problem
    return selection


def hidden_groups_known(servizio: Servizio, period: Period, threshold: int,
                        shown: dict[str, list[dict]]) -> dict[str, set]:
    """The groups the page without filters hides to protect others, as far as known without computing them anew:
    every question's, where this request's refusal check computed them (a filtered page), else those of the
    breakdowns ``shown`` on the unfiltered page itself (its overall question's, or the question page's own)."""
    found = per_request("hidden_groups").get(_hidden_key(servizio, period, threshold))
    if found is not None:
        return {by: set(groups) for by, groups in found.items()}
    if period.filters:
        return {}
    return {by: {row["gruppo"] for row in rows if row["soppresso"] and row["n"] >= threshold}
            for by, rows in shown.items()}


def refused_options(servizio: Servizio, period: Period, options: dict[str, list[tuple[str, str]]], threshold: int,
                    hidden: dict[str, set]) -> dict[str, set[str]]:
    """Of each filter's values, those the page would refuse beside the period's other filters: a handful left out
    (counted for each, on the period and its years' parts), or a group among ``hidden`` (hidden_groups_known: a group
    hidden only in another question's table is still offered, and refused when chosen)."""
    current = period.filters or Filters()
    parts = [period] + ([part for part, _within in _year_parts(period)]
                        if period.start.year < _last_day(period).year else [])
    found: dict[str, set[str]] = {}
    for name, values in options.items():
        for value, _label in values:
            if getattr(current, name) == value:
                continue  # the page shown
            chosen = replace(current, **{name: value})
            if _group_of(name, value) in hidden.get(name, ()) or any(
                    handful_left_out(servizio, part, chosen, threshold) for part in parts):
                found.setdefault(name, set()).add(value)
    return found


def filter_problem(servizio: Servizio, period: Period, threshold: int,
                   options: dict[str, list] | None = None) -> NarrowComplement | HiddenGroupFilter | None:
    """The refusal a page with the period's filters gets, or None when it may be shown: a hidden group chosen, or
    a handful left out. Checked on the period and, when it spans more than one calendar year, on each year's part of
    it too: a range minus the year beside it gives that part (2024–2025 by QR minus 2025 by QR: QR in 2024, hidden
    there beside 2 phone answers)."""
    if not period.filters:
        return None
    parts = [(period, None)] + (_year_parts(period) if period.start.year < _last_day(period).year else [])
    for part, within in parts:
        left_out = handful_left_out(servizio, part, part.filters, threshold)
        if left_out:
            return NarrowComplement(left_out, threshold, within=within)
        found = hidden_group_chosen(servizio, part, threshold)
        if found is not None:
            by, value, question = found
            return HiddenGroupFilter(by, value, threshold, dict((options or {}).get(by, [])).get(value),
                                     question=question, within=within)
    return None


def _last_day(period: Period):
    return period.end - timedelta(microseconds=1)


def _year_parts(period: Period) -> list[tuple[Period, str]]:
    """Each calendar year's part of a period spanning several, with the year."""
    parts = []
    for year in range(period.start.year, _last_day(period).year + 1):
        start, end = max(period.start, datetime(year, 1, 1)), min(period.end, datetime(year + 1, 1, 1))
        last = end - timedelta(days=1)
        whole = start == datetime(year, 1, 1) and end == datetime(year + 1, 1, 1)
        label = str(year) if whole else f"{year} ({start:%m/%Y}–{last:%m/%Y})"  # the part of the year chosen
        parts.append((Period(start, end, label, period.filters), label))
    return parts


def hidden_group_chosen(servizio: Servizio, period: Period, threshold: int) -> tuple[str, str, str] | None:
    """The first of the period's filters that selects a group the page without filters hides, as (filter, value,
    the question whose breakdown hides it); None when there is none."""
    filters = period.filters.as_args() if period.filters else {}
    if not filters:
        return None
    unfiltered = Period(period.start, period.end, period.label)
    key = _hidden_key(servizio, period, threshold)
    # Once per request too, without the figures cache: the form's refused options ask for each value.
    memo = per_request("hidden_groups")
    if key not in memo:
        memo[key] = cached(key, lambda: _hidden_groups(servizio, unfiltered, threshold))[0]
    hidden = memo[key]
    for by, value in filters.items():
        question = hidden.get(by, {}).get(_group_of(by, value))
        if question is not None:
            return by, value, question
    return None


def filters_give_away(servizio: Servizio, period: Period, threshold: int) -> bool:
    """Whether a page with the period's filters would be refused (``filter_problem``): for a period the page shows
    beside its own, the trend's."""
    return filter_problem(servizio, period, threshold) is not None


def _hidden_key(servizio: Servizio, period: Period, threshold: int) -> str:
    return f"hidden-by-question-v2:{servizio.slug}:{threshold}:{period.start:%Y%m%d}:{period.end:%Y%m%d}"


def _hidden_groups(servizio: Servizio, period: Period, threshold: int) -> dict[str, dict]:
    """The groups of each breakdown that the page without filters hides to protect others, for any of its rated
    questions: a filtered page shows every question's figures, and a question's page its breakdowns (one "non so"
    made D1's paper answers 4, hidden with the phone's 5, where the overall question hid nothing)."""
    conn = db.session.connection()
    hidden: dict[str, dict] = {by: {} for by in BREAKDOWNS}  # group → the first question that hides it
    with reuse_results(conn):
        stats = question_statistics(conn, period, servizio.slug, threshold=threshold)
        rated = stats[stats["tipo"].isin(RATED)][["codice", "questionario"]].drop_duplicates()
        for code, questionnaire in rated.itertuples(index=False):
            # As the question's page is addressed: "D1", or "faccine.D1" for the kiosk's questionnaire.
            name = code if questionnaire == servizio.questionario.codice else f"{questionnaire}.{code}"
            for by, rows in breakdowns(conn, servizio, period, code, threshold, questionnaire).items():
                # A group of fewer answers than the threshold is hidden on the filtered page too (every figure is).
                for row in rows:
                    if row["soppresso"] and row["n"] >= threshold:
                        hidden[by].setdefault(row["gruppo"], name)
    return hidden


def _group_of(by: str, value: str):
    """The breakdown's group a filter's value falls in: a comune by its name, an import batch by its method."""
    if by == "comune":
        return db.session.scalar(select(Ente.nome).filter_by(codice=value))
    if by == "provenienza":
        if value == CITIZENS:
            return CITIZENS
        method = db.session.scalar(select(ImportBatch.metodo).filter_by(id=int(value)))
        return METHOD_PREFIX + method
    return value


def breakdowns(conn, servizio: Servizio, period: Period, code: str, threshold: int,
               questionnaire: str | None = None) -> dict[str, list[dict]]:
    """One question (the overall item) by channel, counter, comune, language and provenance, small groups
    suppressed, and the groups hidden that would let a reader of the five tables work a small one out (within one
    table, across mirrors, and by any sum or difference: analysis/disclosure.py)."""
    questionnaire = questionnaire or servizio.questionario.codice
    # Counters and languages are grouped by code: each row also carries the name the filters show.
    names = {"sede": {s.codice: s.nome for s in servizio.sedi},
             "lingua": {code: str(name) for code, name in LANGUAGE_NAMES.items()},
             "canale": {code: str(name) for code, name in CHANNEL_NAMES.items()}}
    # A new version may change the question's scale within the period: then each table has a row per group and
    # scale, and each scale's answers are protected on their own (the same group twice is not one set of answers).
    by_scale: dict[tuple[int, int] | None, dict[str, list[dict]]] = {}
    for by in BREAKDOWNS:
        stats = question_statistics(conn, period, servizio.slug, by=by, threshold=threshold)
        rows = stats[(stats["codice"] == code) & (stats["questionario"] == questionnaire)].sort_values("gruppo")
        for row in rows.to_dict(orient="records"):
            low, high = row["scala_min"], row["scala_max"]
            scale = None if pd.isna(low) or pd.isna(high) else (int(low), int(high))
            tables = by_scale.setdefault(scale, {name: [] for name in BREAKDOWNS})
            tables[by].append({**{k: row[k] for k in BREAKDOWN_COLUMNS}, "nome": names.get(by, {}).get(row["gruppo"])})
    found: dict[str, list[dict]] = {by: [] for by in BREAKDOWNS}
    for scale, tables in by_scale.items():
        cells = load_breakdown_cells(conn, period.start, period.end, servizio.slug, questionnaire, code,
                                     period.filters, scale)
        if period.filters:  # a group a filter leaves a handful short of: minus the unfiltered page, those few
            tables = protect_differences(tables, load_breakdown_cells(
                conn, period.start, period.end, servizio.slug, questionnaire, code, None, scale), threshold)
        protected = protect_combinations(protect_mirrors(tables, threshold), cells, threshold,
                                         lambda tables, by, group: protect_mirrors(_hidden(tables, by, group), threshold))
        for by, rows in protected.items():
            found[by] += rows
    return found


def protect_differences(tables: dict[str, list[dict]], unfiltered: pd.DataFrame,
                        threshold: int) -> dict[str, list[dict]]:
    """On a filtered page: a group shown with fewer answers than on the page without filters, but by less than
    ``threshold``, is hidden (web 45 at 93,3% unfiltered, web 42 at 100% among citizens: a firm's 3 CAWI answers)."""
    totals = {by: unfiltered.groupby(by)["n"].sum().to_dict() for by in tables}
    return {by: [_suppressed(row) if not row["soppresso"] and 0 < totals[by].get(row["gruppo"], 0) - row["n"] < threshold
                 else row for row in rows] for by, rows in tables.items()}


def _hidden(tables: dict[str, list[dict]], by: str, group) -> dict[str, list[dict]]:
    return {**tables, by: [_suppressed(row) if row["gruppo"] == group else row for row in tables[by]]}


def protect_mirrors(found: dict[str, list[dict]], threshold: int) -> dict[str, list[dict]]:
    """Secondary suppression across breakdowns, for groups that mirror each other: a firm's CATI rows are exactly
    the "telefono" channel, so CATI hidden in one table and "telefono" shown in another gave CATI's figures, and the
    total minus the citizens minus CATI gave a lone PAPI answer away (a walk-through did it). A group hidden in one
    breakdown hides every group of the same size in the others (the same answers, or a coincidence: hidden either
    way), then each table protects its complements again, until nothing changes."""
    found = {by: protect_complements(rows, threshold) for by, rows in found.items()}
    while True:
        hidden_sizes = {row["n"] for rows in found.values() for row in rows if row["soppresso"] and row["n"]}
        changed = False
        for by, rows in found.items():
            mirrored = [_suppressed(row) if not row["soppresso"] and row["n"] in hidden_sizes else row for row in rows]
            if mirrored != rows:
                found[by], changed = protect_complements(mirrored, threshold), True
        if not changed:
            return found


HIDDEN_FIGURES = ("media", "quota_soddisfatti", "ic95_inf", "ic95_sup")


def protect_complements(rows: list[dict], threshold: int) -> list[dict]:
    """Secondary suppression within one breakdown: the page also shows the total, so a group hidden alone could be
    worked out by subtraction (the total's satisfied minus the other groups'). The smallest groups shown are hidden
    too until at least two are hidden and they hold at least ``threshold`` answers together: subtraction then gives
    only their sum. (A group of 9 hidden by a mirror was hidden alone, and the total minus the others gave its
    3 satisfied of 9 exactly: a walk-through did it.)"""
    hidden = [row for row in rows if row["soppresso"] and row["n"]]
    if not hidden:
        return rows
    shown = sorted((row for row in rows if not row["soppresso"]), key=lambda row: (row["n"], str(row["gruppo"])))
    extra: set[int] = set()
    while shown and (len(hidden) < 2 or sum(row["n"] for row in hidden) < threshold):
        row = shown.pop(0)
        hidden.append(row)
        extra.add(id(row))
    return [_suppressed(row) if id(row) in extra else row for row in rows]


def _suppressed(row: dict) -> dict:
    return {**row, "soppresso": True, **dict.fromkeys(HIDDEN_FIGURES)}
