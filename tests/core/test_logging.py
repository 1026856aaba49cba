"""Log formatters, the default logging config, and every form of ``log_config``."""

from __future__ import annotations

import configparser
import copy
import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.core.apps import hello
from tests.processes import error_lines, run_python
from tests.serving import serve
from uvicorn.config import Config
from uvicorn.logging import (
    LOGGING_CONFIG,
    TRACE_LOG_LEVEL,
    AccessFormatter,
    ColourizedFormatter,
    DefaultFormatter,
    apply_log_config,
)

GREEN, BOLD, RESET = "\x1b[32m", "\x1b[1m", "\x1b[0m"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Each test may reconfigure logging: put back uvicorn's config and every flag it does not set."""
    names = ["", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"]
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (logger.level, logger.propagate, logger.disabled, list(logger.handlers))
    yield
    apply_log_config(LOGGING_CONFIG, None)
    for name, (level, propagate, disabled, handlers) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.propagate = propagate
        logger.disabled = disabled
        if name == "":  # uvicorn's loggers got fresh handlers from LOGGING_CONFIG; root gets its own back
            logger.handlers = handlers


def make_record(level: int, msg: str, args: Any = (), **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord("uvicorn.error", level, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


# ---------------------------------------------------------------- formatters


def test_trace_level_is_registered() -> None:
    assert TRACE_LOG_LEVEL == 5
    assert logging.getLevelName(TRACE_LOG_LEVEL) == "TRACE"


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (logging.INFO, "INFO:     hello"),
        (logging.WARNING, "WARNING:  hello"),
        (logging.CRITICAL, "CRITICAL: hello"),
        (TRACE_LOG_LEVEL, "TRACE:    hello"),
    ],
)
def test_level_prefix_is_padded(level: int, expected: str) -> None:
    formatter = DefaultFormatter("%(levelprefix)s %(message)s", use_colors=False)
    assert formatter.format(make_record(level, "hello")) == expected


def test_colours_level_name_and_uses_color_message() -> None:
    formatter = ColourizedFormatter("%(levelprefix)s %(message)s", use_colors=True)
    record = make_record(logging.INFO, "port %d", (80,), color_message="port " + BOLD + "%d" + RESET)
    assert formatter.format(record) == f"{GREEN}INFO{RESET}:     port {BOLD}80{RESET}"


def test_color_message_ignored_without_colours() -> None:
    formatter = ColourizedFormatter("%(levelprefix)s %(message)s", use_colors=False)
    record = make_record(logging.INFO, "port %d", (80,), color_message="colourful %d")
    assert formatter.format(record) == "INFO:     port 80"


def test_formatting_leaves_the_record_alone() -> None:
    formatter = ColourizedFormatter("%(levelprefix)s %(message)s", use_colors=True)
    record = make_record(logging.INFO, "plain %s", ("x",), color_message="colour %s")
    formatter.format(record)
    assert record.msg == "plain %s"
    assert not hasattr(record, "levelprefix")


@pytest.mark.parametrize("value", [None, "invalid"])
def test_use_colors_not_a_bool_means_only_on_a_terminal(value: Any) -> None:
    # Under pytest the streams are captured, never terminals.
    assert DefaultFormatter(use_colors=value).use_colors is False
    assert AccessFormatter(use_colors=value).use_colors is False


ACCESS_FORMAT = LOGGING_CONFIG["formatters"]["access"]["fmt"]


def access_record(status: int, path: str = "/a?b=1") -> logging.LogRecord:
    return make_record(
        logging.INFO, '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", "GET", path, "1.1", status)
    )


@pytest.mark.parametrize(
    ("status", "shown"),
    [(200, "200 OK"), (404, "404 Not Found"), (503, "503 Service Unavailable"), (599, "599 ")],
)
def test_access_line_shape(status: int, shown: str) -> None:
    formatter = AccessFormatter(ACCESS_FORMAT, use_colors=False)
    assert (
        formatter.format(access_record(status)) == f'INFO:     127.0.0.1:5000 - "GET /a?b=1 HTTP/1.1" {shown}'
    )


@pytest.mark.parametrize(
    ("status", "colour"), [(101, "97"), (200, "32"), (302, "33"), (404, "31"), (500, "91")]
)
def test_access_line_colours(status: int, colour: str) -> None:
    line = AccessFormatter(ACCESS_FORMAT, use_colors=True).format(access_record(status))
    assert f'"{BOLD}GET /a?b=1 HTTP/1.1{RESET}"' in line
    assert f"\x1b[{colour}m{status} " in line


def test_access_formatter_tolerates_other_records() -> None:
    formatter = AccessFormatter(ACCESS_FORMAT, use_colors=False)
    assert "something else" in formatter.format(make_record(logging.INFO, "something else"))


# ---------------------------------------------------------------- with a real server


def access_log_config(stream: io.StringIO, use_colors: bool = False) -> dict[str, Any]:
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"]["use_colors"] = use_colors
    config["handlers"]["access"]["stream"] = stream  # dictConfig accepts objects as well as ext:// names
    config["loggers"]["uvicorn.access"]["propagate"] = False
    return config


@pytest.mark.parametrize("http", ["h11", "httptools"])
async def test_access_line_from_a_real_request(http: str) -> None:
    stream = io.StringIO()
    async with (
        serve(hello, http=http, log_config=access_log_config(stream)) as running,
        httpx.AsyncClient() as client,
    ):
        response = await client.get(running.url + "/path?x=1")
    assert response.status_code == 200
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert re.fullmatch(r'INFO:     127\.0\.0\.1:\d+ - "GET /path\?x=1 HTTP/1\.1" 200 OK', lines[0])


async def test_access_log_disabled() -> None:
    stream = io.StringIO()
    async with (
        serve(hello, log_config=access_log_config(stream), access_log=False) as running,
        httpx.AsyncClient() as client,
    ):
        assert (await client.get(running.url)).status_code == 200
    assert stream.getvalue() == ""


async def test_startup_and_shutdown_messages(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with serve(hello, port=0) as running:
        pass
    messages = [record.getMessage() for record in caplog.records if record.name == "uvicorn.error"]
    assert messages[0].startswith("Started server process [")
    assert messages[1:4] == [
        "Waiting for application startup.",
        "ASGI 'lifespan' protocol appears unsupported.",
        "Application startup complete.",
    ]
    assert "Shutting down" in messages
    assert messages[-1].startswith("Finished server process [")
    assert running.server.started


# ---------------------------------------------------------------- log_config forms


def file_logging_dict(log_file: Path) -> dict[str, Any]:
    """A config sending uvicorn.error warnings to ``log_file`` as "LEVEL|message"."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(levelname)s|%(message)s"}},
        "handlers": {
            "file": {"class": "logging.FileHandler", "filename": str(log_file), "formatter": "plain"}
        },
        "loggers": {"uvicorn.error": {"handlers": ["file"], "level": "WARNING", "propagate": False}},
    }


def logged_to(log_file: Path) -> list[str]:
    logger = logging.getLogger("uvicorn.error")
    logger.info("not shown")
    logger.warning("marker")
    for handler in logger.handlers:
        handler.flush()
    return log_file.read_text().splitlines()


def test_log_config_dict(tmp_path: Path) -> None:
    Config(hello, log_config=file_logging_dict(tmp_path / "log.txt"))
    assert logged_to(tmp_path / "log.txt") == ["WARNING|marker"]


def test_log_config_json(tmp_path: Path) -> None:
    path = tmp_path / "logging.json"
    path.write_text(json.dumps(file_logging_dict(tmp_path / "log.txt")))
    Config(hello, log_config=str(path))
    assert logged_to(tmp_path / "log.txt") == ["WARNING|marker"]


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_log_config_yaml(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"logging{suffix}"
    path.write_text(yaml.safe_dump(file_logging_dict(tmp_path / "log.txt")))
    Config(hello, log_config=path)  # a Path works as well as a str
    assert logged_to(tmp_path / "log.txt") == ["WARNING|marker"]


def ini_text(log_file: Path) -> str:
    return f"""
[loggers]
keys=root,uvicorn_error

[handlers]
keys=file

[formatters]
keys=plain

[logger_root]
level=WARNING
handlers=

[logger_uvicorn_error]
level=WARNING
handlers=file
qualname=uvicorn.error
propagate=0

[handler_file]
class=FileHandler
formatter=plain
args=({str(log_file)!r}, 'w')

[formatter_plain]
format=%(levelname)s|%(message)s
"""


def test_log_config_ini_keeps_existing_loggers(tmp_path: Path) -> None:
    app_logger = logging.getLogger("tests.core.an_app_logger")
    path = tmp_path / "logging.ini"
    path.write_text(ini_text(tmp_path / "log.txt"))
    Config(hello, log_config=str(path))
    assert logged_to(tmp_path / "log.txt") == ["WARNING|marker"]
    assert app_logger.disabled is False


@pytest.mark.parametrize(("setting", "disabled"), [(None, True), (False, False), (True, True)])
def test_log_config_dict_applies_as_dictconfig(tmp_path: Path, setting: bool | None, disabled: bool) -> None:
    # As upstream: the dict goes to dictConfig as it is, so an app logger created before it is
    # disabled unless the dict says disable_existing_loggers: false (dictConfig's default is true).
    app_logger = logging.getLogger("tests.core.an_earlier_app_logger")
    app_logger.disabled = False
    log_config = file_logging_dict(tmp_path / "log.txt")
    del log_config["disable_existing_loggers"]
    if setting is not None:
        log_config["disable_existing_loggers"] = setting
    Config(hello, log_config=log_config)
    assert app_logger.disabled is disabled
    assert logged_to(tmp_path / "log.txt") == ["WARNING|marker"]


def test_log_config_file_object(tmp_path: Path) -> None:
    Config(hello, log_config=io.StringIO(ini_text(tmp_path / "log.txt")))
    assert logged_to(tmp_path / "log.txt") == ["WARNING|marker"]


def test_log_config_raw_config_parser(tmp_path: Path) -> None:
    parser = configparser.RawConfigParser()
    parser.read_string(ini_text(tmp_path / "log.txt"))
    Config(hello, log_config=parser)
    assert logged_to(tmp_path / "log.txt") == ["WARNING|marker"]


def test_log_config_none_leaves_logging_alone() -> None:
    logger = logging.getLogger("uvicorn.error")
    handlers = list(logger.handlers)
    logger.setLevel(logging.ERROR)
    Config(hello, log_config=None)
    assert logger.handlers == handlers
    assert logger.level == logging.ERROR


@pytest.mark.parametrize("use_colors", [True, False])
def test_use_colors_is_written_into_the_callers_dict(use_colors: bool) -> None:
    # As upstream: the caller's dict gets use_colors, and is what dictConfig applies.
    before = copy.deepcopy(LOGGING_CONFIG)
    mine = copy.deepcopy(LOGGING_CONFIG)
    Config(hello, log_config=mine, use_colors=use_colors)
    assert mine["formatters"]["default"]["use_colors"] is use_colors
    assert mine["formatters"]["access"]["use_colors"] is use_colors
    assert before == LOGGING_CONFIG
    handler = logging.getLogger("uvicorn").handlers[0]
    assert isinstance(handler.formatter, DefaultFormatter)
    assert handler.formatter.use_colors is use_colors


@pytest.mark.parametrize("use_colors", [True, False])
def test_use_colors_leaves_the_default_config_alone(use_colors: bool) -> None:
    # Unlike upstream: one server's use_colors does not stick to uvicorn's LOGGING_CONFIG.
    before = copy.deepcopy(LOGGING_CONFIG)
    Config(hello, log_config=LOGGING_CONFIG, use_colors=use_colors)
    assert before == LOGGING_CONFIG
    formatter = logging.getLogger("uvicorn").handlers[0].formatter
    assert isinstance(formatter, DefaultFormatter)
    assert formatter.use_colors is use_colors


def test_use_colors_with_a_dict_lacking_uvicorns_formatters() -> None:
    # Upstream raises KeyError here; a dict of one's own need not name uvicorn's formatters.
    mine = {"version": 1, "disable_existing_loggers": False, "formatters": {"plain": {}}}
    Config(hello, log_config=mine, use_colors=True)
    assert mine["formatters"] == {"plain": {}}


@pytest.mark.parametrize(
    ("log_level", "expected"), [("trace", 5), ("Info", logging.INFO), ("WARNING", logging.WARNING), (10, 10)]
)
def test_log_level(log_level: str | int, expected: int) -> None:
    Config(hello, log_level=log_level)
    for name in ("uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        assert logging.getLogger(name).level == expected


# ---------------------------------------------------------------- mistakes: one line, exit 3


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (
            "log_config = 'missing.json'",
            r"^ERROR:    Invalid value for 'log_config' \(--log-config\): 'missing\.json': .*No such file",
        ),
        (
            "open('bad.json', 'w').write('{not json'); log_config = 'bad.json'",
            r"^ERROR:    Invalid value for 'log_config' \(--log-config\): 'bad\.json': Expecting",
        ),
        (
            "log_config = 'missing.ini'",
            r"^ERROR:    Invalid value for 'log_config' \(--log-config\): 'missing\.ini'",
        ),
        (
            "import sys; sys.modules['yaml'] = None; log_config = 'logging.yaml'",
            r"^ERROR:    Invalid value for 'log_config' \(--log-config\): 'logging\.yaml' is a YAML file\. "
            r"Install the PyYAML package or uvicorn\[standard\]",
        ),
        (
            "log_config = {'version': 1, 'handlers': {'h': {'class': 'no.such.Handler'}}}",
            r"^ERROR:    Invalid value for 'log_config' \(--log-config\): the dict given: "
            r"Unable to configure handler 'h'",
        ),
        (
            # dictConfig fails half-way, after disabling uvicorn's loggers: the line is still shown.
            "log_config = {'version': 1, 'handlers': {'h': {'class': 'logging.StreamHandler', "
            "'formatter': 'missing'}}, 'loggers': {'app': {'handlers': ['h']}}}",
            r"^ERROR:    Invalid value for 'log_config' \(--log-config\): the dict given: "
            r"Unable to configure handler 'h'",
        ),
    ],
)
def test_bad_log_config(tmp_path: Path, setup: str, expected: str) -> None:
    result = run_python(
        f"""
        {setup}
        import uvicorn
        uvicorn.run("tests.core.apps:hello", port=0, log_config=log_config)
        print("not reached")
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 3
    assert result.stdout == ""
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert re.search(expected, lines[0]), lines[0]


@pytest.mark.parametrize(
    ("log_config", "raised"),
    [
        ("missing.json", FileNotFoundError),
        ({"version": 1, "handlers": {"h": {"class": "no.such.Handler"}}}, ValueError),
    ],
)
def test_bad_log_config_raises_for_programs(log_config: Any, raised: type[Exception]) -> None:
    # As upstream, Config() raises (ValueError, like dictConfig); the cause is chained.
    with pytest.raises(ValueError, match=r"\(--log-config\)") as info:
        Config(hello, log_config=log_config)
    assert isinstance(info.value.__cause__, raised)


def test_yaml_log_config_without_pyyaml_raises_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(ImportError, match=r"Install the PyYAML package or uvicorn\[standard\]"):
        Config(hello, log_config="logging.yaml")


def test_bad_log_level() -> None:
    result = run_python("import uvicorn; uvicorn.run('tests.core.apps:hello', port=0, log_level='loud')")
    assert result.returncode == 3
    assert error_lines(result.stderr) == [
        "ERROR:    Invalid value for 'log_level' (--log-level): 'loud'. "
        "Use one of critical, error, warning, info, debug, trace."
    ]


@pytest.mark.parametrize("use_colors", [False, True])
@pytest.mark.parametrize("status", [200, 404, 500, 101, 599])
def test_format_access_matches_format(use_colors: bool, status: int) -> None:
    # Servers may build access lines with format_access instead of a LogRecord: the
    # bytes must be exactly what logging would have written.
    formatter = AccessFormatter(LOGGING_CONFIG["formatters"]["access"]["fmt"], use_colors=use_colors)
    args = ("127.0.0.1:5000", "GET", "/a%20b?x=1", "1.1", status)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
    )
    assert formatter.format_access(*args) == formatter.format(record)


def test_format_access_declines_other_formats() -> None:
    class Custom(AccessFormatter):
        pass

    args = ("127.0.0.1:5000", "GET", "/", "1.1", 200)
    assert AccessFormatter("%(asctime)s %(request_line)s").format_access(*args) is None
    assert Custom(LOGGING_CONFIG["formatters"]["access"]["fmt"]).format_access(*args) is None
