"""Publishing replies back to the networks that allow it (Mastodon, Bluesky).

:func:`publisher_for` gives the configured :class:`Publisher` of a network, or None where replies
cannot go through an API (the agent answers on the network from the post's link). See
``docs/publishing.md`` for settings, credentials, idempotency and dry runs.
"""

from socialloop.engage.publish.base import Published, Publisher, ReplyTarget, publisher_for

__all__ = ["Published", "Publisher", "ReplyTarget", "publisher_for"]
