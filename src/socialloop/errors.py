"""One exception tree for socialloop.

Library errors say what went wrong and where, in plain words; they carry no CLI wording.
The CLI turns each class into a remedy (see ``socialloop.cli.errors``).
"""

from __future__ import annotations


class SocialloopError(Exception):
    """Base class of every error socialloop raises on purpose."""


class ConfigError(SocialloopError):
    """The workspace settings (socialloop.toml or SOCIALLOOP_* variables) are invalid."""


class WorkspaceNotFound(SocialloopError):
    """No workspace at the given directory."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no socialloop workspace at {path}")
        self.path = path


class WorkspaceExists(SocialloopError):
    """A workspace already exists where one was to be created."""


class StoreError(SocialloopError):
    """The store could not be opened, migrated or written."""


class NotFound(SocialloopError):
    """A named object (brand, post, source) does not exist."""


class AlreadyExists(SocialloopError):
    """A named object already exists."""


class InvalidValue(SocialloopError):
    """A value given by the user (an option, a setting) is not valid; the message says why."""


class QueryError(SocialloopError):
    """A boolean query could not be parsed or uses an unknown field.

    ``column`` is 1-based; ``expected`` says what the parser wanted there.
    """

    def __init__(
        self, message: str, *, query: str = "", column: int = 0, expected: str = ""
    ) -> None:
        self.query = query
        self.column = column
        self.expected = expected
        self.reason = message
        where = f"col {column}: " if column else ""
        super().__init__(f"{where}{message}")


class ImportFormatError(SocialloopError):
    """A file could not be read as any (or the requested) import format."""


class RecordError(SocialloopError):
    """One record of an import file is invalid; the import goes on without it."""


class ExportError(SocialloopError):
    """An export could not be written (unknown format, missing optional dependency)."""
