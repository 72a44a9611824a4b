"""Impressions on both backends: the batched writer, attribution look-ups and an experiment's outcomes."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, delete, func, select
from sqlalchemy.orm import Session

from movie_genie.db import impressions as impr
from movie_genie.db.engine import make_session_factory
from movie_genie.db.models import Impression, ImpressionEvent, utcnow
from movie_genie.online.impressions import ImpressionWriter


def _new(user_id: int, movies: list[int], *, experiment: str | None = None, variant: str | None = None,
         teams: list[str | None] | None = None, age: timedelta = timedelta()) -> impr.NewImpression:  # fmt: skip
    return impr.NewImpression(
        id=uuid.uuid4().hex,
        request_id="req",
        user_id=user_id,
        surface="recommendations",
        model="ease",
        model_version="v1",
        experiment=experiment,
        variant=variant,
        created_at=utcnow() - age,
        items=tuple(zip(movies, teams or [None] * len(movies), strict=True)),
    )


@pytest.fixture
def clean(engine: Engine) -> Iterator[Engine]:
    """The loaded database; impressions written by the test are removed afterwards."""
    yield engine
    with engine.begin() as connection:
        connection.execute(delete(Impression))


def _count(engine: Engine, table: type) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_writer_flushes_in_batches_from_its_thread_and_at_close(clean: Engine) -> None:
    writer = ImpressionWriter(clean, flush_ms=60_000, batch=3, queue_max=100)  # only the batch size wakes it
    for user in (1, 2, 3):
        writer.enqueue(_new(user, [10, 20, 30]))
    deadline = time.monotonic() + 10
    while _count(clean, Impression) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _count(clean, Impression) == 3
    with make_session_factory(clean)() as session:
        stored = session.execute(select(Impression.movie_ids, Impression.teams)).all()
    assert [(list(m), t) for m, t in stored] == [([10, 20, 30], None)] * 3
    writer.enqueue(_new(4, [40]))
    assert writer.pending() == 1  # below the batch size: waits for the timer (a minute here)
    writer.close()  # shutdown writes what is left
    assert writer.pending() == 0 and writer.written == 4 and _count(clean, Impression) == 4


def test_a_bad_impression_is_dropped_alone_and_the_writer_goes_on(
    clean: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    writer = ImpressionWriter(clean, flush_ms=60_000, batch=1000, queue_max=3)
    writer.enqueue(_new(1, [1]))
    writer.enqueue(_new(999_999, [1]))  # no such user: the foreign key refuses it, and with it the batch
    writer.enqueue(_new(2, [1]))
    with caplog.at_level(logging.ERROR, logger="movie_genie.online.impressions"):
        assert writer.flush() == 2  # the batch is retried one by one: only the bad impression is lost
    assert (writer.failed, _count(clean, Impression)) == (1, 2) and "user 999999 failed" in caplog.text
    for movie in (1, 2, 3, 4):
        writer.enqueue(_new(1, [movie]))  # the queue holds 3: the fourth is dropped, not blocking
    assert writer.dropped == 1
    assert writer.flush() == 3 and _count(clean, Impression) == 5


def test_impressions_wait_while_the_database_is_unreachable(clean: Engine, tmp_path: Path) -> None:
    unreachable = create_engine(f"sqlite:///{tmp_path / 'missing' / 'no.db'}")  # its folder does not exist
    writer = ImpressionWriter(unreachable, flush_ms=60_000, batch=1000, queue_max=10)
    writer.enqueue(_new(1, [1]))
    writer.enqueue(_new(2, [2]))
    assert writer.flush() == 0 and writer.pending() == 2 and writer.failed == 0  # kept for the next flush
    writer.engine = clean  # the database is back
    assert writer.flush() == 2 and _count(clean, Impression) == 2


def test_attribution_look_ups(clean: Engine) -> None:
    old = _new(5, [100, 200], age=timedelta(days=3))
    recent = _new(5, [300, 200, 400], teams=["ease", "popularity", "ease"])
    other_user = _new(6, [200])
    with clean.begin() as connection:
        impr.write_impressions(connection, [old, recent, other_user])
    with make_session_factory(clean)() as session:
        assert impr.impression_user(session, recent.id) == 5
        assert impr.impression_user(session, uuid.uuid4().hex) is None
        shown = impr.find_shown(session, recent.id, 200)
        assert shown == impr.Shown(recent.id, 5, 200, 2, "popularity")
        assert impr.find_shown(session, recent.id, 100) is None
        # The newest impression of this user that showed the film, within the window only.
        latest = impr.latest_shown(session, 5, 200, utcnow() - timedelta(days=7))
        assert latest is not None and latest.impression_id == recent.id
        assert impr.latest_shown(session, 5, 100, utcnow() - timedelta(days=1)) is None
        assert impr.latest_shown(session, 7, 200, utcnow() - timedelta(days=7)) is None
        impr.record_event(session, shown, "click")
        impr.record_event(session, shown, "rating", 4.5)
        assert impr.list_events(session, recent.id) == [("click", 200, 2, None), ("rating", 200, 2, 4.5)]


def test_experiment_outcomes(clean: Engine) -> None:
    shown = _new(1, [10, 20, 30], experiment="exp", variant="ease")
    unseen = _new(2, [10, 20], experiment="exp", variant="popularity")
    interleaved = _new(3, [10, 20], experiment="exp", variant="interleaved", teams=["ease", "popularity"])
    elsewhere = _new(1, [10], experiment="another", variant="ease")
    with clean.begin() as connection:
        impr.write_impressions(connection, [shown, unseen, interleaved, elsewhere])
    session: Session
    with make_session_factory(clean)() as session:
        for movie in (30, 20):
            found = impr.find_shown(session, shown.id, movie)
            assert found is not None
            impr.record_event(session, found, "click")
        found = impr.find_shown(session, shown.id, 10)
        assert found is not None
        impr.record_event(session, found, "rating", 3.0)
        found = impr.find_shown(session, interleaved.id, 20)
        assert found is not None
        impr.record_event(session, found, "click")
        outcomes = {o.impression_id: o for o in impr.experiment_outcomes(session, "exp")}
    assert set(outcomes) == {shown.id, unseen.id, interleaved.id}
    assert (outcomes[shown.id].first_click, outcomes[shown.id].clicks, outcomes[shown.id].rated) == (2, 2, True)
    assert (outcomes[unseen.id].first_click, outcomes[unseen.id].clicks, outcomes[unseen.id].rated) == (None, 0, False)
    assert outcomes[interleaved.id].clicked_teams == ("popularity",)
    assert _count(clean, ImpressionEvent) == 4
