"""Read conversation files into posts, streaming, with bad records reported as ``Reject``.

``read_file(path)`` (or a :class:`FileReader`, which also tells how many bytes were read, for a
progress bar) yields ``Post`` objects and ``Reject`` objects in file order. Memory stays
constant whatever the file size: JSONL and CSV are read line by line, JSON arrays element by
element, and no single record may exceed ``MAX_RECORD_BYTES``.

Containers (detected from the content, the extension breaks ties):

* JSONL: one JSON value per line (``.jsonl``, ``.ndjson``, or any file whose first line is a
  complete JSON value). A line holding an array is read element by element unless the format
  takes arrays (Reddit's comments page).
* a JSON array (``[`` on its own line, or an array spanning lines): streamed element by element.
* a JSON object file (one pretty-printed API page, or several objects one after the other).
* CSV and TSV (``.csv``, ``.tsv``, or anything else): UTF-8 with or without BOM, the delimiter
  sniffed from the header (tab for ``.tsv``), quoted fields may span lines; each record is
  reported at the line where it starts.
* gzip, bzip2 and xz compression of any of these, recognised by their magic bytes.

Bytes that are not UTF-8 are replaced with U+FFFD. The format (``FORMATS``) is detected from
the first records unless given; see docs/import-formats.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from socialloop.errors import ImportFormatError, RecordError
from socialloop.listen.formats import (
    FORMATS,
    REGISTRY,
    Bad,
    Format,
    Mapper,
    _streams,
    detect_csv,
    detect_json,
    generic,
    get_format,
)
from socialloop.listen.formats._streams import Broken
from socialloop.models import Post

__all__ = [
    "FORMATS",
    "MAX_RECORD_BYTES",
    "RAW_LIMIT",
    "FileReader",
    "Reject",
    "detect_format",
    "parse_column_map",
    "read_file",
]

MAX_RECORD_BYTES = _streams.MAX_RECORD_BYTES
"""The largest record (JSONL line, JSON array element or object) that is read; larger ones are
rejected."""
RAW_LIMIT = _streams.RAW_LIMIT
"""``Reject.raw`` is cut to this many characters."""
_DETECT_RECORDS = 50
_NETWORK_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_CSV_SUFFIXES = frozenset({".csv", ".tsv", ".tab"})
_JSON_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".jsonlines", ".ldjson"})


@dataclass(frozen=True, slots=True)
class Reject:
    """One bad record: the file, the line where it starts (1-based), why, and its text
    (cut to ``RAW_LIMIT`` characters). ``reason`` starts with ``line N:``."""

    path: str
    line: int
    reason: str
    raw: str


def parse_column_map(spec: str | Mapping[str, str] | Sequence[str] | None) -> dict[str, str]:
    """A column map from ``"text=body,created_at=date"``, a list of ``field=column`` strings
    or a mapping. Raises ``ImportFormatError`` for malformed entries and unknown fields."""
    if spec is None:
        return {}
    pairs: list[tuple[str, str]] = []
    if isinstance(spec, Mapping):
        pairs = [(str(k), str(v)) for k, v in spec.items()]
    else:
        entries = (
            spec.split(",") if isinstance(spec, str) else [e for s in spec for e in s.split(",")]
        )
        for entry in entries:
            if not entry.strip():
                continue
            field_name, sep, column = entry.partition("=")
            if not sep or not field_name.strip() or not column.strip():
                raise ImportFormatError(
                    f"column map entry {entry.strip()!r} is not FIELD=COLUMN "
                    f"(e.g. text=body,created_at=date)"
                )
            pairs.append((field_name, column))
    result = {k.strip(): v.strip() for k, v in pairs}
    unknown = [k for k in result if k not in generic.GUESSES]
    if unknown:
        raise ImportFormatError(
            f"unknown field {', '.join(map(repr, unknown))} in the column map; "
            f"the fields are: {', '.join(generic.FIELDS)}"
        )
    return result


@dataclass(slots=True)
class _Probe:
    container: str  # jsonl | json-array | json-stream | csv | empty
    compression: str | None
    delimiter: str = ","
    header: list[str] = field(default_factory=list)
    samples: list[tuple[int, Any]] = field(default_factory=list)
    broken: list[Broken] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "csv" if self.container == "csv" else "json"


def _probe(path: Path) -> _Probe:
    """Find the container (and, for JSON, sample the first records) of a file."""
    raw, stream, compression = _streams.open_file(path)
    try:
        suffix = _streams.inner_suffix(path, compression)
        named = path.suffix.lower()
        if compression is None and named in _COMPRESSED_SUFFIXES:
            raise ImportFormatError(
                f"cannot read {path}: it is named {named} but is not "
                f"{_COMPRESSED_SUFFIXES[named]}-compressed; rename it to what it holds (e.g. "
                ".csv, .jsonl) or compress it again"
            )
        line = _streams.first_line(stream)
        if not line:
            return _Probe("empty", compression)
        _refuse_binary(path, line)
        first = line.lstrip()[:1]
        if suffix in _CSV_SUFFIXES:
            is_json = False
        elif suffix in _JSON_SUFFIXES:
            is_json = True
        else:
            is_json = first in (b"{", b"[")
        if not is_json:
            text = line.decode("utf-8", "replace")
            delimiter = "\t" if suffix in (".tsv", ".tab") else _streams.sniff_delimiter(text)
            try:
                header = next(csv.reader([text], delimiter=delimiter), [])
            except csv.Error as exc:
                raise ImportFormatError(
                    f"cannot read {path}: its first line is not CSV ({exc}); import CSV, TSV, "
                    "JSON or JSON Lines text (UTF-8)"
                ) from None
            return _Probe("csv", compression, delimiter, [h.strip() for h in header])
        complete = line.endswith(b"\n") or len(line) < _streams.PROBE_LINE
        container = "jsonl"
        if first in (b"{", b"[") and not (complete and _streams.parses(line)):
            container = "json-array" if first == b"[" else "json-stream"
    finally:
        stream.close()
        raw.close()
    probe = _Probe(container, compression)
    for item in _streams.json_records(path, container, limit=_DETECT_RECORDS):
        if isinstance(item, Broken):
            probe.broken.append(item)
        else:
            probe.samples.append((item[0], item[2]))
    return probe


_COMPRESSED_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bzip2", ".xz": "xz"}
_ARCHIVES = {
    b"PK\x03\x04": "a ZIP archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
}


def _refuse_binary(path: Path, line: bytes) -> None:
    """An archive or any file with NUL bytes in its first line (a binary file, or UTF-16 /
    UTF-32 text) is no import format: say what it is and what to do, instead of reading
    garbage columns."""
    for magic, what in _ARCHIVES.items():
        if line.startswith(magic):
            raise ImportFormatError(
                f"cannot read {path}: it is {what}; extract it and import the files inside"
            )
    if b"\x00" in line:
        raise ImportFormatError(
            f"cannot read {path}: it is not UTF-8 text (NUL bytes in its first line: a binary "
            "file, or UTF-16 / UTF-32 text); save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8`)"
        )


def _choose(path: Path, probe: _Probe, requested: str, column_map: Mapping[str, str]) -> str:
    """The format name for a probed file (raises ``ImportFormatError`` with the remedy)."""
    if requested != "auto":
        fmt = get_format(requested)
        if column_map and not fmt.uses_map:
            raise ImportFormatError(
                f"a column map (--map) applies to the csv and jsonl formats, not {requested!r}"
            )
        if probe.container != "empty" and fmt.container != probe.kind:
            raise ImportFormatError(
                f"format {requested!r} reads {fmt.container.upper()} files, but {path} "
                f"looks like {probe.kind.upper()}; the {probe.kind.upper()} formats are: "
                + ", ".join(n for n, f in REGISTRY.items() if f.container == probe.kind)
            )
        return requested
    if probe.container == "empty":
        raise ImportFormatError(f"{path} is empty: there is nothing to detect")
    if column_map:
        return generic.CSV if probe.kind == "csv" else generic.JSONL
    if probe.kind == "csv":
        name = detect_csv(probe.header)
        if name is None:
            try:
                generic.resolve_columns(probe.header, None)
            except ImportFormatError as exc:
                raise ImportFormatError(
                    f"cannot tell the format of {path}: it is a CSV file (its first line read "
                    f"as the header) that is not one of the known datasets (twcs, airline), "
                    f"and as a generic csv: {exc}"
                ) from None
        return name or generic.CSV
    specific = [n for n in REGISTRY if REGISTRY[n].container == "json" and n != generic.JSONL]
    for _, record in probe.samples:
        name = detect_json(record)
        if name is not None and name != generic.JSONL:
            return name
    for _, record in probe.samples:
        if detect_json(record) == generic.JSONL:
            return generic.JSONL
    if not probe.samples:
        first = probe.broken[0] if probe.broken else None
        seen = f" (line {first.line}: {first.reason})" if first else ""
        raise ImportFormatError(f"cannot read {path}: no valid JSON record at its start{seen}")
    line, record = probe.samples[0]
    if type(record) is dict:
        keys = ", ".join(repr(k) for k in list(record)[:30])
        what = f"a JSON object with the keys {keys}"
    else:
        what = f"a JSON {type(record).__name__}"
    raise ImportFormatError(
        f"cannot tell the format of {path}: its first record (line {line}) is {what}. "
        f"It is none of {', '.join(specific)}, and no text and date keys could be guessed for "
        f"the generic jsonl format. Pass --format NAME, or --format jsonl "
        f"--map text=KEY,created_at=KEY (dotted paths like user.name reach into objects)"
    )


def detect_format(path: str | Path) -> str:
    """The format of a file, from its first records. Raises ``ImportFormatError`` saying what
    was seen, which formats exist, and how to name the format or map the columns."""
    path = Path(path)
    return _choose(path, _probe(path), "auto", {})


class FileReader:
    """One file, read as posts and rejects. Iterate it once; ``bytes_read`` and ``size`` (bytes
    on disk, compressed when the file is) follow the progress. The format is resolved (and
    ``ImportFormatError`` raised) when the reader is created."""

    def __init__(
        self,
        path: str | Path,
        *,
        format: str = "auto",
        column_map: Mapping[str, str] | str | None = None,
        network: str | None = None,
    ) -> None:
        self.path = Path(path)
        self._path = str(path)
        try:
            self.size = self.path.stat().st_size
        except OSError as exc:
            raise ImportFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
        if self.path.is_dir():
            raise ImportFormatError(f"cannot read {path}: it is a directory")
        if network is not None:
            network = network.strip().lower()
            if not _NETWORK_RE.match(network):
                raise ImportFormatError(
                    f"network {network!r} is not valid: use lower-case letters, digits, "
                    f"'-', '_' or '.' (e.g. twitter, mastodon, forum)"
                )
        self.network = network
        self.column_map = parse_column_map(column_map)
        if format != "auto":
            get_format(format)  # an unknown name fails before the file is opened
        probe = _probe(self.path)
        self._probe = probe
        self.container = probe.container
        self.compression = probe.compression
        if probe.container == "empty":  # nothing to read, whatever the format
            if format != "auto":
                _choose(self.path, probe, format, self.column_map)  # checks --map fits it
            self.format = format if format != "auto" else "none"
            self._format: Format | None = None
            self._mapper: Mapper | None = None
        else:
            self.format = _choose(self.path, probe, format, self.column_map)
            self._format = REGISTRY[self.format]
            header = probe.header
            if probe.kind == "json":
                first = next((r for _, r in probe.samples if type(r) is dict), {})
                header = list(first)
            self._mapper = self._format.make_mapper(network, self.column_map or None, header)
        self._file: io.BufferedIOBase | None = None
        self._done = False
        self._started = False

    @property
    def bytes_read(self) -> int:
        """Bytes of the file read so far (of the compressed file when it is compressed)."""
        if self._done:
            return self.size
        f = self._file
        if f is None:
            return 0
        try:
            return min(f.tell(), self.size)
        except (OSError, ValueError):
            return self.size

    def __iter__(self) -> Iterator[Post | Reject]:
        if self._started:
            raise RuntimeError("a FileReader can be iterated only once")
        self._started = True
        if self._mapper is None:
            self._done = True
            return
        raw, stream, _ = _streams.open_file(self.path)
        self._file = raw
        try:
            if self.container == "jsonl":
                yield from self._jsonl(stream)
            elif self.container == "csv":
                yield from self._csv(stream)
            else:
                for item in _streams.json_records(self.path, self.container, stream=stream):
                    if isinstance(item, Broken):
                        yield Reject(
                            self._path,
                            item.line,
                            f"line {item.line}: {item.reason}",
                            _streams.raw_text(item.raw),
                        )
                    else:
                        yield from self._map(item[0], item[1], item[2])
        finally:
            self._done = True
            stream.close()
            raw.close()

    # --- containers ------------------------------------------------------------------------

    def _jsonl(self, stream: io.BufferedIOBase) -> Iterator[Post | Reject]:
        """The JSONL fast path: one ``orjson.loads`` and one mapper call per line."""
        loads = orjson.loads
        mapper = self._mapper
        assert mapper is not None
        post_type = Post
        readline = stream.readline
        line_no = 0
        while True:
            line = readline(_streams.MAX_RECORD_BYTES)
            if not line:
                return
            line_no += 1
            try:
                record = loads(line)
            except orjson.JSONDecodeError:
                if len(line) >= _streams.MAX_RECORD_BYTES and not line.endswith(b"\n"):
                    while (rest := readline(_streams.BUFFER)) and not rest.endswith(b"\n"):
                        pass
                    line = _streams.TooLong(line[:RAW_LIMIT])
                try:
                    record = _streams.loads_line(line)
                except ValueError as exc:
                    yield Reject(
                        self._path, line_no, f"line {line_no}: {exc}", _streams.raw_text(line)
                    )
                    continue
                if record is _streams.BLANK:
                    continue
            try:
                out = mapper(record)
            except Exception as exc:  # a bad record never stops the import
                yield from self._failed(line_no, line, record, exc)
                continue
            for item in out:
                if type(item) is post_type:
                    yield item
                else:
                    yield self._bad(line_no, item, line)

    def _csv(self, stream: io.BufferedIOBase) -> Iterator[Post | Reject]:
        probe = self._probe
        lines = _streams.CsvLines(_streams.text_stream(stream, "utf-8-sig", "\n"))
        delimiter = probe.delimiter
        reader = csv.reader(lines, delimiter=delimiter)
        header: list[str] | None = None
        width = 0
        previous = 0
        path = self._path
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line = previous + 1
                previous = reader.line_num
                yield Reject(path, line, f"line {line}: malformed CSV: {exc}", "")
                continue
            line = previous + 1
            previous = reader.line_num
            if lines.swapped:
                row = lines.restore(row)
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if header is None:
                header = [h.strip() for h in row]
                width = len(header)
                continue
            if len(row) != width:
                yield Reject(
                    path,
                    line,
                    f"line {line}: {len(row)} fields, but the header has {width}",
                    _streams.csv_text(row, delimiter),
                )
                continue
            yield from self._map(line, row, dict(zip(header, row, strict=True)))

    # --- mapping ---------------------------------------------------------------------------

    def _map(self, line: int, raw: Any, record: Any) -> Iterator[Post | Reject]:
        mapper = self._mapper
        assert mapper is not None
        try:
            out = mapper(record)
        except Exception as exc:  # a bad record never stops the import
            yield from self._failed(line, raw, record, exc)
            return
        for item in out:
            if type(item) is Post:
                yield item
            else:
                yield self._bad(line, item, raw)

    def _failed(self, line: int, raw: Any, record: Any, exc: Exception) -> Iterator[Post | Reject]:
        fmt = self._format
        if type(record) is list and fmt is not None and not fmt.accepts_lists:
            for element in record:  # an array of records on one line: map each
                yield from self._map(line, element, element)
            return
        if isinstance(exc, RecordError):
            reason = str(exc)
        else:
            reason = f"unexpected record shape ({type(exc).__name__}: {exc})"
        yield Reject(self._path, line, f"line {line}: {reason}", self._raw(raw))

    def _bad(self, line: int, item: Post | Bad, raw: Any) -> Reject:
        assert isinstance(item, Bad)
        source = item.item if item.item is not None else raw
        return Reject(self._path, line, f"line {line}: {item.reason}", self._raw(source))

    def _raw(self, raw: Any) -> str:
        if type(raw) is list and self.container == "csv":
            return _streams.csv_text(raw, self._probe.delimiter)
        return _streams.raw_text(raw)


def read_file(
    path: str | Path,
    *,
    format: str = "auto",
    column_map: Mapping[str, str] | None = None,
    network: str | None = None,
) -> Iterator[Post | Reject]:
    """Posts and rejects of a file, in order (see :class:`FileReader` for progress).

    ``format``: one of ``FORMATS`` or ``"auto"``. ``column_map``: field -> column for the
    generic csv/jsonl formats. ``network``: the network of posts whose records do not name one
    (generic formats), or an override of the platform's (``twitter``...); native records keep
    theirs. Raises ``ImportFormatError`` before the first item when the file cannot be read.
    """
    return iter(FileReader(path, format=format, column_map=column_map, network=network))
