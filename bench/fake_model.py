"""The model of the overhead benchmark: the tests' fake OpenAI-wire server with a responder that
needs no queue, so that runs of every variant can interleave and run concurrently.

A run asks for N steps by saying `steps=N` in its first user message; the model answers with a
calculator call while the conversation holds fewer than N-1 tool results, then with a text. It
streams when the request asks for it (as orch's worker does), like the real thing.

Run as a script it serves in its own process (so that its CPU time is not the worker's) and
prints its base URL on stdout:

    python bench/fake_model.py      # -> http://127.0.0.1:PORT/v1
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fakes.provider_server import (  # noqa: E402
    FakeProviderServer,
    FakeReply,
    FakeToolCall,
    Wire,
)

ANSWER = "42"
_STEPS = re.compile(r"steps=(\d+)")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def respond(body: Any, wire: Wire) -> FakeReply:
    messages = body.get("messages", []) if isinstance(body, dict) else []
    steps = 1
    for message in messages:
        if message.get("role") == "user":
            found = _STEPS.search(_text(message.get("content")))
            if found:
                steps = int(found.group(1))
                break
    tool_results = sum(1 for m in messages if m.get("role") == "tool")
    if tool_results < steps - 1:
        return FakeReply(tool_calls=(FakeToolCall("calculator", {"expression": "6*7"}),))
    return FakeReply(text=ANSWER)


def serve() -> FakeProviderServer:
    server = FakeProviderServer()
    server.reply_with(respond)
    server.start()
    return server


if __name__ == "__main__":
    model = serve()
    print(model.openai_base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        model.stop()
