"""Push intake: store a payload someone sent (the body of ``POST /api/ingest``).

``ingest_payload(workspace, body, filename_hint=..., fmt=...)`` accepts every format
``socialloop import`` reads (JSONL, JSON arrays and API pages, CSV / TSV, gzip / bzip2 / xz,
the platform exports): the body is written to a private temporary file named after the hint
(its extension helps detection) and imported through the importer, so the same upsert, brand
matching, rejects file and run record apply; the posts written are then handed to
``listen.live.after_ingest`` (enrichment, triage) unless ``enrich=False``.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from socialloop.errors import ImportFormatError
from socialloop.listen.importer import ImportReport, import_files
from socialloop.store.schema import posts
from socialloop.workspace import Workspace

__all__ = ["IngestResult", "ingest_payload"]

MAX_BODY_BYTES = 256 * 1024 * 1024
"""Largest body accepted (the web route should refuse larger ones before reading them)."""
_SAFE_RE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(slots=True)
class IngestResult:
    """The outcome of one push: the import run's figures and the pks of the posts written."""

    run_id: int
    status: str
    format: str | None
    read: int
    new: int
    updated: int
    unchanged: int
    rejected: int
    rejects_path: str | None
    error: str | None = None
    first_rejects: list[str] = field(default_factory=list)
    post_pks: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "format": self.format,
            "read": self.read,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejects_path": self.rejects_path,
            "error": self.error,
            "first_rejects": list(self.first_rejects),
        }


def _name(hint: str | None) -> str:
    base = Path(hint).name if hint else ""
    base = _SAFE_RE.sub("_", base).strip("._")[:100]
    return base or "payload"


def _written(ws: Workspace, run_id: int) -> list[int]:
    with ws.store.begin() as conn:
        rows = conn.execute(select(posts.c.pk).where(posts.c.import_run_id == run_id))
        return [int(r.pk) for r in rows]


def ingest_payload(
    workspace: Workspace,
    body: bytes,
    *,
    filename_hint: str | None,
    fmt: str = "auto",
    source: str | None = "push",
    enrich: bool = True,
) -> IngestResult:
    """Import ``body`` (see the module docs). ``ImportFormatError`` when it is empty or too
    large; when no record could be read the result's ``status`` is ``failed`` and ``error`` /
    ``first_rejects`` say why."""
    if not body:
        raise ImportFormatError("the payload is empty")
    if len(body) > MAX_BODY_BYTES:
        raise ImportFormatError(
            f"the payload is {len(body):,} bytes; the limit is {MAX_BODY_BYTES:,}"
        )
    with tempfile.TemporaryDirectory(prefix="socialloop-ingest-") as tmp:
        path = Path(tmp) / _name(filename_hint)
        path.write_bytes(body)
        report: ImportReport = import_files(workspace, [path], fmt=fmt, source=source)
    file = report.files[0] if report.files else None
    result = IngestResult(
        run_id=report.run_id,
        status=report.status,
        format=file.format if file else None,
        read=report.read,
        new=report.new,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=report.rejected,
        rejects_path=report.rejects_path,
        # the server's temporary path is no business of the sender: name the payload instead
        error=file.error.replace(str(path), _name(filename_hint)) if file and file.error else None,
        first_rejects=[r.replace(str(path), _name(filename_hint)) for r in report.first_rejects],
    )
    if report.read == 0:
        return result  # status "failed": nothing readable; error / first_rejects say why
    result.post_pks = _written(workspace, report.run_id)
    if enrich and result.post_pks:
        from socialloop.listen.live import after_ingest

        after_ingest(workspace, result.post_pks)
    return result
