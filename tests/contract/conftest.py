"""The service tests' fixtures serve the contract tests too."""

from tests.service.conftest import engine_rules

__all__ = ["engine_rules"]
