"""Reading the load tools' reports: h2load's summary and wrk's, good and bad."""

from __future__ import annotations

import pytest

from benchmarks.http_load import LoadError, parse_h2load_output, parse_wrk_output

H2LOAD = """starting benchmark...
Application protocol: h2c

finished in 2.01s, 29785.00 req/s, 1.17MB/s
requests: 59570 total, 59730 started, 59570 done, 59570 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 59570 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 2.33MB (2444754) total, 525.03KB (537634) headers (space savings 91.72%), 814.43KB (833980) data
"""

WRK = """Running 2s test @ http://127.0.0.1:8000/
  1 threads and 64 connections
  Latency Distribution
     50%    1.20ms
     75%    1.50ms
     90%    2.00ms
     99%    3.64ms
  95000 requests in 2.00s, 13.00MB read
  Socket errors: connect 0, read 3, write 0, timeout 0
Requests/sec:  47478.12
"""


def test_h2load_summary() -> None:
    result = parse_h2load_output(H2LOAD)
    assert result.requests_per_second == 29785.0
    assert result.requests == 59570
    assert result.problems == ""


def test_h2load_failures_and_http1_fallback_are_problems() -> None:
    output = H2LOAD.replace("Application protocol: h2c", "Application protocol: http/1.1")
    output = output.replace("59570 succeeded, 0 failed", "59000 succeeded, 570 failed")
    output = output.replace("0 4xx, 0 5xx", "0 4xx, 570 5xx")
    problems = parse_h2load_output(output).problems
    assert "570 failed" in problems
    assert "not HTTP/2" in problems
    assert "570 non-2xx responses" in problems


def test_h2load_without_a_summary() -> None:
    with pytest.raises(LoadError, match="unreadable h2load output"):
        parse_h2load_output("no connection could be made\n")


def test_wrk_report() -> None:
    result = parse_wrk_output(WRK)
    assert (result.requests_per_second, result.p99_ms, result.requests) == (47478.12, 3.64, 95000)
    assert "read 3" in result.problems
