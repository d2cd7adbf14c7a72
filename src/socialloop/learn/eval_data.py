"""Reading ``socialloop eval``'s labelled data: a TweetEval task folder (``test_text.txt`` /
``test_labels.txt`` / ``mapping.txt``, falling back to ``val_*``) or a delimited text file
with a text and a label column, as a :class:`Dataset`.

Files are opened as ``socialloop import`` opens them (``listen/formats/_streams``): gzip,
bzip2 and xz are decompressed, UTF-8 (with or without BOM) and UTF-16 / UTF-32 with a BOM
(UTF-16 without one too) are decoded, and bytes that are not valid in the encoding are read
as U+FFFD, which ``Dataset.notes`` reports with the first line holding one (and
``Dataset.undecodable`` as facts). The delimiter of a file read with a header is sniffed from
it (``,`` tab ``;`` ``|``) unless the format (tsv) names it. Archives, binary and JSON files,
a TweetEval file given instead of its folder and a header naming no text / label column are
:class:`EvalError` errors carrying what happened and where (``kind``, ``path``, ``line`` and the
values found); the CLI words the remedy.
"""

from __future__ import annotations

import csv
import itertools
import lzma
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
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
    """The evaluation data cannot be read or its labels cannot be mapped. The message states
    the fact; the attributes carry it for a caller to word a remedy:

    ``kind`` what happened: ``not_found``, ``unreadable``, ``archive`` (``archive`` names
    it: "a ZIP archive"), ``binary``, ``empty``, ``json``, ``malformed`` (``delimiter``),
    ``missing_column`` (``role`` text / label, ``column`` the name looked for, ``columns`` the
    header), ``short_row`` (``fields``, ``delimiter``), ``bad_column_index`` (``role``,
    ``value``: not a number, given for a file without header), ``missing_split``,
    ``unpaired_lines``, ``file_not_folder`` (a TweetEval task named for a file; ``folder``
    its folder), ``tweeteval_file`` (one file of a TweetEval folder; ``folder``),
    ``folder_not_file`` (``fmt`` the format named), ``unknown_task`` (``task``, ``tasks``),
    ``no_rows``, ``label_not_mapped`` (see below). ``path`` the file or folder, ``line`` its
    1-based line (0: none). ``looks`` the delimiter a header or row looks split by when it is
    not the one used ("" when none).

    ``label_not_mapped``: ``task``; ``expected`` the task's labels in words; ``unmapped`` each
    raw gold label no label of the task (nor mapped) with its count; ``bad_targets`` each raw
    label mapped to a value that is no label of the task, with that value; ``several`` the
    unmapped labels that list several labels ("anger,joy"); ``texts`` the unmapped labels
    that read as texts (more than three words)."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        path: str | Path = "",
        line: int = 0,
        role: str = "",
        column: str = "",
        columns: Sequence[str] = (),
        delimiter: str = "",
        looks: str = "",
        fields: int = 0,
        value: str = "",
        folder: str | Path = "",
        fmt: str = "",
        archive: str = "",
        task: str = "",
        tasks: Sequence[str] = (),
        expected: str = "",
        unmapped: Mapping[str, int] | None = None,
        bad_targets: Mapping[str, str] | None = None,
        several: Sequence[str] = (),
        texts: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.path = str(path)
        self.line = line
        self.role = role
        self.column = column
        self.columns = tuple(columns)
        self.delimiter = delimiter
        self.looks = looks
        self.fields = fields
        self.value = value
        self.folder = str(folder)
        self.fmt = fmt
        self.archive = archive
        self.task = task
        self.tasks = tuple(tasks)
        self.expected = expected
        self.unmapped = dict(unmapped or {})
        self.bad_targets = dict(bad_targets or {})
        self.several = tuple(several)
        self.texts = tuple(texts)


def delimiter_name(delimiter: str) -> str:
    """A delimiter in words (comma, tab, semicolon, pipe), else the character itself."""
    return _DELIMITERS.get(delimiter, delimiter)


@dataclass(frozen=True, slots=True)
class Undecodable:
    """Lines of ``path`` holding bytes its encoding could not decode (read as U+FFFD):
    ``lines`` how many, ``first`` the first one (1-based)."""

    path: str
    lines: int
    first: int


@dataclass(frozen=True, slots=True)
class Dataset:
    texts: list[str]
    labels: list[str]  # raw gold labels, as read
    source: str  # the file the texts were read from
    path: str = ""  # the path as given (a TweetEval folder, a file); ``source`` when empty
    split: str = ""  # the TweetEval split read (test or val)
    notes: tuple[str, ...] = ()  # what the reader worked around (bytes read as U+FFFD)
    undecodable: tuple[Undecodable, ...] = ()  # the same as facts

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
        raise EvalError(f"cannot read {path}: {exc}", kind="unreadable", path=path) from None
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for magic, what in _ARCHIVES.items():
        if head.startswith(magic):
            raise EvalError(f"{path} is {what}", kind="archive", path=path, archive=what)
    first = head.split(b"\n", 1)[0]
    if b"\x00" in first:
        even, odd = first[0::2], first[1::2]
        if odd and odd.count(0) == len(odd) and 0 not in even:
            return "utf-16-le"
        if even and even.count(0) == len(even) and 0 not in odd:
            return "utf-16-be"
        raise EvalError(
            f"{path} is not text (NUL bytes in its first line)", kind="binary", path=path
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
        raise EvalError(f"cannot read {path}: {exc}", kind="unreadable", path=path) from None
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

    def facts(self) -> tuple[Undecodable, ...]:
        return (Undecodable(str(self.path), self.count, self.first),) if self.count else ()

    def notes(self) -> tuple[str, ...]:
        if not self.count:
            return ()
        return (
            f"{self.path}: {self.count:,} line(s) hold bytes that are not UTF-8 (the first at "
            f"line {self.first}); they were read as U+FFFD (\ufffd), as posts are imported",
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
            f"{folder}: no test_text.txt + test_labels.txt (nor val_*) in this TweetEval folder",
            kind="missing_split",
            path=folder,
        )
    texts, replaced = _read_lines(text_file)
    raw_labels, _ = _read_lines(label_file)
    labels = [x.strip() for x in raw_labels]
    if len(texts) != len(labels):
        raise EvalError(
            f"{text_file} has {len(texts)} lines but {label_file} has {len(labels)}; "
            "they must pair line by line",
            kind="unpaired_lines",
            path=folder,
        )
    mapping_file = folder / "mapping.txt"
    if mapping_file.is_file():
        names: dict[str, str] = {}
        for line in _read_lines(mapping_file)[0]:
            parts = line.split("\t") if "\t" in line else line.split(None, 1)
            if len(parts) == 2:
                names[parts[0].strip()] = parts[1].strip()
        labels = [names.get(x, x) for x in labels]
    return Dataset(
        texts, labels, str(text_file), str(folder), split, replaced.notes(), replaced.facts()
    )


def _guess_delimiter(line: str, path: Path, fmt: Format, header: bool) -> str:
    """``fmt`` tsv (or a ``.tsv`` / ``.tab`` name under auto): tab. Otherwise sniffed from the
    first line: a header's most frequent of , tab ; | (tab not for ``fmt`` csv); a data
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


def _looks(line: str, used: str) -> str:
    """The delimiter ``line`` looks split by when it is another than ``used``, else ""."""
    counts = {d: line.count(d) for d in _DELIMITERS if d != used}
    best = max(counts, key=lambda d: counts[d])
    if not counts[best] or line.count(used) >= counts[best]:
        return ""
    return best


def _looks_note(looks: str, what: str) -> str:
    return f"; the {what} looks {_DELIMITERS[looks]}-separated" if looks else ""


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
    """A delimited text file; columns by name (with a header) or 0-based index (``header``
    False). ``delimiter`` None: guessed (see :func:`_guess_delimiter`)."""
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
            raise EvalError(f"{path} is empty", kind="empty", path=path)
        if first.lstrip("\ufeff \t")[:1] in ("{", "["):
            raise EvalError(
                f"{path} looks like JSON, not a delimited text file",
                kind="json",
                path=path,
                line=skipped + 1,
            )
        sep = delimiter or _guess_delimiter(first, path, fmt, header)
        reader = csv.reader(itertools.chain([first], lines), delimiter=sep)
        previous = skipped
        head: list[str] | None = None
        t_idx = l_idx = 0
        if not header:
            t_idx = _index(text_col, 0, "text")
            l_idx = _index(label_col, 1, "label")
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise EvalError(
                    f"{path}:{previous + 1}: malformed {delimiter_name(sep)}-separated "
                    f"text ({exc})",
                    kind="malformed",
                    path=path,
                    line=previous + 1,
                    delimiter=sep,
                ) from None
            line = previous + 1
            previous = skipped + reader.line_num
            if lines.swapped:
                row = lines.restore(row)
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if header and head is None:
                head = row
                looks = _looks(first, sep)
                t_idx = _column(head, text_col or "text", path, "text", sep, looks)
                l_idx = _column(head, label_col or "label", path, "label", sep, looks)
                continue
            if max(t_idx, l_idx) >= len(row):
                looks = _looks(sep.join(row), sep)
                raise EvalError(
                    f"{path}:{line}: the row has {len(row)} field(s), fewer than the text and "
                    f"label columns need{_looks_note(looks, 'line')}",
                    kind="short_row",
                    path=path,
                    line=line,
                    fields=len(row),
                    delimiter=sep,
                    looks=looks,
                )
            texts.append(row[t_idx])
            labels.append(row[l_idx].strip())
            replaced.see(line, row[t_idx], row[l_idx])
    return Dataset(
        texts, labels, str(path), given or str(path), "", replaced.notes(), replaced.facts()
    )


def _column(head: Sequence[str], name: str, path: Path, role: str, sep: str, looks: str) -> int:
    cleaned = [h.strip() for h in head]
    shown = ", ".join(shorten(h, 40) for h in cleaned[:30]) + (", ..." if len(cleaned) > 30 else "")
    if name in cleaned:
        return cleaned.index(name)
    folded = [h.lower() for h in cleaned]
    if name.lower() in folded:
        return folded.index(name.lower())
    if name.isdigit() and int(name) < len(head):
        return int(name)
    raise EvalError(
        f"{path}: no column {name!r} (columns: {shown}){_looks_note(looks, 'header')}",
        kind="missing_column",
        path=path,
        line=1,
        role=role,
        column=name,
        columns=cleaned,
        delimiter=sep,
        looks=looks,
    )


def shorten(text: str, size: int) -> str:
    """``text`` cut to ``size`` characters, an ellipsis marking the cut."""
    return text if len(text) <= size else text[: size - 1] + "…"


def _index(value: str | None, default: int, role: str) -> int:
    if value is None:
        return default
    if not value.isdigit():
        raise EvalError(
            f"the {role} column of a file without a header is a 0-based column number, "
            f"not {value!r}",
            kind="bad_column_index",
            role=role,
            value=value,
        )
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
        raise EvalError(f"{path} does not exist", kind="not_found", path=path)
    if fmt == "auto" and path.is_dir():
        fmt = "tweeteval"
    if fmt == "tweeteval":
        if not path.is_dir():
            raise EvalError(
                f"a TweetEval task is read from a folder, and {path} is a file",
                kind="file_not_folder",
                path=path,
                folder=path.parent,
            )
        data = read_tweeteval(path)
        return Dataset(
            data.texts,
            data.labels,
            data.source,
            str(path),
            data.split,
            data.notes,
            data.undecodable,
        )
    if path.is_dir():
        raise EvalError(
            f"{path} is a folder, not a {fmt} file", kind="folder_not_file", path=path, fmt=fmt
        )
    if _TWEETEVAL_FILE.fullmatch(path.name):
        raise EvalError(
            f"{path} is one file of a TweetEval task folder (texts and labels are in separate "
            "files)",
            kind="tweeteval_file",
            path=path,
            folder=path.parent,
        )
    return read_table(
        path, text_col=text_col, label_col=label_col, header=header, fmt=fmt, given=str(path)
    )
