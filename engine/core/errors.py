"""Errors the engine raises for invalid requests, each with a stable `code`.

Expected outcomes (a conversation that stays queued, a refused pick-up) are values,
not exceptions; these are for calls that cannot be honoured at all::

    EngineError
    ├── InvalidMessage          (code: invalid_message)
    │   └── OutboundWithoutAgent  (code: outbound_without_agent)
    ├── UnknownAgent            (code: unknown_agent)
    ├── UnknownConversation     (code: unknown_conversation)
    ├── InvalidAgentSettings    (code: invalid_agent_settings)
    └── ConversationClosed      (code: conversation_closed)
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class: `code` is stable and machine-readable, the message says how to fix it."""

    code = "engine_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidMessage(EngineError):
    code = "invalid_message"


class OutboundWithoutAgent(InvalidMessage):
    code = "outbound_without_agent"


class UnknownAgent(EngineError):
    code = "unknown_agent"

    def __init__(self, agent_id: str) -> None:
        super().__init__(f"unknown agent {agent_id!r}: create it first (upsert_agent)")
        self.agent_id = agent_id


class UnknownConversation(EngineError):
    code = "unknown_conversation"

    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"unknown conversation {conversation_id!r}")
        self.conversation_id = conversation_id


class InvalidAgentSettings(EngineError):
    code = "invalid_agent_settings"


class ConversationClosed(EngineError):
    code = "conversation_closed"

    def __init__(self, conversation_id: str) -> None:
        super().__init__(f"conversation {conversation_id!r} is closed")
        self.conversation_id = conversation_id
