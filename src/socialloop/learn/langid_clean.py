"""Text cleaning for language detection: social-media noise out, letters in.

:func:`clean_texts` drops HTML entities (NFKC first: Arabic presentation forms and full-width
letters fold), a leading ``RT``, URLs, ``@mentions``, the ``#`` of hashtags, emoji, digits and
punctuation, and squeezes letters repeated 3+ times to two (``soooo``); :func:`hinglish_share`
measures romanised-Hindi function words (the language step's "hi" rule). Used by
:mod:`socialloop.learn.language`; docs/models.md, "Language".
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

#: Minimum number of letters left after cleaning for a post to get a language.
MIN_LETTERS = 3

#: Share of romanised-Hindi function words from which a Latin-script post is "hi".
HINGLISH_SHARE = 0.15
# Romanised Hindi (Hinglish): frequent function words that are not words of the Latin-script
# languages detected here. Two of them making up 15% of the words mark a post as "hi"
# (UMSAB hi: 44% of posts, many of which are English only; other languages: <= 0.2%).
_HINGLISH = (
    "hai hain nahi nahin nhi kya kyu kyun kyon mein mujhe mujhko mera meri mere tera teri tere "
    "tumhara apna apni apne apka apki aapka aapki bhai yaar yar kuch kuchh bahut bohot bhot bhi "
    "aur abhi kabhi kaise kaisa kaisi rahe rahi gaya gayi gye gya hoga hogi tha thi karo karna "
    "karne karta karte kiya diya liya hum aap unka uska iska yeh woh wahi jab accha acha achha "
    "matlab sirf phir hota hoti wala wale wali sahi toh nai kar ke ki ko ka se "
    "hote raha rahen gaye lagta lagti lagte iss uss inka inki unki unke uske iske hamara "
    "hamari humara tum kaun kab kahan kyunki lekin magar agar bas sabhi kisi bahot zyada jyada "
    "theek thik galat pyaar pyar logon baar raat yahan wahan idhar udhar bola bolo dekho hona "
    "chahiye chahie sakta sakte sakti haan mujhse tujhe aapko unko usko isko humko hame hume "
    "jaise waise aisa aise waisa jaisa bohat hu kr rha rhi rhe krna krte krta"
)
HINGLISH = frozenset(_HINGLISH.split())

_URL = re.compile(r"(?:https?://|www\.)\S+|\bhttps?\b|\S+\.(?:com|org|net|ly|co)(?:/\S*)?", re.I)
# Necessary for a _URL match (its every alternative holds "http" or a dot); cheap to search.
_URL_HINT = re.compile(r"https?|www\.|\.(?:com|org|net|ly|co)", re.I)
_HTTP = re.compile(r"http", re.I)
# An @ or ＠ not preceded by a word character (the literal comes first so that the regex
# engine can skip to it: faster than a leading look-behind, same matches).
_MENTION = re.compile(r"[@＠](?<!\w[@＠])[\w.]+")
_RT = re.compile(r"^\s*(?:RT|MT)\b:?", re.I)
_REPEAT = re.compile(r"(\w)\1{2,}")
# Characters kept: letters, combining marks (Devanagari, Arabic vowels), apostrophes, spaces.
_KEEP = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc"})


class _KeepTable(dict[int, str]):
    """``str.translate`` table: a kept character maps to itself, any other to a space.

    Filled lazily (one Unicode category lookup per distinct character ever seen)."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        out = ch if ch == "'" or ch == "’" or unicodedata.category(ch) in _KEEP else " "
        self[code] = out
        return out


_KEEP_TABLE = _KeepTable()
# From this many texts on, letter runs are looked for with numpy over the whole batch.
_RUNS_BATCH = 32
#: The same table for ASCII text, for ``bytes.translate``: letters and ``'`` stay.
_KEEP_ASCII = bytes(b if chr(b).isalpha() or b == 39 else 32 for b in range(256))


def clean_text(text: str) -> str:
    """The text with social-media noise removed (URLs, mentions, ``#``, emoji, digits, punctuation).

    Words are kept in order and separated by single spaces; apostrophes inside words stay.
    """
    return clean_texts([text])[0]


def clean_texts(texts: Sequence[str]) -> list[str]:
    """:func:`clean_text` of each text; the runs of a repeated letter are found for the whole
    batch at once (a regex search per text costs more than the rest of the cleaning)."""
    kept = [_kept(text) for text in texts]
    for i in _with_runs(kept):
        kept[i] = _REPEAT.sub(r"\1\1", kept[i])
    return [" ".join(k.split()).strip(" '’") for k in kept]


def _kept(text: str) -> str:
    """The text up to the letter squeeze: entities, NFKC, RT, URLs and mentions done, and
    every character that is not a letter, a mark or an apostrophe turned into a space."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    text = _RT.sub(" ", text)
    # each substitution runs only where it can match (most posts hold no URL)
    if "." in text:
        if _URL_HINT.search(text):
            text = _URL.sub(" ", text)
    elif _HTTP.search(text):
        text = _URL.sub(" ", text)
    if "@" in text or "＠" in text:
        text = _MENTION.sub(" ", text)
    if text.isascii():
        return text.encode("ascii").translate(_KEEP_ASCII).decode("ascii")
    return text.translate(_KEEP_TABLE)


def _with_runs(kept: list[str]) -> list[int]:
    """Which of the texts may hold a letter three times in a row (a superset of those
    :data:`_REPEAT` matches in).

    Squeezing after the translation is the same as before it: the translation maps one
    character to one and keeps exactly the letters among the word characters (the other
    runs become spaces, which are collapsed anyway)."""
    if len(kept) < _RUNS_BATCH:
        return [i for i, k in enumerate(kept) if _REPEAT.search(k)]
    # kept texts hold no newline: join on it, and look for c[j] == c[j+1] == c[j+2]
    chars = np.frombuffer("\n".join(kept).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    first = chars[:-2]
    runs = (first == chars[1:-1]) & (first == chars[2:]) & (first != 32) & (first != 10)
    if not runs.any():
        return []
    ends = np.cumsum(np.fromiter(map(len, kept), dtype=np.intp, count=len(kept)) + 1)
    found: list[int] = np.unique(np.searchsorted(ends, np.flatnonzero(runs), "right")).tolist()
    return found


def has_letters(text: str, n: int = MIN_LETTERS) -> bool:
    """Whether ``text`` has at least ``n`` letters (stops at the n-th)."""
    if n <= 0 or (len(text) >= n and text[:n].isalpha()):
        return True
    for ch in text:
        if ch.isalpha():
            n -= 1
            if n == 0:
                return True
    return False


def hinglish_share(cleaned: str) -> float:
    """Share of the words that are romanised-Hindi function words (0 unless at least two)."""
    words = cleaned.lower().split()
    hits = sum(map(HINGLISH.__contains__, words))
    return hits / len(words) if hits >= 2 else 0.0
