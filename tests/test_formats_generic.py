"""Generic csv/jsonl with column maps, date parsing, and the column map syntax."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialloop.errors import ImportFormatError, RecordError
from socialloop.listen.files import FileReader, Reject, parse_column_map, read_file
from socialloop.listen.formats import generic
from socialloop.listen.formats._common import parse_date, to_int
from socialloop.models import Post, content_id

FIX = Path(__file__).parent / "fixtures" / "formats"
MAY1 = datetime(2024, 5, 1, 12, tzinfo=UTC)


def load(path: Path, **kw: object) -> tuple[list[Post], list[Reject]]:
    items = list(read_file(path, **kw))  # type: ignore[arg-type]
    return (
        [i for i in items if isinstance(i, Post)],
        [i for i in items if isinstance(i, Reject)],
    )


def test_semicolon_csv_with_a_column_map() -> None:
    cmap = parse_column_map(
        "text=Message,created_at=Posted,author=User,likes=Likes,network=Platform"
    )
    posts, rejects = load(FIX / "generic_semicolon.csv", column_map=cmap)
    assert [p.text for p in posts] == [
        "Loving my Acme kettle #kettle @acme_uk https://acme.example/k",
        "Second post, RFC date",
        "Epoch seconds",
        "Epoch millis",
        "Twitter style",
    ]
    assert [p.created_at for p in posts] == [
        MAY1,
        datetime(2024, 5, 1, 11, tzinfo=UTC),
        datetime(2024, 5, 1, 13, tzinfo=UTC),
        datetime(2024, 5, 1, 13, tzinfo=UTC),
        datetime(2024, 5, 1, 15, tzinfo=UTC),
    ]
    first = posts[0]
    assert first.network == "forum"
    assert first.native_id == content_id("forum", "kim", first.text, MAY1.isoformat())
    assert first.hashtags == ["kettle"] and first.mentions == ["acme_uk"]
    assert first.links == ["https://acme.example/k"]
    assert [p.likes for p in posts] == [12, None, 1234, 3, None]
    assert posts[3].author is None
    assert [(r.line, r.reason.split(":")[1].strip()) for r in rejects] == [
        (7, "field 'Posted' = 'yesterday' is not a date (expected ISO 8601 like 2024-05-01T12"),
        (8, "field 'Message' is empty"),
    ]


def test_tsv_guesses_columns_and_takes_the_network_argument() -> None:
    posts, rejects = load(FIX / "generic.tsv", network="forum", column_map={"parent_id": "parent"})
    assert rejects == []
    assert [p.id for p in posts] == ["forum:p1", "forum:p2"]
    assert posts[1].parent_id == "forum:p1"
    assert posts[0].author is not None and posts[0].author.handle == "nia"
    assert posts[0].url == "https://forum.example/t/1"
    assert posts[0].created_at == datetime(2024, 5, 2, 8, tzinfo=UTC)


def test_jsonl_with_dotted_paths() -> None:
    cmap = {
        "text": "msg.body",
        "created_at": "ts",
        "author": "who.nick",
        "followers": "who.fans",
        "id": "ref",
        "parent_id": "re",
        "lang": "msg.lang",
    }
    posts, rejects = load(FIX / "generic_nested.jsonl", format="jsonl", column_map=cmap)
    assert [p.id for p in posts] == ["unknown:n1", "unknown:n2"]
    assert posts[0].author is not None and posts[0].author.followers == 40
    assert posts[1].author is not None and posts[1].author.followers == 7
    assert posts[1].parent_id == "unknown:n1" and posts[1].lang == "de"
    assert posts[1].created_at == datetime(2024, 5, 1, 11, tzinfo=UTC)
    assert [(r.line, r.reason) for r in rejects] == [(3, "line 3: field 'msg.body' is missing")]


def test_jsonl_generic_is_auto_detected() -> None:
    reader = FileReader(FIX / "generic_guess.jsonl")
    assert reader.format == "jsonl"
    posts = [p for p in reader if isinstance(p, Post)]
    assert [p.network for p in posts] == ["forum", "unknown"]
    assert posts[0].likes == 5


def test_column_map_errors_name_the_columns(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match=r"column 'Body' \(mapped to text\).*'Message'"):
        FileReader(FIX / "generic_semicolon.csv", column_map={"text": "Body"})
    with pytest.raises(ImportFormatError, match=r"unknown field 'txt'.*text, created_at"):
        parse_column_map("txt=Message")
    with pytest.raises(ImportFormatError, match="is not FIELD=COLUMN"):
        parse_column_map("text")
    no_date = tmp_path / "nodate.csv"
    no_date.write_text("text,who\nhello,me\n")
    with pytest.raises(ImportFormatError, match=r"no created_at column.*'text', 'who'"):
        FileReader(no_date)
    no_text = tmp_path / "notext.csv"
    no_text.write_text("msg,who\nhello,me\n")
    with pytest.raises(ImportFormatError, match=r"no text column.*'msg', 'who'.*--map text="):
        FileReader(no_text, column_map={"created_at": "who"})


def test_parse_column_map_forms() -> None:
    expected = {"text": "body", "created_at": "date"}
    assert parse_column_map("text=body, created_at=date") == expected
    assert parse_column_map(["text=body", "created_at=date"]) == expected
    assert parse_column_map(expected) == expected
    assert parse_column_map(None) == {}


def test_resolve_columns_guesses_case_and_spacing() -> None:
    columns = generic.resolve_columns(["Tweet Text", "Created At", "Screen Name", "Likes"], None)
    assert columns["created_at"] == "Created At"
    assert columns["author"] == "Screen Name"
    assert columns["likes"] == "Likes"
    assert generic.resolve_columns(["Body", "Date"], None)["text"] == "Body"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T12:00:00Z", MAY1),
        ("2024-05-01T12:00:00.123456789Z", MAY1.replace(microsecond=123456)),
        ("2024-05-01T14:00:00+02:00", MAY1),
        ("2024-05-01 12:00:00", MAY1),
        ("2024-05-01 04:00:00 -0800", MAY1),
        ("2024-05-01 12:00:00 UTC", MAY1),
        ("Wed, 01 May 2024 12:00:00 +0000", MAY1),
        ("Wed, 01 May 2024 08:00:00 -0400", MAY1),
        ("Wed May 01 12:00:00 +0000 2024", MAY1),
        ("Wed May 01 13:30:00 +0130 2024", MAY1),
        (1714564800, MAY1),
        (1714564800.0, MAY1),
        ("1714564800", MAY1),
        (1714564800000, MAY1),
        ("1714564800000", MAY1),
    ],
)
def test_parse_date_forms(value: object, expected: datetime) -> None:
    got = parse_date(value)
    assert got == expected and got.tzinfo is UTC


@pytest.mark.parametrize("value", ["yesterday", "", None, True, [], "2024-13-45T00:00:00Z"])
def test_parse_date_rejects(value: object) -> None:
    with pytest.raises(RecordError, match="field 'created_at'"):
        parse_date(value)


def test_to_int() -> None:
    values = (3, "3", "3.0", "1,234", 2.9, "", None, "n/a", True, 2**63, "9" * 30, float("nan"))
    assert [to_int(v) for v in values] == [
        3, 3, 3, 1234, 2, None, None, None, None, None, None, None,
    ]  # fmt: skip
