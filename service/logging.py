"""Structured JSON logs without secrets.

One JSON object per line. Bearer tokens never reach a log record on purpose (the
access log writes method, path, status and duration only); as a second line of defence,
`RedactSecrets` scrubs anything shaped like a token from every message.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from tidal.service.tokens import TOKEN_PREFIX

_SECRET = re.compile(rf"(?i)(bearer\s+)\S+|{re.escape(TOKEN_PREFIX)}[A-Za-z0-9_\-]+")
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def redact(text: str) -> str:
    """Replace bearer credentials and Tidal tokens by `[redacted]`."""
    return _SECRET.sub(lambda m: (m.group(1) or "") + "[redacted]", text)


class RedactSecrets(logging.Filter):
    """Scrubs secrets from the formatted message of every record passing through."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", ...extra fields}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                doc[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            doc["exc"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(doc, default=str).decode()


def configure_logging(level: str = "info") -> None:
    """Send Tidal's and uvicorn's logs to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # our own access log replaces uvicorn's
    logging.getLogger("uvicorn.access").disabled = True
    # spaCy announces every pipeline it initialises, on a handler of its own
    spacy_log = logging.getLogger("spacy")
    spacy_log.handlers[:] = []
    spacy_log.propagate = True
    spacy_log.setLevel(logging.WARNING)
