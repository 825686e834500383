"""Small-cell suppression, primary and secondary.

Primary: a cell with n below the threshold loses its figures. Secondary: within a group of
cells whose total is published (the same service and question broken down by channel,
counter, …), the suppressed cells could be recovered as "total minus the others" when only
one is suppressed, or when the suppressed ones together are still a small group. So more
cells are suppressed, smallest first, until the suppressed cells are at least two and
together reach the threshold, or every cell of the group is suppressed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_THRESHOLD = 5


def check_threshold(threshold: int) -> int:
    if threshold < MIN_THRESHOLD:
        raise ValueError(f"la soglia di soppressione non può essere inferiore a {MIN_THRESHOLD}")
    return threshold


def suppression_mask(n: np.ndarray, threshold: int) -> np.ndarray:
    """Which cells of one group to suppress, given their n (primary and secondary)."""
    n = np.asarray(n)
    suppressed = n < threshold
    if not suppressed.any():
        return suppressed
    order = np.argsort(n, kind="stable")
    while not suppressed.all() and (suppressed.sum() < 2 or n[suppressed].sum() < threshold):
        next_cell = next(i for i in order if not suppressed[i])
        suppressed[next_cell] = True
    return suppressed


def suppress(frame: pd.DataFrame, group_keys: list[str], threshold: int, figure_columns: list[str]) -> pd.DataFrame:
    """Mark ``soppresso`` and blank the figures of suppressed cells, group by group."""
    check_threshold(threshold)
    frame = frame.copy()
    if frame.empty:
        frame["soppresso"] = pd.Series(dtype=bool)
        return frame
    mask = np.zeros(len(frame), dtype=bool)
    positions = np.arange(len(frame))
    for _, index in frame.groupby(group_keys, dropna=False).indices.items():
        mask[positions[index]] = suppression_mask(frame["n"].to_numpy()[index], threshold)
    frame["soppresso"] = mask
    present = [c for c in figure_columns if c in frame]
    frame[present] = frame[present].astype(float)
    frame.loc[mask, present] = np.nan
    return frame
