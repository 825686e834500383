"""Secondary suppression audited across breakdowns: may a reader of all the tables work a hidden group out?

A staff page shows one question's figures by channel, counter, comune, language and provenance side by side, with
the total. Each group is the sum of some cells of the cross-classification (``load_breakdown_cells``): the "web"
channel holds the citizens' web answers and a firm's CAWI rows. A reader who adds and subtracts shown groups gets
the sum of any combination of their cells, and so the figures of a hidden group whenever its cells are such a
combination (CAWI = web + qr − the citizens, when every citizen answered by web or QR). That is a question of
linear algebra: the group is disclosed when its row of cells lies in the span of the rows shown. The audit assumes
the reader knows which cells are empty (a firm's CATI rows are all "telefono"), the cautious assumption.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

Tables = dict[str, list[dict]]


def _row(cells: pd.DataFrame, by: str, group) -> np.ndarray:
    return (cells[by].to_numpy() == group).astype(float)


def _in_span(vector: np.ndarray, rows: list[np.ndarray]) -> bool:
    if not rows:
        return not vector.any()
    matrix = np.vstack(rows)
    return np.linalg.matrix_rank(np.vstack([matrix, vector])) == np.linalg.matrix_rank(matrix)


def disclosed(tables: Tables, cells: pd.DataFrame, threshold: int) -> list[tuple[str, object]]:
    """The small hidden groups (fewer than ``threshold`` answers) whose figures the shown groups and the total give
    away, as (breakdown, group)."""
    found = []
    for by, rows in tables.items():
        for row in rows:
            target = _row(cells, by, row["gruppo"])
            # A group without cells (its answers gone between the two reads) gives nothing away.
            if row["soppresso"] and 0 < row["n"] < threshold and target.any() and _reaches(tables, cells, target):
                found.append((by, row["gruppo"]))
    return found


def protect_combinations(tables: Tables, cells: pd.DataFrame, threshold: int, hide: Callable[[Tables, str, object],
                                                                                                Tables]) -> Tables:
    """Hide shown groups until no small hidden group can be worked out from the others. ``hide(tables, by, group)``
    hides one group and whatever the caller's other rules then require (its complements in its own table)."""
    if cells["n"].sum() < threshold:  # every group is small and hidden, the total too
        return tables
    while found := disclosed(tables, cells, threshold):
        target = _row(cells, *found[0])
        shown = sorted(((row["n"], by, str(row["gruppo"]), row["gruppo"]) for by, rows in tables.items()
                        for row in rows if not row["soppresso"]), key=lambda item: item[:3])
        if not shown:  # nothing left to hide: only the total, which the page shows anyway
            return tables
        # The smallest group whose hiding (with what it brings along) closes every way to the disclosed one, so the
        # page keeps as much as it can; else the smallest sharing answers with it, and another pass goes on.
        trials = (hide(tables, by, group) for _n, by, _name, group in shown)
        closed = next((trial for trial in trials if not _reaches(trial, cells, target)), None)
        if closed is None:
            overlapping = [(by, group) for _n, by, _name, group in shown if (_row(cells, by, group) * target).any()]
            closed = hide(tables, *(overlapping or [(shown[0][1], shown[0][3])])[0])
        tables = closed
    return tables


def _reaches(tables: Tables, cells: pd.DataFrame, target: np.ndarray) -> bool:
    """Whether the shown groups and the total give the sum over ``target``'s cells."""
    shown = [_row(cells, by, row["gruppo"]) for by, rows in tables.items() for row in rows if not row["soppresso"]]
    return _in_span(target, [np.ones(len(cells)), *shown])
