"""A reproducible drifting data stream for demos and tests of the monitoring loop."""

from __future__ import annotations

import numpy as np
import pandas as pd

WINDOW_FRACTION = 0.6  # each window is a different 60% sample of the rows
STABLE_WINDOWS = 3  # windows 0, 1, 2 look like the training data
SHIFT_PER_WINDOW = 0.1  # then every feature moves this many standard deviations per window


def drift_strength(window: int) -> float:
    """Shift (in standard deviations) applied to every feature in ``window``."""
    return max(0, window - STABLE_WINDOWS + 1) * SHIFT_PER_WINDOW


def drifted_window(frame: pd.DataFrame, label: str, window: int) -> pd.DataFrame:
    """Window ``window`` of ``frame``: a seeded sample whose features are shifted upwards.

    Shifting all features up makes benign cases look like malignant ones to a model
    trained on the original data, so its accuracy declines window by window, while a
    model trained on a drifted window learns the shifted boundary.

    Args:
        frame: The labeled dataset.
        label: Label column (never changed).
        window: Window number (>= 0); also the sampling seed.

    Returns:
        The window's rows, same columns.
    """
    sample = frame.sample(frac=WINDOW_FRACTION, random_state=np.random.default_rng(window)).reset_index(
        drop=True
    )
    features = [c for c in frame.columns if c != label and pd.api.types.is_numeric_dtype(frame[c])]
    shift = drift_strength(window)
    if shift:
        sample[features] = sample[features] + shift * frame[features].std(ddof=0)
    return sample
