"""The runner's /proc readings charge a server for its whole process tree, reaped children too."""

from __future__ import annotations

import subprocess
import sys

from benchmarks import procfs

# A parent that starts a child; the child burns CPU, reports, then exits when
# told to; the parent reaps it, reports, and waits to be closed.
_PARENT = r"""
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=sys.stdout)
sys.stdin.readline()              # the test has read the child's report
child.stdin.close(); child.wait()  # reaped: its time moves to our cutime/cstime
print("reaped", flush=True)
sys.stdin.readline()
"""
_CHILD = r"""
import sys, time
while time.process_time() < 0.3:
    pass
print("burnt %.3f" % time.process_time(), flush=True)
sys.stdin.read()
"""


def test_tree_cpu_counts_live_then_reaped_children() -> None:
    code = _PARENT.replace("CHILD", repr(_CHILD))
    with subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdin is not None and parent.stdout is not None
        line = parent.stdout.readline().split()
        assert line[0] == "burnt", line
        burnt = float(line[1])
        tree = procfs.process_tree(parent.pid)
        assert len(tree) == 2 and tree[0] == parent.pid
        # The parent itself has used next to nothing; the child's time is the tree's.
        assert procfs.tree_cpu_seconds(parent.pid) >= burnt - 0.02
        parent.stdin.write("\n")
        parent.stdin.flush()
        assert parent.stdout.readline().strip() == "reaped"
        assert procfs.process_tree(parent.pid) == [parent.pid]
        assert procfs.tree_cpu_seconds(parent.pid) >= burnt - 0.02
        parent.stdin.write("\n")
        parent.stdin.flush()
    assert parent.returncode == 0


def test_tree_memory_and_descriptors_of_a_single_process() -> None:
    with subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE, text=True) as process:
        assert procfs.tree_rss_kib(process.pid) > 1000
        assert procfs.tree_open_fds(process.pid) >= 3
        assert process.stdin is not None
        process.stdin.write("\n")
        process.stdin.flush()
