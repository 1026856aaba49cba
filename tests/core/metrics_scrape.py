"""Reading ``/metrics`` the way Prometheus does: with prometheus-client's own parser."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.processes import SAFETY_TIMEOUT

__all__ = ["Scrape", "scrape", "scrape_until"]


@dataclass
class Scrape:
    """The samples of one scrape, by sample name and labels."""

    samples: dict[tuple[str, frozenset[tuple[str, str]]], float]
    families: set[str]

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name`` with exactly ``labels``; KeyError when the scrape has none."""
        return self.samples[(name, frozenset(labels.items()))]

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(
            value for (sample, have), value in self.samples.items() if sample == name and wanted <= have
        )


def scrape(admin_url: str) -> Scrape:
    response = httpx.get(admin_url + "/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    families = set()
    for family in text_string_to_metric_families(response.text):
        families.add(family.name)
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Scrape(samples, families)


def scrape_until(admin_url: str, done: Callable[[Scrape], bool]) -> Scrape:
    """Scrape until ``done`` holds: workers publish their numbers a few times a second.

    Bounded by the safety timeout; the last scrape is returned either way, for the
    caller's assertions to show what was there.
    """
    give_up = time.monotonic() + SAFETY_TIMEOUT
    while True:
        result = scrape(admin_url)
        if done(result) or time.monotonic() > give_up:
            return result
        time.sleep(0.05)
