"""Impressions (the lists the API served) and what users did with the films they showed: writing them in batches,
attributing a click or a mark to the impression that showed the film, and reading one experiment's outcomes for
the online report (online/experiments.py).

    write_impressions(connection, batch)                 # the batched writer's one transaction (online/impressions.py)
    shown = find_shown(session, impression_id, movie_id)  # was the film in that list? at which position?
    record_event(session, shown, "click")
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from movie_genie.db.models import IMPRESSION_EVENT_KINDS, Impression, ImpressionEvent, utcnow


@dataclass(frozen=True)
class NewImpression:
    """An impression to store: `items` are (movie id, contributing team or None) in the order shown."""

    id: str
    request_id: str
    user_id: int
    surface: str
    model: str | None
    model_version: str | None
    experiment: str | None
    variant: str | None
    created_at: datetime
    items: tuple[tuple[int, str | None], ...]


@dataclass(frozen=True)
class Shown:
    """A film an impression showed: where (1-based position) and, in an interleaved list, which team put it there."""

    impression_id: str
    user_id: int
    movie_id: int
    position: int
    team: str | None


@dataclass(frozen=True)
class Outcome:
    """One impression of an experiment and what followed it: the best (smallest) clicked position, the number of
    clicks, whether a film of it was rated, and the team of each clicked position (interleaving)."""

    impression_id: str
    user_id: int
    variant: str | None
    first_click: int | None
    clicks: int
    rated: bool
    clicked_teams: tuple[str, ...]


# The newest impressions of a user searched for a film when a mark names no impression.
RECENT_IMPRESSIONS = 500


def write_impressions(connection: Connection, batch: Sequence[NewImpression]) -> None:
    """Insert a batch of impressions (one multi-row insert, a row per list); the caller commits."""
    if not batch:
        return
    connection.execute(
        insert(Impression),
        [
            {
                "id": i.id,
                "request_id": i.request_id,
                "user_id": i.user_id,
                "surface": i.surface,
                "model": i.model,
                "model_version": i.model_version,
                "experiment": i.experiment,
                "variant": i.variant,
                "movie_ids": [movie_id for movie_id, _ in i.items],
                "teams": [team for _, team in i.items] if any(team for _, team in i.items) else None,
                "created_at": i.created_at,
            }
            for i in batch
        ],
    )


def impression_user(session: Session, impression_id: str) -> int | None:
    """The user an impression was shown to (None: no such impression)."""
    return session.execute(select(Impression.user_id).where(Impression.id == impression_id)).scalar_one_or_none()


def _shown(
    impression_id: str, user_id: int, movie_ids: list[int], teams: list[str] | None, movie_id: int
) -> Shown | None:
    if int(movie_id) not in movie_ids:
        return None
    index = movie_ids.index(int(movie_id))
    return Shown(impression_id, int(user_id), int(movie_id), index + 1, teams[index] if teams else None)


def find_shown(session: Session, impression_id: str, movie_id: int) -> Shown | None:
    """The film in that impression (its position), or None when the impression did not show it."""
    row = session.execute(
        select(Impression.user_id, Impression.movie_ids, Impression.teams).where(Impression.id == impression_id)
    ).first()
    return None if row is None else _shown(impression_id, row.user_id, row.movie_ids, row.teams, movie_id)


def latest_shown(session: Session, user_id: int, movie_id: int, since: datetime) -> Shown | None:
    """The user's newest impression since `since` that showed the film (among their newest RECENT_IMPRESSIONS)."""
    rows = session.execute(
        select(Impression.id, Impression.movie_ids, Impression.teams)
        .where(Impression.user_id == int(user_id), Impression.created_at >= since)
        .order_by(Impression.created_at.desc())
        .limit(RECENT_IMPRESSIONS)
    )
    for row in rows:
        shown = _shown(str(row.id), user_id, row.movie_ids, row.teams, movie_id)
        if shown is not None:
            return shown
    return None


def record_event(session: Session, shown: Shown, kind: str, value: float | None = None) -> int:
    """Store a click or a mark attributed to the impression that showed the film and commit; the event's id."""
    if kind not in IMPRESSION_EVENT_KINDS:
        raise ValueError(f"unknown impression event kind {kind!r}: use one of {', '.join(IMPRESSION_EVENT_KINDS)}")
    event = ImpressionEvent(
        impression_id=shown.impression_id,
        movie_id=shown.movie_id,
        position=shown.position,
        team=shown.team,
        kind=kind,
        value=value,
        created_at=utcnow(),
    )
    session.add(event)
    session.commit()
    return int(event.id)


def list_events(session: Session, impression_id: str) -> list[tuple[str, int, int, float | None]]:
    """An impression's events in order: (kind, movie id, position, value)."""
    rows = session.execute(
        select(ImpressionEvent.kind, ImpressionEvent.movie_id, ImpressionEvent.position, ImpressionEvent.value)
        .where(ImpressionEvent.impression_id == impression_id)
        .order_by(ImpressionEvent.id)
    ).all()
    return [(r.kind, int(r.movie_id), int(r.position), r.value) for r in rows]


def experiment_outcomes(session: Session, experiment: str) -> list[Outcome]:
    """Every impression of the experiment with what followed it (three grouped queries, joined here)."""
    impressions = session.execute(
        select(Impression.id, Impression.user_id, Impression.variant)
        .where(Impression.experiment == experiment)
        .order_by(Impression.created_at, Impression.id)
    ).all()
    ids = select(Impression.id).where(Impression.experiment == experiment).scalar_subquery()
    clicks = {
        r.impression_id: (int(r.first), int(r.n))
        for r in session.execute(
            select(
                ImpressionEvent.impression_id,
                func.min(ImpressionEvent.position).label("first"),
                func.count().label("n"),
            )
            .where(ImpressionEvent.kind == "click", ImpressionEvent.impression_id.in_(ids))
            .group_by(ImpressionEvent.impression_id)
        )
    }
    rated = set(
        session.execute(
            select(ImpressionEvent.impression_id)
            .where(ImpressionEvent.kind == "rating", ImpressionEvent.impression_id.in_(ids))
            .distinct()
        ).scalars()
    )
    teams: dict[str, list[str]] = defaultdict(list)
    for r in session.execute(
        select(ImpressionEvent.impression_id, ImpressionEvent.team)
        .where(
            ImpressionEvent.kind == "click", ImpressionEvent.impression_id.in_(ids), ImpressionEvent.team.is_not(None)
        )
        .order_by(ImpressionEvent.id)
    ):
        teams[r.impression_id].append(str(r.team))
    return [
        Outcome(
            impression_id=str(i.id),
            user_id=int(i.user_id),
            variant=i.variant,
            first_click=clicks[i.id][0] if i.id in clicks else None,
            clicks=clicks[i.id][1] if i.id in clicks else 0,
            rated=i.id in rated,
            clicked_teams=tuple(teams.get(i.id, ())),
        )
        for i in impressions
    ]
