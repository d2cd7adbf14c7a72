"""Language detection step: ISO 639-1 code (or ``"und"``) for every post, fast on short posts.

How a post is decided (see docs/models.md, "Language", for the measured accuracy and speed):

1. **Pre-clean** (:func:`clean_text`): NFKC (folds Arabic presentation forms and full-width
   letters), HTML entities, then drop URLs, ``@mentions``, a leading ``RT``, the ``#`` of hashtags,
   emoji, digits and punctuation; letters repeated 3+ times are squeezed to two (``soooo``).
   Fewer than :data:`MIN_LETTERS` letters left (empty, emoji-only, URL-only) -> ``"und"``.
2. **Fast first guess** (``mode="fast"``): py3langid (naive Bayes over byte n-grams, model
   embedded in its wheel), restricted to the candidate set, gives a probability per language.
   If the best one reaches :data:`CONFIRM_THRESHOLD` it is the answer.
3. **Confirmation where unsure**: otherwise lingua (lazily loaded, one cached detector per
   candidate subset) decides among py3langid's :data:`TOP_K` best candidates that lingua knows.
4. ``mode="accurate"``: lingua over the whole candidate set on every post (batched, in parallel).
5. **Declared language** (``post.lang``, from Twitter/Bluesky/Mastodon payloads) is evidence,
   not truth: a valid declared code in the candidate set has its probability multiplied by
   :data:`DECLARED_BOOST` before renormalising. It therefore wins when the text is ambiguous
   (short, shared words) and loses when the detector is sure of another language.

The candidate set defaults to py3langid's 96 ISO 639-1 languages; lingua-only ones (``mi``,
``tn``, ``ts``) take part when configured explicitly. A workspace can restrict it
(``languages=["en", "es", "fr"]``), which is faster and more accurate on short posts.
"""

from __future__ import annotations

import html
import importlib
import math
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from socialloop.learn.base import Item, Result
from socialloop.learn.metrics import classification_metrics

if TYPE_CHECKING:
    from lingua import LanguageDetector

Mode = Literal["fast", "accurate"]
UND = "und"

#: Minimum number of letters left after cleaning for a post to get a language.
MIN_LETTERS = 3
#: py3langid probability at or above which the fast guess is accepted without lingua.
CONFIRM_THRESHOLD = 0.6
#: How many py3langid candidates lingua weighs when confirming (fast / accurate mode).
TOP_K = 3
TOP_K_ACCURATE = 5
# Groups of at least this many posts go to lingua's multi-threaded API.
_PARALLEL_MIN = 16
#: Factor applied to the declared language's probability (see module docstring).
DECLARED_BOOST = 8.0
#: Prior factor for languages outside :data:`MAJOR_LANGUAGES` (rare on social media).
MINOR_PRIOR = 0.1
#: Share of romanised-Hindi function words from which a Latin-script post is "hi".
HINGLISH_SHARE = 0.2
#: Languages Twitter labels posts in: the "common on social media" prior.
_MAJOR = (
    "am ar bg bn ca cs cy da de el en es et eu fa fi fr gu he hi ht hu hy id is it ja ka km kn ko "
    "lo lt lv ml mr ms my ne nl no or pa pl ps pt ro ru sd si sk sl sr sv ta te th tl tr ug uk ur "
    "vi zh"
)
MAJOR_LANGUAGES = frozenset(_MAJOR.split())
# Romanised Hindi (Hinglish): frequent function words that are not words of the Latin-script
# languages detected here. Two of them making up a fifth of the words mark a post as "hi".
_HINGLISH = (
    "hai hain nahi nahin nhi kya kyu kyun kyon mein mujhe mujhko mera meri mere tera teri tere "
    "tumhara apna apni apne apka apki aapka aapki bhai yaar yar kuch kuchh bahut bohot bhot bhi "
    "aur abhi kabhi kaise kaisa kaisi rahe rahi gaya gayi gye gya hoga hogi tha thi karo karna "
    "karne karta karte kiya diya liya hum aap unka uska iska yeh woh wahi jab accha acha achha "
    "matlab sirf phir hota hoti wala wale wali sahi toh nai kar ke ki ko ka se"
)
HINGLISH = frozenset(_HINGLISH.split())

# Platform codes that say "no language" or are legacy aliases of ISO 639-1 codes.
_DECLARED_NONE = frozenset({"und", "zxx", "qme", "qht", "qam", "qst", "art", "mul", "xx"})
_ALIASES = {"in": "id", "iw": "he", "ji": "yi", "jw": "jv", "nb": "no", "fil": "tl", "zh": "zh"}

_URL = re.compile(r"(?:https?://|www\.)\S+|\bhttps?\b|\S+\.(?:com|org|net|ly|co)(?:/\S*)?", re.I)
_MENTION = re.compile(r"(?<!\w)[@＠][\w.]+")
_RT = re.compile(r"^\s*(?:RT|MT)\b:?", re.I)
_REPEAT = re.compile(r"(\w)\1{2,}")
_SPACES = re.compile(r"\s+")
# Characters kept: letters, combining marks (Devanagari, Arabic vowels), apostrophes, spaces.
_KEEP = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc"})


@lru_cache(maxsize=4096)
def _keep_char(ch: str) -> bool:
    return unicodedata.category(ch) in _KEEP


def clean_text(text: str) -> str:
    """The text with social-media noise removed (URLs, mentions, ``#``, emoji, digits, punctuation).

    Words are kept in order and separated by single spaces; apostrophes inside words stay.
    """
    text = unicodedata.normalize("NFKC", html.unescape(text))
    text = _RT.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = _REPEAT.sub(r"\1\1", text)
    out = [ch if ch == "'" or ch == "’" or _keep_char(ch) else " " for ch in text]
    return _SPACES.sub(" ", "".join(out)).strip(" '’")


def letter_count(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


# --------------------------------------------------------------------------- back ends


def _py3langid() -> Any:
    """The py3langid module (imported dynamically: it ships no type information)."""
    return importlib.import_module("py3langid.langid")


class _FastModel:
    """py3langid restricted to a language set, returning normalised probabilities."""

    def __init__(self, languages: Iterable[str]) -> None:
        langid = _py3langid()
        self._ident = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
        self._ident.set_languages(sorted(languages))
        self.labels: list[str] = list(self._ident.nb_classes)

    def probabilities(self, text: str) -> list[tuple[str, float]]:
        """(language, probability) best first, with the social-media prior applied."""
        return apply_prior(self._ident.rank(text))


def apply_prior(probs: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """Probabilities times :data:`MINOR_PRIOR` outside the major languages, renormalised."""
    scored = [(c, p if c in MAJOR_LANGUAGES else p * MINOR_PRIOR) for c, p in probs]
    total = sum(p for _, p in scored) or 1.0
    return sorted(((c, p / total) for c, p in scored), key=lambda cp: -cp[1])


def hinglish_share(cleaned: str) -> float:
    """Share of the words that are romanised-Hindi function words (0 unless at least two)."""
    words = cleaned.lower().split()
    hits = sum(1 for w in words if w in HINGLISH)
    return hits / len(words) if hits >= 2 else 0.0


@lru_cache(maxsize=1)
def fast_languages() -> frozenset[str]:
    """ISO 639-1 codes py3langid can name (its 639-3 dialect labels are left out)."""
    langid = _py3langid()
    ident = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE)
    return frozenset(c for c in ident.labels if len(c) == 2 and c != "zz")


@lru_cache(maxsize=1)
def _lingua_codes() -> dict[str, Any]:
    """ISO 639-1 code (``nb`` reported as ``no``) -> lingua ``Language``."""
    from lingua import Language

    out: dict[str, Any] = {}
    for lang in Language.all():
        code = lang.iso_code_639_1.name.lower()
        out[_ALIASES.get(code, code)] = lang
    return out


def accurate_languages() -> frozenset[str]:
    """ISO 639-1 codes lingua can name."""
    return frozenset(_lingua_codes())


def supported_languages() -> frozenset[str]:
    """Every code the step can return (besides ``"und"``)."""
    return fast_languages() | accurate_languages()


_LINGUA_LOCK = threading.Lock()


@lru_cache(maxsize=256)
def _lingua_detector(codes: frozenset[str]) -> LanguageDetector:
    """A lingua detector for a set of codes (>= 2); models load lazily and are shared."""
    from lingua import LanguageDetectorBuilder

    table = _lingua_codes()
    langs = [table[c] for c in sorted(codes)]
    with _LINGUA_LOCK:
        return LanguageDetectorBuilder.from_languages(*langs).build()


def _code_of(language: Any) -> str:
    code = str(language.iso_code_639_1.name).lower()
    return _ALIASES.get(code, code)


# --------------------------------------------------------------------------- decision


def normalise_declared(code: str | None) -> str | None:
    """A platform's declared language as an ISO 639-1 code, or None when absent/undetermined."""
    if not code:
        return None
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    if base in _DECLARED_NONE:
        return None
    base = _ALIASES.get(base, base)
    return base if base in supported_languages() else None


def combine_declared(
    probs: Sequence[tuple[str, float]], declared: str | None, boost: float = DECLARED_BOOST
) -> tuple[str, float]:
    """Best language after boosting the declared one (if it is a candidate) and renormalising."""
    if not probs:
        return UND, 0.0
    if declared is None or boost == 1.0:
        return probs[0][0], _clip(probs[0][1])
    scores = {c: p * (boost if c == declared else 1.0) for c, p in probs}
    if declared not in scores:
        return probs[0][0], _clip(probs[0][1])
    total = sum(scores.values()) or 1.0
    best = max(scores, key=scores.__getitem__)
    return best, _clip(scores[best] / total)


def _clip(x: float) -> float:
    return 0.0 if math.isnan(x) else min(1.0, max(0.0, x))


class LanguageEnricher:
    """The ``language`` step: ``{"lang": ISO 639-1 code or "und"}`` with a confidence.

    ``languages`` restricts the candidate set (a workspace's markets); ``mode`` is ``"fast"``
    (py3langid, lingua only where unsure) or ``"accurate"`` (lingua on every post).
    ``use_declared`` turns the platform-declared language evidence on or off.
    """

    name = "language"
    version = "1"
    requires: tuple[str, ...] = ()
    produces: tuple[str, ...] = ("lang",)

    def __init__(
        self,
        languages: Sequence[str] | None = None,
        mode: Mode = "fast",
        *,
        threshold: float = CONFIRM_THRESHOLD,
        top_k: int | None = None,
        declared_boost: float = DECLARED_BOOST,
        use_declared: bool = True,
    ) -> None:
        if mode not in ("fast", "accurate"):
            raise ValueError(f"mode must be 'fast' or 'accurate', not {mode!r}")
        everything = supported_languages()
        if languages is None:
            wanted = fast_languages()
        else:
            normalised = {_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in languages}
            unknown = sorted(normalised - everything)
            if unknown:
                raise ValueError(f"unsupported language code(s): {', '.join(unknown)}")
            if not normalised:
                raise ValueError("languages must name at least one language")
            wanted = frozenset(normalised)
        self.languages: frozenset[str] = frozenset(wanted)
        self.mode: Mode = mode
        self.threshold = threshold
        self.top_k = top_k if top_k is not None else (TOP_K if mode == "fast" else TOP_K_ACCURATE)
        self.declared_boost = declared_boost if use_declared else 1.0
        self._fast_set = self.languages & fast_languages()
        self._lingua_set = self.languages & accurate_languages()
        self._fast: _FastModel | None = None

    # -- back ends, loaded on first use

    def _fast_model(self) -> _FastModel:
        if self._fast is None:
            self._fast = _FastModel(self._fast_set)
        return self._fast

    def load(self) -> None:
        """Load py3langid now instead of on the first post (lingua models load as needed)."""
        if self._fast_set:
            self._fast_model()

    # -- single post

    def detect(self, text: str, declared: str | None = None) -> tuple[str, float]:
        """``(code, confidence)`` for one text; ``declared`` is the platform's language if any."""
        return self.detect_many([text], [declared])[0]

    def _declared(self, declared: str | None) -> str | None:
        code = normalise_declared(declared) if self.declared_boost != 1.0 else None
        return code if code in self.languages else None

    def _first_pass(
        self, cleaned: str, declared: str | None = None
    ) -> tuple[list[tuple[str, float]], frozenset[str] | None]:
        """Probabilities so far and the candidates lingua must still weigh (None: decided).

        A declared language that disagrees with the fast guess sends the post to lingua with
        the declared language among the candidates, so that the two can be weighed."""
        if len(self.languages) == 1:
            return [(next(iter(self.languages)), 1.0)], None
        if "hi" in self.languages:
            share = hinglish_share(cleaned)
            if share >= HINGLISH_SHARE:
                return [("hi", min(1.0, 0.5 + share))], None
        if not self._fast_set:
            return [], frozenset(self._lingua_set)
        probs = self._fast_model().probabilities(cleaned)
        sure = probs[0][1] >= self.threshold and declared in (None, probs[0][0])
        if self.mode == "fast" and sure:
            return probs, None
        top = [c for c, _ in probs[: self.top_k] if c in self._lingua_set]
        if declared in self._lingua_set:
            top.append(declared)
        # languages only lingua can name take part when the workspace configured them
        candidates = frozenset(top) | (self._lingua_set - self._fast_set)
        return probs, (candidates if len(candidates) > 1 else None)

    # -- batches (the Enricher contract)

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        texts = [item.post.text for item in batch]
        declared = [item.post.lang for item in batch]
        return [
            Result(values={"lang": code}, confidence=conf)
            for code, conf in self.detect_many(texts, declared)
        ]

    def detect_many(
        self, texts: Sequence[str], declared: Sequence[str | None] | None = None
    ) -> list[tuple[str, float]]:
        """:meth:`detect` over many texts; lingua runs in parallel on groups of posts."""
        decl = list(declared) if declared is not None else [None] * len(texts)
        if len(decl) != len(texts):
            raise ValueError("texts and declared must have the same length")
        probs: list[list[tuple[str, float]]] = [[] for _ in texts]
        pending: dict[frozenset[str], list[tuple[int, str]]] = {}
        for i, text in enumerate(texts):
            cleaned = clean_text(text)
            if letter_count(cleaned) < MIN_LETTERS:
                continue
            probs[i], candidates = self._first_pass(cleaned, self._declared(decl[i]))
            if candidates is not None:
                pending.setdefault(candidates, []).append((i, cleaned))
        for candidates, group in pending.items():
            detector = _lingua_detector(candidates)
            group_texts = [c for _, c in group]
            if len(group) >= _PARALLEL_MIN:
                values = detector.compute_language_confidence_values_in_parallel(group_texts)
            else:
                values = [detector.compute_language_confidence_values(t) for t in group_texts]
            for (i, _), vals in zip(group, values, strict=True):
                confirmed = apply_prior((_code_of(v.language), float(v.value)) for v in vals)
                probs[i] = merge(probs[i], confirmed)
        return [
            combine_declared(p, self._declared(d), self.declared_boost) if p else (UND, 0.0)
            for p, d in zip(probs, decl, strict=True)
        ]


def merge(
    first: Sequence[tuple[str, float]], second: Sequence[tuple[str, float]]
) -> list[tuple[str, float]]:
    """Product of two distributions over the second one's languages (naive-Bayes ensemble).

    Falls back to whichever side is informative when the other is empty or all zero.
    """
    if not first:
        return list(second)
    p1 = dict(first)
    scores = [(c, p1.get(c, 0.0) * p) for c, p in second]
    total = sum(p for _, p in scores)
    if total <= 0.0:
        return list(first)
    return sorted(((c, p / total) for c, p in scores), key=lambda cp: -cp[1])


_DEFAULT: dict[Mode, LanguageEnricher] = {}


def detect(text: str, mode: Mode = "fast") -> tuple[str, float]:
    """``(ISO 639-1 code or "und", confidence)`` for a text, over all supported languages."""
    step = _DEFAULT.get(mode)
    if step is None:
        step = _DEFAULT[mode] = LanguageEnricher(mode=mode)
    return step.detect(text)


# --------------------------------------------------------------------------- evaluation


def evaluate_language(
    texts: Sequence[str],
    gold: Sequence[str],
    step: LanguageEnricher | None = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1 (over gold classes), per-class P/R/F1 and throughput of a step.

    ``gold`` holds ISO 639-1 codes; ``step`` defaults to a fast step over all languages.
    """
    if len(texts) != len(gold):
        raise ValueError("texts and gold must have the same length")
    step = step or LanguageEnricher()
    step.load()
    start = time.perf_counter()
    pred = [code for code, _ in step.detect_many(list(texts))]
    elapsed = time.perf_counter() - start
    n = len(gold)
    scores = classification_metrics(gold, pred)
    confusions: dict[str, int] = {}
    for p, g in zip(pred, gold, strict=True):
        if p != g:
            confusions[f"{g}->{p}"] = confusions.get(f"{g}->{p}", 0) + 1
    top_conf = dict(sorted(confusions.items(), key=lambda kv: -kv[1])[:10])
    return {
        **scores,
        "posts_per_s": n / elapsed if elapsed > 0 else float("inf"),
        "us_per_post": 1e6 * elapsed / n if n else 0.0,
        "und_rate": sum(1 for p in pred if p == UND) / n if n else 0.0,
        "top_confusions": top_conf,
    }


def per_language_accuracy(report: Mapping[str, Any]) -> dict[str, float]:
    """Recall per gold language (= accuracy on the posts of that language)."""
    return {k: float(v["recall"]) for k, v in report["per_class"].items()}


UMSAB_LANGUAGES = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
}


def language_eval_sets(data_dir: Path, limit: int = 2000) -> dict[str, tuple[list[str], list[str]]]:
    """Labelled validation sets found under ``shared/data`` (name -> (texts, gold codes)).

    UMSAB ``<language>/val_text.txt`` (the folder is the language), TweetEval sentiment
    validation (English) and the first ``limit`` lines of XED ``fi-annotated.tsv`` (Finnish).
    Missing files are skipped, so the result may be empty.
    """
    sets: dict[str, tuple[list[str], list[str]]] = {}
    for folder, code in UMSAB_LANGUAGES.items():
        path = data_dir / "xlm_t_umsab" / folder / "val_text.txt"
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()[:limit]
            sets[f"umsab-{code}"] = (lines, [code] * len(lines))
    path = data_dir / "tweeteval" / "sentiment" / "val_text.txt"
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()[:limit]
        sets["tweeteval-en"] = (lines, ["en"] * len(lines))
    path = data_dir / "xed_finnish" / "fi-annotated.tsv"
    if path.is_file():
        rows = path.read_text(encoding="utf-8").splitlines()[:limit]
        lines = [r.split("\t", 1)[0] for r in rows]
        sets["xed-fi"] = (lines, ["fi"] * len(lines))
    return sets
