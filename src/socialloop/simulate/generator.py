"""The stream generator: turns a :class:`~socialloop.simulate.market.Market` into posts.

Each of the ``n`` post times (see :mod:`socialloop.simulate.timeline`) is used either by a due
reply (a min-heap of scheduled events: thread replies, brand answers, customers' follow-ups) or
by a new root post: an original post of a community member, a reshare or quote of a recent
post, a brand announcement, a campaign post or a crisis complaint. A root schedules its replies
when it is made (more for influencers and for questions), a reply may schedule the next level,
and a brand's team answers questions and complaints after a delay that depends on the brand and
on its business hours, or not at all. Only the pending events and a bounded window of recent
roots (for reshares and quotes) are kept, so memory does not grow with ``n``.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from heapq import heappop, heappush
from itertools import accumulate
from typing import Any

from socialloop.models import Post
from socialloop.simulate import ids
from socialloop.simulate.lang import packs
from socialloop.simulate.market import Market, check_market
from socialloop.simulate.people import Community, Person, build_population
from socialloop.simulate.rules import (
    BRAND,
    BRAND_CATS,
    BRAND_FACTOR,
    BRAND_REPLY_CAT,
    CAT_INFO,
    CHAT_MIX,
    CHILD_P,
    FOLLOW,
    MENTIONING,
    P_BRAND_POST,
    P_QUOTE,
    P_RESHARE,
    REDDIT,
    REPLY,
    REPLY_LAMBDA,
    REPLY_MIX,
    UNHAPPY,
    cumulative,
    ground_truth,
)
from socialloop.simulate.text import TYPO_RATE, Composer, LangKit, TextKit, Tpl, pick
from socialloop.simulate.timeline import (
    CAMPAIGN,
    QUANTILES,
    Timeline,
    answer_time,
    lognormal_table,
)

#: Event: (due, seq, kind, parent post, parent's author, depth, parent's category,
#: brands of the thread, community, who answers (None: a community member), crisis index).
Event = tuple[float, int, int, Post, Person, int, str, tuple[int, ...], int, Person | None, int]
Recent = tuple[Post, Person, str, tuple[int, ...], int, int]


class Simulation:
    """One run of the generator; iterate :meth:`run` once."""

    def __init__(
        self, n: int, *, days: int, seed: int, start: datetime, market: Market, labels: bool
    ) -> None:
        self.n = n
        self.market = market
        self.labels = labels
        self.rng = rng = random.Random(seed)
        self.rnd = rng.random
        lang_packs = packs()
        check_market(market, set(lang_packs))
        self.kit = TextKit(market, lang_packs)
        self.langs: dict[str, LangKit] = self.kit.langs
        n_authors = min(max(n // 8, 400), 40_000)
        self.pop = build_population(
            market, lang_packs, n_authors, random.Random(rng.getrandbits(64))
        )
        self.timeline = Timeline(start.timestamp(), days, market, rng)
        self.brand_names = [b.name for b in market.brands]
        self.comp = Composer(self.kit, self.rnd, list(accumulate(b.share for b in market.brands)))
        self.brand_cats = {k: cumulative(v) for k, v in BRAND_CATS.items()}
        self.reply_mix = {k: cumulative(v) for k, v in REPLY_MIX.items()}
        self.chat_mix = cumulative(CHAT_MIX)
        self.comm_cum = self.pop.community_cum
        self.net_comm_cum = {
            net: (comms, list(accumulate(c.spec.share for c in comms)))
            for net, comms in self.pop.by_network.items()
        }
        self.influencers = [p for p in self.pop.influencers if p.network != REDDIT]
        #: Networks where each brand has an account and there is an audience.
        self.brand_nets = [
            [net for net in spec.networks if net in self.net_comm_cum] for spec in market.brands
        ]
        # delays are drawn from quantile tables (log-normal), much cheaper than gauss() + exp()
        self.reply_delay = lognormal_table(2.3, 1.25, scale=60.0, offset=30.0, cap=108000.0)
        self.child_delay = lognormal_table(2.0, 1.2, scale=60.0, offset=30.0, cap=86400.0)
        self.answer_spread = lognormal_table(0.0, 0.9)
        self.heap: list[Event] = []
        self.recent: deque[Recent] = deque(maxlen=4000)
        self.seq = 0

    # -- small pickers -------------------------------------------------------------------

    def _community(self) -> Community:
        cum = self.comm_cum
        return self.pop.communities[bisect(cum, self.rnd() * cum[-1])]

    def _audience(self, network: str) -> Community:
        comms, cum = self.net_comm_cum[network]
        return comms[bisect(cum, self.rnd() * cum[-1])]

    # -- posts -----------------------------------------------------------------------------

    def _post(
        self,
        t: float,
        person: Person,
        comm: Community,
        text: str,
        lang: str,
        ments: list[str],
        tags: list[str],
        links: list[str],
        parent: Post | None,
        pperson: Person | None,
        boost: float,
        label: dict[str, Any] | None,
    ) -> Post:
        seq = self.seq
        self.seq = seq + 1
        ts = int(t)
        net = person.network
        if net == "twitter":
            nid = ids.twitter_id(ts, seq)
            url = person.url_prefix + nid
        elif net == "mastodon":
            nid = ids.mastodon_id(ts, seq)
            url = person.url_prefix + nid
        elif net == "bluesky":
            nid = ids.bluesky_tid(ts, seq)
            url = person.url_prefix + nid
        else:
            base = ids.reddit_id(seq)
            if parent is None:
                nid = "t3_" + base
                url = f"https://www.reddit.com/{comm.spec.place}/comments/{base}/"
            else:
                nid = "t1_" + base
                purl = parent.url or ""
                cut = purl.find("comment/")
                url = f"{purl if cut < 0 else purl[:cut]}comment/{base}/"
        rnd = self.rnd
        f = person.followers
        r = rnd()
        likes = int(f * (0.0015 + 0.02 * r * r) * boost + rnd() * 4.0)
        reshares = int(likes * (0.03 + 0.2 * rnd()))
        if rnd() < 0.003:  # now and then a post takes off
            likes = likes * 40 + 50
            reshares = reshares * 60 + 10
        views = int(f * (0.1 + 0.8 * rnd()) * boost) + likes * 15 + 20 if net == "twitter" else None
        if parent is None:
            parent_id = root_id = reply_to = None
        else:
            parent_id = f"{net}:{parent.native_id}"
            root_id = parent.root_id or parent_id
            reply_to = pperson.key if pperson is not None else None
        return Post(
            network=net,
            native_id=nid,
            text=text,
            created_at=datetime.fromtimestamp(ts, UTC),
            author=person.author,
            url=url,
            lang=lang,
            parent_id=parent_id,
            root_id=root_id,
            reply_to_handle=reply_to,
            mentions=ments,
            hashtags=tags,
            links=links,
            likes=likes,
            reshares=reshares,
            replies=0,
            views=views,
            raw=label,
        )

    def _label(
        self, kind: str, cat: str, brands: list[int], comm: Community, campaign: int, crisis: int
    ) -> dict[str, Any] | None:
        if not self.labels:
            return None
        tag = self.market.campaigns[campaign].hashtag if campaign >= 0 else None
        names = [self.brand_names[b] for b in brands]
        return ground_truth(kind, cat, names, comm.spec.name, tag, crisis >= 0)

    # -- roots -----------------------------------------------------------------------------

    def _root(self, t: float, hour: int) -> Post:
        rnd = self.rnd
        special = self.timeline.special[hour]
        if special:
            u = rnd()
            for sp in special:
                if u < sp.threshold:
                    if sp.kind == CAMPAIGN:
                        return self._campaign(t, sp.index)
                    return self._crisis(t, sp.index)
        r = rnd()
        if r < P_RESHARE + P_QUOTE and self.recent:
            post = self._reshare(t) if r < P_RESHARE else self._quote(t)
            if post is not None:
                return post
        elif r < P_RESHARE + P_QUOTE + P_BRAND_POST:
            return self._brand_post(t)
        return self._original(t)

    def _original(self, t: float) -> Post:
        rnd = self.rnd
        comm = self._community()
        person = comm.pick(rnd())
        if rnd() < comm.spec.offtopic:
            cat, bi = "offtopic", -1
        elif rnd() < 0.36:
            cat, bi = ("chat" if rnd() < 0.66 else "reco"), -1
        else:
            bi = self.comp.brand()
            cum, cats = self.brand_cats[self.market.brands[bi].kind]
            cat = cats[bisect(cum, rnd() * cum[-1])]
        link = ""
        lr = rnd()
        if bi >= 0:
            bk = self.kit.brands[bi]
            if (cat == "praise" and lr < 0.07) or (cat == "complaint" and lr < 0.04):
                link = bk.review_links[int(rnd() * len(bk.review_links))]
            elif cat == "purchase" and lr < 0.12:
                link = bk.site_links[int(rnd() * len(bk.site_links))]
        elif cat == "chat" and lr < 0.06:
            link = self.kit.blog_links[int(rnd() * len(self.kit.blog_links))]
        lk = self.langs[comm.spec.lang]
        return self._compose_root(t, person, comm, lk, pick(lk.cats[cat], rnd), cat, bi, link)

    def _compose_root(
        self,
        t: float,
        person: Person,
        comm: Community,
        lk: LangKit,
        tpl: Tpl,
        cat: str,
        bi: int,
        link: str,
        *,
        forced: list[tuple[str, str]] | None = None,
        campaign: int = -1,
        crisis: int = -1,
        kind: str = "post",
        boost: float = 1.0,
    ) -> Post:
        rnd = self.rnd
        ments: list[str] = []
        tags: list[str] = []
        brands: list[int] = []
        body = self.comp.fill(tpl, lk, bi, person.network, ments, tags, brands)
        sentiment = CAT_INFO[cat][1]
        if person.network == REDDIT:
            if person.brand < 0 and rnd() < 0.3:
                body = f"{body} {pick(lk.cats['extra'], rnd)[0]}"
            text = body
        else:
            text = self.comp.decorate(
                body, person, comm, sentiment, ments, tags, forced or [], 0.3, 0.3
            )
            for _, key in forced or ():
                tagged = self.kit.brand_by_tag.get(key, -1)
                if tagged >= 0 and tagged not in brands:
                    brands.append(tagged)
        links: list[str] = []
        if link:
            text = f"{text} {link}"
            links.append(link)
            if bi >= 0 and bi not in brands:
                brands.append(bi)
        label = self._label(kind, cat, brands, comm, campaign, crisis)
        post = self._post(
            t, person, comm, text, lk.code, ments, tags, links, None, None, boost, label
        )
        self._after(post, person, t, cat, brands, comm.index, crisis, 0)
        if person.network != REDDIT:
            entry = (post, person, cat, tuple(brands), comm.index, crisis)
            recent = self.recent
            recent.append(entry)
            if person.followers >= 10_000:
                recent.append(entry)
                if person.followers >= 100_000:
                    recent.extend((entry, entry, entry))
        return post

    def _after(
        self,
        post: Post,
        person: Person,
        t: float,
        cat: str,
        brands: list[int],
        ci: int,
        crisis: int,
        depth: int,
    ) -> None:
        """Schedule the replies a new post draws: community replies and a brand's answer."""
        rnd = self.rnd
        heap = self.heap
        count = 0
        bt = tuple(brands)
        if depth == 0:
            reply_delay = self.reply_delay
            lam = REPLY_LAMBDA.get(cat, 0.4) * person.reach
            k = int(lam * -math.log(1.0 - rnd()) + rnd())
            for _ in range(min(k, 60)):
                delay = reply_delay[int(rnd() * QUANTILES)]
                heappush(heap, (t + delay, self.seq, REPLY, post, person, 1, cat,
                                bt, ci, None, crisis))  # fmt: skip
                self.seq += 1
                count += 1
        if brands and person.brand < 0:
            factor = BRAND_FACTOR.get(cat, 0.0)
            if factor > 0.0:
                bi = brands[0]
                account = self.pop.accounts[bi].get(post.network)
                spec = self.market.brands[bi]
                if account is not None and rnd() < spec.reply_rate * factor * (
                    0.5 if depth else 1.0
                ):
                    median = spec.reply_median_minutes * (2.5 if crisis >= 0 else 1.0)
                    delay = 60.0 * median * self.answer_spread[int(rnd() * QUANTILES)]
                    delay = min(max(delay, 90.0), 57600.0)
                    due = answer_time(t, delay, spec.business_hours, spec.weekend_support, self.rng)
                    heappush(heap, (due, self.seq, BRAND, post, person, depth + 1, cat, bt, ci,
                                    account, crisis))  # fmt: skip
                    self.seq += 1
                    count += 1
        post.replies = count

    def _brand_post(self, t: float) -> Post:
        rnd = self.rnd
        bi = self.comp.brand()
        nets = self.brand_nets[bi]
        if not nets:
            return self._original(t)
        net = nets[int(rnd() * len(nets))]
        account = self.pop.accounts[bi][net]
        comm = self._audience(net)
        lk = self.langs[comm.spec.lang]
        bk = self.kit.brands[bi]
        link = bk.site_links[int(rnd() * len(bk.site_links))] if rnd() < 0.6 else ""
        forced = [bk.tag] if rnd() < 0.3 and net != REDDIT else []
        tpl = pick(lk.cats["announce"], rnd)
        return self._compose_root(
            t, account, comm, lk, tpl, "announce", bi, link, forced=forced, kind="brand_post"
        )

    def _campaign(self, t: float, ci: int) -> Post:
        rnd = self.rnd
        camp = self.market.campaigns[ci]
        bi = self.brand_names.index(camp.brand)
        tag = self.kit.campaign_tags[ci]
        link = self.kit.campaign_links[ci]
        nets = self.brand_nets[bi]
        r = rnd()
        if r < 0.08 and nets:
            net = nets[int(rnd() * len(nets))]
            person = self.pop.accounts[bi][net]
            comm = self._audience(net)
            cat, kind, forced, url = "campaign_brand", "brand_post", [tag], link
        elif r < 0.2 and self.influencers:
            person = self.influencers[int(rnd() * len(self.influencers))]
            comm = self.pop.communities[person.community]
            lk = self.langs[comm.spec.lang]
            cat, kind, forced = "campaign_ad", "post", [tag, lk.ad_tag]
            url = link if rnd() < 0.5 else ""
        else:
            comm = self._community()
            person = comm.pick(rnd())
            cat, kind, forced = "campaign", "post", [tag]
            url = link if rnd() < 0.1 else ""
        lk = self.langs[comm.spec.lang]
        if person.network == REDDIT:
            forced = []
        tpl = pick(lk.cats[cat], rnd)
        return self._compose_root(
            t, person, comm, lk, tpl, cat, bi, url, forced=forced, campaign=ci, kind=kind
        )

    def _crisis(self, t: float, ki: int) -> Post:
        rnd = self.rnd
        crisis = self.market.crises[ki]
        bi = self.brand_names.index(crisis.brand)
        comm = self._community()
        person = comm.pick(rnd())
        lk = self.langs[comm.spec.lang]
        pool = lk.crisis.get(crisis.topic) or lk.cats["complaint"]
        tag = self.kit.crisis_tags[ki]
        forced = [tag] if tag[0] and rnd() < 0.35 else []
        news = self.kit.news_links[ki]
        url = news[int(rnd() * 2)] if crisis.news_path and rnd() < 0.12 else ""
        return self._compose_root(
            t, person, comm, lk, pick(pool, rnd), "crisis", bi, url, forced=forced,
            crisis=ki, boost=1.5,
        )  # fmt: skip

    def _reshare(self, t: float) -> Post | None:
        rnd = self.rnd
        post, author, cat, brands, ci, crisis = self.recent[int(rnd() * len(self.recent))]
        if post.created_at.timestamp() >= t - 60.0:
            return None
        comm = self.pop.communities[ci]
        person = comm.pick(rnd()) if rnd() < comm.spec.cohesion else self._pool_pick(post.network)
        if person is author:
            return None
        net = post.network
        bl = list(brands)
        if net == "twitter":
            text = f"RT {author.mention}: {post.text}"
            ments = [author.key] + [m for m in post.mentions if m != author.key]
            if author.brand >= 0 and author.brand not in bl:
                bl.append(author.brand)
        else:
            text = post.text
            ments = list(post.mentions)
        label = self._label("reshare", cat, bl, comm, -1, crisis)
        new = self._post(t, person, comm, text, post.lang or comm.spec.lang, ments,
                         list(post.hashtags), list(post.links), None, None, 0.0, label)  # fmt: skip
        new.reshare_of = post.id
        new.likes = new.reshares = new.replies = 0
        new.views = None
        return new

    def _quote(self, t: float) -> Post | None:
        rnd = self.rnd
        post, author, _, _, ci, crisis = self.recent[int(rnd() * len(self.recent))]
        net = post.network
        if net == "mastodon" or post.created_at.timestamp() >= t - 60.0:
            return None
        comm = self.pop.communities[ci]
        person = comm.pick(rnd()) if rnd() < comm.spec.cohesion else self._pool_pick(net)
        if person is author:
            return None
        lk = self.langs[post.lang or comm.spec.lang]
        ments: list[str] = []
        tags: list[str] = []
        bl: list[int] = []
        body = self.comp.fill(pick(lk.cats["quote"], rnd), lk, -1, net, ments, tags, bl)
        text = self.comp.decorate(body, person, comm, "neutral", ments, tags, [], 0.15, 0.25)
        links: list[str] = []
        if net == "twitter" and post.url:
            text = f"{text} {post.url}"
            links.append(post.url)
            if author.brand >= 0 and self.kit.brands[author.brand].name_in_handle:
                bl.append(author.brand)
        label = self._label("quote", "quote", bl, comm, -1, crisis)
        new = self._post(t, person, comm, text, lk.code, ments, tags, links, None, None, 1.0, label)
        new.quote_of = post.id
        self._after(new, person, t, "quote", bl, ci, crisis, 0)
        return new

    def _pool_pick(self, network: str) -> Person:
        return self.pop.pools[network].pick(self.rnd())

    # -- replies ---------------------------------------------------------------------------

    def _event(self, ev: Event, t: float) -> Post:
        _, _, kind, parent, pperson, depth, pcat, brands, ci, who, crisis = ev
        rnd = self.rnd
        net = parent.network
        comm = self.pop.communities[ci]
        if who is None:
            who = comm.pick(rnd()) if rnd() < comm.spec.cohesion else self._pool_pick(net)
            if who is pperson:
                who = self._pool_pick(net)
        bi = pperson.brand if pperson.brand >= 0 else (brands[0] if brands else -1)
        if kind == BRAND:
            cat = BRAND_REPLY_CAT.get(pcat, "br_question")
            bi = who.brand
        elif kind == FOLLOW:
            cat = "fu_unhappy" if rnd() < UNHAPPY.get(pcat, 0.12) else "fu_thanks"
        else:
            cum, cats = self.reply_mix.get(pcat, self.chat_mix)
            cat = cats[bisect(cum, rnd() * cum[-1])]
        lk = self.langs.get(parent.lang or "", None) or self.langs[comm.spec.lang]
        ments: list[str] = []
        tags: list[str] = []
        bl: list[int] = []
        prefix = ""
        if net in MENTIONING and pperson.mention and pperson is not who:
            prefix = pperson.mention + " "
            ments.append(pperson.key)
            if pperson.brand >= 0:
                bl.append(pperson.brand)
        tpl = pick(lk.cats[cat], rnd, 0.005 if kind == BRAND else TYPO_RATE)
        body = self.comp.fill(tpl, lk, bi, net, ments, tags, bl)
        links: list[str] = []
        sentiment = CAT_INFO[cat][1]
        if kind == BRAND:
            bk = self.kit.brands[who.brand]
            if cat in ("br_support", "br_complaint", "br_crisis") and rnd() < 0.35:
                link = bk.help_links[int(rnd() * len(bk.help_links))]
                body = f"{body} {link}"
                links.append(link)
                if who.brand not in bl:
                    bl.append(who.brand)
            if who.brand == 0 and net == "twitter" and rnd() < 0.5:
                body = f"{body} ^{'ABCDEHJKLMNPRST'[int(rnd() * 15)]}{'AEKLMNRST'[int(rnd() * 9)]}"
            text = prefix + body
        elif net == REDDIT:
            text = body
        else:
            text = prefix + self.comp.decorate(
                body, who, comm, sentiment, ments, tags, [], 0.08, 0.25
            )
        ekind = "brand_reply" if kind == BRAND else "reply"
        label = self._label(ekind, cat, bl, comm, -1, crisis)
        post = self._post(
            t, who, comm, text, lk.code, ments, tags, links, parent, pperson, 0.3, label
        )
        self._after_reply(post, who, pperson, t, kind, pcat, cat, bl, ci, crisis, depth)
        return post

    def _after_reply(
        self,
        post: Post,
        who: Person,
        pperson: Person,
        t: float,
        kind: int,
        pcat: str,
        cat: str,
        brands: list[int],
        ci: int,
        crisis: int,
        depth: int,
    ) -> None:
        rnd = self.rnd
        heap = self.heap
        bt = tuple(brands)
        if kind == BRAND:
            # the customer may come back: thanks, or still unhappy
            if pperson.brand < 0 and rnd() < (0.4 if crisis >= 0 else 0.3):
                delay = 300.0 + rnd() * rnd() * 14400.0
                heappush(heap, (t + delay, self.seq, FOLLOW, post, who, depth + 1, pcat, bt, ci,
                                pperson, crisis))  # fmt: skip
                self.seq += 1
                post.replies = 1
            return
        if kind == FOLLOW:
            if cat == "fu_unhappy":
                self._after(post, who, t, "fu_unhappy", brands, ci, crisis, depth)
            return
        if depth + 1 < len(CHILD_P) and rnd() < CHILD_P[depth]:
            back = pperson if pperson.brand < 0 and rnd() < 0.6 else None
            delay = self.child_delay[int(rnd() * QUANTILES)]
            heappush(heap, (t + delay, self.seq, REPLY, post, who, depth + 1, cat,
                            bt, ci, back, crisis))  # fmt: skip
            self.seq += 1
            post.replies = 1
        if cat in ("same", "question", "complaint") and brands:
            replies = post.replies or 0
            self._after(post, who, t, cat, brands, ci, crisis, depth)
            post.replies = (post.replies or 0) + replies

    # -- the stream ------------------------------------------------------------------------

    def run(self) -> Iterator[Post]:
        """Yield the ``n`` posts in ``created_at`` order."""
        n = self.n
        rnd = self.rnd
        tl = self.timeline
        cum, weight, total, start = tl.cum, tl.weight, tl.total, tl.start_ts
        last = tl.hours - 1
        heap = self.heap
        y = 1.0
        h = 0
        for k in range(n):
            y *= (1.0 - rnd()) ** (1.0 / (n - k))
            w = (1.0 - y) * total
            while h < last and cum[h + 1] <= w:
                h += 1
            t = start + (h + (w - cum[h]) / weight[h]) * 3600.0
            if heap and heap[0][0] <= t:
                yield self._event(heappop(heap), t)
            else:
                yield self._root(t, h)
