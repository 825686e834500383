"""Small statistical helpers, vectorised over numpy arrays."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np

Z95 = 1.959963984540054


def wilson_interval(k, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for k successes out of n, as proportions (NaN where n == 0)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    low, high = centre - half, centre + half
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


def round_half_up(value: float | None, digits: int) -> float | None:
    """Round as a person does by hand (2.675 -> 2.68), on the shortest decimal form of the float."""
    if value is None or not np.isfinite(value):
        return None
    quantum = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))
