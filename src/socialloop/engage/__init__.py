"""ENGAGE: the team's inbox. Triage rules let posts in (``triage``), each with an explainable
priority (``priority``) and an SLA due time (``sla``); agents work them through a workflow
(``inbox``, ``agents``), answer with saved replies and approvals (``replies``), publish back
(``publish``) and the team's response times are measured (``analytics``). Every action goes to
the audit log (``audit``).

Entry points: :func:`socialloop.engage.triage.triage_posts` (run after enrichment) and the
:class:`socialloop.engage.inbox.Inbox` object.
"""
