"""The SDK's run models mirror what the API answers (its OpenAPI document), its copies of the
project's constants are the same, and importing it starts nothing heavy."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from pydantic import BaseModel

from api.app import create_app
from core.settings import Settings
from orch.client import _config, models
from orch.client._wire import Follow, SseDecoder, SseFrame
from workflows.events import TERMINAL_EVENTS

MIRRORED: list[type[BaseModel]] = [
    models.RunStarted,
    models.RunView,
    models.RunSummary,
    models.RunPage,
    models.PendingAction,
    models.PublishedEvent,
    models.Thread,
    models.ThreadRun,
    models.CancelAnswer,
    models.ApprovalOutcome,
    models.InputOutcome,
    models.WhoAmI,
    models.TokenRead,
    models.TokenCreated,
]


@pytest.fixture(scope="module")
def components() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite://", allowed_hosts="testserver"))
    found: dict[str, Any] = app.openapi()["components"]["schemas"]
    return found


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a property allows (`any` when it allows every one)."""
    if "anyOf" in schema:
        return set().union(*(_types(s) for s in schema["anyOf"]))
    if "$ref" in schema:
        return {"object"}
    if "type" in schema:
        return {schema["type"]} if isinstance(schema["type"], str) else set(schema["type"])
    if "const" in schema or "enum" in schema:
        return {"string"}
    return {"any"}


@pytest.mark.parametrize("shape", MIRRORED, ids=lambda m: m.__name__)
def test_each_model_has_the_fields_and_types_the_api_answers(
    shape: type[BaseModel], components: dict[str, Any]
) -> None:
    names = [k for k in components if k == shape.__name__ or k == f"{shape.__name__}-Output"]
    assert names, f"the API's document has no {shape.__name__}"
    api = components[names[0]]["properties"]
    ours = shape.model_json_schema()["properties"]
    assert set(ours) == set(api)
    for name, schema in api.items():
        theirs, mine = _types(schema), _types(ours[name])
        assert "any" in mine or theirs <= mine | ({"integer"} if "number" in mine else set()), (
            name,
            theirs,
            mine,
        )


def test_the_terminal_types_are_the_workflows() -> None:
    assert models.TERMINAL_TYPES == TERMINAL_EVENTS


def test_the_local_token_file_is_the_settings_default() -> None:
    assert Settings.model_fields["local_token_file"].default == _config.LOCAL_TOKEN_FILE


def test_importing_the_sdk_imports_neither_fastapi_nor_temporal_nor_sqlalchemy() -> None:
    code = (
        "import sys, orch.client; "
        "print(sorted(m for m in ('fastapi', 'temporalio', 'sqlalchemy', 'uvicorn', 'api.schemas')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def _frames(text: str) -> list[SseFrame]:
    decoder = SseDecoder()
    return [f for f in map(decoder.feed, text.split("\n")) if f is not None]


def test_the_decoder_reads_events_and_skips_comments() -> None:
    frames = _frames(': ping\n\nid: 3\nevent: step.started\ndata: {"a":\ndata: 1}\n\n: x\n\n')
    assert len(frames) == 1
    assert (frames[0].id, frames[0].event, frames[0].data) == ("3", "step.started", ['{"a":', "1}"])


def test_following_never_delivers_an_offset_twice() -> None:
    follow = Follow("http://x", "r", after=1, tokens=False, budget=5)
    assert follow.request()[0]["Last-Event-ID"] == "1"

    def frame(offset: int | None, kind: str) -> SseFrame:
        data = f'{{"type": "{kind}", "run_id": "r", "step": 1, "data": {{}}}}'
        return SseFrame(None if offset is None else str(offset), kind, [data])

    got = [follow.accept(frame(n, "step.started")) for n in (0, 1, 2, 2, 3)]
    assert [e.offset if e else None for e in got] == [None, None, 2, None, 3]
    assert follow.request()[0]["Last-Event-ID"] == "3" and not follow.done
    end = follow.accept(frame(None, "run.cancelled"))  # ended from outside: no offset
    assert end is not None and end.terminal and follow.done


def test_the_reconnect_pauses_grow_within_the_budget() -> None:
    follow = Follow("http://x", "r", after=None, tokens=False, budget=60, max_delay=1.0)
    pauses = [follow.lost("down") for _ in range(5)]
    assert pauses == [0.2, 0.4, 0.8, 1.0, 1.0]
    follow.alive()  # something came: the next loss starts again small
    assert follow.lost("down") == 0.2
