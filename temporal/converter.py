"""The data converter of orch's clients and workers: Temporal's default one, except that a
dataclass is written without the fields that hold their default value.

Every model step writes its activity input and result into the run's history, and most of
their fields are at their defaults on most steps (no prelude after the first step, no output,
no errors, zero cached tokens...): leaving them out is about a tenth of a step's history
(docs/architecture.md, "What a step writes into the history").

Reading needs nothing of ours: Temporal's converter fills a field that a payload lacks with
the dataclass's default, so payloads written before (with every field) and after (without the
defaults) read alike, in a worker of either kind. It follows that a default is part of the
wire format: changing the default of a field that crosses the Temporal boundary changes what
older payloads mean. Don't; add a field instead.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio.client import Client
from temporalio.converter import (
    AdvancedJSONEncoder,
    BinaryNullPayloadConverter,
    BinaryPlainPayloadConverter,
    BinaryProtoPayloadConverter,
    CompositePayloadConverter,
    DataConverter,
    JSONPlainPayloadConverter,
    JSONProtoPayloadConverter,
)


def _is_default(field: dataclasses.Field[Any], value: Any) -> bool:
    """Whether `value` is the field's default, of the same type (so that, e.g., False is
    never taken for a default 0)."""
    if field.default is not dataclasses.MISSING:
        default = field.default
    elif field.default_factory is not dataclasses.MISSING:
        default = field.default_factory()
    else:
        return False
    return type(value) is type(default) and bool(value == default)


class CompactJSONEncoder(AdvancedJSONEncoder):
    """Writes a dataclass as the object of its fields that differ from their defaults (nested
    dataclasses likewise: json calls `default` again for each)."""

    def default(self, o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return {
                field.name: value
                for field in dataclasses.fields(o)
                if not _is_default(field, value := getattr(o, field.name))
            }
        return super().default(o)


class CompactPayloadConverter(CompositePayloadConverter):
    """Temporal's default payload converters, in its order, with the compact JSON one."""

    def __init__(self) -> None:
        super().__init__(
            BinaryNullPayloadConverter(),
            BinaryPlainPayloadConverter(),
            JSONProtoPayloadConverter(),
            BinaryProtoPayloadConverter(),
            JSONPlainPayloadConverter(encoder=CompactJSONEncoder),
        )


COMPACT = DataConverter(payload_converter_class=CompactPayloadConverter)


def compact(client: Client) -> Client:
    """`client`, or a client on the same connection that writes with the compact converter."""
    if isinstance(client.data_converter.payload_converter, CompactPayloadConverter):
        return client
    config = client.config()
    config["data_converter"] = COMPACT
    return Client(**config)
