"""ADAPT: turn what was heard into decisions: exports (``export``), metrics (``metrics``),
spikes and alerts (``spikes``, ``alerts``), perception gap, brand alignment, content roadmap,
touch points and return on experience, and the report (``report``, ``report_html``).
See docs/reports.md. Modules are imported on use (no heavy imports here)."""
