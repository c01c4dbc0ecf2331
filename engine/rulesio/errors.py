"""Errors in rule, settings and data files, reported as `path:line: [code] what`.

Codes are stable so users can search for them:

- ``T001`` YAML syntax error
- ``T002`` duplicate mapping key
- ``T003`` schema violation (unknown key, wrong type, missing field, bad value)
- ``T004`` duplicate id
- ``T005`` unknown intent
- ``T006`` unreachable (shadowed) workflow rule
- ``T007`` invalid spaCy token pattern or regex
- ``T008`` file cannot be read or is empty
- ``T009`` inconsistent settings (e.g. preferred above maximum)
- ``T010`` rule test case failed
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class FileError:
    path: str
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.code}] {self.message}"


class FilesInvalid(Exception):
    """Raised with every error found, never only the first."""

    def __init__(self, errors: list[FileError]) -> None:
        self.errors = sorted(errors)
        super().__init__("\n".join(str(e) for e in self.errors))
