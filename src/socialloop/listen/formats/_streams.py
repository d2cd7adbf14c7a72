"""The containers under the formats: opening (with decompression), JSONL lines, streamed
JSON arrays and value streams, CSV lines. ``files.py`` builds on these.

Files are opened in binary with a 1 MB buffer; gzip, bzip2 and xz are recognised by their magic
bytes. ``json_records`` yields the records of a JSON container. JSONL lines are limited to
``MAX_RECORD_BYTES``; a longer line is skipped (and reported) without being held whole.

``JsonValues`` yields the elements of a JSON array (``[{...}, {...}]``) or the values of a
stream of concatenated JSON values (a single pretty-printed object, or several) one by one,
from a text stream, without loading the file: it keeps a buffer of about a megabyte plus the
record being read, and never holds more than ``max_chars`` of one record.

Each element is first tried as the rest of its line (``orjson``: arrays written one element
per line are read at JSONL speed); otherwise ``json.JSONDecoder.raw_decode`` reads it, reading
more text while the element is incomplete. A syntax error gives a ``Broken`` with the line and
column, and reading resumes at the next line that starts the way the broken element did (same
indentation, same opening character); a compact array (no line breaks) cannot resume.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple, TextIO, cast

import orjson

MAX_RECORD_BYTES = 64 << 20
RAW_LIMIT = 10_000
BUFFER = 1 << 20
PROBE_LINE = 16 << 20
BOM = b"\xef\xbb\xbf"
CHUNK_CHARS = 1 << 20
_WS = re.compile(r"[ \t\r\n]*")


class Broken(NamedTuple):
    """A record that could not be read (not valid JSON, too large): where and why."""

    line: int
    reason: str
    raw: str | bytes


class _Incomplete(Exception):
    pass


class JsonValues:
    """Iterate ``(line, raw_text, value)`` or ``Broken`` over a JSON array or value stream."""

    def __init__(self, text: TextIO, *, array: bool, max_chars: int, raw_limit: int) -> None:
        self._read = text.read
        self._array = array
        self._max = max_chars
        self._raw_limit = raw_limit
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._line = 1  # line number at _buf[_line_pos]
        self._line_pos = 0
        self._col0 = 0  # column (0-based) of _buf[0] in its line of the file
        self._decode = json.JSONDecoder().raw_decode

    def _more(self) -> bool:
        """Read more text, keeping ``_buf[_pos:]``; False at the end of the file."""
        if self._eof:
            return False
        buf = self._buf
        self._line += buf.count("\n", self._line_pos, self._pos)
        newline = buf.rfind("\n", 0, self._pos)
        self._col0 = self._pos - newline - 1 if newline != -1 else self._col0 + self._pos
        chunk = self._read(max(CHUNK_CHARS, len(buf) - self._pos))
        self._buf = buf[self._pos :] + chunk
        self._pos = 0
        self._line_pos = 0
        if not chunk:
            self._eof = True
            return False
        return True

    def _line_at(self, index: int) -> int:
        self._line += self._buf.count("\n", self._line_pos, index)
        self._line_pos = index
        return self._line

    def _value(self) -> tuple[Any, int]:
        """The value starting at ``_pos`` and its end; reads more text while incomplete."""
        loads = orjson.loads
        while True:
            buf, start = self._buf, self._pos
            newline = buf.find("\n", start)
            if newline != -1:
                end = newline
                while end > start and buf[end - 1] in " \t\r":
                    end -= 1
                if self._array and end > start and buf[end - 1] == ",":
                    end -= 1
                try:
                    return loads(buf[start:end]), end
                except orjson.JSONDecodeError:
                    pass
            try:
                return self._decode(buf, start)
            except json.JSONDecodeError as exc:
                incomplete = not self._eof and (
                    exc.msg.startswith("Unterminated string") or len(buf) - exc.pos <= 8
                )
                if not incomplete:
                    raise
                if len(buf) - start > self._max:
                    raise _Incomplete from None
                self._more()

    def __iter__(self) -> Iterator[tuple[int, str, Any] | Broken]:
        array = self._array
        started = not array
        want_sep = False
        match_ws = _WS.match
        self._more()
        if self._buf.startswith("\ufeff"):
            self._pos = 1
        while True:
            buf = self._buf
            pos = match_ws(buf, self._pos).end()  # type: ignore[union-attr]
            self._pos = pos
            if pos >= len(buf):
                if not self._more():
                    return
                continue
            ch = buf[pos]
            if not started:
                if ch != "[":
                    yield Broken(self._line_at(pos), "expected a JSON array ('[')", buf[pos:200])
                    return
                started = True
                self._pos = pos + 1
                continue
            if array:
                if ch == "]":
                    return
                if ch == "," and want_sep:
                    want_sep = False
                    self._pos = pos + 1
                    continue
                if want_sep or ch == ",":
                    line = self._line_at(pos)
                    yield Broken(line, f"invalid JSON: expected ',' or ']' at line {line}", "")
                    if not self._resync(pos):
                        return
                    want_sep = False
                    continue
            try:
                value, end = self._value()
            except _Incomplete:
                start = self._pos
                line = self._line_at(start)
                reason = f"record starting at line {line} is larger than {self._max} characters"
                yield Broken(line, reason, self._buf[start : start + self._raw_limit])
                if not self._resync(start):
                    return
                want_sep = False
                continue
            except json.JSONDecodeError as exc:
                start = self._pos
                line = self._line_at(start)
                err_line = self._line + self._buf.count("\n", start, exc.pos)
                newline = self._buf.rfind("\n", 0, exc.pos)
                col = exc.pos - newline if newline != -1 else self._col0 + exc.pos + 1
                reason = f"invalid JSON at line {err_line} column {col}: {exc.msg}"
                resumed = self._resync(start)
                if not resumed and not self._eof:
                    reason += "; the rest of the file was skipped"
                yield Broken(line, reason, exc.doc[start : start + self._raw_limit])
                if not resumed:
                    return
                want_sep = False
                continue
            start = self._pos
            line = self._line_at(start)
            raw = self._buf[start : min(end, start + self._raw_limit)]
            self._pos = end
            want_sep = array
            yield line, raw, value

    def _resync(self, start: int) -> bool:
        """Move ``_pos`` to the next line that starts like the element at ``start`` did (same
        indentation and opening character). False when there is none, or when the element did
        not start its line (a compact array cannot be resynchronised)."""
        buf = self._buf
        line_start = buf.rfind("\n", 0, start) + 1
        indent = buf[line_start:start]
        if indent.strip() or (line_start == 0 and self._col0):
            return False
        marker = "\n" + indent + buf[start] if start < len(buf) else "\n"
        self._pos = start + 1
        while True:
            found = self._buf.find(marker, self._pos)
            if found != -1:
                self._pos = found + 1 + len(indent)
                return True
            self._pos = max(self._pos, len(self._buf) - len(marker))
            if not self._more():
                self._pos = len(self._buf)
                return False


def open_file(path: Path) -> tuple[io.BufferedReader[io.FileIO], io.BufferedIOBase, str | None]:
    """The file, the (decompressed) byte stream to read, and the compression found."""
    raw = io.BufferedReader(io.FileIO(path, "rb"), buffer_size=BUFFER)
    try:
        magic = raw.peek(6)[:6]
        if magic.startswith(b"\x1f\x8b"):
            return raw, gzip.GzipFile(fileobj=raw, mode="rb"), "gzip"
        if magic.startswith(b"BZh"):
            return raw, bz2.BZ2File(raw), "bz2"
        if magic.startswith(b"\xfd7zXZ\x00"):
            return raw, lzma.LZMAFile(raw), "xz"
    except BaseException:
        raw.close()
        raise
    return raw, raw, None


def text_stream(
    stream: io.BufferedIOBase, encoding: str = "utf-8", newline: str = ""
) -> io.TextIOWrapper:
    """Text over a byte stream; bytes that are not valid in ``encoding`` become U+FFFD."""
    return io.TextIOWrapper(
        cast(BinaryIO, stream), encoding=encoding, errors="replace", newline=newline
    )


class CsvLines:
    """The lines of a CSV text, split on ``\\n`` only. A carriage return inside a line (not
    part of a CRLF ending) is swapped for a placeholder, so that csv does not end the record
    there (TWCS has such a tweet); ``restore`` puts it back in the fields."""

    PLACEHOLDER = "\ue000"

    def __init__(self, text: io.TextIOWrapper) -> None:
        self._next = text.__next__
        self.swapped = False

    def __iter__(self) -> CsvLines:
        return self

    def __next__(self) -> str:
        line = self._next()
        if "\r" in line:
            crlf = line.endswith("\r\n")
            body = line[:-2] if crlf else line
            if "\r" in body:
                self.swapped = True
                line = body.replace("\r", self.PLACEHOLDER) + ("\r\n" if crlf else "")
        return line

    def restore(self, row: list[str]) -> list[str]:
        self.swapped = False
        return [f.replace(self.PLACEHOLDER, "\r") for f in row]


def inner_suffix(path: Path, compression: str | None) -> str:
    """The extension that tells the container: ``.csv`` for ``x.csv.gz``."""
    suffixes = [s.lower() for s in path.suffixes]
    if compression and suffixes and suffixes[-1] in (".gz", ".gzip", ".bz2", ".xz"):
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def raw_text(value: Any) -> str:
    """A record's text for ``Reject.raw``: bytes decoded, objects as JSON, cut to RAW_LIMIT."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        text = value[: RAW_LIMIT * 4].decode("utf-8", "replace")
    elif isinstance(value, str):
        text = value
    else:
        try:
            text = orjson.dumps(value, default=str).decode("utf-8", "replace")
        except (TypeError, orjson.JSONEncodeError):
            text = repr(value)
    return text[:RAW_LIMIT].rstrip("\r\n")


def first_line(stream: io.BufferedIOBase) -> bytes:
    """The first non-blank line (at most ``PROBE_LINE`` bytes), BOM removed."""
    while True:
        line = stream.readline(PROBE_LINE)
        if not line:
            return b""
        line = line.removeprefix(BOM)
        if line.strip():
            return line


def json_records(
    path: Path, container: str, *, stream: io.BufferedIOBase | None = None, limit: int = 0
) -> Iterator[tuple[int, Any, Any] | Broken]:
    """``(line, raw, value)`` or ``Broken`` for each record of a JSON container (the first
    ``limit`` records when ``limit`` is set; the file is opened when no stream is given)."""
    own = stream is None
    raw_file: io.BufferedIOBase | None = None
    if stream is None:
        raw_file, stream, _ = open_file(path)
    count = 0
    try:
        if container == "jsonl":
            readline = stream.readline
            line_no = 0
            while line := readline(MAX_RECORD_BYTES):
                line_no += 1
                if len(line) >= MAX_RECORD_BYTES and not line.endswith(b"\n"):
                    while (rest := readline(BUFFER)) and not rest.endswith(b"\n"):
                        pass
                    line = TooLong(line[:RAW_LIMIT])
                try:
                    value = loads_line(line)
                except ValueError as exc:
                    yield Broken(line_no, str(exc), line)
                else:
                    if value is BLANK:
                        continue
                    yield line_no, line, value
                count += 1
                if limit and count >= limit:
                    return
        else:
            values = JsonValues(
                text_stream(stream),
                array=container == "json-array",
                max_chars=MAX_RECORD_BYTES,
                raw_limit=RAW_LIMIT,
            )
            for item in values:
                yield item
                count += 1
                if limit and count >= limit:
                    return
    finally:
        if own:
            stream.close()
            if raw_file is not None:
                raw_file.close()


def parses(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        try:
            orjson.loads(line.decode("utf-8", "replace"))
        except orjson.JSONDecodeError:
            return False
    return True


def sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class TooLong(bytes):
    """The start of a line longer than ``MAX_RECORD_BYTES``."""


class Blank:
    pass


BLANK = Blank()


def loads_line(line: bytes) -> Any:
    """A JSONL line's value on the slow path: blank lines, BOM, bytes that are not UTF-8.
    Raises ``ValueError`` with the reason."""
    if isinstance(line, TooLong):
        raise ValueError(f"line longer than {MAX_RECORD_BYTES} bytes")
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        if not line.strip():
            return BLANK
        text = line.removeprefix(BOM).decode("utf-8", "replace")
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            raise ValueError(f"invalid JSON at column {exc.colno}: {exc.msg}") from None


def csv_text(row: list[str], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(row)
    return out.getvalue()[:RAW_LIMIT]
