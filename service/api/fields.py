"""The kinds of value the API accepts, checked at the edge before anything reaches the
engine or the database (so every database stores, and refuses, the same things).

- **Ids** (`message_id`, `conversation_id`, `customer_id`, `agent_id`, and the ids in
  paths): 1 to 255 characters of `A-Z a-z 0-9 . _ ~ : @ + = -`, starting with a letter
  or digit. That covers UUIDs, e-mail addresses, phone numbers and URNs, and keeps ids
  safe in URLs, logs and every database: no whitespace, no control characters, no NUL
  (which PostgreSQL refuses), no `/`, `%`, `?` or `#`, nothing outside ASCII.
- **Codes** (`skills`, `channel`, close and pause `reason`): the same characters, 1 to
  64 of them.
- **Texts**: any Unicode except NUL and lone surrogates (neither can be stored), at most
  64 KiB of UTF-8.
- **Timestamps**: RFC 3339 strings with a UTC offset (`2026-11-25T10:04:00Z`,
  `...+02:00`), between 1970-01-01T00:00:00Z and 3000-01-01T00:00:00Z (exclusive):
  with every rule duration bounded (`engine.rulesio.durations`) no deadline computed
  from such a time can leave the calendar.
- **Numbers**: JSON integers only (`"3"`, `3.0`, `true` are refused: no silent coercion).

Each violation is a 422 `validation` problem whose `errors` name the field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, Strict

from service.config import MAX_TEXT_BYTES

ID_MAX_CHARS = 255
CODE_MAX_CHARS = 64
#: the characters of ids and codes (see the module docstring)
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~:@+=-]*$"
ID_RULE = "letters, digits and . _ ~ : @ + = - (ASCII), starting with a letter or digit"
#: the documented timestamp range: [EARLIEST, LATEST)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
_ID = re.compile(ID_PATTERN)
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$"
)


def _check_id(value: str) -> str:
    # the pattern is also in the schema; checked here too because pydantic's regex
    # engine and Python's must agree for every character (and lone surrogates must
    # never reach a regex engine that cannot represent them)
    if not _ID.fullmatch(value):
        raise ValueError(f"must be {ID_RULE}")
    return value


def _check_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL (U+0000)")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("must not contain lone surrogates (U+D800 to U+DFFF)") from None
    if size > MAX_TEXT_BYTES:
        raise ValueError(f"is longer than {MAX_TEXT_BYTES} bytes (64 KiB) in UTF-8")
    return value


def _only_rfc3339_strings(value: Any) -> Any:
    # pydantic would also take numbers (and digit strings) as Unix times: refuse them
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 time with an offset, like 2026-11-25T10:04:00Z")
    return value


def _within_range(value: datetime) -> datetime:
    offset = value.utcoffset()
    assert offset is not None  # AwareDatetime
    try:
        utc = (value.replace(tzinfo=None) - offset).replace(tzinfo=UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise ValueError(
            f"must be from {EARLIEST.isoformat()} up to (not including) {LATEST.isoformat()}"
        )
    return utc


Identifier = Annotated[
    str,
    Strict(),
    Field(min_length=1, max_length=ID_MAX_CHARS, pattern=ID_PATTERN),
    AfterValidator(_check_id),
]
Code = Annotated[
    str,
    Strict(),
    Field(min_length=1, max_length=CODE_MAX_CHARS, pattern=ID_PATTERN),
    AfterValidator(_check_id),
]
Text = Annotated[str, Strict(), AfterValidator(_check_text)]
Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_only_rfc3339_strings),
    AfterValidator(_within_range),
    Field(json_schema_extra={"format": "date-time"}),
]
StrictInt = Annotated[int, Strict()]


def timestamp_problem(value: datetime) -> str | None:
    """Why `value` is outside the documented range (None: it is inside)."""
    try:
        _within_range(value)
    except ValueError as exc:
        return str(exc)
    return None
