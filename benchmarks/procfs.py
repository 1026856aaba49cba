"""Readings from /proc: a server's process tree, its CPU time, memory and descriptors, and core usage.

A server is more than one process for some peers: granian and hypercorn run
their workers as child processes of a supervisor. Every reading here covers
the whole tree under the pid the runner started, so each server is charged
for all the processes it needs, whichever of them does the work.
"""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ProcError(Exception):
    """A reading the runner needs is missing from /proc."""


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (which may hold spaces)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2 :].split()


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant, parents before children."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            parent = int(_stat_fields(int(entry.name))[1])
        except (OSError, IndexError, ValueError):
            continue  # exited while we looked
        children.setdefault(parent, []).append(int(entry.name))
    tree, index = [pid], 0
    while index < len(tree):
        tree += children.get(tree[index], [])
        index += 1
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid``'s tree: live processes, and children they have reaped.

    utime+stime count a live process's own threads; cutime+cstime count its
    children that exited and were waited for. A process is either live (its
    own fields) or reaped (in its parent's c-fields), never both, so the sum
    over the live tree counts every CPU-second once.
    """
    ticks = 0
    for member in process_tree(pid):
        try:
            fields = _stat_fields(member)
        except OSError:
            if member == pid:
                raise ProcError(f"process {pid} is gone") from None
            continue
        # utime, stime, cutime, cstime: fields 14-17 of proc(5); index 0 here is field 3.
        ticks += sum(int(value) for value in fields[11:15])
    return ticks / CLOCK_TICKS


def tree_rss_kib(pid: int) -> int:
    """Resident set size of ``pid``'s tree in KiB (shared pages counted in each process)."""
    total = 0
    for member in process_tree(pid):
        try:
            lines = Path(f"/proc/{member}/status").read_text().splitlines()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in lines if line.startswith("VmRSS:")), 0)
    if total == 0:
        raise ProcError(f"no VmRSS for process {pid}")
    return total


def tree_open_fds(pid: int) -> int:
    """Open file descriptors of every process in ``pid``'s tree."""
    total = 0
    for member in process_tree(pid):
        try:
            total += len(os.listdir(f"/proc/{member}/fd"))
        except OSError:
            continue
    return total


def core_busy_seconds(cpu: int) -> float:
    """Time core ``cpu`` spent not idle since boot (steal included: a hypervisor took it)."""
    for line in Path("/proc/stat").read_text().splitlines():
        fields = line.split()
        if fields[0] == f"cpu{cpu}":
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[1:9])
            return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS
    raise ProcError(f"no cpu{cpu} line in /proc/stat")
