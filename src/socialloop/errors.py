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


# -- ENGAGE: the inbox -------------------------------------------------------------------------


class InboxError(SocialloopError):
    """An inbox operation is not possible in the item's current state; the message says why."""


class ItemNotFound(InboxError):
    """No inbox item, agent, saved reply or reply with the given id or name."""


class InvalidTransition(InboxError):
    """A workflow step that the item's status does not allow (the message names the allowed)."""

    def __init__(self, message: str, *, status: str = "", allowed: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.allowed = allowed


class ItemClaimed(InboxError):
    """Another agent holds the item's claim (it is answering it); ``owner`` until ``until``."""

    def __init__(self, message: str, *, owner: str = "", until: str = "") -> None:
        super().__init__(message)
        self.owner = owner
        self.until = until


class NoAgentAvailable(InboxError):
    """Automatic assignment found no agent with the language, skill and free capacity."""


class ApprovalRequired(InboxError):
    """A reply needs an approver's approval before it can be sent."""


class MissingVariable(InboxError):
    """A saved reply uses a variable that has no value for this item."""


# -- LISTEN live: connectors ----------------------------------------------------------------


class ConnectorError(SocialloopError):
    """A connector could not fetch from its network; ``source`` names the source (when known)
    and ``url`` the request that failed."""

    def __init__(self, message: str, *, source: str | None = None, url: str | None = None):
        self.source = source
        self.url = url
        self.reason = message
        where = f"source {source!r}: " if source else ""
        super().__init__(f"{where}{message}")


class BadCredentials(ConnectorError):
    """The network refused the credentials (HTTP 401 / 403, or a failed token exchange)."""


class EndpointGone(ConnectorError):
    """The endpoint does not exist (any more): HTTP 404 / 410 (wrong instance, removed API,
    deleted account or feed)."""


class PayloadChanged(ConnectorError):
    """The response is not what the connector expects (not JSON, missing fields, malformed
    XML): the network changed its API, or the URL serves something else."""


class RateLimited(ConnectorError):
    """The network keeps answering 429 (or asks to wait longer than the connector may);
    ``retry_after`` is the number of seconds it asked for, when it said."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        url: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, source=source, url=url)
        self.retry_after = retry_after


class ConnectorUnavailable(ConnectorError):
    """The network did not answer usefully after every retry (timeouts, connection errors,
    HTTP 5xx)."""


# --- ENGAGE: publishing replies and suggestions ------------------------------------------------


class PublishError(SocialloopError):
    """A reply could not be published to a network; the message says what the network said.

    ``network`` names the network. The reply was NOT sent unless the subclass says otherwise
    (:class:`PublishOutcomeUnknown`).
    """

    def __init__(self, message: str, *, network: str = "") -> None:
        super().__init__(message)
        self.network = network


class PublishAuthError(PublishError):
    """Credentials are missing, invalid, expired for good, or lack the needed scope.

    ``setting`` names the setting or environment variable to fix when one is known."""

    def __init__(self, message: str, *, network: str = "", setting: str = "") -> None:
        super().__init__(message, network=network)
        self.setting = setting


class PublishNotAllowed(PublishError):
    """The network refused the reply (not allowed, target gone, text invalid) or the target lacks
    the data a reply needs (no status id / no record cid); retrying the same reply will not help."""


class PublishRateLimited(PublishError):
    """The network asked to wait longer than the publisher may wait; nothing was sent.

    ``retry_after`` is the wait in seconds the network asked for (None when it did not say)."""

    def __init__(
        self, message: str, *, network: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, network=network)
        self.retry_after = retry_after


class PublishOutcomeUnknown(PublishError):
    """The request may have reached the network but no answer came back (timeouts, 5xx after
    the retries). Publishing again with the same key is safe: it never double-posts."""


class SuggestError(SocialloopError):
    """The reply-suggestion endpoint (an OpenAI-compatible server) failed: unreachable, an error
    answer (its message is kept) or an answer of the wrong shape."""


# -- INFLUENCE: the interaction graph ------------------------------------------------------


class GraphNotBuilt(SocialloopError):
    """Influence scores, communities or a graph export were asked for before any graph build."""


# -- LEARN: bundled data ---------------------------------------------------------------------


class LexiconMissing(SocialloopError):
    """VADER's valence lexicon (data of the ``vaderSentiment`` package), which the bundled
    sentiment model weighs for English posts, cannot be read."""


# -- Settings and accurate mode: facts for precise remedies -------------------------------------


class InvalidSetting(ConfigError):
    """One setting has a bad value. ``key`` is its dotted name in socialloop.toml
    (``learn.mode``); ``file`` is the socialloop.toml it was read from, or ``variable`` the
    ``SOCIALLOOP_*`` environment variable that set it (then the file is not to blame)."""

    def __init__(
        self, message: str, *, key: str, file: str | None = None, variable: str | None = None
    ) -> None:
        super().__init__(message)
        self.key = key
        self.file = file
        self.variable = variable


class AccurateUnavailable(SocialloopError):
    """Accurate mode cannot run. ``folder`` is its model folder (shipped inside the package);
    ``problems`` maps each model file that is missing or unreadable to what is wrong with it
    (``"missing"``, ``"unreadable: ..."``; the folder itself is ``"."``); ``packages`` names the
    runtime packages (the ``accurate`` extra) that are not installed."""

    def __init__(
        self,
        message: str,
        *,
        folder: str = "",
        problems: dict[str, str] | None = None,
        packages: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.folder = folder
        self.problems = dict(problems or {})
        self.packages = packages
