"""Counting cue-pattern matches cheaply, with exactly the counts of one ``findall`` per text.

Python's ``re`` tries a pattern at every character of a text, so running the 13 intent cue
families over every post costs far more than the few matches it finds. :class:`CueScanner`
keeps every count identical while running a pattern only on the texts that could match it:

* **Word prefilter.** From each *parsed* pattern (``re._parser``) it derives a conservative
  requirement: clauses of word keys (a word, i.e. a maximal run of ``[\\w']`` in the
  lower-cased text, equal to a short key or starting with a KEY_LEN-long one) and of pieces
  (substrings: a word start shorter than KEY_LEN, or a run of punctuation such as ``?!``); a
  match needs one of its terms, a term needs all of its (at most two) clauses. Where a pattern
  offers several words to require, the rarest-looking is taken, or two together
  (``getting (?:a|an|the|my) new``: ``gettin`` and ``new``, never ``a``). A text that passes
  no term of a pattern gets 0 without a scan. Whatever the analysis does not understand
  makes its path, and so the pattern, always scanned: the prefilter never drops a text the
  pattern matches (tests/test_cue_speed.py checks this on generated, simulated and real
  posts).
* **Lower case without IGNORECASE.** A text is lower-cased once and scanned by the pattern
  compiled without ``re.IGNORECASE`` where that is provably the same: every literal of the
  pattern is lower case and the text holds none of the *unsafe* characters, computed from
  Unicode for the patterns' characters (:func:`unsafe_chars`: ``İ``, ``ı``, ``ſ``, ``Σ`` for
  the intent cues). A text holding one is counted by the patterns as they are.

Nothing else changes: a text that passes is scanned by the pattern's own ``findall``.
"""

from __future__ import annotations

import importlib
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import compress
from typing import Any, TypeVar

_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

KEY_LEN = 6  # a word is looked up by its first KEY_LEN characters
_MAX_KEYS = 512  # more spellings than this from one place: give the place up
_MAX_DEPTH = 200
_MAX_TERMS = 16  # a conjunction of two requirements: at most this many alternatives
_MAX_CLAUSES = 2  # and at most this many clauses in each
_MARK_RUN = 3  # runs of punctuation ("?!", "???") are looked for up to this long
_PIECE = 20.0  # the cost of looking for one more piece in every text (see Clause.cost)
_PAIRED = 5  # the cheapest this many requirements of a sequence are tried in pairs
_SMALL_CLASS = 16  # a character class with more members is "any character"
# No character from here on has a case mapping or an IGNORECASE partner (checked against the
# whole of Unicode by tests/test_cue_speed.py): unsafe_chars() looks no further (~20 ms).
CASED_LIMIT = 0x20000

_WORD_STARTS = re.compile(rf"(?<![\w'])[\w']{{1,{KEY_LEN}}}")
# what a character must keep when lower-cased: word, space, digit, line end (".")
_CHECKS = tuple(re.compile(p) for p in (r"[\w']", r"\s", r"\d", r"\n"))

Item = tuple[Any, Any]
Items = tuple[Item, ...]
Key = tuple[str, bool]  # (word start, the whole word)
_T = TypeVar("_T")


def wordish(ch: str) -> bool:
    """Whether ``ch`` belongs to a word (``[\\w']``: ``re`` takes ``\\w`` to be
    ``str.isalnum()`` or ``_``)."""
    return ch.isalnum() or ch == "_" or ch == "'"


@dataclass(frozen=True)
class Clause:
    """A text passes when its lower-cased form holds a word whose first KEY_LEN characters
    are one of ``whole`` (a shorter key: the whole word), or one of ``pieces`` anywhere (the
    start of a word shorter than KEY_LEN, or a run of punctuation)."""

    whole: frozenset[str] = frozenset()
    pieces: frozenset[str] = frozenset()

    def __or__(self, other: Clause) -> Clause:
        return Clause(self.whole | other.whole, self.pieces | other.pieces)

    @cached_property
    def cost(self) -> float:
        """A rough guess of how many texts pass (shorter keys are commoner)."""
        guess = {0: 1e6, 1: 300.0, 2: 100.0, 3: 30.0, 4: 6.0, 5: 3.0}
        whole = sum(guess.get(len(k), 2.0) for k in self.whole)
        # a piece is looked for in every text: that costs about as much as scanning 1% more
        return whole + sum(3.0 * guess.get(len(k), 2.0) + _PIECE for k in self.pieces)


Term = tuple[Clause, ...]  # every clause must pass


@dataclass(frozen=True)
class Requirement:
    """What every match needs: one of ``terms`` (each: all its clauses) passes."""

    terms: frozenset[Term]

    @staticmethod
    def of(*clauses: Clause) -> Requirement:
        return Requirement(frozenset({clauses}))

    def __or__(self, other: Requirement) -> Requirement:
        singles = [t[0] for t in self.terms | other.terms if len(t) == 1]
        others = {t for t in self.terms | other.terms if len(t) > 1}
        if singles:
            merged = singles[0]
            for clause in singles[1:]:
                merged = merged | clause
            others.add((merged,))
        return Requirement(frozenset(others))

    def __and__(self, other: Requirement) -> Requirement | None:
        """Both (None: too many terms or clauses to keep)."""
        terms = {_simplest(a + b) for a in self.terms for b in other.terms}
        if len(terms) > _MAX_TERMS or any(len(t) > _MAX_CLAUSES for t in terms):
            return None
        return Requirement(frozenset(terms))

    @cached_property
    def cost(self) -> float:
        """A rough guess of how many texts pass."""
        return sum(_term_cost(t) for t in self.terms)


def _term_cost(term: Term) -> float:
    """The cheapest clause's cost, a quarter of it for each further clause that shares no key
    with the others (clauses that share keys tend to pass on the same texts)."""
    cheapest = min(c.cost for c in term)
    for i, clause in enumerate(term):
        for other in term[i + 1 :]:
            if clause.whole & other.whole or clause.pieces & other.pieces:
                return cheapest
    return cheapest * 0.25 ** (len(term) - 1)


def _simplest(term: Term) -> Term:
    """``term`` without the clauses that another of its clauses implies (a clause that
    passes whenever a narrower one does adds nothing), in a fixed order."""
    kept = {
        c
        for c in term
        if not any(o != c and o.whole <= c.whole and o.pieces <= c.pieces for o in term)
    }
    return tuple(sorted(kept, key=lambda c: (sorted(c.whole), sorted(c.pieces))))


def _from_keys(keys: Iterable[Key]) -> Requirement:
    whole = {k for k, ended in keys if ended or len(k) >= KEY_LEN}
    pieces = {k for k, ended in keys if not ended and len(k) < KEY_LEN}
    return Requirement.of(Clause(frozenset(whole), frozenset(pieces)))


# --- the parsed pattern ----------------------------------------------------------------------


def _class(av: Any) -> tuple[set[str] | None, bool, bool]:
    """Members of a character class (None: too many to list) and whether it can match a word
    character and a non-word character."""
    chars: set[str] | None = set()
    word = other = False
    for kind, value in av:
        if kind is _c.LITERAL:
            ch = chr(value)
            if chars is not None:
                chars.add(ch)
            word, other = word or wordish(ch), other or not wordish(ch)
        elif kind is _c.RANGE and value[1] - value[0] < _SMALL_CLASS:
            for code in range(value[0], value[1] + 1):
                ch = chr(code)
                if chars is not None:
                    chars.add(ch)
                word, other = word or wordish(ch), other or not wordish(ch)
        elif kind is _c.CATEGORY and value in (_c.CATEGORY_WORD, _c.CATEGORY_DIGIT):
            chars, word = None, True
        elif kind is _c.CATEGORY and value is _c.CATEGORY_SPACE:
            chars, other = None, True
        else:  # negated sets, wide ranges, other categories
            return None, True, True
    return chars, word, other


def _is_word_guard(av: Any) -> bool:
    """A look-around body that covers ``[\\w']`` (as in ``(?<![\\w'])``)."""
    items = list(av)
    if len(items) != 1 or items[0][0] is not _c.IN:
        return False
    members = items[0][1]
    return (_c.CATEGORY, _c.CATEGORY_WORD) in members and (_c.LITERAL, ord("'")) in members


def _plain_group(av: Any) -> bool:
    return not av[1] and not av[2]  # no inline flags


def _lead(items: Iterable[Item], lead: str | None) -> str | None:
    """What the word at the position after ``items`` holds so far ("": a word starts there,
    the character before is no word character or there is none; None: not known), given the
    same for the position before them."""
    for op, av in items:
        lead = _lead_item(op, av, lead)
    return lead


def _lead_item(op: Any, av: Any, lead: str | None) -> str | None:
    if op is _c.AT:
        return "" if av in (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING) else lead
    if op is _c.ASSERT_NOT and av[0] == -1 and _is_word_guard(av[1]):
        return ""  # (?<![\w']): a word starts here (a known word before: no match at all)
    if op is _c.ASSERT or op is _c.ASSERT_NOT:
        return lead
    if op is _c.LITERAL:
        ch = chr(av)
        if not wordish(ch):
            return ""
        return None if lead is None else (lead + ch.lower())[:KEY_LEN]
    if op is _c.IN:
        chars, word, _other = _class(av)
        if not word:
            return ""
        if lead is None or chars is None or len(chars) != 1:
            return None
        return (lead + next(iter(chars)).lower())[:KEY_LEN]
    if op is _c.SUBPATTERN and _plain_group(av):
        return _lead(av[-1], lead)
    if op is _c.BRANCH:
        ends = {_lead(branch, lead) for branch in av[1]}
        return ends.pop() if len(ends) == 1 else None
    if op is _c.MAX_REPEAT or op is _c.MIN_REPEAT:
        low, high, item = av
        if high == 0:
            return lead
        some = _lead(item, lead) if high == 1 else _lead(item, None)
        return some if low >= 1 or some == lead else None
    return None


def _word_keys(rest: Items, prefix: str, depth: int) -> set[Key] | None:
    """The word keys of a match of ``rest`` that starts a word (None: not known). ``prefix``
    is what the word holds so far (lower-cased)."""
    if len(prefix) >= KEY_LEN:
        return {(prefix[:KEY_LEN], False)}
    ended = {(prefix, True)} if prefix else None  # the word ends here
    open_ = {(prefix, False)} if prefix else None  # it may go on with unknown characters
    if not rest or depth > _MAX_DEPTH:
        return open_
    (op, av), tail = rest[0], rest[1:]
    if op is _c.LITERAL:
        ch = chr(av)
        return _word_keys(tail, prefix + ch.lower(), depth + 1) if wordish(ch) else ended
    if op is _c.IN:
        chars, word, _other = _class(av)
        if chars is None:
            return open_ if word else ended
        out: set[Key] = set()
        for ch in chars:
            got = _word_keys(tail, prefix + ch.lower(), depth + 1) if wordish(ch) else ended
            if got is None:
                return None
            out |= got
        return out if len(out) <= _MAX_KEYS else None
    if op is _c.SUBPATTERN:
        return _word_keys(tuple(av[-1]) + tail, prefix, depth + 1) if _plain_group(av) else None
    if op is _c.BRANCH:
        return _union(_word_keys(tuple(b) + tail, prefix, depth + 1) for b in av[1])
    if op is _c.MAX_REPEAT or op is _c.MIN_REPEAT:
        low, high, item = av
        paths: list[Items] = []
        if low == 0:
            paths.append(tail)
        if high >= 1:
            again: Item = (op, (max(low - 1, 0), high - 1, item))
            paths.append((*item, again, *tail))
        return _union(_word_keys(path, prefix, depth + 1) for path in paths)
    if op is _c.AT:
        if av in (_c.AT_END, _c.AT_END_STRING):
            return ended
        if av in (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING):
            return _word_keys(tail, prefix, depth + 1) if not prefix else set()
        return _word_keys(tail, prefix, depth + 1)  # \b, \B: ignoring them only adds paths
    if op is _c.ASSERT_NOT and av[0] == 1 and _is_word_guard(av[1]):
        return ended
    if op is _c.ASSERT or op is _c.ASSERT_NOT:
        return _word_keys(tail, prefix, depth + 1)
    if op is _c.ANY or op is _c.NOT_LITERAL:
        return open_
    return None


def _union(parts: Iterable[set[_T] | None]) -> set[_T] | None:
    out: set[_T] = set()
    for part in parts:
        if part is None:
            return None
        out |= part
        if len(out) > _MAX_KEYS:
            return None
    return out


def _marks(rest: Items, run: str, depth: int) -> set[str] | None:
    """The runs of up to _MARK_RUN punctuation characters (no word character, no space) a
    match of ``rest`` starts with (None: it may start with a word character, a space or
    anything)."""
    if len(run) >= _MARK_RUN or not rest or depth > _MAX_DEPTH:
        return {run} if run else None
    (op, av), tail = rest[0], rest[1:]
    if op is _c.LITERAL or op is _c.IN:
        chars, word, _other = _class([(op, av)] if op is _c.LITERAL else av)
        if chars is None or word or any(ch.isspace() for ch in chars):
            return {run} if run else None
        return _union(_marks(tail, run + ch.lower(), depth + 1) for ch in chars)
    if op is _c.SUBPATTERN and _plain_group(av):
        return _marks(tuple(av[-1]) + tail, run, depth + 1)
    if op is _c.BRANCH:
        return _union(_marks(tuple(b) + tail, run, depth + 1) for b in av[1])
    if op is _c.MAX_REPEAT or op is _c.MIN_REPEAT:
        low, high, item = av
        paths: list[Items] = [tail] if low == 0 else []
        if high >= 1:
            paths.append((*item, (op, (max(low - 1, 0), high - 1, item)), *tail))
        return _union(_marks(path, run, depth + 1) for path in paths)
    if op is _c.AT or op is _c.ASSERT or op is _c.ASSERT_NOT:
        return _marks(tail, run, depth + 1)  # zero width
    return {run} if run else None


def requirement(items: Items, lead: str | None, follow: Items) -> Requirement | None:
    """The cheapest requirement found for a match of ``items`` followed by ``follow`` (None:
    none known): one of a word, a nested group or a punctuation run at some position, or two
    of them together. ``lead``: what the word at the start holds so far (see :func:`_lead`)."""
    options: list[Requirement] = []
    for j, (op, av) in enumerate(items):
        if lead is not None:
            keys = _word_keys(items[j:] + follow, lead, 0)
            if keys is not None:
                options.append(_from_keys(keys))
        after = items[j + 1 :] + follow
        if op is _c.SUBPATTERN and _plain_group(av):
            found = requirement(tuple(av[-1]), lead, after)
            if found is not None:
                options.append(found)
        if op is _c.BRANCH:
            parts = [requirement(tuple(branch), lead, after) for branch in av[1]]
            merged: Requirement | None = None
            for part in parts:
                merged = None if part is None else part if merged is None else merged | part
                if merged is None:
                    break
            if merged is not None:
                options.append(merged)
        marks = _marks(items[j:] + follow, "", 0)
        if marks is not None:
            options.append(Requirement.of(Clause(pieces=frozenset(marks))))
        lead = _lead_item(op, av, lead)
    if not options:
        return None
    options = sorted(set(options), key=lambda option: option.cost)  # a word: once
    best = options[0]
    cheap = options[:_PAIRED]
    for i, first in enumerate(cheap):
        for second in cheap[i + 1 :]:
            both = first & second
            if both is not None and both.cost < best.cost:
                best = both
    return best


def literal_chars(items: Iterable[Item]) -> set[str] | None:
    """Every character a pattern names (None: a class too wide to list)."""
    out: set[str] = set()
    for op, av in items:
        if op is _c.LITERAL or op is _c.NOT_LITERAL:
            out.add(chr(av))
        elif op is _c.IN:
            for kind, value in av:
                if kind is _c.LITERAL:
                    out.add(chr(value))
                elif kind is _c.RANGE:
                    if value[1] - value[0] >= _SMALL_CLASS:
                        return None
                    out.update(chr(code) for code in range(value[0], value[1] + 1))
        elif op is _c.SUBPATTERN or op is _c.ASSERT or op is _c.ASSERT_NOT:
            got = literal_chars(av[-1] if op is _c.SUBPATTERN else av[1])
            if got is None:
                return None
            out |= got
        elif op is _c.BRANCH:
            for branch in av[1]:
                got = literal_chars(branch)
                if got is None:
                    return None
                out |= got
        elif op is _c.MAX_REPEAT or op is _c.MIN_REPEAT:
            got = literal_chars(av[2])
            if got is None:
                return None
            out |= got
        elif op is not _c.AT and op is not _c.ANY:
            return None  # back-references and the like: not lower-cased
    return out


# --- characters where lower-casing is not what IGNORECASE does --------------------------------


def unsafe_chars(pattern_chars: set[str], limit: int = CASED_LIMIT) -> set[str]:
    """Characters of a text that make lower-casing it differ from IGNORECASE matching of
    patterns made of ``pattern_chars``, or that change its words: ``lower()`` changes the
    length, the ``[\\w']`` / ``\\s`` / ``\\d`` / newline membership or depends on the
    context (final sigma), or IGNORECASE matches the character to a pattern character that
    is not its ``lower()`` (or ``lower()`` gives a pattern character that IGNORECASE does not
    match)."""
    universe = "".join(map(chr, range(limit)))
    lowered = list(map(str.lower, universe))
    changed = list(compress(universe, map(operator.ne, universe, lowered)))
    out = {"Σ", "ς", "σ"} if pattern_chars & {"Σ", "ς", "σ"} else {"Σ"}
    for ch in changed:
        low = ch.lower()
        if len(low) != 1 or any((c.match(ch) is None) != (c.match(low) is None) for c in _CHECKS):
            out.add(ch)
    listed = "".join(re.escape(c) for c in sorted(pattern_chars))
    near = set(re.findall(f"[{listed}]", universe, re.IGNORECASE)) if listed else set()
    near |= {ch for ch in changed if ch.lower() in pattern_chars}
    ignore_case = {c: re.compile(re.escape(c), re.IGNORECASE).fullmatch for c in pattern_chars}
    for ch in near - out:
        low = ch.lower()
        for c, match in ignore_case.items():
            if (match(ch) is not None) != (low == c.lower()):
                out.add(ch)
                break
    return out


# --- the scanner -----------------------------------------------------------------------------


class CueScanner:
    """Match counts (capped) of a list of patterns over many texts, exactly
    ``min(len(pattern.findall(text)), cap)`` per text and pattern."""

    def __init__(self, patterns: Iterable[re.Pattern[str]]) -> None:
        self.patterns = tuple(patterns)
        parsed = [_parser.parse(p.pattern, p.flags) for p in self.patterns]
        named = [literal_chars(tree) for tree in parsed]
        chars = set().union(*(n for n in named if n is not None))
        self.unsafe = "".join(sorted(unsafe_chars(chars | {c.lower() for c in chars})))
        escaped = "".join(re.escape(c) for c in self.unsafe)
        self._unsafe = re.compile(f"[{escaped}]") if escaped else None
        self._ascii_safe = all(not c.isascii() for c in self.unsafe)
        self.requirements = [requirement(tuple(tree), None, ()) for tree in parsed]
        # per pattern: its findall and whether it runs on the lower-cased text (all literals
        # lower case: the same pattern without IGNORECASE) or on the text (the pattern itself)
        self._scans: list[tuple[Callable[[str], list[Any]], bool]] = []
        for pattern, names in zip(self.patterns, named, strict=True):
            lowered = names is not None and all(c.lower() == c for c in names)
            if lowered and not pattern.flags & (re.LOCALE | re.ASCII):
                plain = re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE)
                self._scans.append((plain.findall, True))
            else:
                self._scans.append((pattern.findall, False))
        self._tables()

    def _tables(self) -> None:
        # Every term of every requirement gets a bit; a text's "first" bits are the terms
        # whose first clause it passes, its "second" bits those whose second clause it passes
        # (or that have none); the terms it passes are both.
        self._always = 0  # bit i: pattern i has no requirement (always scanned)
        self._single = 0  # terms with one clause
        self._owners: list[tuple[int, int]] = []  # (pattern bit, its terms' bits)
        keys: dict[str, list[int]] = {}
        pieces: dict[str, list[int]] = {}
        bit = 0
        for index, need in enumerate(self.requirements):
            if need is None:
                self._always |= 1 << index
                continue
            owned = 0
            for term in sorted(need.terms, key=repr):
                owned |= 1 << bit
                if len(term) == 1:
                    self._single |= 1 << bit
                for place, clause in enumerate(term):
                    for key in clause.whole:
                        keys.setdefault(key, [0, 0])[place] |= 1 << bit
                    for piece in clause.pieces:
                        pieces.setdefault(piece, [0, 0])[place] |= 1 << bit
                bit += 1
            self._owners.append((1 << index, owned))
        self._keys = {key: (a, b) for key, (a, b) in keys.items()}
        self._key_set = frozenset(keys)
        # pieces grouped by their first character: a text without it skips the group
        groups: dict[str, list[tuple[str, int, int]]] = {}
        for piece, (a, b) in sorted(pieces.items()):
            groups.setdefault(piece[0], []).append((piece, a, b))
        self._pieces = tuple((first, tuple(group)) for first, group in groups.items())
        # the set bits of every mask (few patterns) or None (worked out per text)
        size = len(self.patterns)
        self._bits = [_set_bits(mask) for mask in range(1 << size)] if size <= 16 else None

    def safe(self, text: str) -> bool:
        """Whether lower-casing ``text`` keeps every count (see :func:`unsafe_chars`)."""
        if self._unsafe is None or (self._ascii_safe and text.isascii()):
            return True
        return self._unsafe.search(text) is None

    def candidates(self, lowered: str) -> int:
        """Bit mask of the patterns that may match the lower-cased text (bit i: pattern i)."""
        first, second = 0, self._single
        keys = self._keys
        for key in self._key_set.intersection(_WORD_STARTS.findall(lowered)):
            a, b = keys[key]
            first |= a
            second |= b
        for start, group in self._pieces:
            if start in lowered:
                for piece, a, b in group:
                    if piece in lowered:
                        first |= a
                        second |= b
        live = first & second
        mask = self._always
        if live:
            for bit, owned in self._owners:
                if live & owned:
                    mask |= bit
        return mask

    def count(self, texts: Sequence[str], cap: int) -> list[list[int]]:
        """Per text, the capped match count of every pattern."""
        out: list[list[int]] = []
        scans = self._scans
        size = len(scans)
        bits = self._bits
        candidates = self.candidates
        unsafe = self._unsafe
        # one look over the batch: most batches have no unsafe character at all
        check = unsafe is not None and unsafe.search("\x00".join(texts)) is not None
        for text in texts:
            row = [0] * size
            if not check or self.safe(text):
                lowered = text.lower()
                mask = candidates(lowered)
                for index in bits[mask] if bits is not None else _set_bits(mask):
                    findall, on_lowered = scans[index]
                    row[index] = min(len(findall(lowered if on_lowered else text)), cap)
            else:  # the patterns as they are, on the text as it is
                for index, pattern in enumerate(self.patterns):
                    row[index] = min(len(pattern.findall(text)), cap)
            out.append(row)
        return out


def _set_bits(mask: int) -> tuple[int, ...]:
    return tuple(i for i in range(mask.bit_length()) if mask >> i & 1)


def scanner_for(rules: Mapping[str, re.Pattern[str]], names: Iterable[str]) -> CueScanner:
    """A scanner of the named patterns of ``rules``, in that order."""
    return CueScanner(rules[name] for name in names)
