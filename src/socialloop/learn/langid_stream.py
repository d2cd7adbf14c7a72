"""The language step's stream prior: which languages an unsure short post is weighed among.

A brand's stream is in a few languages, but short posts that py3langid is unsure of name
dozens as candidates, and lingua loads its models per language (~150 ms and 10-25 MiB each).
So each batch gets a tally: the workspace's stored posts per detected language (:meth:`seed`)
plus the batch's clear posts. The stream's languages are those of at least :data:`STREAM_SHARE`
of the tally (and :data:`STREAM_MIN` posts); an unsure post is weighed among py3langid's best of
them, plus py3langid's own best guess when it reaches the floor (a language too rare to be one
of the stream's). Nothing carries from batch to batch. docs/models.md, "Language", step 5.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

#: A language is one of the stream's once it makes up this share of the batch's tally ...
STREAM_SHARE = 0.001
#: ... and at least this many of its posts.
STREAM_MIN = 2
#: py3langid's best guess outside the stream's languages is still weighed by lingua when its
#: probability reaches this floor.
STREAM_FLOOR = 0.3


class StreamPrior:
    """The tally and the candidate rule of one language step (see the module docstring)."""

    def __init__(
        self,
        known: frozenset[str],
        *,
        share: float = STREAM_SHARE,
        minimum: int = STREAM_MIN,
        floor: float = STREAM_FLOOR,
    ) -> None:
        self.known = known  # the languages lingua can weigh
        self.share = share
        self.minimum = minimum
        self.floor = floor
        self.seed_counts: dict[str, int] = {}
        self.languages: frozenset[str] = frozenset()  # the last batch's

    def seed(self, counts: dict[str, int]) -> None:
        """Start every batch's tally from these counts (a workspace's stored posts per
        detected language), so that small batches know the stream's languages."""
        self.seed_counts = {c: int(n) for c, n in counts.items() if n > 0}

    def batch(
        self, labels: Sequence[str], sure: npt.NDArray[np.intp], remembered: Iterable[str]
    ) -> frozenset[str] | None:
        """The stream's languages for a batch (None: fewer than two): the seed, plus the
        batch's distinct texts py3langid decided alone (``sure``: their label indices) and
        the remembered decisions of its other texts."""
        counts = dict(self.seed_counts)
        for code in remembered:
            counts[code] = counts.get(code, 0) + 1
        for j, n in zip(*np.unique(sure, return_counts=True), strict=True):
            code = labels[int(j)]
            counts[code] = counts.get(code, 0) + int(n)
        floor = max(self.minimum, self.share * sum(counts.values()))
        self.languages = frozenset(c for c, n in counts.items() if n >= floor) & self.known
        return self.languages if len(self.languages) > 1 else None

    def candidates(
        self,
        ranking: npt.NDArray[np.intp],
        labels: Sequence[str],
        stream: frozenset[str],
        best_p: float,
        top_k: int,
    ) -> list[str]:
        """py3langid's ``top_k`` best among the stream's languages (``ranking``: its label
        indices best first), and its best guess if that reaches the floor."""
        picked: list[str] = []
        for j in ranking.tolist():
            code = labels[j]
            if code in stream:
                picked.append(code)
                if len(picked) == top_k:
                    break
        best = labels[int(ranking[0])]
        if best_p >= self.floor and best not in stream:
            picked.append(best)
        return picked
