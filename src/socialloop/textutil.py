"""Text helpers shared by import, the query matcher and the SQL compiler.

The matcher and the FTS5 index must agree on what a word is, so :func:`tokens` reproduces SQLite
FTS5's ``unicode61 remove_diacritics 2`` tokenizer exactly (checked code point by code point
against SQLite 3.40 in ``tests/test_query_sql.py``):

* ASCII letters and digits are token characters; every other ASCII character (``_``, ``'``,
  ``-``, ``.``, ...) separates tokens.
* Outside ASCII, SQLite's own Unicode tables decide, not Python's: letters, digits and
  private-use characters are token characters, and so is every code point that SQLite's
  tables (Unicode 6.x era) do not know. That includes emoji added after 2012 (``🙂``, ``🤩``,
  ``🥰``) while older ones (``😀``, ``🔥``, ``❤``) separate: ``nice🙂`` is one token.
* Folding lower-cases with SQLite's simple case table and removes diacritics from Latin letters
  only (``Café`` -> ``cafe``, ``Ł`` stays ``ł``, Greek ``ά`` and Cyrillic ``й`` keep theirs).
  Combining accents after a letter are dropped; elsewhere they separate.
* CJK text is not segmented: a run of ideographs without spaces is one token.

The tables below are SQLite's, in compact form: code point ranges in hex.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from socialloop.models import Post

# Non-ASCII code points that FTS5 unicode61 treats as separators ("a-b": inclusive hex range).
_SEPARATORS = (
    "80-a9 ab-b1 b4 b6-b8 bb bf d7 f7 2c2-2c5 2d2-2df 2e5-2eb 2ed 2ef-2ff 305 30d-30e 310 312-31a "
    "31c-322 329-32c 32f 332-36f 375 37e 384-385 387 3f6 482-489 55a-55f 589-58a 58f 591-5c7 "
    "5f3-5f4 600-604 606-61b 61e-61f 64b-65f 66a-66d 670 6d4 6d6-6e4 6e7-6ed 6fd-6fe 700-70d 70f "
    "711 730-74a 7a6-7b0 7eb-7f3 7f6-7f9 816-819 81b-823 825-827 829-82d 830-83e 859-85b 85e "
    "8e4-8fe 900-903 93a-93c 93e-94f 951-957 962-965 970 981-983 9bc 9be-9c4 9c7-9c8 9cb-9cd 9d7 "
    "9e2-9e3 9f2-9f3 9fa-9fb a01-a03 a3c a3e-a42 a47-a48 a4b-a4d a51 a70-a71 a75 a81-a83 abc "
    "abe-ac5 ac7-ac9 acb-acd ae2-ae3 af0-af1 b01-b03 b3c b3e-b44 b47-b48 b4b-b4d b56-b57 b62-b63 "
    "b70 b82 bbe-bc2 bc6-bc8 bca-bcd bd7 bf3-bfa c01-c03 c3e-c44 c46-c48 c4a-c4d c55-c56 c62-c63 "
    "c7f c82-c83 cbc cbe-cc4 cc6-cc8 cca-ccd cd5-cd6 ce2-ce3 d02-d03 d3e-d44 d46-d48 d4a-d4d d57 "
    "d62-d63 d79 d82-d83 dca dcf-dd4 dd6 dd8-ddf df2-df4 e31 e34-e3a e3f e47-e4f e5a-e5b eb1 "
    "eb4-eb9 ebb-ebc ec8-ecd f01-f1f f34-f3f f71-f87 f8d-f97 f99-fbc fbe-fcc fce-fda 102b-103e "
    "104a-104f 1056-1059 105e-1060 1062-1064 1067-106d 1071-1074 1082-108d 108f 109a-109f 10fb "
    "135d-1368 1390-1399 1400 166d-166e 1680 169b-169c 16eb-16ed 1712-1714 1732-1736 1752-1753 "
    "1772-1773 17b4-17d6 17d8-17db 17dd 1800-180e 18a9 1920-192b 1930-193b 1940 1944-1945 "
    "19b0-19c0 19c8-19c9 19de-19ff 1a17-1a1b 1a1e-1a1f 1a55-1a5e 1a60-1a7c 1a7f 1aa0-1aa6 "
    "1aa8-1aad 1b00-1b04 1b34-1b44 1b5a-1b7c 1b80-1b82 1ba1-1bad 1be6-1bf3 1bfc-1bff 1c24-1c37 "
    "1c3b-1c3f 1c7e-1c7f 1cc0-1cc7 1cd0-1ce8 1ced 1cf2-1cf4 1dc0-1de6 1dfc-1dff 1fbd 1fbf-1fc1 "
    "1fcd-1fcf 1fdd-1fdf 1fed-1fef 1ffd-1ffe 2000-2064 206a-206f 207a-207e 208a-208e 20a0-20b9 "
    "20d0-20f0 2100-2101 2103-2106 2108-2109 2114 2116-2118 211e-2123 2125 2127 2129 212e "
    "213a-213b 2140-2144 214a-214d 214f 2190-23f3 2400-2426 2440-244a 249c-24e9 2500-26ff "
    "2701-2775 2794-2b4c 2b50-2b59 2ce5-2cea 2cef-2cf1 2cf9-2cfc 2cfe-2cff 2d70 2d7f 2de0-2e2e "
    "2e30-2e3b 2e80-2e99 2e9b-2ef3 2f00-2fd5 2ff0-2ffb 3000-3004 3008-3020 302a-3030 3036-3037 "
    "303d-303f 3099-309c 30a0 30fb 3190-3191 3196-319f 31c0-31e3 3200-321e 322a-3247 3250 "
    "3260-327f 328a-32b0 32c0-32fe 3300-33ff 4dc0-4dff a490-a4c6 a4fe-a4ff a60d-a60f a66f-a67e "
    "a69f a6f0-a6f7 a700-a716 a720-a721 a789-a78a a802 a806 a80b a823-a82b a836-a839 a874-a877 "
    "a880-a881 a8b4-a8c4 a8ce-a8cf a8e0-a8f1 a8f8-a8fa a926-a92f a947-a953 a95f a980-a983 "
    "a9b3-a9cd a9de-a9df aa29-aa36 aa43 aa4c-aa4d aa5c-aa5f aa77-aa79 aa7b aab0 aab2-aab4 "
    "aab7-aab8 aabe-aabf aac1 aade-aadf aaeb-aaf1 aaf5-aaf6 abe3-abed fb1e fb29 fbb2-fbc1 "
    "fd3e-fd3f fdfc-fdfd fe00-fe19 fe20-fe26 fe30-fe52 fe54-fe66 fe68-fe6b feff ff01-ff0f "
    "ff1a-ff20 ff3b-ff40 ff5b-ff65 ffe0-ffe6 ffe8-ffee fff9-ffff 10100-10102 10137-1013f "
    "10179-10189 10190-1019b 101d0-101fd 1039f 103d0 10857 1091f 1093f 10a01-10a03 10a05-10a06 "
    "10a0c-10a0f 10a38-10a3a 10a3f 10a50-10a58 10a7f 10b39-10b3f 11000-11002 11038-1104d "
    "11080-11082 110b0-110c1 11100-11102 11127-11134 11140-11143 11180-11182 111b3-111c0 "
    "111c5-111c8 116ab-116b7 12470-12473 16f51-16f7e 16f8f-16f92 1d000-1d0f5 1d100-1d126 "
    "1d129-1d1dd 1d200-1d245 1d300-1d356 1d6c1 1d6db 1d6fb 1d715 1d735 1d74f 1d76f 1d789 1d7a9 "
    "1d7c3 1eef0-1eef1 1f000-1f02b 1f030-1f093 1f0a0-1f0ae 1f0b1-1f0be 1f0c1-1f0cf 1f0d1-1f0df "
    "1f110-1f12e 1f130-1f16b 1f170-1f19a 1f1e6-1f202 1f210-1f23a 1f240-1f248 1f250-1f251 "
    "1f300-1f320 1f330-1f335 1f337-1f37c 1f380-1f393 1f3a0-1f3c4 1f3c6-1f3ca 1f3e0-1f3f0 "
    "1f400-1f43e 1f440 1f442-1f4f7 1f4f9-1f4fc 1f500-1f53d 1f540-1f543 1f550-1f567 1f5fb-1f640 "
    "1f645-1f64f 1f680-1f6c5 1f700-1f773 e0001 e0020-e007f e0100-e01ef "
)

# SQLite's lower-case mapping: "start*count/step+delta" maps count code points from start (every
# step-th) to code point + delta; count and step default to 1.
_LOWER = (
    "c0*23+20 d8*7+20 100*24/2+1 130-c7 132*3/2+1 139*8/2+1 14a*23/2+1 178-79 179*3/2+1 181+d2 "
    "182*2/2+1 186+ce 187+1 189*2+cd 18b+1 18e+4f 18f+ca 190+cb 191+1 193+cd 194+cf 196+d3 197+d1 "
    "198+1 19c+d3 19d+d5 19f+d6 1a0*3/2+1 1a6+da 1a7+1 1a9+da 1ac+1 1ae+da 1af+1 1b1*2+d9 "
    "1b3*2/2+1 1b7+db 1b8+1 1bc+1 1c4+2 1c5+1 1c7+2 1c8+1 1ca+2 1cb*9/2+1 1de*9/2+1 1f1+2 "
    "1f2*2/2+1 1f6-61 1f7-38 1f8*20/2+1 220-82 222*9/2+1 23a+2a2b 23b+1 23d-a3 23e+2a28 241+1 "
    "243-c3 244+45 245+47 246*5/2+1 370*2/2+1 376+1 386+26 388*3+25 38c+40 38e*2+3f 391*17+20 "
    "3a3*9+20 3cf+8 3d8*12/2+1 3f4-3c 3f7+1 3f9-7 3fa+1 3fd*3-82 400*16+50 410*32+20 460*17/2+1 "
    "48a*27/2+1 4c0+f 4c1*7/2+1 4d0*44/2+1 531*38+30 10a0*38+1c60 10c7+1c60 10cd+1c60 1e00*75/2+1 "
    "1e9e-1dbf 1ea0*48/2+1 1f08*8-8 1f18*6-8 1f28*8-8 1f38*8-8 1f48*6-8 1f59*4/2-8 1f68*8-8 "
    "1f88*8-8 1f98*8-8 1fa8*8-8 1fb8*2-8 1fba*2-4a 1fbc-9 1fc8*4-56 1fcc-9 1fd8*2-8 1fda*2-64 "
    "1fe8*2-8 1fea*2-70 1fec-7 1ff8*2-80 1ffa*2-7e 1ffc-9 2126-1d5d 212a-20bf 212b-2046 2132+1c "
    "2160*16+10 2183+1 2c00*47+30 2c60+1 2c62-29f7 2c63-ee6 2c64-29e7 2c67*3/2+1 2c6d-2a1c "
    "2c6e-29fd 2c6f-2a1f 2c70-2a1e 2c72+1 2c75+1 2c7e*2-2a3f 2c80*50/2+1 2ceb*2/2+1 2cf2+1 "
    "a640*23/2+1 a680*12/2+1 a722*7/2+1 a732*31/2+1 a779*2/2+1 a77d-8a04 a77e*5/2+1 a78b+1 "
    "a78d-a528 a790*2/2+1 a7a0*5/2+1 a7aa-a544 ff21*26+20 10400*40+28 "
)

# remove_diacritics 2: folded base letter <- lower-case letters that fold to it.
_UNACCENT = {
    "a": "àáâãäåāăąǎǟǻȁȃȧḁạảấầẩẫậắằẳẵặ",
    "b": "ḃḅḇ",
    "c": "çćĉċčḉ",
    "d": "ďḋḍḏḑḓ",
    "e": "èéêëēĕėęěȅȇȩḕḗḙḛḝẹẻẽếềểễệ",
    "f": "ḟ",
    "g": "ĝğġģǧǵḡ",
    "h": "ĥȟḣḥḧḩḫẖ",
    "i": "ìíîïĩīĭįǐȉȋḭḯỉị",
    "j": "ĵǰ",
    "k": "ķǩḱḳḵ",
    "l": "ĺļľḷḹḻḽ",
    "m": "ḿṁṃ",
    "n": "ñńņňǹṅṇṉṋ",
    "o": "òóôõöōŏőơǒǫǭȍȏȫȭȯȱṍṏṑṓọỏốồổỗộớờởỡợ",
    "p": "ṕṗ",
    "r": "ŕŗřȑȓṙṛṝṟ",
    "s": "śŝşšſșṡṣṥṧṩẛ",
    "t": "ţťțṫṭṯṱẗ",
    "u": "ùúûüũūŭůűųưǔǖǘǚǜȕȗṳṵṷṹṻụủứừửữự",
    "v": "ṽṿ",
    "w": "ŵẁẃẅẇẉẘ",
    "x": "ẋẍ",
    "y": "ýÿŷȳẏẙỳỵỷỹ",
    "z": "źżžẑẓẕ",
    "\u03b2": "\u03d0",  # β <- ϐ
    "\u03b5": "\u03f5",  # ε <- ϵ
    "\u03b8": "\u03d1",  # θ <- ϑ
    "\u03b9": "\u1fbe",  # ι <- ι
    "\u03ba": "\u03f0",  # κ <- ϰ
    "\u03bc": "\u00b5",  # μ <- µ
    "\u03c0": "\u03d6",  # π <- ϖ
    "\u03c1": "\u03f1",  # ρ <- ϱ
    "\u03c3": "\u03c2",  # σ <- ς
    "\u03c6": "\u03d5",  # φ <- ϕ
}

# Combining accents that are dropped inside a token (the others separate tokens).
_DROPPED_MARKS = "300-304 306-30c 30f 311 31b 323-328 32d-32e 330-331"

# Code points where ``str.lower()`` + the table above would not give SQLite's result (scripts
# cased after Unicode 6, circled letters): text containing them takes the exact, slower path.
_LOWER_DIFFERS = (
    "37f 528 52a 52c 52e 13a0-13f5 1c90-1cba 1cbd-1cbf 24b6-24cf 2c2f a698 a69a a796 a798 a79a "
    "a79c a79e a7ab-a7ae a7b0-a7b4 a7b6 a7b8 a7ba a7bc a7be a7c0 a7c2 a7c4-a7c7 a7c9 a7d0 a7d6 "
    "a7d8 a7f5 104b0-104d3 10570-1057a 1057c-1058a 1058c-10592 10594-10595 10c80-10cb2 "
    "118a0-118bf 16e40-16e5f 1e900-1e921"
)

_ASTRAL = 0x10000
_Ranges = tuple[tuple[int, int], ...]


def _parse_ranges(spec: str) -> _Ranges:
    out: list[tuple[int, int]] = []
    for item in spec.split():
        first, _, last = item.partition("-")
        out.append((int(first, 16), int(last or first, 16)))
    return tuple(out)


def _char_class(ranges: Iterable[tuple[int, int]]) -> str:
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


def _in_ranges(cp: int, starts: tuple[int, ...], ranges: _Ranges) -> bool:
    i = bisect.bisect_right(starts, cp) - 1
    return i >= 0 and cp <= ranges[i][1]


def _build_fold_table() -> dict[int, str | None]:
    unaccent = {ch: base for base, chars in _UNACCENT.items() for ch in chars}
    table: dict[int, str | None] = {cp: chr(cp + 32) for cp in range(ord("A"), ord("Z") + 1)}
    for item in _LOWER.split():
        m = re.fullmatch(r"([0-9a-f]+)(?:\*(\d+))?(?:/(\d+))?([+-][0-9a-f]+)", item)
        assert m is not None, item
        start, count, step = int(m[1], 16), int(m[2] or 1), int(m[3] or 1)
        delta = int(m[4], 16)
        for cp in range(start, start + count * step, step):
            lower = chr(cp + delta)
            table[cp] = unaccent.get(lower, lower)
    for ch, base in unaccent.items():
        table[ord(ch)] = base
    for first, last in _parse_ranges(_DROPPED_MARKS):
        for cp in range(first, last + 1):
            table[cp] = None
    return table


_FOLD_TABLE: Mapping[int, str | None] = MappingProxyType(_build_fold_table())
_UNACCENT_MAP: Mapping[str, str] = MappingProxyType(
    {
        **{ch: base for base, chars in _UNACCENT.items() for ch in chars},
        **{chr(cp): "" for a, b in _parse_ranges(_DROPPED_MARKS) for cp in range(a, b + 1)},
    }
)
_UNACCENT_RE = re.compile(f"[{''.join(re.escape(ch) for ch in _UNACCENT_MAP)}]")

_SEP_RANGES = _parse_ranges(_SEPARATORS)
_SEP_ASTRAL = tuple(r for r in _SEP_RANGES if r[0] >= _ASTRAL)
_SEP_ASTRAL_STARTS = tuple(r[0] for r in _SEP_ASTRAL)
_DIFF_RANGES = _parse_ranges(_LOWER_DIFFERS)
_DIFF_ASTRAL = tuple(r for r in _DIFF_RANGES if r[0] >= _ASTRAL)
_DIFF_ASTRAL_STARTS = tuple(r[0] for r in _DIFF_ASTRAL)
_DIFF_BMP_RE = re.compile(f"[{_char_class(r for r in _DIFF_RANGES if r[0] < _ASTRAL)}]")
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")
# Python's re compiles a character class of BMP ranges to a fast lookup table, one with astral
# ranges to a linear scan; so astral separators are turned into spaces first (they are rare).
_TOKEN_RE = re.compile(
    "[^\x00-/:-@\\[-`{-\x7f" + _char_class(r for r in _SEP_RANGES if r[0] < _ASTRAL) + "]+"
)
_ASCII_TOKEN_RE = re.compile("[a-z0-9]+")

# The literal comes first so that re scans for it quickly; the lookbehind then checks the
# character before it (same matches as ``(?<![\w&/])#...``, ~7x faster on text without tags).
HASHTAG_RE = re.compile(r"#(?<=(?<![\w&/])#)([^\W_][\w]*)", re.UNICODE)
MENTION_RE = re.compile(r"@(?<=(?<![\w@/])@)([A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?)")
URL_RE = re.compile(r"https?://[^\s<>\"'\u3000]+", re.IGNORECASE)
_TRAILING_PUNCT = ".,;:!?)]}'\""


def _unaccent(match: re.Match[str]) -> str:
    return _UNACCENT_MAP[match[0]]


def _astral_separator(match: re.Match[str]) -> str:
    ch = match[0]
    return " " if _in_ranges(ord(ch), _SEP_ASTRAL_STARTS, _SEP_ASTRAL) else ch


def fold(text: str) -> str:
    """Lower-case and strip Latin accents (``Café`` -> ``cafe``) exactly as FTS5 unicode61
    ``remove_diacritics 2`` folds token characters; separators are left as they are."""
    if text.isascii():
        return text.lower()
    if _DIFF_BMP_RE.search(text) or any(
        _in_ranges(ord(ch), _DIFF_ASTRAL_STARTS, _DIFF_ASTRAL) for ch in _ASTRAL_RE.findall(text)
    ):
        return text.translate(_FOLD_TABLE)
    return _UNACCENT_RE.sub(_unaccent, text.lower())


def tokens(text: str) -> list[str]:
    """Folded word tokens of ``text``, in order: the terms FTS5 indexes, at the same positions."""
    folded = fold(text)
    if folded.isascii():
        return _ASCII_TOKEN_RE.findall(folded)
    if _ASTRAL_RE.search(folded):
        folded = _ASTRAL_RE.sub(_astral_separator, folded)
    return _TOKEN_RE.findall(folded)


def is_word(text: str) -> bool:
    """True when ``text`` is exactly one token (no separators, nothing dropped by folding)."""
    return bool(text) and tokens(text) == [fold(text)]


def extract_hashtags(text: str) -> list[str]:
    """Hashtags without ``#``, folded, in order of first appearance, no duplicates."""
    return _unique(fold(m) for m in HASHTAG_RE.findall(text))


def extract_mentions(text: str) -> list[str]:
    """Mentioned handles without ``@``, lower-cased, in order, no duplicates."""
    return _unique(m.lower() for m in MENTION_RE.findall(text))


def extract_links(text: str) -> list[str]:
    """URLs found in ``text`` (trailing punctuation trimmed), in order, no duplicates."""
    return _unique(m.rstrip(_TRAILING_PUNCT) for m in URL_RE.findall(text))


def host_of(url: str) -> str | None:
    """The lower-case host of a URL without ``www.``; None when it has none."""
    try:
        host = urlsplit(url if "://" in url else f"//{url}").hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


# the netloc of a url: after the first "://" (if any), up to the first "/", "?" or "#"
_NETLOC_RE = re.compile(r"(?:.*?://)?([^/?#]*)", re.DOTALL)


def domain_suffixes(url: str) -> list[str]:
    """Every domain a URL belongs to: ``a.shop.example.com`` -> itself, ``shop.example.com``,
    ``example.com`` (not the bare top-level domain). ``site:example.com`` matches any of them."""
    m = _NETLOC_RE.match(url)
    return list(_netloc_suffixes(m[1] if m is not None else url))


@lru_cache(maxsize=65536)
def _netloc_suffixes(netloc: str) -> tuple[str, ...]:
    # a stream has few distinct hosts: parse each once
    host = host_of(netloc)
    if host is None:
        return ()
    parts = host.split(".")
    if len(parts) == 1:
        return (host,)
    return tuple(".".join(parts[i:]) for i in range(len(parts) - 1))


def hashtag_key(tag: str) -> str:
    """The stored / compared form of a hashtag: without ``#``, folded (stripped again after
    folding, so that the key of a key is itself: ``#\u0301#x`` folds to ``#x``)."""
    return fold(tag.lstrip("#")).lstrip("#")


def mention_key(handle: str) -> str:
    """The stored / compared form of a mention or author handle: without ``@``, lower-case."""
    return handle.lstrip("@").lower()


def post_urls(post: Post) -> list[str]:
    """The post's own url and its links, in order, no duplicates."""
    return _unique([post.url or "", *post.links])


_LANG_TAG_SPLIT = re.compile(r"[-_]")
_ASCII_LOWER_TABLE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def lang_key(lang: str | None) -> str | None:
    """The stored / compared form of a declared language: its primary subtag, ASCII
    lower-cased (``en-GB`` -> ``en``); None when there is none."""
    if not lang:
        return None
    key = _LANG_TAG_SPLIT.split(lang, 1)[0].translate(_ASCII_LOWER_TABLE)
    return key or None


def post_facets(post: Post) -> list[tuple[str, str]]:
    """The ``post_terms`` rows of a post, ``(kind, value)``, no duplicates: what the query
    language's ``#``, ``@``, ``site:`` and ``url:`` filters look up. ``hashtag``: folded;
    ``mention``: lower-case; ``link``: every url (the post's own and its links) lower-cased;
    ``domain``: every domain suffix of those urls (see :func:`domain_suffixes`); ``lang``: the
    declared language's primary subtag (see :func:`lang_key`)."""
    rows: dict[tuple[str, str], None] = {}
    if (lang := lang_key(post.lang)) is not None:
        rows[("lang", lang)] = None
    for tag in post.hashtags:
        if key := hashtag_key(tag):
            rows[("hashtag", key)] = None
    for handle in post.mentions:
        if key := mention_key(handle):
            rows[("mention", key)] = None
    urls = post_urls(post) if post.links else [post.url] if post.url else []
    for url in urls:
        rows[("link", url.lower())] = None
        m = _NETLOC_RE.match(url)
        for domain in _netloc_suffixes(m[1] if m is not None else url):
            rows[("domain", domain)] = None
    return list(rows)


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item and item not in seen:
            seen[item] = None
    return list(seen)
