"""Reading ``socialloop eval``'s labelled data: a TweetEval task folder (``test_text.txt`` /
``test_labels.txt`` / ``mapping.txt``, falling back to ``val_*``) or a delimited text file
with a text and a label column, as a :class:`Dataset`.

Files are opened as ``socialloop import`` opens them (``listen/formats/_streams``): gzip,
bzip2 and xz are decompressed, UTF-8 (with or without BOM) and UTF-16 / UTF-32 with a BOM
(UTF-16 without one too) are decoded, and bytes that are not valid in the encoding are read
as U+FFFD, which ``Dataset.notes`` reports with the first line holding one. The delimiter of
a file read with a header is sniffed from it (``,`` tab ``;`` ``|``) unless ``--format tsv``
names it. Archives, binary and JSON files, a TweetEval file given instead of its folder and a
header naming no text / label column are errors that say what to pass instead.
"""

from __future__ import annotations

import csv
import itertools
import lzma
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from socialloop.errors import SocialloopError
from socialloop.listen.formats import _streams

Format = Literal["auto", "tweeteval", "csv", "tsv"]

_DELIMITERS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
_ARCHIVES = {
    b"PK\x03\x04": "a ZIP archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
}
_TWEETEVAL_FILE = re.compile(r"(test|val|train)_(text|labels)\.txt")
_READ_ERRORS = (OSError, EOFError, lzma.LZMAError)


class EvalError(SocialloopError):
    """The evaluation data cannot be read or its labels cannot be mapped."""


@dataclass(frozen=True, slots=True)
class Dataset:
    texts: list[str]
    labels: list[str]  # raw gold labels, as read
    source: str  # the file the texts were read from
    path: str = ""  # the path as given (a TweetEval folder, a file); ``source`` when empty
    split: str = ""  # the TweetEval split read (test or val)
    notes: tuple[str, ...] = ()  # what the reader worked around (bytes read as U+FFFD)

    @property
    def given(self) -> str:
        return self.path or self.source


def _encoding(path: Path) -> str:
    """The text encoding of a (decompressed) file from its first bytes: a UTF-16 / UTF-32 BOM,
    UTF-16 without one (NUL bytes in every other place), else UTF-8 with or without BOM.
    Archives and binary files are refused."""
    try:
        raw, stream, _ = _streams.open_file(path)
        try:
            head = stream.read(4096)
        finally:
            stream.close()
            raw.close()
    except _READ_ERRORS as exc:
        raise EvalError(f"cannot read {path}: {exc}") from None
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for magic, what in _ARCHIVES.items():
        if head.startswith(magic):
            raise EvalError(f"{path} is {what}; extract the file inside and pass that with --data")
    first = head.split(b"\n", 1)[0]
    if b"\x00" in first:
        even, odd = first[0::2], first[1::2]
        if odd and odd.count(0) == len(odd) and 0 not in even:
            return "utf-16-le"
        if even and even.count(0) == len(even) and 0 not in odd:
            return "utf-16-be"
        raise EvalError(
            f"{path} is not text (NUL bytes in its first line); pass a UTF-8 (or UTF-16) "
            "CSV / TSV file or a TweetEval folder"
        )
    return "utf-8-sig"


@contextmanager
def _lines(path: Path) -> Iterator[_streams.CsvLines]:
    """The file's lines (decompressed, decoded; split on ``\\n`` only, a lone carriage return
    kept inside its line as ``socialloop import`` keeps it)."""
    encoding = _encoding(path)
    raw, stream, _ = _streams.open_file(path)
    try:
        yield _streams.CsvLines(_streams.text_stream(stream, encoding, "\n"))
    except _READ_ERRORS as exc:
        raise EvalError(f"cannot read {path}: {exc}") from None
    finally:
        stream.close()
        raw.close()


class _Replaced:
    """Counts the lines holding U+FFFD (bytes the encoding could not decode)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.first = 0

    def see(self, line: int, *values: str) -> None:
        if any("\ufffd" in v for v in values):
            self.count += 1
            self.first = self.first or line

    def notes(self) -> tuple[str, ...]:
        if not self.count:
            return ()
        return (
            f"{self.path}: {self.count:,} line(s) hold bytes that are not UTF-8 (the first at "
            f"line {self.first}); they were read as U+FFFD (\ufffd), as `socialloop import` "
            "reads them. For the exact texts, save the file as UTF-8 (a Windows / Latin-1 "
            f"export: `iconv -f cp1252 -t utf-8 {self.path.name} > fixed.csv`)",
        )


def _read_lines(path: Path) -> tuple[list[str], _Replaced]:
    replaced = _Replaced(path)
    with _lines(path) as lines:
        out = [line.removesuffix("\n").removesuffix("\r") for line in lines]
    out = [line.replace(_streams.CsvLines.PLACEHOLDER, "\r") for line in out]
    for n, line in enumerate(out, 1):
        replaced.see(n, line)
    return out, replaced


def read_tweeteval(folder: Path) -> Dataset:
    """A TweetEval task folder: the test split, or the validation split when test is absent.
    Numeric labels are named through ``mapping.txt`` when it is there."""
    for split in ("test", "val"):
        text_file, label_file = folder / f"{split}_text.txt", folder / f"{split}_labels.txt"
        if text_file.is_file() and label_file.is_file():
            break
    else:
        raise EvalError(
            f"{folder}: no test_text.txt + test_labels.txt (nor val_*) in this TweetEval folder"
        )
    texts, replaced = _read_lines(text_file)
    raw_labels, _ = _read_lines(label_file)
    labels = [x.strip() for x in raw_labels]
    if len(texts) != len(labels):
        raise EvalError(
            f"{text_file} has {len(texts)} lines but {label_file} has {len(labels)}; "
            "they must pair line by line"
        )
    mapping_file = folder / "mapping.txt"
    if mapping_file.is_file():
        names: dict[str, str] = {}
        for line in _read_lines(mapping_file)[0]:
            parts = line.split("\t") if "\t" in line else line.split(None, 1)
            if len(parts) == 2:
                names[parts[0].strip()] = parts[1].strip()
        labels = [names.get(x, x) for x in labels]
    return Dataset(texts, labels, str(text_file), str(folder), split, replaced.notes())


def _guess_delimiter(line: str, path: Path, fmt: Format, header: bool) -> str:
    """``fmt`` tsv (or a ``.tsv`` / ``.tab`` name under auto): tab. Otherwise sniffed from the
    first line: a header's most frequent of , tab ; | (tab not for ``--format csv``); a data
    line's tab if it has one, its only one of ; | when it has no comma, else comma."""
    if fmt == "tsv":
        return "\t"
    suffix = _streams.inner_suffix(path, "by name")
    if fmt == "auto" and suffix in (".tsv", ".tab"):
        return "\t"
    allowed = ",;|" if fmt == "csv" else ",\t;|"
    if header:
        best = _streams.sniff_delimiter(line)
        return best if best in allowed else ","
    if "\t" in allowed and "\t" in line:
        return "\t"
    others = [d for d in ";|" if d in line]
    return others[0] if len(others) == 1 and "," not in line else ","


def _delimiter_hint(line: str, used: str, what: str = "line") -> str:
    """A remedy when ``line`` looks split by another delimiter than ``used`` (or "")."""
    counts = {d: line.count(d) for d in _DELIMITERS if d != used}
    best = max(counts, key=lambda d: counts[d])
    if not counts[best] or line.count(used) >= counts[best]:
        return ""
    fix = "--format tsv" if best == "\t" else "--format auto (the delimiter is then sniffed)"
    return f"; the {what} looks {_DELIMITERS[best]}-separated: pass {fix}"


def read_table(
    path: Path,
    *,
    delimiter: str | None = None,
    text_col: str | None = None,
    label_col: str | None = None,
    header: bool = True,
    fmt: Format = "auto",
    given: str = "",
) -> Dataset:
    """A delimited text file; columns by name (with a header) or 0-based index
    (``--no-header``). ``delimiter`` None: guessed (see :func:`_guess_delimiter`)."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    texts: list[str] = []
    labels: list[str] = []
    replaced = _Replaced(path)
    with _lines(path) as lines:
        skipped = 0
        for first in lines:
            if first.strip():
                break
            skipped += 1
        else:
            raise EvalError(f"{path} is empty")
        if first.lstrip("\ufeff \t")[:1] in ("{", "["):
            raise EvalError(
                f"{path} looks like JSON, not a delimited text file; eval reads CSV / TSV files "
                "(a text and a label column) and TweetEval folders: write the text and label "
                "fields to a CSV file"
            )
        sep = delimiter or _guess_delimiter(first, path, fmt, header)
        reader = csv.reader(itertools.chain([first], lines), delimiter=sep)
        previous = skipped
        head: list[str] | None = None
        t_idx = l_idx = 0
        if not header:
            t_idx = _index(text_col, 0, "--text-col")
            l_idx = _index(label_col, 1, "--label-col")
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise EvalError(
                    f"{path}:{previous + 1}: malformed {_DELIMITERS.get(sep, sep)}-separated "
                    f"text ({exc}); fix the quoting, or pass --format to name the delimiter"
                ) from None
            line = previous + 1
            previous = skipped + reader.line_num
            if lines.swapped:
                row = lines.restore(row)
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if header and head is None:
                head = row
                hint = _delimiter_hint(first, sep, "header")
                t_idx = _column(head, text_col or "text", path, "--text-col", hint)
                l_idx = _column(head, label_col or "label", path, "--label-col", hint)
                continue
            if max(t_idx, l_idx) >= len(row):
                raise EvalError(
                    f"{path}:{line}: the row has {len(row)} field(s), fewer than the text and "
                    f"label columns need{_delimiter_hint(sep.join(row), sep)}"
                )
            texts.append(row[t_idx])
            labels.append(row[l_idx].strip())
            replaced.see(line, row[t_idx], row[l_idx])
    return Dataset(texts, labels, str(path), given or str(path), "", replaced.notes())


def _column(head: Sequence[str], name: str, path: Path, option: str, hint: str) -> int:
    cleaned = [h.strip() for h in head]
    shown = ", ".join(shorten(h, 40) for h in cleaned[:30]) + (", ..." if len(cleaned) > 30 else "")
    if name in cleaned:
        return cleaned.index(name)
    folded = [h.lower() for h in cleaned]
    if name.lower() in folded:
        return folded.index(name.lower())
    if name.isdigit() and int(name) < len(head):
        return int(name)
    raise EvalError(f"{path}: no column {name!r} (columns: {shown}){hint or f'; pass {option}'}")


def shorten(text: str, size: int) -> str:
    """``text`` cut to ``size`` characters, an ellipsis marking the cut."""
    return text if len(text) <= size else text[: size - 1] + "…"


def _index(value: str | None, default: int, option: str) -> int:
    if value is None:
        return default
    if not value.isdigit():
        raise EvalError(f"{option} must be a 0-based column number with --no-header, not {value!r}")
    return int(value)


def read_dataset(
    path: Path,
    *,
    fmt: Format = "auto",
    text_col: str | None = None,
    label_col: str | None = None,
    header: bool = True,
) -> Dataset:
    """A TweetEval folder or a delimited file (``fmt`` auto: a folder is TweetEval)."""
    if not path.exists():
        raise EvalError(f"{path} does not exist")
    if fmt == "auto" and path.is_dir():
        fmt = "tweeteval"
    if fmt == "tweeteval":
        if not path.is_dir():
            raise EvalError(
                f"--format tweeteval expects a folder, and {path} is a file; pass its folder: "
                f"--data {path.parent}"
            )
        data = read_tweeteval(path)
        return Dataset(data.texts, data.labels, data.source, str(path), data.split, data.notes)
    if path.is_dir():
        raise EvalError(f"{path} is a folder; pass --format tweeteval or a {fmt} file")
    if _TWEETEVAL_FILE.fullmatch(path.name):
        raise EvalError(
            f"{path} is one file of a TweetEval task folder (texts and labels are in separate "
            f"files); pass the folder: --data {path.parent} (read as --format tweeteval)"
        )
    return read_table(
        path, text_col=text_col, label_col=label_col, header=header, fmt=fmt, given=str(path)
    )
