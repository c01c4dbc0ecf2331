"""The kinds of value the API accepts, checked at the edge before anything reaches the
engine or the database (so every database stores, and refuses, the same things).

- **Ids** (`message_id`, `conversation_id`, `customer_id`, `agent_id`, and the ids in
  paths): 1 to 255 characters of `A-Z a-z 0-9 . _ ~ : @ + = -`, not starting with `.`
  or `-` (so no id is a `.` or `..` path segment or looks like a command-line option).
  That covers UUIDs, e-mail addresses, phone numbers (`+15551234567`) and URNs, and
  keeps ids safe in URLs, logs and every database: no whitespace, no control
  characters, no NUL (which PostgreSQL refuses), no `/`, `%`, `?` or `#`, nothing
  outside ASCII.
- **Codes** (`skills`, `channel`, close and pause `reason`): the same characters, 1 to
  64 of them.
- **Texts**: any Unicode except NUL and lone surrogates (neither can be stored), at most
  64 KiB of UTF-8.
- **Timestamps**: RFC 3339 strings with an offset (`2026-11-25T10:04:00Z`,
  `...+02:00`), written in the years 1970 to 2999 (whatever the offset; seconds
  00-59, at most 9 fraction digits). With every rule duration at most ten years
  (`tidal.engine.rulesio.durations`) no deadline computed from such a time, or from the
  manual clock (bounded the same way), can leave the calendar.
- **Numbers**: JSON integers only (`"3"`, `3.0`, `true` are refused: no silent coercion).

Each violation is a 422 `validation` problem whose `errors` name the field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, Strict

from tidal.service.config import MAX_TEXT_BYTES

ID_MAX_CHARS = 255
CODE_MAX_CHARS = 64
#: the characters of ids and codes (see the module docstring)
ID_PATTERN = r"^[A-Za-z0-9_~:@+=][A-Za-z0-9._~:@+=-]*$"
ID_RULE = "letters, digits and . _ ~ : @ + = - (ASCII), not starting with . or -"
#: the documented timestamp range: the year as written, whatever the offset
EARLIEST_YEAR, LATEST_YEAR = 1970, 2999
#: RFC 3339 with an offset, years 1970 to 2999 (also the OpenAPI `pattern`)
TIMESTAMP_PATTERN = (
    r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_ID = re.compile(ID_PATTERN)
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)
TIMESTAMP_RULE = (
    f"an RFC 3339 time with an offset (like 2026-11-25T10:04:00Z) in the years "
    f"{EARLIEST_YEAR} to {LATEST_YEAR}"
)


def _check_id(value: str) -> str:
    # the pattern is also in the schema; checked here too because pydantic's regex
    # engine and Python's must agree for every character (and lone surrogates must
    # never reach a regex engine that cannot represent them)
    if not _ID.fullmatch(value):
        raise ValueError(f"must be {ID_RULE}")
    return value


def is_identifier(value: str) -> bool:
    """Whether `value` is an id by the policy above."""
    return len(value) <= ID_MAX_CHARS and _ID.fullmatch(value) is not None


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
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        raise ValueError(f"must be {TIMESTAMP_RULE}")
    return value


def _within_range(value: datetime) -> datetime:
    # the pattern bounds the year as written; the offset moves it by at most a day,
    # far from the ends of the calendar, so the time in UTC is always defined
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be {TIMESTAMP_RULE}")
    return value.astimezone(UTC)


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
    Field(json_schema_extra={"format": "date-time", "pattern": TIMESTAMP_PATTERN}),
]
StrictInt = Annotated[int, Strict()]


def timestamp_problem(value: datetime) -> str | None:
    """Why `value` is outside the documented range (None: it is inside)."""
    try:
        _within_range(value)
    except ValueError as exc:
        return str(exc)
    return None
