"""Registering the curriculum's tracks and modules in the database.

Ids never change: a module is matched by its slug, an edit gives it a new revision, and a
module whose file is gone is archived (its learners' progress and history stay).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from lms import db
from lms.curriculum import content
from lms.curriculum.service import ensure_revision
from lms.models import Module, ModuleRevision, Track


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    revised: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [
            f"{len(items)} {label}" + (f" ({', '.join(items)})" if items else "")
            for label, items in [
                ("added", self.added),
                ("revised", self.revised),
                ("archived", self.archived),
                ("restored", self.restored),
            ]
        ]
        return "; ".join(parts)


def _module_files_present(root: Path) -> set[str]:
    """Slugs that still have an original file, valid or not (a broken file is not a removal)."""
    return {path.stem for path in root.glob("*/*.md") if "." not in path.stem}


def _sync_tracks(session: Session, curriculum: content.Curriculum, root: Path, now: datetime) -> dict[str, Track]:
    rows = {track.slug: track for track in session.scalars(sa.select(Track))}
    for item in curriculum.ordered_tracks():
        row = rows.get(item.slug)
        if row is None:
            row = rows[item.slug] = Track(slug=item.slug, title=item.title, position=item.position)
            session.add(row)
        row.title, row.position, row.archived_at = item.title, item.position, None
    folders = {path.name for path in root.iterdir() if path.is_dir()} if root.is_dir() else set()
    for slug, row in rows.items():
        if slug not in curriculum.tracks and slug not in folders and row.archived_at is None:
            row.archived_at = now
    session.flush()
    return rows


def sync_curriculum(session: Session, curriculum: content.Curriculum, root: Path) -> SyncReport:
    """Make the registry match ``curriculum`` (flushes; the caller commits)."""
    report = SyncReport()
    now = db.utcnow()
    tracks = _sync_tracks(session, curriculum, root, now)
    rows = {module.slug: module for module in session.scalars(sa.select(Module))}
    for track in curriculum.ordered_tracks():
        for position, item in enumerate(curriculum.track_modules(track)):
            row = rows.get(item.slug)
            fields = {
                "track_id": tracks[track.slug].id,
                "title": item.original.title,
                "position": position,
                "audience": ",".join(item.audience),
                "estimated_minutes": item.estimated_minutes,
                "version": item.version,
                "content_hash": item.content_hash,
            }
            if row is None:
                row = rows[item.slug] = Module(slug=item.slug, revision=1, **fields)
                session.add(row)
                session.flush()
                session.add(
                    ModuleRevision(module_id=row.id, number=1, version=item.version, content_hash=item.content_hash)
                )
                report.added.append(item.slug)
                continue
            if row.archived_at is not None:
                row.archived_at = None
                report.restored.append(item.slug)
            if row.content_hash != item.content_hash:
                ensure_revision(session, row, item)
                report.revised.append(item.slug)
            for name, value in fields.items():
                setattr(row, name, value)
    present = _module_files_present(root)
    for slug, row in rows.items():
        if slug not in curriculum.modules and slug not in present and row.archived_at is None:
            row.archived_at = now
            report.archived.append(slug)
    session.flush()
    return report
