"""Conversations: threads rebuilt from reply chains, response analytics (how fast does an
account answer the people who address it), and a brand's advocates and detractors."""

from socialloop.conversations.advocates import Advocate, Evidence, find_advocates
from socialloop.conversations.responses import ResponseStats, response_times
from socialloop.conversations.threads import Thread, ThreadNode, load_thread

__all__ = [
    "Advocate",
    "Evidence",
    "ResponseStats",
    "Thread",
    "ThreadNode",
    "find_advocates",
    "load_thread",
    "response_times",
]
