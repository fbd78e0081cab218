"""A client span per provider HTTP request, while tracing is on (core/tracing.py).

The provider SDKs send over httpx2, which OpenTelemetry's httpx instrumentation does not see. So
a pooled SDK client gets an httpx2 client whose transports are wrapped: each request makes a
CLIENT span (method, URL without its query, response status) under the current span (the
`llm_step` activity's), and carries that span as its W3C `traceparent` header. The span ends
when the response body is closed, so a streamed answer is inside it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from core.tracing import tracer

TRACER_NAME = "orch.provider_http"


def traced(client: httpx2.AsyncClient) -> httpx2.AsyncClient:
    """`client`, each of its transports (its default one and its proxy mounts) wrapped in a
    `TracedTransport`. Only while tracing is on."""
    spans = tracer(TRACER_NAME)
    # httpx2 has no public way to wrap the transports it chose (the SDK's default ones, with
    # their socket options and the environment's proxies): wrapping them in place keeps them.
    client._transport = TracedTransport(client._transport, spans)
    client._mounts = {
        pattern: None if transport is None else TracedTransport(transport, spans)
        for pattern, transport in client._mounts.items()
    }
    return client


class TracedTransport(httpx2.AsyncBaseTransport):
    def __init__(self, inner: httpx2.AsyncBaseTransport, spans: Tracer) -> None:
        self._inner = inner
        self._spans = spans

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        bare = url.copy_with(query=None, fragment=None, username=None, password=None)
        span = self._spans.start_span(
            request.method,
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": request.method,
                "url.full": str(bare),  # no query: it may hold a key
                "server.address": url.host,
                "server.port": url.port or (443 if url.scheme == "https" else 80),
            },
        )
        propagate.inject(request.headers, context=trace.set_span_in_context(span))
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException as err:
            span.record_exception(err)
            span.set_status(Status(StatusCode.ERROR, type(err).__name__))
            span.end()
            raise
        span.set_attribute("http.response.status_code", response.status_code)
        if response.status_code >= 400:
            span.set_status(Status(StatusCode.ERROR))
        if isinstance(response.stream, httpx2.AsyncByteStream):
            response.stream = _EndsSpan(response.stream, span)
        else:
            span.end()
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class _EndsSpan(httpx2.AsyncByteStream):
    """A response body that ends its request's span when it is closed."""

    def __init__(self, inner: httpx2.AsyncByteStream, span: Span) -> None:
        self._inner = inner
        self._span = span

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._span.is_recording():
                self._span.end()
