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

Reading a dataclass takes its fields' type hints: Temporal's converter asks `get_type_hints` for
them on every dataclass of every payload it reads, which was about a tenth of the worker's CPU
under load (py-spy). `DataclassHints` reads them once per class, through the converter's public
hook for custom types, and converts the fields as Temporal's converter does.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, get_type_hints

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
    JSONTypeConverter,
    value_to_type,
)
from temporalio.converter._payload_converter import JSONTypeConverterUnhandled


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


@functools.cache
def dataclass_fields(cls: type) -> tuple[tuple[dataclasses.Field[Any], Any], ...]:
    """The dataclass's fields with their resolved type hints (a class's hints never change)."""
    hints = get_type_hints(cls)
    return tuple((field, hints[field.name]) for field in dataclasses.fields(cls))


class DataclassHints(JSONTypeConverter):
    """Reads a dataclass as Temporal's converter does (fields missing from the payload take
    their defaults, unknown keys are ignored, `init=False` fields are set after), with each
    class's type hints resolved once."""

    def to_typed_value(self, hint: type, value: Any) -> Any | JSONTypeConverterUnhandled:
        if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
            return JSONTypeConverter.Unhandled
        if not isinstance(value, dict):
            raise TypeError(f"Cannot convert to dataclass {hint}, value is {type(value)} not dict")
        given: dict[str, Any] = {}
        later: dict[str, Any] = {}
        for field, field_hint in dataclass_fields(hint):
            if field.name not in value:
                continue
            try:
                converted = value_to_type(field_hint, value[field.name], CONVERTERS)
            except Exception as err:
                problem = f"Failed converting field {field.name} on dataclass {hint}"
                raise TypeError(problem) from err
            (given if field.init else later)[field.name] = converted
        obj = hint(**given)
        for name, field_value in later.items():
            object.__setattr__(obj, name, field_value)
        return obj


CONVERTERS: tuple[JSONTypeConverter, ...] = (DataclassHints(),)


class CompactPayloadConverter(CompositePayloadConverter):
    """Temporal's default payload converters, in its order, with the compact JSON one."""

    def __init__(self) -> None:
        super().__init__(
            BinaryNullPayloadConverter(),
            BinaryPlainPayloadConverter(),
            JSONProtoPayloadConverter(),
            BinaryProtoPayloadConverter(),
            JSONPlainPayloadConverter(
                encoder=CompactJSONEncoder, custom_type_converters=CONVERTERS
            ),
        )


COMPACT = DataConverter(payload_converter_class=CompactPayloadConverter)


def compact(client: Client) -> Client:
    """`client`, or a client on the same connection that writes with the compact converter."""
    if isinstance(client.data_converter.payload_converter, CompactPayloadConverter):
        return client
    config = client.config()
    config["data_converter"] = COMPACT
    return Client(**config)
