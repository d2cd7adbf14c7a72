"""Sentiment-lexicon features for English posts: VADER's valence lexicon summed over a post.

VADER (Hutto & Gilbert, ICWSM 2014; MIT licence) rates ~7,500 English words, slang and
emoticons from -4 to +4. Its lexicon ships in the ``vaderSentiment`` package, read here as data
(the analyser is not used). Per post, every lexicon word's valence is summed, scaled by VADER's
factor -0.74 when the word before it is a negation (VADER's ``NEGATE`` words and anything
ending in ``n't``), and the post gets three numbers, each squashed as VADER's compound is
(``x / sqrt(x^2 + 15)``): all valences, the positive ones, the negative ones.

The sentiment model weighs these three beside its n-grams and embedding for English posts
(:mod:`socialloop.learn.linear`); they add what the training tweets say too rarely ("this
update is dreadful") and travel better to new topics than topic-laden n-grams
(docs/models.md, "Sentiment").
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import numpy as np
import numpy.typing as npt

from socialloop.errors import LexiconMissing

#: The features' identity, stored with weights trained on them (checked at load).
NAME = "vader-lexicon/2"
#: The languages the lexicon is for.
LANGS: tuple[str, ...] = ("en",)
WIDTH = 3
_NEGATION_SCALE = -0.74  # VADER's N_SCALAR
_ALPHA = 15.0  # VADER's normalisation constant
_PUNCTUATION = string.punctuation


@lru_cache(maxsize=1)
def vader_lexicon() -> dict[str, float]:
    """VADER's lexicon, token -> mean valence (read once; immutable in use)."""
    try:
        text = (resources.files("vaderSentiment") / "vader_lexicon.txt").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise LexiconMissing(
            f"VADER's lexicon (the vaderSentiment package) cannot be read: {exc}"
        ) from exc
    out: dict[str, float] = {}
    for line in text.splitlines():
        token, _, rest = line.partition("\t")
        if token and rest:
            out[token] = float(rest.split("\t", 1)[0])
    return out


@lru_cache(maxsize=1)
def _negations() -> frozenset[str]:
    vader_lexicon()  # the package is there, or LexiconMissing
    from vaderSentiment.vaderSentiment import NEGATE

    return frozenset(NEGATE)


def _squash(x: float) -> float:
    return x / math.sqrt(x * x + _ALPHA)


def _tokens(text: str) -> list[str]:
    """VADER's tokens: whitespace-separated, the punctuation around a word stripped unless
    that leaves two characters or fewer (so emoticons such as ``:)`` stay whole), one-letter
    tokens dropped; typographic apostrophes read as ``'``."""
    out = []
    for raw in text.replace("\u2019", "'").split():
        stripped = raw.strip(_PUNCTUATION)
        token = raw if len(stripped) <= 2 else stripped
        if len(token) > 1:
            out.append(token)
    return out


def lexicon_features(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """(len(texts), 3): the squashed sum of all, positive and negative valences of each text."""
    lexicon = vader_lexicon()
    negations = _negations()
    out = np.zeros((len(texts), WIDTH), dtype=np.float64)
    for i, text in enumerate(texts):
        pos = neg = 0.0
        prev = ""
        for token in _tokens(text):
            lower = token.lower()
            value = lexicon.get(token, lexicon.get(lower))
            if value is not None:
                if prev in negations or prev.endswith("n't"):
                    value *= _NEGATION_SCALE
                if value > 0:
                    pos += value
                else:
                    neg += value
            prev = lower
        if pos or neg:
            out[i] = (_squash(pos + neg), _squash(pos), _squash(neg))
    return out


def lexicon_rows(langs: Sequence[str | None] | None, n: int) -> npt.NDArray[np.bool_]:
    """Which of ``n`` posts (languages ``langs``) the lexicon is for: English ones (none
    when the languages are unknown)."""
    if langs is None:
        return np.zeros(n, dtype=bool)
    return np.fromiter((lang in LANGS for lang in langs), dtype=bool, count=n)


__all__ = ["LANGS", "NAME", "WIDTH", "LexiconMissing", "lexicon_features", "lexicon_rows"]
