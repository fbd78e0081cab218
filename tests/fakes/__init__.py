"""Real servers that stand in for outside services in tests."""

from tests.fakes.provider_server import (
    FakeFault,
    FakeProviderServer,
    FakeReply,
    FakeToolCall,
    RecordedRequest,
)

__all__ = ["FakeFault", "FakeProviderServer", "FakeReply", "FakeToolCall", "RecordedRequest"]
