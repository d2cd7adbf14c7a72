"""Customer-journey stage of a post (the Social Feedback Cycle): documented rules plus a
transparent weighted-sum model over the intent step's outputs.

Stages: ``awareness``, ``consideration``, ``purchase``, ``experience``, ``advocacy``, or
``none`` for posts with no journey signal (chit-chat, off-topic).

Every post gets a feature vector: counts (capped at 2) of multilingual cue families (en, es,
fr, de, fi) found by one combined regular expression, a question-mark and a link flag, and
from the prior: the intent probabilities (``intent_scores``, else 1 / 0 from the ``intent``
labels, else 0), the micro-moment (``moment``) and the sentiment (``sentiment_scores`` or the
``sentiment`` label). Each stage's score is ``sigmoid(bias + sum(weight * feature))`` with the
hand-set weights of :data:`WEIGHTS`; the stage is the best-scoring one when its score is at
least :data:`THRESHOLD` (0.5), else ``none``. With no intent / sentiment in the prior the same
formula runs on the cue features only (rules only).

========================  ===============================================================
stage                     strongest evidence (weights in :data:`WEIGHTS`)
========================  ===============================================================
awareness                 ``aware`` cues: first contact / news ("just heard of", "launches",
                          "now available", "#ad", "acaba de lanzar", "vient de lancer",
                          "ab sofort erhältlich", "julkaisi"); a link; no first person
consideration             ``consider`` cues (comparisons "vs", "better than", "X or Y?",
                          "thinking about", "should I get", "vale la pena", "j'hésite",
                          "lohnt sich", "kannattaako"), ``price`` checks ("how much",
                          "cuánto cuesta", "combien", "was kostet", "paljonko maksaa");
                          question and recommendation-request intents; purchase intent
                          *asked or weighed* (with a question / request / comparison)
purchase                  ``bought`` cues (completed: "just bought", "ordered",
                          "pre-ordered", "checked out", "acabo de comprar",
                          "je viens d'acheter", "gerade gekauft", "ostin juuri"),
                          ``commit`` cues (decided: "going to buy", "take my money",
                          "voy a comprar", "je vais acheter", "ich kaufe", "aion ostaa");
                          purchase intent *stated* (no question / comparison)
experience                ``use`` cues (usage reports, first-hand reviews: "my latte was",
                          "after a week with", "still waiting", "llevo un mes con",
                          "après une semaine", "funktioniert nicht", "ei toimi");
                          complaint and support-request intents; praise without
                          recommending; negative sentiment
advocacy                  ``recommend`` cues ("you should try", "highly recommend",
                          "go to @x", "te lo recomiendo", "je recommande",
                          "kann ich empfehlen", "suosittelen"), ``defend`` cues ("leave
                          them alone", "loyal customer", "cliente fiel", "Stammkunde");
                          praise adds; questions, requests and complaints subtract
none                      no score reaches 0.5; ``social`` cues (greetings, "happy friday",
                          "lol", "buenos días", "bonne nuit", "guten Morgen", "huomenta")
                          push every stage down
========================  ===============================================================

Purchase intent is split by wording: ``pi_ask = P(purchase_intent) * ask`` (ask = the largest
of P(question), P(recommendation_request), a comparison cue, a ``?``) feeds consideration and
``pi_decide = P(purchase_intent) * (1 - ask)`` feeds purchase. So "Should I buy the Pixel or
wait?" is consideration and "Ordering the new Kindle tonight" is purchase.

No labelled journey-stage data exists (nothing in ../shared/data has stage labels): the
weights are hand-set and were checked against a small hand-written development list (the
examples in tests/test_learn_journey.py), not fitted, and there is no held-out evaluation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from socialloop.learn.base import BatchMemo, Item, Result
from socialloop.learn.intent_rules import alternatives as _alternatives

STAGES: tuple[str, ...] = ("awareness", "consideration", "purchase", "experience", "advocacy")
NONE = "none"
STAGE_VALUES: tuple[str, ...] = (*STAGES, NONE)
THRESHOLD = 0.5
INTENT_LABELS: tuple[str, ...] = (
    "question",
    "complaint",
    "praise",
    "purchase_intent",
    "recommendation_request",
    "support_request",
)

_AWARE = (
    r"just (?:heard|found out|learned|learnt|discovered|saw) (?:of|about|that)|never heard of|"
    r"first time (?:hearing|seeing|i'?ve heard)|did you (?:know|hear|see)|"
    r"launch(?:es|ed|ing)?|unveil(?:s|ed|ing)?|announc(?:es|ed|ing|ement)|"
    r"introduc(?:es|ed|ing)|releas(?:es|ed)|debut(?:s|ed)?|roll(?:s|ing) out|"
    r"new \w+(?: \w+)? (?:is|are) (?:out|here|coming|available)|(?:now|finally) available|"
    r"available (?:now|today|from|in stores)|coming soon|breaking(?: news)?|press release|"
    r"sponsored|#ad|(?:check out|meet|say hello to) the (?:all-)?new|"
    r"acaba de (?:lanzar|presentar|anunciar)|acabo de (?:descubrir|enterarme)|lanza\w*|"
    r"anunci[aó]|ya disponible|disponible (?:ya|desde)|próximamente|nunca había oído|"
    r"vient de (?:lancer|sortir|annoncer|présenter)|lancement|lance (?:son|sa|ses|un|une)|"
    r"annonce|bientôt disponible|disponible (?:dès|en magasin)|je viens de découvrir|"
    r"jamais entendu parler|découvrez|nouveauté|"
    r"stellt (?:den|die|das|seine|ihre) neue\w*|bringt (?:den|die|das|eine?n?) neue\w*|"
    r"kündigt \w+ an|startet|ab sofort (?:erhältlich|verfügbar)|jetzt (?:erhältlich|verfügbar)|"
    r"gerade (?:erst )?(?:entdeckt|erfahren)|noch nie (?:von|gehört)|neuheit|"
    r"julkais\w*|lanseera\w*|esittel\w*|ilmoitti|nyt saatavilla|saatavilla nyt|tulossa pian|"
    r"kuulin juuri|en ollut kuullutkaan|uutuu\w*"
)
_CONSIDER = (
    r"vs\.?|versus|better than|worse than|compared (?:to|with)|comparison|"
    r"(?:which|what) (?:one |\w+ )?(?:is|'s) (?:better|best)|difference between|"
    r"thinking (?:about|of)|considering|torn between|can'?t decide|worth it\s*\?|"
    r"worth (?:the money|buying|getting)|pros and cons|"
    r"should i (?:get|buy|go with|choose|pick|order|switch|upgrade)|or [\w ]{1,30}\?|"
    r"any (?:good )?(?:recommendations?|recs|suggestions?|alternatives)|"
    r"(?:can|could) (?:any ?one|some ?one|you) (?:recommend|suggest)|recommend me|"
    r"alternatives? to|reviews? (?:of|for|on)|(?:has|have)? ?any ?one (?:tried|used)|"
    r"mejor que|peor que|comparad[oa] con|(?:vale|merece) la pena|estoy pensando en|"
    r"no sé si|(?:cuál|qué) (?:es )?mejor|alguna recomendación|(?:qué )?me recomiendan|"
    r"o (?:el|la|los|las) [\w ]{1,30}\?|"
    r"mieux que|moins bien que|comparé à|(?:ça|ca) vaut (?:le coup|la peine)|"
    r"je pense (?:à|a) (?:acheter|prendre)|j'hésite|lequel|laquelle|vous me conseillez|"
    r"des avis sur|que (?:me )?recommandez|ou (?:le|la|les) [\w ]{1,30}\?|"
    r"besser als|schlechter als|im vergleich|lohnt (?:sich|es sich)|(?:ich )?überlege|"
    r"(?:welche[rsn]?|was) (?:ist|sind|wäre) besser|erfahrungen mit|"
    r"könnt ihr [\w ]{0,30}empfehlen|oder [\w ]{1,30}\?|"
    r"parempi kuin|huonompi kuin|verrattuna|kannattaako|harkitsen|"
    r"mietin (?:ostaa|ostamista|hankkia)|kumpi|vai [\w ]{1,30}\?|suositteletteko|"
    r"mitä suosittelette|kokemuksia"
)
_PRICE = (
    r"how much (?:is|are|does|do|for)|price of|pricing|cheaper|cheapest|(?:any|good) deals?|"
    r"cuánto (?:cuesta|vale)|precio|más barato|combien (?:coûte|coute|ça coûte)|prix|"
    r"moins cher|was kostet|preis|günstiger|billiger|paljonko (?:maksaa|on)|mitä maksaa|"
    r"hinta|halvempi|halvin"
)
_BOUGHT = (
    r"just (?:bought|ordered|purchased|pre-?ordered|picked up|grabbed|copped|snagged)|"
    r"just got (?:my|me|a|an|the|myself)|(?:finally )?(?:bought|purchased) (?:a|an|the|my|me|"
    r"myself|one|it|two|some|this)|ordered|pre-?ordered|checked out|"
    r"placed (?:an|my|the) order|order (?:placed|confirmed)|treated myself|new purchase|"
    r"acabo de (?:comprar|pedir|reservar)|compré|pedí|reservé|he comprado|lo compré|"
    r"pedido (?:hecho|realizado|confirmado)|"
    r"je viens d'(?:acheter|commander)|j'ai (?:acheté|commandé|précommandé)|"
    r"je me suis (?:offert|acheté)e?|commande passée|précommandé|"
    r"gerade (?:gekauft|bestellt|vorbestellt)|gekauft|vorbestellt|(?:hab|habe) \w+ bestellt|"
    r"ostin|ostettu|tilasin|ennakkotilasin|hankin juuri|tuli ostettua"
)
_COMMIT = (
    r"(?:want|wanna|gonna|going to|need to|decided to|planning to|plan to|about to|ready to|"
    r"i'?ll|i will) (?:buy|order|purchase|pre-?order|grab|cop)|"
    r"(?:i'?m|i am|im) (?:buying|ordering|pre-?ordering|copping)|"
    r"(?:buying|ordering|getting) (?:it|one|this|them|these) (?:today|tonight|tomorrow|now)|"
    r"add(?:ed|ing)? (?:it |this )?to (?:my )?(?:cart|basket)|take my money|"
    r"in the market for|saving (?:up )?for|can'?t wait to (?:buy|get|order)|"
    r"quiero comprar|voy a (?:comprar|pedir)|me lo (?:compro|voy a comprar)|lo compro|"
    r"pienso comprar|je veux (?:acheter|commander)|je vais (?:l'acheter|acheter|commander)|"
    r"je l'achète|je commande|envie d'acheter|"
    r"ich (?:will|möchte|werde) (?:mir )?(?:\w+ ){0,3}(?:kaufen|bestellen)|ich kaufe|"
    r"ich bestelle|in den warenkorb|kaufe ich|"
    r"haluan ostaa|aion (?:ostaa|tilata|hankkia)|ostan|tilaan|ostaisin"
)
_USE = (
    r"my (?:\w+ ){0,2}(?:was|were|arrived|came|broke|keeps|kept|stopped|died|won'?t|"
    r"doesn'?t|didn'?t|tastes?|tasted|smells?|feels?|works?|worked)|"
    r"after (?:a|one|two|three|\d+|a few|several) (?:days?|weeks?|months?|years?) "
    r"(?:with|of using|using|of)|(?:been|i'?ve been) using|(?:i'?ve|i have) had (?:it|mine|this)|"
    r"so far|first impressions?|unbox(?:ed|ing)|tried (?:it|the|their|them|this|out)|"
    r"just (?:tried|had|ate|used|received)|arrived|delivered|(?:still|been) waiting|"
    r"(?:keeps|kept) (?:crashing|freezing|dying|breaking)|(?:stopped|stops) working|"
    r"(?:doesn'?t|won'?t|didn'?t|does not|will not|did not) (?:work|turn on|charge|connect|"
    r"load|start)|battery (?:life|lasts|dies|drains)|since the update|customer service|"
    r"the (?:staff|barista|waiter|service|delivery|driver|app|food|coffee) (?:was|were|is)|"
    r"my (?:order|latte|coffee|flight|package|delivery|experience)|"
    r"llevo (?:una|un|dos|tres|\d+) (?:semanas?|mes(?:es)?|días?|años?) con|"
    r"después de (?:una|un|dos|\d+) (?:semanas?|mes(?:es)?|días?|años?)|"
    r"lo (?:estoy usando|probé|he probado)|llegó|sigo esperando|no funciona|"
    r"se (?:rompió|estropeó)|mi (?:pedido|café|vuelo|paquete|experiencia)|atención al cliente|"
    r"après (?:une|un|deux|trois|\d+) (?:semaines?|mois|jours?|ans?)|"
    r"depuis (?:une|un|deux|\d+) (?:semaines?|mois|jours?|ans?)|je l'utilise|"
    r"j'ai (?:testé|essayé|reçu)|toujours en attente|j'attends toujours|"
    r"ne (?:marche|fonctionne) (?:pas|plus)|en panne|mon (?:colis|café|vol|téléphone)|"
    r"ma (?:commande|livraison)|service client|"
    r"nach (?:einer|einem|zwei|drei|\d+) (?:wochen?|monat(?:en)?|tag(?:en)?|jahr(?:en)?)|"
    r"seit (?:einer|einem|zwei|\d+) (?:wochen?|monat(?:en)?|tag(?:en)?|jahr(?:en)?)|"
    r"benutze|getestet|ausprobiert|angekommen|geliefert|warte (?:immer noch|seit)|"
    r"funktioniert (?:nicht|super|gut|einwandfrei)|kaputt|mein (?:paket|kaffee|flug|handy)|"
    r"meine (?:bestellung|lieferung)|kundenservice|kundendienst|"
    r"(?:viikon|kuukauden|vuoden|päivän) käytön jälkeen|käytössä|käyttänyt|testasin|"
    r"kokeilin|saapui|tuli perille|odotan (?:edelleen|yhä|vieläkin)|ei toimi|meni rikki|"
    r"hajosi|tilaukseni|pakettini|asiakaspalvelu"
)
_RECOMMEND = (
    r"(?:you|u|y'?all|everyone|everybody) (?:should|need to|have to|gotta|must|got to) "
    r"(?:try|get|go|check|visit|buy|grab|order|download)|"
    r"(?:highly|totally|definitely|strongly|really|100%|absolutely|would|i'?d|i) recommend|"
    r"recommend(?:ed)? (?:it|them|this|these) (?:to|highly|enough)|"
    r"can'?t recommend (?:\w+ ){0,3}enough|do yourself a favou?r|trust me|"
    r"(?:definitely|seriously|just|always|y'?all) go to|go to @\w+|must[- ](?:try|have|visit)|"
    r"10/10 would|worth every penny|"
    r"(?:te|os|se) lo recomiendo|lo recomiendo|recomiendo|recomendad[íi]sim[oa]|"
    r"(?:tienes|tenéis|tienen) que (?:probar|ir)|vayan a|no te lo pierdas|"
    r"je (?:vous |te )?(?:le |la |les )?recommande|je (?:vous |te )?conseille|"
    r"à tester absolument|foncez|à recommander|"
    r"kann (?:ich|man) (?:\w+ )?(?:nur |sehr |wirklich )?empfehlen|(?:ich )?empfehle|"
    r"sehr zu empfehlen|(?:klare|absolute) (?:kauf)?empfehlung|"
    r"müsst ihr (?:probieren|testen)|unbedingt (?:probieren|testen|hingehen)|"
    r"suosittelen|lämmin suositus|ehdoton suositus|"
    r"kannattaa (?:ehdottomasti )?(?:kokeilla|ostaa|käydä|testata|tilata)|"
    r"(?:täytyy|pitää) kokeilla"
)
_DEFEND = (
    r"leave (?:them|him|her|it|\w+) alone|(?:stop|quit) (?:hating|complaining about)|haters|"
    r"nothing wrong with|in (?:their |its )?defen[cs]e|"
    r"never (?:had|have had) (?:a |any )?(?:problem|issue)s?|"
    r"(?:loyal|lifelong|die-?hard|long-?time) (?:customer|fan)|fan for (?:life|years)|"
    r"never let(?:s)? (?:me|us) down|"
    r"cliente fiel|siempre fiel|nunca me (?:ha )?fallado|dejen de (?:criticar|quejarse)|"
    r"client fidèle|fidèle depuis|ne m'a jamais déçue?|arrêtez de (?:critiquer|râler)|"
    r"treue[rn]? kund\w*|stammkund\w*|hat mich nie (?:im stich gelassen|enttäuscht)|"
    r"uskollinen asiakas|vakioasiakas|ei ole koskaan pettänyt"
)
_SOCIAL = (
    r"good (?:morning|night|evening|afternoon)|gm|gn|happy (?:monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|birthday|new year|holidays|weekend)|lol|lmao|"
    r"haha\w*|how are you|miss you|love you (?:all|guys)|weather|"
    r"buenos días|buenas noches|feliz (?:lunes|viernes|cumpleaños|año nuevo)|jaja\w*|"
    r"bonjour|bonne (?:nuit|journée|soirée)|joyeux anniversaire|mdr|bon week-end|"
    r"guten morgen|gute nacht|schönes wochenende|alles gute|"
    r"huomenta|hyvää (?:yötä|huomenta|viikonloppua|syntymäpäivää)|hauskaa viikonloppua"
)
_POSITIVE = (
    r"love|loving|loved|amazing|awesome|great|excellent|delicious|perfect|fantastic|best|"
    r"favou?rite|obsessed|me encanta|excelente|delicios[oa]|genial|mejor|j'adore|"
    r"délicieux|génial|super|toll|lecker|großartig|mahtava|loistava|ihana|herkullinen|paras"
)
_FIRST = r"i|i'm|i'?ve|my|me|mine|yo|mi|mis|je|j'\w+|mon|ma|mes|ich|mein\w*|mir|minä|mä|mun|minun"

CUE_FAMILIES: Mapping[str, str] = MappingProxyType(
    {
        "aware": _AWARE,
        "consider": _CONSIDER,
        "price": _PRICE,
        "bought": _BOUGHT,
        "commit": _COMMIT,
        "use": _USE,
        "recommend": _RECOMMEND,
        "defend": _DEFEND,
        "social": _SOCIAL,
        "positive": _POSITIVE,
        "first": _FIRST,
    }
)
PRIOR_FEATURES: tuple[str, ...] = (
    *INTENT_LABELS,
    "pi_ask",
    "pi_decide",
    "moment_buy",
    "moment_ask",
    "sent_negative",
    "sent_positive",
)
FEATURES: tuple[str, ...] = (*CUE_FAMILIES, "qmark", "link", *PRIOR_FEATURES)

# Per feature: weight toward (awareness, consideration, purchase, experience, advocacy).
WEIGHTS: Mapping[str, tuple[float, float, float, float, float]] = MappingProxyType(
    {
        "aware": (3.5, 0.0, 0.0, -0.5, 0.0),
        "consider": (0.0, 3.5, 0.0, -0.5, -0.5),
        "price": (0.3, 2.5, 0.0, 0.0, 0.0),
        "bought": (0.0, -0.5, 4.0, 0.5, 0.0),
        "commit": (0.0, 0.5, 3.5, 0.0, 0.0),
        "use": (-0.5, 0.0, 0.0, 3.5, 0.0),
        "recommend": (0.0, -0.5, 0.0, 0.0, 4.5),
        "defend": (0.0, 0.0, 0.0, -2.0, 5.0),
        "social": (-1.0, -1.0, -1.0, -1.0, -1.0),
        "positive": (0.0, 0.0, 0.0, 0.8, 0.6),
        "first": (-0.8, 0.0, 0.3, 0.6, 0.0),
        "qmark": (-0.5, 1.2, -0.5, 0.0, -1.0),
        "link": (0.8, 0.0, 0.0, 0.0, 0.0),
        "question": (-0.5, 2.5, -0.5, -0.3, -1.0),
        "complaint": (-1.0, -1.0, -1.0, 4.0, -2.0),
        "praise": (0.0, 0.0, 0.0, 2.0, 1.5),
        "purchase_intent": (0.0, 0.0, 0.0, 0.0, 0.0),
        "recommendation_request": (0.0, 3.5, 0.0, 0.0, -2.5),
        "support_request": (0.0, -1.0, 0.0, 3.5, -1.0),
        "pi_ask": (0.0, 3.0, 0.0, 0.0, 0.0),
        "pi_decide": (0.0, 0.0, 3.0, 0.0, 0.0),
        "moment_buy": (0.0, 0.5, 0.5, 0.0, 0.0),
        "moment_ask": (0.0, 0.5, 0.0, 0.0, 0.0),
        "sent_negative": (0.0, 0.0, 0.0, 1.0, -1.0),
        "sent_positive": (0.0, 0.0, 0.0, 0.5, 0.5),
    }
)
BIAS: tuple[float, float, float, float, float] = (-2.5, -2.5, -2.5, -2.5, -2.5)
CUE_CAP = 2.0
# Distinct texts whose cue counts a stage step remembers before the memo is reset.
_ROW_MEMO = 100_000

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class CuePattern:
    """All cue families in one pattern whose alternatives are bucketed by their first letter
    (so the regex engine skips most of them at each word start), and one pattern per family
    to tell which family a matched phrase belongs to (the first that matches it whole)."""

    search: re.Pattern[str]
    families: tuple[re.Pattern[str], ...]


def compile_cues() -> CuePattern:
    """Compile :data:`CUE_FAMILIES` (the patterns match lower-cased text)."""
    buckets: dict[str, list[str]] = {}
    other: list[str] = []
    for body in CUE_FAMILIES.values():
        for alt in _alternatives(body):
            if alt[:1].isalnum() and alt[1:2] not in ("?", "*", "+", "{"):
                buckets.setdefault(alt[0], []).append(alt[1:])
            else:
                other.append(alt)
    parts = [f"{first}(?:{'|'.join(rest)})" for first, rest in buckets.items()] + other
    search = re.compile(rf"(?<![\w'#@])(?:{'|'.join(parts)})(?![\w'])")
    families = tuple(re.compile(body) for body in CUE_FAMILIES.values())
    return CuePattern(search, families)


def cue_counts(
    texts: Sequence[str], cues: CuePattern, memo: dict[str, int] | None = None
) -> FloatArray:
    """Cue-family counts (capped at :data:`CUE_CAP`), then the ``?`` and link flags:
    shape (len(texts), len(CUE_FAMILIES) + 2). ``memo`` caches phrase -> family column."""
    k = len(CUE_FAMILIES)
    memo = {} if memo is None else memo
    out = np.zeros((len(texts), k + 2), dtype=np.float64)
    for i, text in enumerate(texts):
        if not text:
            continue
        low = text.lower().replace("’", "'")
        row = out[i]
        for phrase in cues.search.findall(low):
            j = memo.get(phrase)
            if j is None:
                j = next((c for c, f in enumerate(cues.families) if f.fullmatch(phrase)), k)
                if len(memo) > 100_000:
                    memo.clear()
                memo[phrase] = j
            if j < k:
                row[j] += 1.0
        row[k] = 1.0 if ("?" in low or "¿" in low) else 0.0
        row[k + 1] = 1.0 if ("http://" in low or "https://" in low or "www." in low) else 0.0
    np.minimum(out, CUE_CAP, out=out)
    return out


def _as_float(x: Any) -> float:
    if x.__class__ is float:  # the usual case, without the try
        return x if math.isfinite(x) else 0.0
    try:
        v = float(x)
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) else 0.0


def _sentiment(prior: Mapping[str, Any]) -> tuple[float, float]:
    """(P(negative), P(positive)) from the prior, or (0, 0) when absent."""
    scores = prior.get("sentiment_scores")
    label = prior.get("sentiment")
    if not isinstance(scores, Mapping) and isinstance(label, Mapping):
        scores = label
    if isinstance(scores, Mapping) and scores:
        return _as_float(scores.get("negative")), _as_float(scores.get("positive"))
    if label == "negative":
        return 0.8, 0.1
    if label == "positive":
        return 0.1, 0.8
    return 0.0, 0.0


def prior_features(
    prior: Mapping[str, Any], consider_cue: float, recommend_cue: float, qmark: float
) -> list[float]:
    """The :data:`PRIOR_FEATURES` of one post (all zero when the prior has no intent,
    moment or sentiment). A recommendation request with an advocacy cue and no question
    (``?`` or question intent) is discounted: the intent rules also fire on *giving* a
    recommendation ("kann ich empfehlen", "suosittelen")."""
    scores = prior.get("intent_scores")
    labels = prior.get("intent")
    if isinstance(scores, Mapping) and scores:
        p = [min(max(_as_float(scores.get(lab)), 0.0), 1.0) for lab in INTENT_LABELS]
    elif isinstance(labels, (list, tuple, set, frozenset)):
        p = [1.0 if lab in labels else 0.0 for lab in INTENT_LABELS]
    else:
        p = [0.0] * len(INTENT_LABELS)
    question, _, _, purchase, rec_request, _ = p
    if recommend_cue > 0:
        p[4] = rec_request = rec_request * max(question, min(qmark, 1.0))
    ask = max(question, rec_request, min(consider_cue, 1.0), min(qmark, 1.0))
    moment = prior.get("moment")
    neg, pos = _sentiment(prior)
    return [
        *p,
        purchase * ask,
        purchase * (1.0 - ask),
        1.0 if moment == "buy" else 0.0,
        1.0 if moment in ("know", "go", "do") else 0.0,
        neg,
        pos,
    ]


class JourneyEnricher:
    """LEARN step "stage": the customer-journey stage of a post, with per-stage scores."""

    name = "stage"
    version = "1"
    requires: tuple[str, ...] = ("intent", "sentiment")
    produces: tuple[str, ...] = ("stage",)

    def __init__(self) -> None:
        self._cues: CuePattern | None = None
        self._memo: dict[str, int] = {}
        self._rows: BatchMemo[str, FloatArray] = BatchMemo(_ROW_MEMO)  # text -> cue_counts row
        self.weights: FloatArray = np.array([WEIGHTS[f] for f in FEATURES], dtype=np.float64)
        self.bias: FloatArray = np.array(BIAS, dtype=np.float64)

    @property
    def cues(self) -> CuePattern:
        """The compiled cue families, built on first use and kept on this instance."""
        if self._cues is None:
            self._cues = compile_cues()
        return self._cues

    def _cue_rows(self, texts: Sequence[str]) -> FloatArray:
        """:func:`cue_counts` of ``texts``, each distinct text counted once (rows depend on
        the text alone; a retweet or a copied text comes from the memo)."""
        if not texts:
            return np.zeros((0, len(CUE_FAMILIES) + 2), dtype=np.float64)
        rows = self._rows.get_many(
            texts, lambda missing: cue_counts(missing, self.cues, self._memo)
        )
        return np.stack(rows)

    def features(self, texts: Sequence[str], priors: Sequence[Mapping[str, Any]]) -> FloatArray:
        """The feature matrix, columns as :data:`FEATURES`."""
        cues = self._cue_rows(texts)
        k = len(CUE_FAMILIES)
        consider = list(CUE_FAMILIES).index("consider")
        recommend = list(CUE_FAMILIES).index("recommend")
        extra = np.array(
            [
                prior_features(
                    prior, float(cues[i, consider]), float(cues[i, recommend]), float(cues[i, k])
                )
                for i, prior in enumerate(priors)
            ],
            dtype=np.float64,
        ).reshape(len(texts), len(PRIOR_FEATURES))
        return np.concatenate([cues, extra], axis=1)

    def scores(self, texts: Sequence[str], priors: Sequence[Mapping[str, Any]]) -> FloatArray:
        """Per-stage scores in [0, 1], shape (len(texts), len(STAGES))."""
        z = self.features(texts, priors) @ self.weights + self.bias
        out: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))
        return out

    def predict(
        self, texts: Sequence[str], priors: Sequence[Mapping[str, Any]] | None = None
    ) -> list[str]:
        """The stage of each text (rules only when ``priors`` is None)."""
        scores = self.scores(texts, priors if priors is not None else [{}] * len(texts))
        best = scores.argmax(axis=1) if len(texts) else np.zeros(0, dtype=np.int64)
        return [STAGES[int(j)] if scores[i, j] >= THRESHOLD else NONE for i, j in enumerate(best)]

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        if not batch:
            return []
        texts = [item.post.text or "" for item in batch]
        scores = self.scores(texts, [item.prior for item in batch])
        best = scores.argmax(axis=1)
        results: list[Result] = []
        for row, rounded, j in zip(
            scores.tolist(), np.round(scores, 4).tolist(), best.tolist(), strict=True
        ):
            top = row[j]
            stage = STAGES[j] if top >= THRESHOLD else NONE
            results.append(
                Result(
                    values={
                        "stage": stage,
                        "stage_scores": dict(zip(STAGES, rounded, strict=True)),
                    },
                    confidence=round(top if stage != NONE else 1.0 - top, 4),
                )
            )
        return results
