"""Fixed-window rate limits kept in the database, so every server process counts together.

Used on public pages (certificate verification) that anyone can call without logging in.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lms import db
from lms.models import RateCounter


def hit(key: str, *, limit: int, window_seconds: int = 60) -> bool:
    """Count one request for ``key``; False when it is over ``limit`` in this window.

    Runs in a short write transaction of its own (the page itself only reads).
    """
    window = int(time.time()) // window_seconds
    allowed = True

    def count(session: Session) -> None:
        nonlocal allowed
        dialect = session.get_bind().dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(RateCounter)
        hits = session.scalar(
            insert.values(key=key[:120], window=window, hits=1)
            .on_conflict_do_update(index_elements=["key", "window"], set_={"hits": RateCounter.hits + 1})
            .returning(RateCounter.hits)
        )
        # Forget finished windows now and then (about once in 50 requests).
        if hits is not None and hits % 50 == 1:
            session.execute(sa.delete(RateCounter).where(RateCounter.window < window - 1))
        allowed = (hits or 0) <= limit

    db.write_separately(count)
    return allowed
