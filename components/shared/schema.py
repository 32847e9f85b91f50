"""The schema of a validated dataset, passed from `ingest` to every later step."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from components.shared.errors import InputError


@dataclass(frozen=True)
class DatasetSchema:
    """What downstream steps need to know about a validated dataset.

    Attributes:
        label: Name of the label column.
        features: Feature columns, in table order.
        categorical: The subset of ``features`` declared categorical.
        classes: Sorted distinct label values, as strings.
        rows: Number of rows.
        fingerprint: ``sha256:`` content fingerprint of the validated table.
    """

    label: str
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    classes: tuple[str, ...]
    rows: int
    fingerprint: str

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
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"malformed dataset schema: {exc}") from None
