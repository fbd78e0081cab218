"""core/logs.py: the settings, the two formats, the run's context on records, the rotating file."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.errors import OrchError
from core.logs import JsonFormatter, TextFormatter, bind, configure_logging, log_context
from core.settings import Settings, get_settings
from orch.cli import main
from tests.support.logs import captured_logs, restored_logging

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(log_file=tmp_path / "logs" / "orch.log", **values)  # type: ignore[arg-type]


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOG_LEVEL", "LOG_FORMAT", "LOG_FILE", "LOG_FILE_MAX_BYTES", "LOG_FILE_BACKUPS"):
        monkeypatch.delenv(name, raising=False)
    defaults = get_settings()
    assert (defaults.log_level, defaults.log_format) == ("INFO", "auto")
    assert defaults.log_file == Path(".orch/orch.log")
    assert (defaults.log_file_max_bytes, defaults.log_file_backups) == (10_000_000, 5)


def test_log_level_takes_any_level_name_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert get_settings().log_level == "DEBUG"
    monkeypatch.setenv("LOG_LEVEL", " Warning ")
    assert get_settings().log_level == "WARNING"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LOG_LEVEL", "loud", "'loud' is not a logging level: one of DEBUG, INFO, WARNING, ERROR"),
        ("LOG_LEVEL", "NOTSET", "'NOTSET' is not a logging level"),
        ("LOG_FORMAT", "xml", "Input should be 'auto', 'text' or 'json'"),
        ("LOG_FILE_BACKUPS", "0", "greater than or equal to 1"),
        ("LOG_FILE_MAX_BYTES", "10", "greater than or equal to 1024"),
    ],
)
def test_a_bad_value_is_a_clear_startup_error(
    name: str,
    value: str,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=re.escape(says)):
        get_settings()
    # What `orch` says, before it does anything: one line naming the variable, exit status 2.
    with restored_logging():
        code = main(["token", "local"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"orch: invalid settings: {name}: ") and says in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_orch_names_a_bad_level_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "loud")
    with restored_logging():
        assert main(["token", "local"]) == 2
    assert capsys.readouterr().err == (
        "orch: invalid settings: LOG_LEVEL: Value error, 'loud' is not a logging level: "
        "one of DEBUG, INFO, WARNING, ERROR, CRITICAL\n"
    )


def test_only_the_long_running_commands_open_the_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("LOG_FILE", str(blocker / "orch.log"))
    monkeypatch.setenv("LOCAL_TOKEN_FILE", str(tmp_path / "no-token"))
    with restored_logging():
        # A short command makes no file: the unwritable LOG_FILE does not matter to it.
        assert main(["token", "local"]) == 1
        assert "no local admin token" in capsys.readouterr().err
        # The worker would write it: it stops at once, saying why.
        assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"orch: LOG_FILE '{blocker / 'orch.log'}' cannot be written (")
    assert "Traceback" not in err


def test_an_empty_log_file_turns_the_file_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LOG_FILE", "")
    assert get_settings().log_file is None
    with captured_logs(get_settings()) as logs:
        assert [type(h) for h in logs.handlers] == [logging.StreamHandler]


def test_auto_is_json_when_the_console_is_not_a_terminal(tmp_path: Path) -> None:
    with captured_logs(settings(tmp_path), to_file=False) as logs:
        logging.getLogger("t.logs").info("hello %s", "there")
        [record] = logs.console_records()
    assert record["message"] == "hello there" and record["logger"] == "t.logs"
    assert len(logs.handlers) == 1  # to_file=False: no file, although LOG_FILE is set
    assert not (tmp_path / "logs").exists()


def test_auto_is_text_on_a_terminal(tmp_path: Path) -> None:
    leader, follower = os.openpty()
    with (
        os.fdopen(follower, "w", buffering=1) as terminal,
        restored_logging(),
    ):
        configure_logging(settings(tmp_path), to_file=False, stream=terminal)
        with log_context(run_id="run-1", step=2, attempt=3):
            logging.getLogger("t.logs").warning("on a tty")
        terminal.flush()
        line = os.read(leader, 4096).decode()
    os.close(leader)
    assert re.match(
        r"^\d\d:\d\d:\d\d WARNING t\.logs on a tty \[run_id=run-1 step=2 attempt=3\]\r?\n$", line
    ), line


def test_explicit_formats_win_over_auto(tmp_path: Path) -> None:
    with captured_logs(settings(tmp_path, log_format="text"), to_file=False) as logs:
        logging.getLogger("t.logs").info("plain")
    assert re.match(r"^\d\d:\d\d:\d\d INFO t\.logs plain\n$", logs.console.getvalue())
    assert isinstance(logs.handlers[0].formatter, TextFormatter)
    with captured_logs(settings(tmp_path, log_format="json"), to_file=False) as logs:
        assert isinstance(logs.handlers[0].formatter, JsonFormatter)


def test_level_filters_and_is_applied(tmp_path: Path) -> None:
    with captured_logs(settings(tmp_path, log_level="WARNING"), to_file=False) as logs:
        logging.getLogger("t.logs").info("dropped")
        logging.getLogger("t.logs").warning("kept")
        assert logging.getLogger("alembic").level == logging.WARNING
    assert [r["message"] for r in logs.console_records()] == ["kept"]
    with captured_logs(settings(tmp_path, log_level="DEBUG"), to_file=False) as logs:
        logging.getLogger("t.logs").debug("seen")
        assert logging.getLogger("alembic").level == logging.WARNING
    assert [r["message"] for r in logs.console_records()] == ["seen"]


def test_json_records_carry_the_context_and_the_traceback(tmp_path: Path) -> None:
    with captured_logs(settings(tmp_path)) as logs:
        log = logging.getLogger("t.logs")
        log.info("outside")
        with log_context(run_id="run-7", activity="llm_step", workflow="AgentRun", attempt=2):
            bind(agent="demo", step=4)
            log.info("inside", extra={"trace_id": "ab" * 16, "span_id": "cd" * 8})
            try:
                raise ValueError("boom")
            except ValueError:
                log.exception("failed")
        log.info("after")
        records = logs.file_records()
    assert logs.console_records() == records  # a non-terminal console: the same JSON lines
    outside, inside, failed, after = records
    for record in records:
        assert TS.match(record["ts"]), record["ts"]
    assert outside == {
        "ts": outside["ts"],
        "level": "INFO",
        "logger": "t.logs",
        "message": "outside",
    }
    assert inside == {
        "ts": inside["ts"],
        "level": "INFO",
        "logger": "t.logs",
        "message": "inside",
        "run_id": "run-7",
        "agent": "demo",
        "activity": "llm_step",
        "workflow": "AgentRun",
        "step": 4,
        "attempt": 2,
        "trace_id": "ab" * 16,
        "span_id": "cd" * 8,
    }
    assert failed["level"] == "ERROR" and failed["run_id"] == "run-7"
    assert failed["exc"].startswith("Traceback") and "ValueError: boom" in failed["exc"]
    assert "run_id" not in after


def test_a_record_for_the_console_and_the_file_is_formatted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    line = JsonFormatter._line
    monkeypatch.setattr(JsonFormatter, "_line", lambda self, r: made.append(r.msg) or line(self, r))
    with captured_logs(settings(tmp_path)) as logs:
        with log_context(run_id="run-1"):
            logging.getLogger("t.logs").info("once")
        records = logs.file_records()
    assert made == ["once"]  # two JSON handlers, one line made
    assert logs.console_records() == records and records[0]["run_id"] == "run-1"


def test_the_sdk_info_dicts_become_fields(tmp_path: Path) -> None:
    """temporalio's activity and workflow loggers put these dicts in `extra`."""
    activity_info = {
        "activity_id": "1",
        "activity_type": "tool_call",
        "attempt": 3,
        "workflow_id": "run-9",
        "workflow_type": "AgentRun",
    }
    with captured_logs(settings(tmp_path), to_file=False) as logs:
        log = logging.getLogger("t.logs")
        log.warning("from an activity", extra={"temporal_activity": activity_info})
        workflow_info = {"workflow_id": "run-8", "workflow_type": "AgentRun", "attempt": 1}
        log.warning("from a workflow", extra={"temporal_workflow": workflow_info})
    from_activity, from_workflow = logs.console_records()
    assert (from_activity["run_id"], from_activity["activity"], from_activity["attempt"]) == (
        "run-9",
        "tool_call",
        3,
    )
    assert (from_workflow["run_id"], from_workflow["workflow"]) == ("run-8", "AgentRun")
    assert "attempt" not in from_workflow  # the workflow's own attempt is not an activity's


def test_the_file_rolls_at_its_size_and_keeps_its_backups(tmp_path: Path) -> None:
    config = settings(tmp_path, log_file_max_bytes=2048, log_file_backups=2)
    assert config.log_file is not None and not config.log_file.parent.exists()
    with captured_logs(config, to_file=True) as logs:
        log = logging.getLogger("t.logs")
        for n in range(200):  # about 130 bytes a line: 26,000 bytes
            log.info("record %03d %s", n, "x" * 40)
        logs.flush()
    folder = config.log_file.parent
    assert sorted(p.name for p in folder.iterdir()) == ["orch.log", "orch.log.1", "orch.log.2"]
    numbers = []
    for name in ("orch.log.2", "orch.log.1", "orch.log"):
        path = folder / name
        assert path.stat().st_size <= 2048
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        numbers += [int(r["message"].split()[1]) for r in lines]
    # The newest records, in order, with nothing missing between them; the oldest are gone.
    assert numbers == list(range(numbers[0], 200)) and numbers[0] > 0


def test_an_unwritable_log_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with restored_logging(), pytest.raises(OrchError, match="LOG_FILE .* cannot be written"):
        configure_logging(Settings(log_file=blocker / "orch.log"), stream=io.StringIO())


def test_configuring_again_replaces_its_own_handlers_only(tmp_path: Path) -> None:
    other = logging.NullHandler()
    with restored_logging():
        root = logging.getLogger()
        root.addHandler(other)
        first = configure_logging(settings(tmp_path), stream=io.StringIO())
        second = configure_logging(settings(tmp_path), stream=io.StringIO())
        assert other in root.handlers
        assert all(h in root.handlers for h in second)
        assert not any(h in root.handlers for h in first)
        root.removeHandler(other)
