"""The schema of a validated dataset, passed from `ingest` to every later step."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from components.shared.errors import InputError
from components.shared.plain import plain

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class DatasetSchema:
    """What downstream steps need to know about a validated dataset.

    Attributes:
        label: Name of the label column.
        features: Feature columns, in table order.
        categorical: The subset of ``features`` declared categorical.
        classes: Sorted distinct label values, as strings (empty for regression).
        rows: Number of rows.
        fingerprint: ``sha256:`` content fingerprint of the validated table.
        task: ``classification`` or ``regression`` (`components.shared.tasks`).
    """

    label: str
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    classes: tuple[str, ...]
    rows: int
    fingerprint: str
    task: str = "classification"

    @property
    def numeric(self) -> tuple[str, ...]:
        """Feature columns that are not categorical."""
        return tuple(f for f in self.features if f not in self.categorical)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetSchema:
        """Inverse of `to_dict`."""
        try:
            return cls(
                label=str(data["label"]),
                features=tuple(data["features"]),
                categorical=tuple(data["categorical"]),
                classes=tuple(data["classes"]),
                rows=int(data["rows"]),
                fingerprint=str(data["fingerprint"]),
                task=str(data.get("task", "classification")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"malformed dataset schema: {exc}") from None


def model_inputs(frame: pd.DataFrame, features: list[str], categorical: list[str]) -> pd.DataFrame:
    """The feature columns a stored model expects, typed as at training time.

    Args:
        frame: Rows to score (extra columns, such as the label or an id, are ignored).
        features: The model's feature columns, in training order.
        categorical: The categorical subset.

    Raises:
        InputError: A feature is missing, or a numeric feature holds text.
    """
    import pandas as pd

    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise InputError(f"input lacks feature column {missing[0]!r} the model was trained on")
    typed = {}
    for name in features:
        column = frame[name]
        if name in categorical:
            typed[name] = column.astype("string").astype(object).where(column.notna(), None)
            continue
        numeric = pd.to_numeric(column, errors="coerce")
        bad = column.notna() & numeric.isna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            held = plain(column[bad].iloc[0])
            raise InputError(f"feature {name!r} is numeric but row {row + 1} holds {held}")
        typed[name] = numeric.astype("float64")
    return pd.DataFrame(typed, index=frame.index)
