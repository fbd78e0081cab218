"""What one request may send: a body size cap and a JSON nesting cap, before any route runs.

Pure ASGI middleware (no buffering by Starlette's BaseHTTPMiddleware). A body over
`MAX_REQUEST_BYTES` is a 413 `payload_too_large`, seen from Content-Length or, for a chunked
body, as soon as the bytes read pass the limit. A JSON body nested deeper than `MAX_JSON_DEPTH`
is a 422 `validation_error` on `body`, found by a scan of its brackets before it is parsed; so is
a JSON body that is not UTF-8 (RFC 8259 requires it).
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

MAX_JSON_DEPTH = 32
UTF8 = frozenset({"utf-8", "utf-8-sig"})  # as json.detect_encoding names it

# A JSON string (with its escapes), then any bracket: the scan skips the strings' contents.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def json_depth_over(body: bytes, limit: int) -> bool:
    """True if the JSON text nests arrays/objects deeper than `limit` (malformed text too may
    answer True; the parser reports it otherwise)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


class RequestLimits:
    """Refuse a request body over `max_bytes` (413) or nested deeper than `max_depth` (422)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is over the limit of {self.max_bytes} bytes"
        # `connection: close`: the rest of the body is not read.
        refusal = error_response(413, "payload_too_large", detail, {"connection": "close"})
        await refusal(scope, receive, send)

    def _json_problem(self, body: bytes) -> str | None:
        """Why a JSON body is refused before it is parsed, or None."""
        # As json.loads reads bytes (which FastAPI calls): it guesses UTF-16 or UTF-32 from NUL
        # bytes, and a failed decoding there is a bare 400 "There was an error parsing the body".
        encoding = json.detect_encoding(body)
        if encoding not in UTF8:
            return "JSON text must be UTF-8"
        try:
            body.decode(encoding)
        except UnicodeDecodeError as err:
            return f"JSON text must be UTF-8: invalid byte at position {err.start}"
        if json_depth_over(body, self.max_depth):
            return f"JSON is nested deeper than {self.max_depth} levels"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
        # Read the whole body (it is at most max_bytes), then hand it on as one message.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"").lower()
        if body and (not content_type or b"json" in content_type):
            problem = self._json_problem(body)
            if problem is not None:
                detail = [{"field": "body", "message": problem}]
                await error_response(422, "validation_error", detail)(scope, receive, send)
                return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
