"""Label a pool of unlabelled English tweets with the accurate-mode transformer (distillation).

    python training/distill_emotion.py --data ../shared/data [--seed 13] [--limit 0] [--procs 2]

The pool is the TRAIN splits of the other TweetEval tasks (sentiment, via the SemEval-2017
reconstruction, emoji, hate, irony, offensive, stance); only their texts are used, never their
labels. Texts that match a TweetEval emotion tweet (train or val, exact match after
whitespace normalisation and lower-casing) are dropped, as are duplicates and texts the fast
language step does not call English. The teacher is ``socialloop.learn.accurate.
TransformerHeads`` (its eight emotion sigmoids, one text per pass, onnxruntime on the CPU).

The teacher's outputs are cached in ``build/distill/emotion_teacher.npz`` (git ignores
``build/``), keyed by the sha1 of each text: ``keys`` (n, 20 bytes), ``probs`` (n, 8, the
emotion sigmoids), ``labels`` (the heads' names). No text is stored; ``train_emotion.py
--pseudo`` reloads the pool from ``--data`` with :func:`load_pool` and looks each text up.
Reruns score only the texts not in the cache yet. ``--limit N`` caps the pool at N texts
(a seeded random sample). Needs the accurate extra (onnxruntime, tokenizers).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import re
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CACHE = ROOT / "build" / "distill" / "emotion_teacher.npz"
TASKS = ("emoji", "hate", "irony", "offensive")
STANCE = ("abortion", "atheism", "climate", "feminist", "hillary")
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def norm(text: str) -> str:
    """The matching key of a tweet: whitespace collapsed, lower-cased."""
    return " ".join(text.split()).lower()


def text_key(text: str) -> bytes:
    """The cache key of a text (sha1 of its UTF-8 bytes)."""
    return hashlib.sha1(text.encode("utf-8")).digest()


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


def _tweeteval_style(text: str) -> str:
    """A raw SemEval tweet as TweetEval writes them: escapes decoded, @handles -> @user,
    URLs dropped."""
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = html.unescape(text)
    text = _URL.sub("", _MENTION.sub("@user", text))
    return " ".join(text.split())


def raw_pool(data: Path) -> list[str]:
    """Every candidate text (before de-duplication and filtering), in a fixed order."""
    te = data / "tweeteval"
    texts: list[str] = []
    for row in _lines(te / "sentiment" / "train_reconstructed_from_semeval2017.tsv")[1:]:
        cols = row.split("\t")
        if len(cols) >= 5:
            texts.append(_tweeteval_style(cols[4]))
    for task in TASKS:
        texts.extend(_lines(te / task / "train_text.txt"))
    for target in STANCE:
        texts.extend(_lines(te / "stance" / target / "train_text.txt"))
    return [t.strip() for t in texts if t.strip()]


def load_pool(data: Path, limit: int = 0, seed: int = 13, english: bool = True) -> list[str]:
    """The distillation pool: unique texts, none matching a TweetEval emotion tweet, English
    only (the fast language step), at most ``limit`` of them (0: all; a seeded sample)."""
    emo = data / "tweeteval" / "emotion"
    banned = {norm(t) for split in ("train", "val") for t in _lines(emo / f"{split}_text.txt")}
    seen: set[str] = set()
    pool: list[str] = []
    for text in raw_pool(data):
        key = norm(text)
        if key in banned or key in seen or len(key) < 3:
            continue
        seen.add(key)
        pool.append(text)
    if english:
        from socialloop.learn.language import LanguageEnricher

        step = LanguageEnricher(stream_prior=False)
        pool = [t for t in pool if step.detect(t)[0] == "en"]
    if limit and len(pool) > limit:
        keep = np.sort(np.random.default_rng(seed).choice(len(pool), limit, replace=False))
        pool = [pool[i] for i in keep]
    return pool


def load_cache(path: Path = CACHE) -> tuple[dict[bytes, npt.NDArray[np.float64]], list[str]]:
    """The cached teacher rows (sha1 -> 8 emotion probabilities) and the heads' labels."""
    if not path.is_file():
        return {}, []
    with np.load(path, allow_pickle=False) as z:
        keys = z["keys"]
        probs = z["probs"].astype(np.float64)
        labels = [str(x) for x in z["labels"]]
    return {bytes(k): probs[i] for i, k in enumerate(keys)}, labels


def _score_chunk(texts: list[str]) -> npt.NDArray[np.float64]:
    from socialloop.learn.accurate import TransformerHeads

    heads = TransformerHeads()
    out = np.zeros((len(texts), len(heads.emotion_labels)))
    for start in range(0, len(texts), 1000):
        out[start : start + 1000] = heads.probs(texts[start : start + 1000])[1]
    return out


def label(texts: Sequence[str], procs: int, path: Path = CACHE) -> None:
    """Score the texts not cached yet with the transformer and save the grown cache."""
    from socialloop.learn.accurate import TransformerHeads

    labels = list(TransformerHeads().emotion_labels)
    cache, old_labels = load_cache(path)
    if old_labels and old_labels != labels:
        cache = {}  # the teacher's heads changed: start again
    todo = list(dict.fromkeys(t for t in texts if text_key(t) not in cache))
    print(f"{len(texts)} texts, {len(texts) - len(todo)} cached, {len(todo)} to score", flush=True)
    t0 = time.perf_counter()
    if todo:
        chunks = [todo[i::procs] for i in range(procs)]
        with ProcessPoolExecutor(procs) as ex:
            results = list(ex.map(_score_chunk, chunks))
        for chunk, rows in zip(chunks, results, strict=True):
            for text, row in zip(chunk, rows, strict=True):
                cache[text_key(text)] = row
    elapsed = time.perf_counter() - t0
    print(f"scored {len(todo)} in {elapsed:.0f} s ({len(todo) / max(elapsed, 1e-9):.0f}/s)")
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = np.frombuffer(b"".join(cache), dtype=np.uint8).reshape(-1, 20)
    probs = np.stack(list(cache.values())).astype(np.float32)
    np.savez_compressed(path, keys=keys, probs=probs, labels=np.array(labels))
    print(f"wrote {path} ({len(cache)} rows)")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared/data folder")
    ap.add_argument("--seed", type=int, default=13, help="seed of the --limit sample")
    ap.add_argument("--limit", type=int, default=0, help="at most this many texts (0: all)")
    ap.add_argument("--procs", type=int, default=2, help="scoring processes (one core each)")
    ap.add_argument("--out", type=Path, default=CACHE)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    pool = load_pool(args.data, args.limit, args.seed)
    print(f"pool: {len(pool)} English texts ({time.perf_counter() - t0:.0f} s)", flush=True)
    label(pool, args.procs, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
