"""Multilingual cue rules for the intent step (en, es, fr, de, fi, with some it / pt).

Each *family* is one compiled, case-insensitive regular expression; :func:`rule_features`
counts the matches of every family in every text (capped at 3) and returns one column per
family. The counts are features of the intent step's small stacking models (with the hashed
text model's logit and the sentiment probabilities) and drive the rule-only labels
(recommendation request, support request, praise cues, micro-moments). The patterns are
hand-written from what such posts look like; nothing here was copied from a data set.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from socialloop.learn.cue_scan import CueScanner, scanner_for

_B = r"(?<![\w'])"  # a word start
_E = r"(?![\w'])"  # a word end

_COMPLAINT = (
    # en
    r"worst|terrible|horrible|awful|appalling|disgusting|disgraceful|dreadful|rubbish|"
    r"disappoint(?:ed|ing|ment)|unacceptable|ridiculous|pathetic|useless|incompetent|"
    r"a joke|never again|never (?:fly|flying|use|using|buy|buying|order|ordering) \w+ again|"
    r"still (?:waiting|no|not|haven'?t|hasn'?t|don'?t|doesn'?t)|(?:been|keep) waiting|"
    r"waited (?:for )?(?:over |almost |nearly )?\w+ (?:hours?|days?|weeks?|minutes?)|"
    r"on hold|no(?: ?one|body) (?:answers?|answering|responds?|responding|replies|replied|"
    r"helps?|helped|picks? up|cares?)|no (?:response|reply|answer|help)|refund|"
    r"cancell?(?:ed|ing)|delayed|delays?|late flight|lost (?:my |our )?(?:bag|bags|luggage|"
    r"package|order)|damaged|broken|(?:does ?n[o']?t|do ?n[o']?t|won'?t|wo n'?t|will not|"
    r"can'?t|cannot|ca n'?t|is ?n[o']?t|not) (?:work|working|load|loading|connect|turn on|"
    r"charge|log ?in|sign ?in|access|get through|be reached)|stuck|charged (?:me )?twice|"
    r"double charged|overcharg\w*|over ?charged|rip ?-?off|ripped off|scam\w*|fraud|"
    r"fed up|sick (?:of|and tired)|shame on|hate (?:you|your|this|it|that)|"
    r"(?:bad|poor|lousy|horrible|terrible|worst) (?:customer )?(?:service|support|experience)|"
    r"customer (?:dis)?service|complain\w*|apology|sort (?:it|this) out|fix (?:it|this|your)|"
    r"what a (?:mess|joke|shambles)|shambles|nightmare|wtf|seriously|not happy|unhappy|"
    r"furious|angry|annoyed|frustrat\w+|wasted?|missed (?:my |our )?(?:connection|flight)|"
    r"not impressed|smh|get (?:it|your act|your shit) together|(?:could|should|must) do better|"
    # es
    r"peor|p[ée]simo|fatal|verg[üu]enza|estafa|sigo esperando|todav[íi]a (?:espero|no)|"
    r"nadie (?:contesta|responde|atiende|me ayuda)|reembolso|cancelad[oa]|no funciona|"
    r"nunca m[áa]s|jam[áa]s volver\w*|queja|harto|una basura|mal servicio|"
    r"decepcionad[oa]|retras\w+|"
    # fr
    r"pire|nul(?:le|s)?|honteux|honte|inadmissible|scandaleux|arnaque|toujours pas|"
    r"j'attends|toujours en attente|personne ne (?:r[ée]pond|m'aide)|rembours\w*|annul[ée]e?s?|"
    r"ne (?:marche|fonctionne) (?:pas|plus)|plus jamais|d[ée]çue?|en retard|ras le bol|"
    # de
    r"schlechteste\w*|katastroph\w*|unversch[äa]mt|frechheit|entt[äa]uscht|"
    r"warte (?:immer noch|seit)|immer noch nicht|niemand (?:antwortet|meldet sich|hilft)|"
    r"erstattung|storniert|gestrichen|funktioniert (?:nicht|nie)|geht nicht|nie wieder|"
    r"versp[äa]tung|beschwerde|sauerei|mist|"
    # fi
    r"huonoin|surkea\w*|kamala\w*|pettynyt|pettymys|odotan (?:edelleen|yh[äa])|"
    r"kukaan ei (?:vastaa|auta)|hyvitys\w*|peruttu|peruutettu|ei toimi|ei en[äa][äa] koskaan|"
    r"my[öo]h[äa]ss[äa]|h[äa]vetk[äa][äa]|valitus|"
    # it / pt
    r"vergogna|pessimo|schifo|non funziona|rimborso|nunca mais|p[ée]ssimo|n[ãa]o funciona|"
    r"reembolso|vergonha"
)

_QMARK = r"[?¿？]"
_OPENER = (
    r"(?:^|[.!?¿\n]\s*|^(?:@\w+\s+)+)(?:"
    r"who|what|what's|whats|when|where|why|how|which|whose|is|are|am|was|were|do|does|did|"
    r"can|could|would|will|should|shall|has|have|had|may|might|any ?(?:one|body)|isn't|"
    r"aren't|don't|doesn't|didn't|can't|won't|"
    r"qu[ée]|c[óo]mo|cu[áa]ndo|d[óo]nde|por ?qu[ée]|qui[ée]n(?:es)?|cu[áa]l(?:es)?|"
    r"cu[áa]nto|alguien|hay|"
    r"qui|que|quoi|quand|o[ùu]|pourquoi|comment|quel(?:le)?s?|est-ce|combien|quelqu'un|"
    r"wer|was|wann|wo|warum|wieso|weshalb|wie|welche[rsmn]?|kann|k[öo]nnt|gibt es|wei[ßs]|"
    r"hat jemand|mik[äa]|mit[äa]|miss[äa]|mist[äa]|milloin|miksi|miten|kuka|kuinka|"
    r"onko|voiko|voinko|saako|tiet[äa][äa]k[öo]|"
    r"chi|cosa|quando|dove|perch[ée]|come|quale|quanto|"
    r"o que|onde|por que|qual|quem|algu[ée]m"
    r")(?:'s|'re|'ll|'d|'ve)?(?![\w'])"
)
_REQUEST = (
    r"(?:does|do|did) (?:any ?one|any ?body|some ?one|you guys) (?:know|have|else)|"
    r"any ?(?:one|body) (?:know|knows|have|has|got|tried|else)|"
    r"can (?:some ?one|any ?one|you|u|y'all) (?:help|tell|explain|recommend|suggest|advise)|"
    r"how (?:do|can|should|would) (?:i|we|you)|how to|where (?:can|do|should) (?:i|we)|"
    r"is there (?:a|an|any)|are there any|any (?:idea|ideas|tips|advice|suggestions?|clue)|"
    r"need (?:some )?(?:help|advice)|help me|please help|i wonder|wondering|"
    r"(?:i|we) (?:want|would like|'d like|need) to know|(?:please )?let (?:me|us) know|"
    r"please (?:advise|confirm)|could (?:you|u|some ?one) (?:please )?(?:help|tell|check|confirm)|"
    r"alguien sabe|c[óo]mo (?:puedo|hago|se)|d[óo]nde (?:puedo|hay)|me (?:pueden )?ayudan|"
    r"me pueden ayudar|ay[úu]d(?:a|e)n?me|"
    r"quelqu'un sait|comment (?:faire|je|on)|o[ùu] (?:puis-je|peut-on|trouver)|aidez-moi|"
    r"wei[ßs] jemand|wie kann ich|wo (?:kann|bekomme) ich|hat jemand|kann mir jemand|"
    r"tiet[äa][äa]k[öo] kukaan|miten (?:saan|voin)|mist[äa] (?:saa|voi)|osaako kukaan|"
    r"qualcuno sa|algu[ée]m sabe"
)
_RHETORICAL = (
    r"who cares|why (?:would|do|does|did|is|are) (?:any ?one|any ?body|you|they|people) "
    r"(?:even|ever|care|think|bother)|how dare|how hard is it|are you (?:kidding|serious|joking)|"
    r"(?:seriously|really|right|srsly|huh|why not|wtf|who knew|guess what|you know what)\s*[?!]+|"
    r"[?!]{3,}|\?!|isn'?t it\s*\?|what the (?:hell|heck|fuck)|wtf|lol\s*\?|"
    r"in serio\s*\?|en serio\s*\?|s[ée]rieux\s*\?|echt jetzt|oikeesti\s*\?"
)
_PURCHASE = (
    r"(?:want|wanna|need|going|gonna|planning|plan|hoping|decided|ready|about) (?:to )?"
    r"(?:buy|get|order|purchase|upgrade)|"
    r"(?:thinking|thought) (?:of|about) (?:buying|getting|ordering|purchasing|upgrading)|"
    r"should i (?:buy|get|order|upgrade|purchase)|where (?:can|to|do) (?:i )?(?:buy|get|order)|"
    r"pre-?order\w*|(?:i'?ll|i will|i'?m gonna|i am going to) (?:buy|get|order|purchase)|"
    r"in the market for|saving (?:up )?for|can'?t wait to (?:get|buy|have)|"
    r"(?:worth|time to) (?:buying|getting|buy|get|upgrade|upgrading)|add(?:ed)? to (?:my )?cart|"
    r"how much (?:is|are|does|for)|price of|getting (?:a|an|the|my) new|"
    r"buy(?:ing)? (?:a|an|the) new|"
    r"(?:my|a) new \w+ (?:is )?(?:coming|arriving)|treat myself|"
    r"quiero comprar|voy a comprar|d[óo]nde comprar|pienso comprar|"
    r"je veux acheter|je vais acheter|o[ùu] acheter|envie d'acheter|"
    r"(?:will|m[öo]chte|werde|wollte) (?:mir )?\w* ?kaufen|wo (?:kann ich|kauft man)|"
    r"haluan ostaa|aion ostaa|mist[äa] (?:voi|saa) ostaa|ostaisin|"
    r"voglio comprare|quero comprar|vou comprar"
)
_RECOMMEND = (
    r"any (?:good )?(?:recommendations?|recs|suggestions?)|recommend (?:me|a|an|any|some|"
    r"something)|(?:can|could) (?:you|any ?one|some ?one) (?:recommend|suggest)|"
    r"(?:which|what) (?:\w+ )?(?:should|would) (?:i|you) (?:buy|get|choose|pick|use|watch|"
    r"read|try|go with)|(?:which|what) (?:one|is (?:the )?better)|suggestions? (?:for|on)|"
    r"(?:looking for|need) (?:a )?(?:good )?(?:recommendation|suggestion)|"
    r"alternatives? to|(?:best|good) \w+ (?:for|to) .{0,40}\?|"
    r"(?:me )?recomiendan|alguna recomendaci[óo]n|qu[ée] me recomiendas?|"
    r"(?:vous )?me conseillez|des conseils|que (?:me )?recommandez|une recommandation|"
    r"empfehlung|empfehlen|tipps? f[üu]r|suosittele\w*|suosituks\w+|"
    r"mi consigliate|consigliat\w+|me recomendam|recomenda[çc][õo]es"
)
_SUPPORT = (
    r"help|support|assist|(?:does ?n[o']?t|won'?t|can'?t|cannot|not) (?:work|load|connect|"
    r"log ?in|sign ?in|access|open|update|sync|play|download)|password|reset|my account|"
    r"locked out|log ?in|sign ?in|error|issue|problem|bug|crash\w*|fix|refund|cancel (?:my|the)|"
    r"my (?:order|package|parcel|delivery|booking|reservation|bill|card|subscription)|"
    r"tracking|dm(?:'?d)?|direct message|contact|get in touch|"
    r"ayuda|ay[úu]dame|no funciona|mi cuenta|mi pedido|aide|aidez|mon compte|ma commande|"
    r"hilfe|helfen|mein (?:konto|paket)|meine bestellung|apua|auttaa|tilini|tilaukseni|"
    r"aiuto|ajuda"
)
_PRAISE = (
    r"love|loving|loved|amazing|awesome|great|excellent|best|thanks?|thank you|thx|ty|"
    r"fantastic|brilliant|perfect|kudos|shout ?-?out|impressed|well done|wonderful|superb|"
    r"outstanding|incredible|fabulous|happy with|lovely|the bomb|props to|"
    r"gracias|excelente|genial|me encanta|buen[ao]? servicio|incre[íi]ble|"
    r"merci|g[ée]nial|j'adore|bravo|super|top|"
    r"danke|toll|gro[ßs]artig|klasse|spitze|"
    r"kiitos|mahtava|loistava|upea|ihana|paras|"
    r"grazie|ottimo|obrigad[oa]|[óo]timo|adoro"
)
_GO = (
    r"where (?:is|are|can|do|to)|near ?(?:me|by|here)|nearest|closest|directions?|"
    r"(?:are you|is it|is \w+|still) open|opening (?:hours|times)|open (?:now|today|tonight|"
    r"tomorrow|late|on)|store hours|location|address|how (?:do|can) i get to|"
    r"d[óo]nde (?:est[áa]|queda|hay)|cerca de|horario|o[ùu] (?:est|se trouve|trouver)|"
    r"pr[èe]s de|horaires|wo (?:ist|gibt|finde)|in der n[äa]he|[öo]ffnungszeiten|"
    r"miss[äa] (?:on|voi)|l[äa]hin|aukioloaj\w+|auki"
)
_DO = (
    r"how (?:do|can|should|would) (?:i|we|you)|how to|tutorial|step by step|instructions?|"
    r"set ?up|install|configure|recipe|diy|guide|"
    r"c[óo]mo (?:puedo|hago|se|hacer)|comment (?:faire|je|on)|tuto\w*|"
    r"wie (?:kann|mache|macht|geht)|anleitung|miten|kuinka (?:voin|saan|teen)|ohje\w*|"
    r"come (?:faccio|si)|como (?:fa[çc]o|fazer)"
)
_BUY = (
    r"buy|buying|purchase|price|prices|cost|costs|how much|cheap\w*|deal|deals|discount|"
    r"sale|coupon|order|pre-?order|shop|comprar|precio|cu[áa]nto cuesta|acheter|prix|"
    r"combien|kaufen|preis|kostet|ostaa|hinta|maksaa|comprare|prezzo"
)

# Customer-care replies (what a brand account writes back): they talk about a problem but are
# no complaint or support request of their own. Kept out of FAMILIES, which the trained
# stackers read; the intent step uses it to damp complaint and support request.
_AGENT_REPLY = (
    r"(?:please )?(?:dm|message) us|send us a (?:dm|message|pm)|(?:we're|we are|so) sorry "
    r"(?:to hear|about|for)|sorry to hear|we apologi[sz]e|we'd (?:love|like) to help|"
    r"we're looking into|reach out to us|contact our (?:team|support)|"
    r"(?:lo )?sentimos (?:mucho|lo)|lamentamos|escr[íi]benos|env[íi]anos un (?:dm|md|mensaje)|"
    r"d[ée]sol[ée]e?s? (?:pour|de)|nous sommes d[ée]sol[ée]s|[ée]crivez-nous|"
    r"envoyez-nous un (?:dm|mp|message)|es tut uns (?:sehr )?leid|schreib(?:en sie)? uns|"
    r"pahoittelemme|olemme pahoillamme|laita meille"
)


# A complaint word that is negated is no complaint ("no complaints", "never disappointed",
# "wasn't bad at all", "nicht schlecht", "enttäuscht nie", "ei petä", "no me decepciona"). Only
# *evaluative* words are handled: a negated event ("no refund", "not working", "no reply") is
# still a complaint, and the complaint family spells those with their negation. "never been
# so disappointed" stays a complaint (an intensifier or "but" between keeps the word).
_NEGATOR = (
    r"not|never|no|nothing|without|(?:is|was|are|were|do|does|did|ca|can|could|wo|would|"
    r"should|have|has|had|ai)n'?t|cannot|nicht|nie|niemals|kein\w*|ohne|pas|jamais|sans|"
    r"aucune?|nunca|jam[áa]s|sin|ei|en|et|eiv[äa]t|emme|ette|koskaan|ilman|non|mai|senza|"
    r"n[ãa]o|nem|sem"
)
_EVALUATIVE = (
    r"disappoint\w*|complain\w*|terrible|horrible|awful|worst|bad|poor|rubbish|useless|"
    r"pathetic|ridiculous|unacceptable|frustrat\w*|angry|annoyed|furious|unhappy|"
    r"entt[äa]usch\w*|schlecht\w*|beschwer\w*|d[ée][çc]u\w*|d[ée]cev\w*|d[ée][çc]oit|"
    r"mauvais\w*|nul(?:le|s)?|pire|decepcion\w*|malo|mala|peor|quej\w*|pettymys|"
    r"pettynyt|pet[äa]|pett[äa]nyt|huono\w*|valit\w*|delus\w*|deludente|pessimo|p[ée]ssimo|"
    r"ruim|reclam\w*"
)
_KEEP_BETWEEN = r"so|this|that|more|as|such|but|only|even|any ?more"
_NEGATED = (
    rf"(?:{_NEGATOR})(?:\s+(?!(?:{_KEEP_BETWEEN})(?![\w']))[\w']+)?\s+(?:{_EVALUATIVE})|"
    rf"(?:{_EVALUATIVE})(?:\s+[\w']+)?\s+(?:nie|nicht|niemals|jamais|koskaan|mai)"
)


def compile_negated() -> re.Pattern[str]:
    """Negated evaluative complaint words (see ``_NEGATED``)."""
    return re.compile(rf"{_B}(?:{_NEGATED}){_E}", re.IGNORECASE)


def compile_agent_reply() -> re.Pattern[str]:
    """The customer-care reply cues (see ``_AGENT_REPLY``)."""
    return _compile(_AGENT_REPLY)


FAMILIES: tuple[str, ...] = (
    "complaint",
    "qmark",
    "opener",
    "request",
    "rhetorical",
    "purchase",
    "recommend",
    "support",
    "praise",
    "go",
    "do",
    "buy",
    "exclaim",
)


_PRAISE_COLUMN = FAMILIES.index("praise")


def _compile(body: str, bounded: bool = True) -> re.Pattern[str]:
    body = bucketed(body, re.IGNORECASE)
    if bounded:
        return re.compile(rf"{_B}(?:{body}){_E}", re.IGNORECASE)
    return re.compile(body, re.IGNORECASE)


def _compile_split(body: str) -> re.Pattern[str]:
    """``body`` with its alternatives that start with a letter bounded at a word start and the
    others (punctuation runs such as ``[?!]{3,}``, which follow a word) left unbounded. Python's
    ``re`` then rejects mid-word positions at once instead of trying the alternatives there
    (the rhetorical family: 12 -> 5 us per post, the same counts on 20k posts)."""
    alts = alternatives(body)
    words = [a for a in alts if a[:1].isalpha() or a.startswith("(")]
    others = [a for a in alts if a not in words]
    parts = [rf"{_B}(?:{bucketed('|'.join(words), re.IGNORECASE)})"] if words else []
    parts += others
    return re.compile("|".join(parts), re.IGNORECASE)


# --- first-character buckets (speed only: the same matches as the plain alternation) ---------

_sre_parser: Any = importlib.import_module("re._parser")
_sre: Any = importlib.import_module("re._constants")
_RANGE_MAX = 1000  # wider character ranges count as "any first character"


def _first_of_sequence(items: Any) -> tuple[set[int] | None, bool]:
    """Code points a parsed regex sequence can start with (None: any) and whether it can
    match the empty string (then what follows it may come first)."""
    out: set[int] = set()
    for op, av in items:
        first, nullable = _first_of_item(op, av)
        if first is None:
            return None, False
        out |= first
        if not nullable:
            return out, False
    return out, True


def _first_of_item(op: Any, av: Any) -> tuple[set[int] | None, bool]:
    if op is _sre.LITERAL:
        return {av}, False
    if op is _sre.IN:
        chars: set[int] = set()
        for kind, value in av:
            if kind is _sre.LITERAL:
                chars.add(value)
            elif kind is _sre.RANGE and value[1] - value[0] < _RANGE_MAX:
                chars.update(range(value[0], value[1] + 1))
            else:  # categories (\w, \s), negated sets
                return None, False
        return chars, False
    if op is _sre.SUBPATTERN:
        return _first_of_sequence(av[-1])
    if op is _sre.BRANCH:
        union: set[int] = set()
        empty = False
        for branch in av[1]:
            first, nullable = _first_of_sequence(branch)
            if first is None:
                return None, False
            union |= first
            empty = empty or nullable
        return union, empty
    if op is _sre.MAX_REPEAT or op is _sre.MIN_REPEAT:
        low, _high, item = av
        first, nullable = _first_of_sequence(item)
        return first, (nullable or low == 0) if first is not None else False
    if op is _sre.AT or op is _sre.ASSERT or op is _sre.ASSERT_NOT:
        return set(), True  # zero-width
    return None, False


def _first_chars(alternative: str, flags: int) -> set[str] | None:
    """Lower-cased characters a match of ``alternative`` can start with (None: unknown)."""
    try:
        first, nullable = _first_of_sequence(_sre_parser.parse(alternative, flags))
    except re.error:  # an unparsable piece is simply not bucketed
        return None
    if first is None or nullable or not first:
        return None
    out: set[str] = set()
    for code in first:
        low = chr(code).lower()
        out.add(low if len(low) == 1 else chr(code))
    return out


def bucketed(body: str, flags: int) -> str:
    """``body`` (``a|b|c...``) rewritten so that at each position the regex engine tries only
    the alternatives that can start with the character there: one branch per group of first
    characters, guarded by a look-ahead, holding those alternatives in their original order.
    Python's ``re`` takes the first alternative that matches, so every match (and every count
    of non-overlapping matches) is the same as with ``body``; it only skips alternatives that
    cannot match. Alternatives that may start with anything are kept in every branch."""
    alts = alternatives(body)
    if len(alts) < 2:
        return body
    firsts = [_first_chars(alt, flags) for alt in alts]
    chars = sorted({c for f in firsts if f is not None for c in f})
    groups: dict[tuple[int, ...], list[str]] = {}
    for ch in chars:
        key = tuple(i for i, f in enumerate(firsts) if f is None or ch in f)
        groups.setdefault(key, []).append(ch)
    parts = [
        f"(?=[{''.join(re.escape(c) for c in group)}])(?:{'|'.join(alts[i] for i in key)})"
        for key, group in groups.items()
    ]
    anywhere = [alt for alt, f in zip(alts, firsts, strict=True) if f is None]
    if anywhere:
        parts.append(f"(?![{''.join(re.escape(c) for c in chars)}])(?:{'|'.join(anywhere)})")
    return "|".join(parts)


def alternatives(body: str) -> list[str]:
    """The top-level ``|`` alternatives of a pattern body."""
    out: list[str] = []
    cur: list[str] = []
    depth, i, in_class = 0, 0, False
    while i < len(body):
        c = body[i]
        if c == "\\":
            cur.append(body[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    out.append("".join(cur))
    return out


def _scanned(rules: dict[str, re.Pattern[str]]) -> tuple[str, ...]:
    """The patterns a scan counts: the families, then the customer-care reply cues if there."""
    return FAMILIES + (("agent_reply",) if "agent_reply" in rules else ())


class CueRules(dict[str, re.Pattern[str]]):
    """The compiled patterns (a plain ``dict`` of them) with the scanner that counts them
    (:class:`~socialloop.learn.cue_scan.CueScanner`, built on first use and kept here)."""

    _scanner: CueScanner | None = None

    def scanner(self) -> CueScanner:
        patterns = [self[name] for name in _scanned(self)]
        if self._scanner is None or list(self._scanner.patterns) != patterns:
            self._scanner = CueScanner(patterns)
        return self._scanner


def compile_rules() -> dict[str, re.Pattern[str]]:
    """The family patterns, compiled (callers keep them; nothing is cached at module level).
    The dict is a :class:`CueRules`, which keeps the scanner that :func:`rule_features` uses."""
    return CueRules(
        {
            "complaint": _compile(_COMPLAINT),
            "qmark": _compile(_QMARK, bounded=False),
            "opener": _compile(_OPENER, bounded=False),
            "request": _compile(_REQUEST),
            "rhetorical": _compile_split(_RHETORICAL),
            "purchase": _compile(_PURCHASE),
            "recommend": _compile(_RECOMMEND),
            "support": _compile(_SUPPORT),
            "praise": _compile(_PRAISE),
            "go": _compile(_GO),
            "do": _compile(_DO),
            "buy": _compile(_BUY),
            "exclaim": _compile(r"!", bounded=False),
            "negated": compile_negated(),  # not a family: see rule_features
            "agent_reply": compile_agent_reply(),  # not a family: see cue_features
        }
    )


def rule_features(
    texts: Sequence[str], rules: dict[str, re.Pattern[str]]
) -> npt.NDArray[np.float32]:
    """Match counts, capped at 3: shape (len(texts), len(FAMILIES)), columns as FAMILIES.

    A complaint word inside a negated span (``rules["negated"]``: "no complaints") counts as
    praise instead. The counts are those of one ``findall`` per family and text (the
    reference tests/test_cue_speed.py compares with): the cue scanner
    (:class:`~socialloop.learn.cue_scan.CueScanner`) only skips the texts that cannot match
    and scans lower-cased text where that is the same."""
    return cue_features(texts, rules)[0]


def cue_features(
    texts: Sequence[str], rules: dict[str, re.Pattern[str]]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]:
    """:func:`rule_features` and, per text, 1.0 where ``rules["agent_reply"]`` (the
    customer-care reply cues, :func:`compile_agent_reply`) matches the text with ``’`` read
    as ``'``, else 0.0 (0.0 for all without that pattern). One scan gives both: the reply
    cues cost almost nothing on top of the families, a separate ``search`` per text a third
    of the families' time."""
    names = _scanned(rules)
    scanner = rules.scanner() if isinstance(rules, CueRules) else scanner_for(rules, names)
    complaint = rules["complaint"].finditer
    negated = rules["negated"].finditer if "negated" in rules else None
    rows = scanner.count([text.replace("’", "'") for text in texts], 3)
    for text, counts in zip(texts, rows, strict=True):
        if not text:
            counts[:] = [0] * len(counts)  # an empty text has no cue (not even "^")
        elif counts[0] and negated is not None:
            _negate(text.replace("’", "'"), counts, complaint, negated)
    if not rows:
        return np.zeros((0, len(FAMILIES)), dtype=np.float32), np.zeros(0, dtype=np.float64)
    matrix = np.array(rows, dtype=np.float32)
    agent = np.zeros(len(rows), dtype=np.float64)
    if "agent_reply" in names:
        agent = (matrix[:, names.index("agent_reply")] > 0).astype(np.float64)
    return np.ascontiguousarray(matrix[:, : len(FAMILIES)]), agent


def _negate(
    low: str,
    counts: list[int],
    complaint: Callable[[str], Iterator[re.Match[str]]],
    negated: Callable[[str], Iterator[re.Match[str]]],
) -> None:
    """Complaint words inside a negated span count as praise ("no complaints")."""
    spans = [m.span() for m in negated(low)]
    if spans:
        gone = sum(1 for m in complaint(low) if any(a <= m.start() < b for a, b in spans))
        counts[0] = max(counts[0] - gone, 0)
        counts[_PRAISE_COLUMN] = min(counts[_PRAISE_COLUMN] + gone, 3)
