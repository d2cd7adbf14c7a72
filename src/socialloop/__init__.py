"""socialloop: close the Social Feedback Cycle (listen, learn, engage, adapt) for a brand team."""

from __future__ import annotations

__version__ = "0.1.0"
