"""The 16-feature shape vector of an anomaly window.

Computed from the actual and baseline series of one report's own hours. Every feature is
bounded (roughly within [-1, 1]) so that cosine similarity weighs them comparably, and every
feature is unchanged when actual and baseline are scaled together (a busy store and a quiet
one with the same story get the same vector).
"""

from __future__ import annotations

import math

import numpy as np

CURVE_POINTS = 7
FEATURE_NAMES: tuple[str, ...] = (
    *(f"curve_p{i}" for i in range(1, CURVE_POINTS + 1)),
    "rise_slope",
    "decay_slope",
    "peak_position",
    "symmetry",
    "kurtosis",
    "volatility",
    "duration",
    "direction",
    "relative_magnitude",
)
# One week of hours maps to duration 1.0.
_DURATION_SCALE_HOURS = 168


def shape_vector(actual: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Return the 16 shape features of a window, in FEATURE_NAMES order."""
    actual = np.asarray(actual, dtype=float)
    baseline = np.asarray(baseline, dtype=float)
    if actual.shape != baseline.shape or actual.ndim != 1 or actual.size == 0:
        raise ValueError("actual and baseline must be non-empty 1-D arrays of the same length")

    excess = actual - baseline
    total = float(excess.sum())
    direction = 1.0 if total >= 0 else -1.0
    # The curve is the relative excess: a multiplicative uplift is flat even though busy
    # hours add more units than quiet ones. The floor is relative to the series' own level,
    # so scaling actual and baseline together changes nothing.
    floor = max(0.25 * float(np.mean(np.abs(baseline))), 1e-9)
    relative = excess / np.maximum(np.abs(baseline), floor)
    signed = _smooth(relative * direction)
    peak = float(np.max(signed))
    norm = signed / peak if peak > 0 else np.zeros_like(signed)
    n = norm.size

    curve = _resample(norm, CURVE_POINTS)

    # The window opens on the first anomalous hour, so the rise is measured from baseline (0).
    steps = np.diff(np.concatenate(([0.0], norm)))
    rise_slope = float(np.clip(steps.max(), 0.0, 1.0))
    inner_steps = np.diff(norm)
    decay_slope = float(np.clip(-inner_steps.min(), 0.0, 1.0)) if n > 1 else 0.0

    peak_index = int(np.argmax(norm))
    peak_position = peak_index / (n - 1) if n > 1 else 0.0
    symmetry = _symmetry(norm)
    kurtosis = _kurtosis_feature(norm)
    volatility = float(np.clip(np.std(inner_steps), 0.0, 1.0)) if n > 2 else 0.0
    duration = min(math.log1p(n) / math.log1p(_DURATION_SCALE_HOURS), 1.5)

    baseline_total = float(np.abs(baseline).sum())
    share = float(np.abs(excess).sum()) / baseline_total if baseline_total > 0 else 1.0
    relative_magnitude = math.tanh(share)

    return np.array(
        [
            *curve,
            rise_slope,
            decay_slope,
            peak_position,
            symmetry,
            kurtosis,
            volatility,
            duration,
            direction,
            relative_magnitude,
        ],
        dtype=float,
    )


def _resample(curve: np.ndarray, points: int) -> np.ndarray:
    """The curve as `points` bin means over equal shares of the window (a short window's
    hours are stretched by interpolation first): averaging damps count noise."""
    fine = np.interp(np.linspace(0.0, curve.size - 1.0, points * 12), np.arange(curve.size), curve)
    return fine.reshape(points, 12).mean(axis=1)


def _smooth(curve: np.ndarray) -> np.ndarray:
    """Centred three-hour moving average (ends use what they have): damps count noise."""
    if curve.size < 3:
        return curve
    padded = np.concatenate(([curve[0]], curve, [curve[-1]]))
    return (padded[:-2] + padded[1:-1] + padded[2:]) / 3.0


def _symmetry(norm: np.ndarray) -> float:
    """Correlation of the curve with its own reverse: 1 for a symmetric window."""
    if norm.size < 3 or np.allclose(norm, norm[0]):
        return 1.0
    reverse = norm[::-1]
    return float(np.clip(np.corrcoef(norm, reverse)[0, 1], -1.0, 1.0))


def _kurtosis_feature(norm: np.ndarray) -> float:
    """Peakedness of the excess over time, squashed to (-1, 1); 0 for a flat block."""
    weights = np.clip(norm, 0.0, None)
    if norm.size < 3 or weights.sum() <= 0:
        return 0.0
    t = np.linspace(0.0, 1.0, norm.size)
    w = weights / weights.sum()
    mean = float((w * t).sum())
    var = float((w * (t - mean) ** 2).sum())
    if var <= 0:
        return 1.0
    kurt = float((w * (t - mean) ** 4).sum()) / var**2
    # 1.8 is the kurtosis of a uniform block.
    return math.tanh((kurt - 1.8) / 3.0)
