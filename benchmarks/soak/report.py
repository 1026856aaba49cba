"""The soak's figures, the bounds they are judged by, and the report it prints.

The bounds (docs/reliability.md explains them):

- after the clients leave, the server's open fds are back to the baseline;
- the objects its garbage collector tracks and the memory blocks Python has
  allocated are back to (within a few of) what they were after a first,
  identical round, whose requests filled whatever caches the server keeps:
  nothing of the connections is left;
- RSS after the clients leave (measured after a collection, see app.py) is
  within ``rss_over_first_round_share`` of the peak's growth (at least
  ``rss_over_first_round_kib``) of what it was after the first round. RSS is a coarse measure: the
  allocators keep part of what a peak used for the next one, and that share
  creeps up over the first rounds before it settles, which is why the exact
  leak checks are the object and block counts;
- during a load, RSS grows by at most ``rss_growth_during_load_kib`` between
  the first and the last tenth of its samples (for a million requests: 8 bytes
  a request);
- every answer is right, the server holds every idle connection, logs no
  error, and shuts down gracefully on SIGTERM.
"""

from __future__ import annotations

import signal
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["BOUNDS", "Phase", "Report"]

BOUNDS = {
    "fds_over_baseline": 2,
    "objects_over_first_round": 100,
    "blocks_over_first_round": 200,
    "rss_over_first_round_kib": 8 * 1024,
    "rss_over_first_round_share": 0.5,
    "rss_growth_during_load_kib": 8 * 1024,
}


@dataclass
class Phase:
    """The figures of one phase (HTTP or WebSocket)."""

    name: str
    idle: int  # connections held
    count: int  # requests or messages of the load
    seconds: float = 0.0
    rss_baseline_kib: int = 0
    fds_baseline: int = 0
    objects_baseline: int = 0  # objects the collector tracks
    blocks_baseline: int = 0  # memory blocks allocated by Python
    rss_first_round_kib: int = 0  # after a first, identical round, collected
    objects_first_round: int = 0
    blocks_first_round: int = 0
    rss_peak_kib: int = 0
    fds_peak: int = 0
    rss_after_uncollected_kib: int = 0
    rss_after_kib: int = 0  # after the probe's collection (see app.py)
    fds_after: int = 0
    objects_after: int = 0
    blocks_after: int = 0
    rss_samples_kib: list[int] = field(default_factory=list)

    @property
    def growth_during_load_kib(self) -> int:
        samples = self.rss_samples_kib
        tenth = max(1, len(samples) // 10)
        return round(sum(samples[-tenth:]) / tenth - sum(samples[:tenth]) / tenth) if samples else 0

    def judge(self) -> list[str]:
        failures = []
        # The resting count: the baseline may still hold the probe's connection, closing
        # (a lingering close ends one round trip after the probe has read its answer).
        resting = min(self.fds_baseline, self.fds_after)
        if self.fds_peak - resting < self.idle:
            failures.append(f"the server held {self.fds_peak - resting} of {self.idle} idle connections")
        if self.fds_after > self.fds_baseline + BOUNDS["fds_over_baseline"]:
            failures.append(f"{self.fds_after} fds after, baseline {self.fds_baseline}")
        # Against the first round: its requests filled what caches the server has.
        if self.objects_after > self.objects_first_round + BOUNDS["objects_over_first_round"]:
            failures.append(
                f"{self.objects_after} objects after, {self.objects_first_round} after the first round"
            )
        if self.blocks_after > self.blocks_first_round + BOUNDS["blocks_over_first_round"]:
            failures.append(
                f"{self.blocks_after} memory blocks after, {self.blocks_first_round} after the first round"
            )
        added = self.rss_peak_kib - self.rss_baseline_kib
        allowed = max(BOUNDS["rss_over_first_round_kib"], BOUNDS["rss_over_first_round_share"] * added)
        if self.rss_after_kib > self.rss_first_round_kib + allowed:
            failures.append(
                f"RSS {self.rss_after_kib} KiB after, {self.rss_first_round_kib} after the first round "
                f"(bound +{allowed:.0f})"
            )
        if self.growth_during_load_kib > BOUNDS["rss_growth_during_load_kib"]:
            failures.append(f"RSS grew {self.growth_during_load_kib} KiB during the load")
        return [f"{self.name}: {failure}" for failure in failures]

    def render(self) -> str:
        return (
            f"{self.name}: {self.idle} idle, {self.count} in the load, {self.seconds:.0f}s\n"
            f"  RSS KiB: baseline {self.rss_baseline_kib}, after a first round {self.rss_first_round_kib}, "
            f"peak {self.rss_peak_kib}, after {self.rss_after_uncollected_kib} "
            f"(collected: {self.rss_after_kib}); growth during the load {self.growth_during_load_kib} "
            f"({len(self.rss_samples_kib)} samples)\n"
            f"  open fds: baseline {self.fds_baseline}, peak {self.fds_peak}, after {self.fds_after}; "
            f"objects: baseline {self.objects_baseline}, after a first round {self.objects_first_round}, "
            f"after {self.objects_after}\n"
            f"  memory blocks: baseline {self.blocks_baseline}, "
            f"after a first round {self.blocks_first_round}, after {self.blocks_after}"
        )


@dataclass
class Report:
    profile: str
    options: list[str]
    counts: dict[str, int]
    open_file_limit: int
    phases: list[Phase] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    server_log_problems: list[str] = field(default_factory=list)
    exit_code: int | None = None
    seconds: float = 0.0

    def judge(self) -> None:
        for phase in self.phases:
            self.failures += phase.judge()
        # After its graceful shutdown the server raises SIGTERM again on itself, as upstream does.
        if self.exit_code not in (0, -signal.SIGTERM):
            self.failures.append(f"the server exited with {self.exit_code} after SIGTERM")
        errors = [line for line in self.server_log_problems if not line.startswith("WARNING")]
        if errors:
            self.failures.append(f"the server logged errors: {errors[:3]}")

    def render(self) -> str:
        lines = [
            f"soak ({self.profile}): {self.counts}; server options {self.options or 'default'}",
            f"open file limit {self.open_file_limit}; {self.seconds:.0f}s in all",
            *(phase.render() for phase in self.phases),
            *(f"the server logged: {line}" for line in self.server_log_problems),
            "FAILED: " + "; ".join(self.failures) if self.failures else "passed: every bound held",
        ]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["bounds"] = BOUNDS
        for phase, source in zip(data["phases"], self.phases, strict=True):
            phase["growth_during_load_kib"] = source.growth_during_load_kib
        return data
