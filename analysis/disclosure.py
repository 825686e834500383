"""Secondary suppression audited across breakdowns: may a reader of all the tables work a few answers out?

A staff page shows one question's figures by channel, counter, comune, language and provenance side by side, with
the total. Each group is the sum of some cells of the cross-classification (``load_breakdown_cells``): the "web"
channel holds the citizens' web answers and a firm's CAWI rows. A reader who adds and subtracts shown groups gets
the sum of any combination of their cells, and so the figures of a hidden group whenever its cells are such a
combination (CAWI = web + qr − the citizens, when every citizen answered by web or QR). That is a question of
linear algebra: a set of answers is disclosed when its row of cells lies in the span of the rows shown. The audit
checks every small hidden group and every small cell (web − a counter whose answers all came by web = the one web
answer given elsewhere), and assumes the reader knows which cells are empty (a firm's CATI rows are all "telefono"),
the cautious assumption.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

Tables = dict[str, list[dict]]
TOLERANCE = 1e-9


def _row(cells: pd.DataFrame, by: str, group) -> np.ndarray:
    return (cells[by].to_numpy() == group).astype(float)


class _Span:
    """The combinations of cells a reader gets from the shown groups and the total (an orthonormal basis)."""

    def __init__(self, tables: Tables, cells: pd.DataFrame) -> None:
        rows = [np.ones(len(cells))] + [_row(cells, by, row["gruppo"]) for by, rows in tables.items()
                                        for row in rows if not row["soppresso"]]
        _u, values, basis = np.linalg.svd(np.vstack(rows), full_matrices=False)
        self.basis = basis[values > TOLERANCE * max(values[0], 1)]

    def reaches(self, target: np.ndarray) -> bool:
        rest = target - self.basis.T @ (self.basis @ target)
        return bool(np.linalg.norm(rest) <= TOLERANCE * max(np.linalg.norm(target), 1) * 1e3)


def _targets(tables: Tables, cells: pd.DataFrame, threshold: int) -> list[np.ndarray]:
    """What must stay out of reach, as rows of cells: each small hidden group, and each small cell."""
    targets = [vector for by, rows in tables.items() for row in rows
               # A group without cells (its answers gone between the two reads) gives nothing away.
               if row["soppresso"] and 0 < row["n"] < threshold and (vector := _row(cells, by, row["gruppo"])).any()]
    counts = cells["n"].to_numpy()
    return targets + [np.eye(len(cells))[index] for index in np.flatnonzero((counts > 0) & (counts < threshold))]


def _reached(tables: Tables, cells: pd.DataFrame, threshold: int) -> list[np.ndarray]:
    span = _Span(tables, cells)
    return [target for target in _targets(tables, cells, threshold) if span.reaches(target)]


def disclosed(tables: Tables, cells: pd.DataFrame, threshold: int) -> list[tuple[str, object]]:
    """The small hidden groups (fewer than ``threshold`` answers) whose figures the shown groups and the total give
    away, as (breakdown, group)."""
    span = _Span(tables, cells)
    return [(by, row["gruppo"]) for by, rows in tables.items() for row in rows
            if row["soppresso"] and 0 < row["n"] < threshold
            and (vector := _row(cells, by, row["gruppo"])).any() and span.reaches(vector)]


def protect_combinations(tables: Tables, cells: pd.DataFrame, threshold: int, hide: Callable[[Tables, str, object],
                                                                                                Tables]) -> Tables:
    """Hide shown groups until no small hidden group and no small cell can be worked out from the others.
    ``hide(tables, by, group)`` hides one group and whatever the caller's other rules then require (its complements
    in its own table)."""
    if cells["n"].sum() < threshold:  # every group is small and hidden, the total too
        return tables
    while found := _reached(tables, cells, threshold):
        target = found[0]
        shown = sorted(((row["n"], by, str(row["gruppo"]), row["gruppo"]) for by, rows in tables.items()
                        for row in rows if not row["soppresso"]), key=lambda item: item[:3])
        if not shown:  # nothing left to hide: only the total, which the page shows anyway
            return tables
        # The smallest group whose hiding (with what it brings along) closes every way to the disclosed answers, so
        # the page keeps as much as it can; else the smallest sharing answers with them, and another pass goes on.
        trials = (hide(tables, by, group) for _n, by, _name, group in shown)
        closed = next((trial for trial in trials if not _Span(trial, cells).reaches(target)), None)
        if closed is None:
            overlapping = [(by, group) for _n, by, _name, group in shown if (_row(cells, by, group) * target).any()]
            closed = hide(tables, *(overlapping or [(shown[0][1], shown[0][3])])[0])
        tables = closed
    return tables
