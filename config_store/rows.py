"""Row helpers shared by the services."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from orch.errors import Conflict


def copy_fields(row: object, values: dict[str, Any]) -> bool:
    """Set `values` on `row`; True when anything changed."""
    changed = any(getattr(row, key) != value for key, value in values.items())
    if changed:
        for key, value in values.items():
            setattr(row, key, value)
    return changed


def insert_unique(session: Session, row: object, conflict: str) -> None:
    """Add a new row; Conflict(`conflict`) when a concurrent writer took its unique key first."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError as e:
        raise Conflict(conflict) from e
