"""Row helpers shared by the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.errors import Conflict, NotFound

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

DataclassT = TypeVar("DataclassT", bound="DataclassInstance")


def copy_fields(row: object, values: dict[str, Any]) -> bool:
    """Set `values` on `row`; True when anything changed."""
    changed = any(getattr(row, key) != value for key, value in values.items())
    if changed:
        for key, value in values.items():
            setattr(row, key, value)
    return changed


def from_row(cls: type[DataclassT], row: object, **converted: Any) -> DataclassT:
    """A boundary dataclass built from a row: each field named in `converted` takes the value
    given there, every other one the row's attribute of the same name, as it is."""
    copied = {f.name: getattr(row, f.name) for f in fields(cls) if f.name not in converted}
    return cls(**copied, **converted)


def insert_unique(session: Session, row: object, conflict: str) -> None:
    """Add a new row; Conflict(`conflict`) when a concurrent writer took its unique key first."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError as e:
        raise Conflict(conflict) from e


# What an upsert did (the seed file reports it per resource).
Outcome = Literal["created", "updated", "unchanged"]

RowT = TypeVar("RowT")
SpecT = TypeVar("SpecT")


class NamedResource(Generic[RowT, SpecT]):
    """Find, get, list, create, update and upsert of a resource known by a unique name.

    Each service gives its own name rule, its validation (raising InvalidConfig) and how a spec
    is copied onto a row (True when anything changed); the rest is the same for all of them.
    """

    def __init__(
        self,
        new: Callable[[str], RowT],
        name: InstrumentedAttribute[str],
        what: str,
        a_what: str,
        *,
        check_name: Callable[[str], None],
        validate: Callable[[SpecT], None],
        apply: Callable[[RowT, SpecT], bool],
    ) -> None:
        self._new = new
        self._name = name
        self._what = what  # "provider": "no provider named 'x'"
        self._a_what = a_what  # "a provider": "a provider named 'x' already exists"
        self._check_name = check_name
        self._validate = validate
        self._apply = apply

    def find(self, session: Session, name: str) -> RowT | None:
        row: RowT | None = session.scalar(select(self._name.class_).where(self._name == name))
        return row

    def get(self, session: Session, name: str) -> RowT:
        row = self.find(session, name)
        if row is None:
            raise NotFound(f"no {self._what} named {name!r}")
        return row

    def list(self, session: Session) -> list[RowT]:
        return list(session.scalars(select(self._name.class_).order_by(self._name)))

    def create(self, session: Session, name: str, spec: SpecT) -> RowT:
        self._check_name(name)
        self._validate(spec)
        exists = f"{self._a_what} named {name!r} already exists"
        if self.find(session, name) is not None:
            raise Conflict(exists)
        row = self._new(name)
        self._apply(row, spec)
        insert_unique(session, row, exists)
        return row

    def update(self, session: Session, name: str, spec: SpecT) -> RowT:
        row = self.get(session, name)
        self._validate(spec)
        if self._apply(row, spec):
            session.flush()
        return row

    def upsert(self, session: Session, name: str, spec: SpecT) -> Outcome:
        row = self.find(session, name)
        if row is None:
            self.create(session, name, spec)
            return "created"
        self._validate(spec)
        if self._apply(row, spec):
            session.flush()
            return "updated"
        return "unchanged"
