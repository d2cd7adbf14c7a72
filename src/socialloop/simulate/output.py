"""Writing a stream of posts as JSON lines (the native ``socialloop`` format).

One ``Post.to_dict()`` per line, serialised with orjson, gzip-compressed when the path ends in
``.gz``. The gzip header carries no file name and a zero time stamp, so the same posts give
byte-identical files. The file is written next to its destination and renamed into place at
the end, so a crash never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import orjson

from socialloop.models import Post

_BATCH = 2000


class _Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


def _write(posts: Iterable[Post], out: _Sink, include_raw: bool) -> int:
    dumps = orjson.dumps
    opt = orjson.OPT_APPEND_NEWLINE
    count = 0
    buf: list[bytes] = []
    for post in posts:
        d = post.to_dict()
        if include_raw and post.raw is not None:
            d["raw"] = post.raw
        buf.append(dumps(d, option=opt))
        count += 1
        if len(buf) >= _BATCH:
            out.write(b"".join(buf))
            buf.clear()
    if buf:
        out.write(b"".join(buf))
    return count


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_jsonl(
    posts: Iterable[Post],
    path: str | os.PathLike[str],
    *,
    include_raw: bool = False,
    compresslevel: int = 1,
) -> int:
    """Write ``posts`` to ``path`` as JSON lines; returns how many were written.

    ``path`` ``"-"`` writes to standard output (uncompressed). A path ending in ``.gz`` is
    gzip-compressed (``compresslevel``). ``include_raw`` adds each post's ``raw`` payload
    (for simulated posts: the ground-truth labels) as a ``"raw"`` key.
    """
    if os.fspath(path) == "-":
        count = _write(posts, sys.stdout.buffer, include_raw)
        sys.stdout.buffer.flush()
        return count
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as raw_out:
            if target.name.endswith(".gz"):
                with gzip.GzipFile(
                    filename="", mode="wb", fileobj=raw_out, compresslevel=compresslevel, mtime=0
                ) as gz:
                    count = _write(posts, gz, include_raw)
            else:
                count = _write(posts, raw_out, include_raw)
        os.chmod(tmp_name, 0o666 & ~_umask())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return count
