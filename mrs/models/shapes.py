"""Idealised anomaly shapes: the excess curves the demo world draws and the cluster library names.

A shape maps the position inside an anomaly window (0 at its start, 1 at its end) to the
share of the anomaly's full magnitude present at that moment.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

ShapeFunction = Callable[[np.ndarray], np.ndarray]


def _sharp_spike(t: np.ndarray) -> np.ndarray:
    # Rises within the first tenth, then decays but stays clearly elevated until the end.
    rise = np.clip(t / 0.1, 0.3, 1.0)
    decay = 0.4 + 0.6 * np.exp(-np.clip(t - 0.1, 0.0, None) * 3.0)
    return np.where(t < 0.1, rise, decay)


def _media_pulse(t: np.ndarray) -> np.ndarray:
    # Peaks immediately after the mention and fades quickly.
    return 0.4 + 0.6 * np.exp(-t * 4.0)


def _sustained_plateau(t: np.ndarray) -> np.ndarray:
    return np.where(t < 0.25, 0.4 + 0.6 * t / 0.25, 1.0)


def _gradual_ramp(t: np.ndarray) -> np.ndarray:
    return np.where(t < 0.6, 0.4 + 0.6 * t / 0.6, 1.0)


def _promo_step(t: np.ndarray) -> np.ndarray:
    # Full effect from the first hour, fading as shoppers stock up.
    return np.where(t < 0.6, 1.0, 1.0 - 0.5 * (t - 0.6) / 0.4)


def _duplicated_block(t: np.ndarray) -> np.ndarray:
    return np.ones_like(t)


def _sudden_drop(t: np.ndarray) -> np.ndarray:
    return np.ones_like(t)


SHAPES: dict[str, ShapeFunction] = {
    "sharp_spike": _sharp_spike,
    "media_pulse": _media_pulse,
    "sustained_plateau": _sustained_plateau,
    "gradual_ramp": _gradual_ramp,
    "promo_step": _promo_step,
    "duplicated_block": _duplicated_block,
    "sudden_drop": _sudden_drop,
}


def excess_profile(shape: str, hours: int) -> np.ndarray:
    """Share of the magnitude present in each of `hours` consecutive hours of a window."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; known shapes: {', '.join(sorted(SHAPES))}")
    if hours < 1:
        raise ValueError("an anomaly window needs at least one hour")
    t = (np.arange(hours) + 0.5) / hours
    return SHAPES[shape](t)
