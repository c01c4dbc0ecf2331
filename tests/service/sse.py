"""Reading Server-Sent Events from an httpx streaming response (test helper)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Sse:
    id: int | None
    event: str | None
    data: dict[str, Any] | None
    comment: str | None = None


def sse_messages(response: httpx.Response) -> Iterator[Sse]:
    """Each event (and each comment line, like heartbeats) as it arrives."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line.startswith(":"):
            yield Sse(None, None, None, comment=line[1:].strip())
            continue
        if line == "":
            if "data" in fields:
                yield Sse(
                    int(fields["id"]) if "id" in fields else None,
                    fields.get("event"),
                    json.loads(fields["data"]),
                )
            fields = {}
            continue
        name, _, value = line.partition(":")
        fields[name] = value.removeprefix(" ")


class SseReader:
    """One reader per response: a stream's body can be iterated only once."""

    def __init__(self, response: httpx.Response) -> None:
        self._messages = sse_messages(response)

    def __iter__(self) -> Iterator[Sse]:
        return self._messages

    def take(self, count: int) -> list[Sse]:
        """The next `count` events, skipping comments."""
        found: list[Sse] = []
        for message in self._messages:
            if message.comment is None:
                found.append(message)
                if len(found) == count:
                    break
        return found
