"""Telling an unreachable database from a write it refuses, whatever the driver."""

from __future__ import annotations

#: DB-API exception classes that mean "could not talk to the database" (PEP 249 names
#: them the same in every driver; SQLAlchemy wraps them under the same names)
_UNAVAILABLE_NAMES = frozenset({"OperationalError", "InterfaceError", "DisconnectionError"})


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database could not be reached (not what was written)."""
    return any(cls.__name__ in _UNAVAILABLE_NAMES for cls in type(exc).__mro__)
