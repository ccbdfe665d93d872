"""Concord's own errors above the adapter boundary.

::

    ConcordError
    ├── ConfigError        a configuration file is wrong: names the file, the key and the reason
    ├── MigrationError     the database schema cannot be brought up to date safely
    └── StoreError         the state store failed (connection lost, constraint broken)
"""

from __future__ import annotations


class ConcordError(Exception):
    """Base of Concord's errors."""


class ConfigError(ConcordError):
    """A configuration error, always naming where it is and why."""

    def __init__(self, source: str, key: str, reason: str) -> None:
        super().__init__(f"{source}: {key}: {reason}")
        self.source = source
        self.key = key
        self.reason = reason


class MigrationError(ConcordError):
    """The schema cannot be migrated safely (an applied migration was edited, a gap...)."""


class StoreError(ConcordError):
    """The state store failed; nothing of the current cycle was committed."""
