"""Impression logging: every list the API serves is queued as an impression and written in batches by a background
thread of the worker process, so a request only pays for building a small record and appending it to a list.

- The impression id is a UUID made here when the answer is built; the answer carries it (`meta.impression_id`,
  `meta.impression_ids` of the home rows) so the web app can attribute a click to it.
- The thread writes what is queued every `serving.impression_flush_ms`, or at once when `impression_batch` are
  waiting, in one transaction. A failed write is logged and counted; it never reaches a request. At shutdown
  (atexit, which gunicorn's workers run) it writes what is left.
- A click or a mark looks the impression up in the database; it first writes this worker's queue, so an impression
  served by this worker a moment ago is found. One served by another worker is found after that worker's next
  flush (a fraction of a second): in practice a person takes longer to click.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import threading
import uuid
from collections.abc import Sequence

from flask import g, request
from prometheus_client import Counter
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from movie_genie.db.impressions import NewImpression, write_impressions
from movie_genie.db.models import utcnow

log = logging.getLogger(__name__)

IMPRESSIONS = Counter(
    "movie_genie_impressions_total",
    "Impressions by what became of them: written, failed (a batch write failed) or dropped (the queue was full).",
    ["outcome"],
)
_REQUEST_ID = re.compile(r"^[!-~]{1,64}$")


def request_id() -> str:
    """The request's id: the client's X-Request-Id when it is printable ASCII of at most 64 characters, else a new
    one; the same for every impression of the request (and sent back in X-Request-Id)."""
    found = g.get("request_id")
    if found is None:
        given = request.headers.get("X-Request-Id", "")
        found = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        g.request_id = found
    return str(found)


class ImpressionWriter:
    """A queue of impressions and the thread (one per process, started on first use) that writes it in batches."""

    def __init__(self, engine: Engine, flush_ms: int, batch: int, queue_max: int) -> None:
        self.engine, self.flush_s, self.batch, self.queue_max = engine, flush_ms / 1000, batch, queue_max
        self._queue: list[NewImpression] = []
        self._lock = threading.Lock()  # guards the queue
        self._flush_lock = threading.Lock()  # one write at a time, so batches land in order
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._closed = False
        self.written = self.failed = self.dropped = 0

    def enqueue(self, impression: NewImpression) -> None:
        """Queue one impression (dropped and counted when the queue is full); never touches the database."""
        with self._lock:
            if len(self._queue) >= self.queue_max:
                self.dropped += 1
                IMPRESSIONS.labels(outcome="dropped").inc()
                return
            self._queue.append(impression)
            waiting = len(self._queue)
        self._ensure_thread()
        if waiting >= self.batch:
            self._wake.set()

    def pending(self) -> int:
        """How many impressions wait to be written."""
        with self._lock:
            return len(self._queue)

    def flush(self) -> int:
        """Write everything queued in one transaction; the number written.

        A failed batch is not lost with its first bad row: it is written again one impression at a time, and only
        the impressions the database refuses (a user deleted meanwhile, ...) are dropped, logged and counted. When
        the database cannot be reached at all (OperationalError: down, locked past the busy timeout), what is left
        goes back to the front of the queue for the next flush, within `queue_max`."""
        with self._flush_lock:
            with self._lock:
                batch, self._queue = self._queue, []
            if not batch:
                return 0
            try:
                self._write(batch)
                written = len(batch)
            except OperationalError:
                self._requeue(batch)
                written = 0
            except Exception:  # a log write must never take a request or the thread down
                written = self._one_by_one(batch)
            self.written += written
            IMPRESSIONS.labels(outcome="written").inc(written)
            return written

    def _write(self, batch: list[NewImpression]) -> None:
        with self.engine.begin() as connection:
            write_impressions(connection, batch)

    def _one_by_one(self, batch: list[NewImpression]) -> int:
        written = 0
        for position, impression in enumerate(batch):
            try:
                self._write([impression])
                written += 1
            except OperationalError:
                self._requeue(batch[position:])
                break
            except Exception:
                self.failed += 1
                IMPRESSIONS.labels(outcome="failed").inc()
                log.exception("writing impression %s of user %d failed; it is lost", impression.id, impression.user_id)
        return written

    def _requeue(self, batch: list[NewImpression]) -> None:
        """Put unwritten impressions back in front of the queue (the newest beyond `queue_max` are dropped)."""
        with self._lock:
            self._queue = batch + self._queue
            overflow = len(self._queue) - self.queue_max
            if overflow > 0:
                self._queue = self._queue[: self.queue_max]
                self.dropped += overflow
                IMPRESSIONS.labels(outcome="dropped").inc(overflow)
        log.warning("the database is unavailable: %d impressions wait for the next flush", len(batch))

    def close(self) -> None:
        """Stop the thread and write what is left (called at exit)."""
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=10)
        self.flush()

    def _ensure_thread(self) -> None:
        # Per process: a thread does not survive a fork, so a forked worker starts its own.
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            first = self._pid != os.getpid()
            self._pid = os.getpid()
            self._closed = False
            self._thread = threading.Thread(target=self._run, name="impression-writer", daemon=True)
            self._thread.start()
        if first:
            atexit.register(self.close)

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_s)
            self._wake.clear()
            self.flush()


class ImpressionLog:
    """What the routes call: record a served list (queued, id returned) and make sure queued ones are stored."""

    def __init__(self, writer: ImpressionWriter | None) -> None:
        self.writer = writer

    @property
    def enabled(self) -> bool:
        """Whether served lists are logged (serving.log_impressions)."""
        return self.writer is not None

    def record(
        self,
        user_id: int,
        surface: str,
        movie_ids: Sequence[int],
        *,
        model: str | None,
        model_version: str | None,
        teams: Sequence[str | None] | None = None,
        experiment: str | None = None,
        variant: str | None = None,
    ) -> str | None:
        """Queue the impression of a served list; its id (None when logging is off or the list is empty)."""
        if self.writer is None or not movie_ids:
            return None
        impression = NewImpression(
            id=uuid.uuid4().hex,
            request_id=request_id(),
            user_id=int(user_id),
            surface=surface,
            model=model,
            model_version=model_version,
            experiment=experiment,
            variant=variant,
            created_at=utcnow(),
            items=tuple(zip((int(m) for m in movie_ids), teams or [None] * len(movie_ids), strict=True)),
        )
        self.writer.enqueue(impression)
        return impression.id

    def settle(self) -> None:
        """Write this worker's queued impressions now (before a click or a mark looks one up)."""
        if self.writer is not None and self.writer.pending():
            self.writer.flush()
