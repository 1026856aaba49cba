"""What the measurements produced: samples per workload and side, with errors kept, not raised."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from benchmarks.workloads import Sample

# The cell of a side that does not take part in a workload (hypercorn outside HTTP/2, ...).
ABSENT = "—"


@dataclass
class SideResult:
    """All samples of one workload on one server, and why any are missing."""

    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Set when the server cannot run this workload at all ("n/a (no HTTP/2)", ABSENT, ...).
    unavailable: str | None = None

    def median(self, metric: str = "value") -> float | None:
        values = [float(sample[metric]) for sample in self.samples if metric in sample]
        return statistics.median(values) if values else None

    def problems(self) -> list[str]:
        """Distinct problems reported by samples (bad statuses, lost connections, ...)."""
        seen: list[str] = []
        for sample in self.samples:
            text = str(sample.get("problems", ""))
            if text and text not in seen:
                seen.append(text)
        return seen

    def missing_reason(self) -> str:
        """Why there is no value: shown in the table cell instead of a number."""
        if self.unavailable:
            return self.unavailable
        if self.errors:
            return f"error: {self.errors[-1]}"
        return "not run"

    def as_json(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "errors": self.errors,
            "unavailable": self.unavailable,
        }


@dataclass
class WorkloadResult:
    """One workload measured on every side of the run."""

    key: str
    sides: dict[str, SideResult] = field(default_factory=dict)

    def side(self, key: str) -> SideResult:
        """The result of side ``key``; an absent side (not in this run) reads as not taking part."""
        return self.sides.get(key) or SideResult(unavailable=ABSENT)
