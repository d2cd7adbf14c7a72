"""Containers of listen.files: JSONL, JSON arrays (streamed), JSON object files, CSV/TSV,
compression, rejects with line numbers, detection errors, progress and constant memory."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from socialloop.errors import ImportFormatError
from socialloop.listen.files import (
    FORMATS,
    MAX_RECORD_BYTES,
    FileReader,
    Reject,
    detect_format,
    read_file,
)
from socialloop.models import Author, Post

FIX = Path(__file__).parent / "fixtures" / "formats"


def split(items: object) -> tuple[list[Post], list[Reject]]:
    posts: list[Post] = []
    rejects: list[Reject] = []
    for item in items:  # type: ignore[attr-defined]
        if isinstance(item, Reject):
            rejects.append(item)
        else:
            assert isinstance(item, Post)
            posts.append(item)
    return posts, rejects


def native(i: int, text: str | None = None) -> dict[str, object]:
    when = datetime(2024, 5, 1, tzinfo=UTC) + timedelta(seconds=i)
    post = Post(
        "twitter",
        str(i),
        text or f"post number {i} about @acme #kettle https://acme.example/{i}",
        when,
        Author("twitter", f"user{i % 97}", f"User {i}", i, 10),
        likes=i % 7,
    )
    return post.to_dict()


def write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


def test_formats_lists_every_format() -> None:
    assert set(FORMATS) == {
        "socialloop",
        "twitter-v2",
        "twitter-v1",
        "mastodon",
        "bluesky",
        "reddit",
        "twcs",
        "airline",
        "jsonl",
        "csv",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("native.jsonl", "socialloop"),
        ("twitter_v2_page.json", "twitter-v2"),
        ("twitter_v2_pages.jsonl", "twitter-v2"),
        ("twitter_v1.jsonl", "twitter-v1"),
        ("twitter_v1_search.json", "twitter-v1"),
        ("mastodon_statuses.json", "mastodon"),
        ("mastodon_context.json", "mastodon"),
        ("bluesky_search.json", "bluesky"),
        ("bluesky_feed.json", "bluesky"),
        ("bluesky_thread.json", "bluesky"),
        ("reddit_listing.json", "reddit"),
        ("reddit_comments.json", "reddit"),
        ("twcs_sample.csv", "twcs"),
        ("twcs_pandas.csv", "twcs"),
        ("airline_sample.csv", "airline"),
        ("generic_guess.jsonl", "jsonl"),
        ("generic.tsv", "csv"),
    ],
)
def test_detect_format(name: str, expected: str) -> None:
    assert detect_format(FIX / name) == expected


def test_containers_are_recognised() -> None:
    assert FileReader(FIX / "native.jsonl").container == "jsonl"
    assert FileReader(FIX / "mastodon_statuses.json").container == "json-array"
    assert FileReader(FIX / "twitter_v2_page.json").container == "json-stream"
    assert FileReader(FIX / "twcs_sample.csv").container == "csv"


@pytest.mark.parametrize("compress", ["gzip", "bz2", "xz"])
def test_compressed_files_by_magic_bytes(tmp_path: Path, compress: str) -> None:
    data = (FIX / "twitter_v1.jsonl").read_bytes()
    packers: dict[str, Callable[[bytes], bytes]] = {
        "gzip": gzip.compress,
        "bz2": bz2.compress,
        "xz": lzma.compress,
    }
    packed = packers[compress](data)
    path = tmp_path / "statuses.data"  # no telling extension: the magic bytes decide
    path.write_bytes(packed)
    reader = FileReader(path)
    assert (reader.format, reader.compression) == ("twitter-v1", compress)
    posts, rejects = split(reader)
    plain, plain_rejects = split(read_file(FIX / "twitter_v1.jsonl"))
    assert [p.id for p in posts] == [p.id for p in plain]
    assert [(r.line, r.reason) for r in rejects] == [(r.line, r.reason) for r in plain_rejects]
    assert reader.bytes_read == reader.size == path.stat().st_size


def test_gzip_csv_keeps_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "twcs.csv.gz"
    path.write_bytes(gzip.compress((FIX / "twcs_sample.csv").read_bytes()))
    posts, rejects = split(read_file(path))
    assert [p.native_id for p in posts] == ["101", "102", "103", "105"]
    assert [r.line for r in rejects] == [7]


def test_json_array_streams_pretty_and_compact(tmp_path: Path) -> None:
    records = [native(i) for i in range(50)]
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(records, indent=2))
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps(records))  # one line: read as JSONL, elements mapped
    per_line = tmp_path / "per_line.json"
    per_line.write_text("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]\n")
    for path in (pretty, compact, per_line):
        posts, rejects = split(read_file(path))
        assert rejects == []
        assert [p.native_id for p in posts] == [str(i) for i in range(50)]
    assert FileReader(pretty).container == "json-array"
    assert FileReader(per_line).container == "json-array"


def test_long_compact_array_is_streamed_not_read_as_a_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from socialloop.listen.formats import _streams

    monkeypatch.setattr(_streams, "PROBE_LINE", 1000)  # stands for a multi-GB single line
    monkeypatch.setattr(_streams, "CHUNK_CHARS", 512)
    path = tmp_path / "compact.json"
    path.write_text(json.dumps([native(i) for i in range(60)]))  # no line break at all
    reader = FileReader(path)
    assert reader.container == "json-array"
    posts, rejects = split(reader)
    assert rejects == [] and [p.native_id for p in posts] == [str(i) for i in range(60)]
    records = [json.dumps(native(i)) for i in range(60)]
    records[30] = records[30].replace('"network":', '"network"', 1)
    broken = tmp_path / "broken_compact.json"
    text = "[" + ", ".join(records) + "]"
    broken.write_text(text)
    posts, rejects = split(read_file(broken))
    assert [p.native_id for p in posts] == [str(i) for i in range(30)]
    column = text.index('"network" "twitter"', text.index(records[30])) + len('"network" ') + 1
    assert [r.reason for r in rejects] == [
        f"line 1: invalid JSON at line 1 column {column}: Expecting ':' delimiter; "
        "the rest of the file was skipped"
    ]


def test_json_array_line_numbers_and_resync_after_syntax_error(tmp_path: Path) -> None:
    good = [native(i) for i in range(4)]
    text = json.dumps(good, indent=2)
    # break the third element: drop the comma after its "network" value
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line == "  {"]
    broken = next(i for i in range(starts[2], starts[3]) if '"network"' in lines[i])
    lines[broken] = lines[broken].rstrip(",")
    path = tmp_path / "broken.json"
    path.write_text("\n".join(lines))
    posts, rejects = split(read_file(path, format="socialloop"))
    assert [p.native_id for p in posts] == ["0", "1", "3"]
    assert len(rejects) == 1
    assert rejects[0].line == starts[2] + 1
    assert rejects[0].reason.startswith(f"line {starts[2] + 1}: invalid JSON at line {broken + 2}")
    assert rejects[0].raw.startswith("{")


def test_json_object_file_and_concatenated_objects(tmp_path: Path) -> None:
    path = tmp_path / "objects.json"
    path.write_text(json.dumps(native(1), indent=2) + "\n" + json.dumps(native(2), indent=2))
    reader = FileReader(path)
    assert (reader.container, reader.format) == ("json-stream", "socialloop")
    posts, _ = split(reader)
    assert [p.native_id for p in posts] == ["1", "2"]


def test_jsonl_rejects_keep_good_records_around_them() -> None:
    posts, rejects = split(read_file(FIX / "native.jsonl"))
    assert [p.native_id for p in posts] == ["9001", "9002", "social.example/77"]
    assert [r.line for r in rejects] == [3, 5, 7]
    assert rejects[0].reason.startswith("line 3: invalid JSON at column")
    assert rejects[1].reason == (
        "line 5: field 'created_at' = 'yesterday' is not a date "
        "(expected ISO 8601 like 2024-05-01T12:00:00Z)"
    )
    assert rejects[2].reason == "line 7: field 'text' is missing"
    assert all(r.path == str(FIX / "native.jsonl") for r in rejects)
    assert rejects[1].raw.startswith('{"id":"twitter:9001"')


def test_non_utf8_bytes_are_replaced_not_fatal(tmp_path: Path) -> None:
    good = orjson.dumps(native(1, "caf\u00e9 ok"))
    bad = orjson.dumps(native(2, "caf@@ bytes")).replace(b"@@", b"\xe9\xff")
    csv_bytes = b"text,created_at\nlatin1 caf\xe9,2024-05-01T00:00:00Z\nfine,2024-05-01T00:00:01Z\n"
    jsonl = tmp_path / "mixed.jsonl"
    jsonl.write_bytes(good + b"\n" + bad + b"\n")
    posts, rejects = split(read_file(jsonl))
    assert rejects == []
    assert posts[0].text == "café ok"
    assert posts[1].text == "caf\ufffd\ufffd bytes"
    table = tmp_path / "latin1.csv"
    table.write_bytes(csv_bytes)
    posts, rejects = split(read_file(table))
    assert rejects == []
    assert [p.text for p in posts] == ["latin1 caf\ufffd", "fine"]


def test_bom_blank_lines_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    body = b"\r\n".join(orjson.dumps(native(i)) for i in range(3))
    path.write_bytes(b"\xef\xbb\xbf" + body + b"\r\n\r\n\n")
    posts, rejects = split(read_file(path))
    assert (len(posts), rejects) == (3, [])


def test_jsonl_line_of_arrays_is_read_element_by_element(tmp_path: Path) -> None:
    path = tmp_path / "arrays.jsonl"
    path.write_bytes(
        orjson.dumps([native(1), native(2)]) + b"\n" + orjson.dumps([native(3), {"x": 1}]) + b"\n"
    )
    posts, rejects = split(read_file(path))
    assert [p.native_id for p in posts] == ["1", "2", "3"]
    assert [r.line for r in rejects] == [2]


def test_huge_line_is_rejected_without_reading_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from socialloop.listen.formats import _streams

    monkeypatch.setattr(_streams, "MAX_RECORD_BYTES", 4096)
    path = tmp_path / "long.jsonl"
    long_record = native(2, "x" * 10_000)
    write_jsonl(path, [native(1), long_record, native(3)])
    posts, rejects = split(read_file(path))
    assert [p.native_id for p in posts] == ["1", "3"]
    assert [r.line for r in rejects] == [2]
    assert "longer than 4096 bytes" in rejects[0].reason
    assert MAX_RECORD_BYTES == 64 << 20


def test_detect_format_errors_say_what_was_seen(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_text('{"foo": 1, "bar": "x"}\n')
    with pytest.raises(ImportFormatError) as err:
        detect_format(unknown)
    message = str(err.value)
    assert "'foo', 'bar'" in message and "twitter-v2" in message and "--map" in message
    table = tmp_path / "unknown.csv"
    table.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ImportFormatError, match=r"'a', 'b', 'c'.*--map text=COLUMN"):
        detect_format(table)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(ImportFormatError, match="empty"):
        detect_format(empty)
    assert list(read_file(empty)) == []
    assert list(read_file(empty, format="csv")) == []
    assert FileReader(empty).format == "none"
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json at all\n")
    with pytest.raises(ImportFormatError, match="no valid JSON record"):
        detect_format(garbage)


def test_requested_format_must_fit_the_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="reads CSV files"):
        FileReader(FIX / "native.jsonl", format="twcs")
    with pytest.raises(ImportFormatError, match=r"unknown format 'tiktok'.*socialloop"):
        FileReader(FIX / "native.jsonl", format="tiktok")
    with pytest.raises(ImportFormatError, match="column map"):
        FileReader(FIX / "twcs_sample.csv", format="twcs", column_map={"text": "text"})
    with pytest.raises(ImportFormatError, match="network 'not valid'"):
        FileReader(FIX / "native.jsonl", network="not valid")
    with pytest.raises(ImportFormatError, match="cannot read"):
        FileReader(tmp_path / "missing.jsonl")


def test_wrong_format_forced_gives_rejects_not_a_crash() -> None:
    posts, rejects = split(read_file(FIX / "twitter_v1.jsonl", format="mastodon"))
    assert posts == []
    assert len(rejects) == 7
    assert all(r.reason.startswith(f"line {r.line}: ") for r in rejects)


def test_progress_bytes_read(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [native(i) for i in range(20_000)])
    reader = FileReader(path)
    assert reader.bytes_read == 0 and reader.size == path.stat().st_size
    seen = []
    for n, _ in enumerate(reader):
        if n % 2000 == 0:
            seen.append(reader.bytes_read)
    assert seen == sorted(seen) and 0 < seen[-1] <= reader.size
    assert reader.bytes_read == reader.size
    with pytest.raises(RuntimeError):
        list(reader)


def _peak_while_reading(path: Path, **kw: object) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = 0
        for item in read_file(path, **kw):  # type: ignore[arg-type]
            assert isinstance(item, Post)
            count += 1
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_constant_memory_on_a_50_mb_jsonl_file(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    filler = "lorem ipsum dolor sit amet " * 40
    with path.open("wb") as fh:
        for i in range(45_000):
            fh.write(orjson.dumps(native(i, f"{i} {filler}")) + b"\n")
    assert path.stat().st_size > 50_000_000
    count, peak = _peak_while_reading(path)
    assert count == 45_000
    assert peak < 8_000_000, f"peak {peak} bytes while streaming a 50 MB file"


def test_constant_memory_on_a_pretty_json_array(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    filler = "lorem ipsum " * 80
    with path.open("w") as fh:
        fh.write("[\n")
        for i in range(12_000):
            sep = ",\n" if i else ""
            fh.write(sep + json.dumps(native(i, f"{i} {filler}"), indent=2))
        fh.write("\n]\n")
    assert path.stat().st_size > 15_000_000
    count, peak = _peak_while_reading(path)
    assert count == 12_000
    assert peak < 16_000_000, f"peak {peak} bytes while streaming a JSON array"


def test_constant_memory_on_a_gzipped_csv(tmp_path: Path) -> None:
    path = tmp_path / "big.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as fh:
        fh.write("id,text,created_at,author\n")
        for i in range(30_000):
            fh.write(
                f'{i},"row {i} with ""quotes"", commas\nand a line break",{1714521600 + i},u{i}\n'
            )
    count, peak = _peak_while_reading(path)
    assert count == 30_000
    assert peak < 8_000_000, f"peak {peak} bytes while streaming a CSV"
