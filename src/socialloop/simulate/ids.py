"""Native post ids in each network's style, increasing with time and unique within a run.

* twitter: snowflake ids (milliseconds since the Twitter epoch << 22 | sequence);
* mastodon: snowflake-like ids (milliseconds << 16 | sequence);
* bluesky: TIDs (13 characters of base32-sortable: microseconds << 10 | clock id);
* reddit: base36 ids with the ``t3_`` (submission) or ``t1_`` (comment) prefix.

``seq`` is the post's position in the stream, which makes every id unique.
"""

from __future__ import annotations

_TWITTER_EPOCH_MS = 1288834974657
_B32 = "234567abcdefghijklmnopqrstuvwxyz"
_B32_PAIRS = tuple(a + b for a in _B32 for b in _B32)
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_REDDIT_OFFSET = 2_400_000_000


def twitter_id(ts: int, seq: int) -> str:
    ms = ts * 1000 + (seq * 7919) % 1000
    return str(((ms - _TWITTER_EPOCH_MS) << 22) | (seq & 0x3FFFFF))


def mastodon_id(ts: int, seq: int) -> str:
    ms = ts * 1000 + (seq * 7919) % 1000
    return str((ms << 16) | (seq & 0xFFFF))


def bluesky_tid(ts: int, seq: int) -> str:
    value = ((ts * 1_000_000 + seq % 1_000_000) << 10) | (seq & 0x3FF)
    pair = _B32_PAIRS
    return (
        _B32[(value >> 60) & 31]
        + pair[(value >> 50) & 1023]
        + pair[(value >> 40) & 1023]
        + pair[(value >> 30) & 1023]
        + pair[(value >> 20) & 1023]
        + pair[(value >> 10) & 1023]
        + pair[value & 1023]
    )


def base36(value: int) -> str:
    out = []
    while value:
        value, rem = divmod(value, 36)
        out.append(_B36[rem])
    return "".join(reversed(out)) or "0"


def reddit_id(seq: int) -> str:
    """The base36 part of a reddit id (without ``t3_``/``t1_``)."""
    return base36(_REDDIT_OFFSET + seq)
