"""Users: the user list, profiles, their ratings (a page, or all of them as a MovieLens ratings.csv), people with
similar taste, cold-start creation (a new user's likes stored as feedback, then recommendations from those likes at
once), finding the profile a key belongs to, and deleting a profile made in the app."""

from __future__ import annotations

import csv
import io
from typing import Any, TypeVar

from movie_genie.api import schemas as s
from movie_genie.api.errors import ApiError, ResourceNotFoundError
from movie_genie.api.metrics import time_inference
from movie_genie.api.schemas.users import TASTE
from movie_genie.api.services.catalogue import Catalogue
from movie_genie.api.services.database import Database
from movie_genie.api.services.recommendations import RecommendationService
from movie_genie.api.services.rows import from_record
from movie_genie.db import profiles
from movie_genie.db.feedback import user_history
from movie_genie.db.user_stats import TasteProfile
from movie_genie.db.users import (
    UserDetail,
    UserSummary,
    create_user,
    get_user,
    list_users,
    taste_neighbours,
    user_ratings,
    users_by_id,
)
from movie_genie.models.base import SimilarUser, SimilarUsers
from movie_genie.models.catalogue import CATALOGUE

NEW_USER_NAME = "New viewer"
# MovieLens' ratings.csv header (ml-latest, ml-25m, ...): the export reads back with any MovieLens reader.
RATINGS_CSV_HEADER = ("userId", "movieId", "rating", "timestamp")


class DataSetProfileError(ApiError):
    """A MovieLens profile cannot be deleted (`db load` owns it): 403."""

    status = 403
    code = "data_set_profile"


# What anyone may see of a profile created in the app that is not theirs: that it exists (and, on its page, since
# when: `created_at` is required of every profile, and says nothing of its taste or activity).
PUBLIC_FIELDS = frozenset({"user_id", "display_name", "source", "created_at"})
SummaryT = TypeVar("SummaryT", bound=s.UserSummary)


def private_view(user: SummaryT) -> SummaryT:
    """A profile created in the app as someone other than its owner sees it: its id, name and source, every other
    field at its empty default (no counts, taste, favourites or activity), `private` set."""
    hidden = {
        name: field.get_default(call_default_factory=True)
        for name, field in type(user).model_fields.items()
        if name not in PUBLIC_FIELDS
    }
    return user.model_copy(update={**hidden, "private": True})


# A new user's first recommendations come from the best model that is loaded.


class UserService:
    """The user list, profiles and cold-start creation."""

    RECENT = 20

    def __init__(self, db: Database, catalogue: Catalogue, recommendations: RecommendationService) -> None:
        self.db, self.catalogue, self.recommendations = db, catalogue, recommendations

    def list_users(self, q: str | None, page: int, page_size: int) -> tuple[list[s.UserSummary], int]:
        """A page of users with their stats."""
        with self.db.session() as session:
            result = list_users(session, page=page, per_page=page_size, query=q)
        return [self._summary(u) for u in result.items], result.total

    def _summary(self, user: UserSummary) -> s.UserSummary:
        """A user as the picker shows them: distinctive taste, favourite films, activity."""
        return from_record(s.UserSummary, user, **self._profile(user.profile))

    def _profile(self, profile: TasteProfile) -> dict[str, Any]:
        favourites = [self.catalogue.movies[m] for m in profile.favourite_ids if m in self.catalogue.movies]
        return {
            "taste": [s.Trait.model_validate(t, from_attributes=True) for t in profile.taste],
            "favourites": favourites,
            "first_rated_at": profile.first_rated_at,
            "last_rated_at": profile.last_rated_at,
        }

    def ratings(self, user_id: int, page: int, page_size: int) -> tuple[list[s.UserRating], int]:
        """A page of every film the user rated, newest first (404 for an unknown id)."""
        with self.db.session() as session:
            result = user_ratings(session, user_id, page=page, per_page=page_size)
        items = [
            s.UserRating(movie=self.catalogue.movies[r.movie_id], rating=r.value or 0.0, at=r.at, source=r.source)
            for r in result.items
            if r.movie_id in self.catalogue.movies
        ]
        return items, result.total

    def export_ratings(self, user_id: int) -> str:
        """Every film the user rated at its current rating, as a MovieLens ratings.csv (by movie id; 404 for an
        unknown id)."""
        with self.db.session() as session:
            rows = profiles.export_ratings(session, user_id)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(RATINGS_CSV_HEADER)
        writer.writerows((r.user_id, r.movie_id, f"{r.rating:.1f}", r.timestamp) for r in rows)
        return out.getvalue()

    def require_deletable(self, user_id: int) -> None:
        """404 for an unknown id, 403 for a MovieLens profile (only profiles made in the app can be deleted)."""
        with self.db.session() as session:
            owner = profiles.user_owner(session, user_id)
        if owner is None:
            raise ResourceNotFoundError(f"user {user_id} does not exist: pick one from GET /api/users or create one")
        if owner[0] != "app":
            raise DataSetProfileError(
                f"user {user_id} comes from the MovieLens data set, and those profiles cannot be deleted: only a "
                "profile made in the app (Start as a new user) can be"
            )

    def delete(self, user_id: int) -> s.DeletedUser:
        """Delete a profile made in the app and every row it left, in one transaction (404 unknown, 403 MovieLens).

        Nothing else has to be forgotten: every cached answer about the user is keyed by their feedback version,
        which becomes the version of a missing user, so no worker serves one again (api/services/__init__.py)."""
        self.require_deletable(user_id)
        with self.db.session() as session:
            profiles.delete_app_user(session, user_id)
        return s.DeletedUser(user_id=user_id, deleted=True)

    def sign_in(self, secret_hash: str) -> s.SignedIn | None:
        """The app profile whose secret hashes to `secret_hash`, or None."""
        with self.db.session() as session:
            found = profiles.find_by_secret_hash(session, secret_hash)
        return None if found is None else s.SignedIn(user_id=found.user_id, display_name=found.display_name)

    def similar(self, user_id: int, k: int) -> s.SimilarUsers:
        """People with similar taste: the Two-Tower model's nearest user vectors to this user's history, else (not
        loaded) the users sharing most of their distinctive genres and tags, saying so."""
        finder = CATALOGUE.able("similar_users")[0]
        model = self.recommendations.models.models.get(finder)
        with self.db.session() as session:
            history = user_history(session, user_id)
            found: list[SimilarUser] = []
            if isinstance(model, SimilarUsers) and history.movie_ids:
                with time_inference(finder, "similar_users"):
                    found = model.similar_users(history.movie_ids, k + 1)
            if found:
                scored = [(u.user_id, u.score) for u in found if u.user_id != user_id][:k]
                name = finder
                note = None
            else:
                scored = taste_neighbours(session, user_id, k)
                name = TASTE
                why = "it is not loaded" if model is None else "it has no vectors for this user's history"
                note = (
                    f"{CATALOGUE.label(finder)} could not answer ({why}): people who share this user's distinctive "
                    "genres and tags"
                )
            users = users_by_id(session, [u for u, _ in scored])
        items = [
            s.SimilarUser(score=round(score, 4), user=self._summary(users[u])) for u, score in scored if u in users
        ]
        return s.SimilarUsers(user_id=user_id, model=name, note=note, items=items)

    def get(self, user_id: int) -> s.UserDetail:
        """A user's profile (404 for an unknown id)."""
        with self.db.session() as session:
            return self._detail(get_user(session, user_id, recent=self.RECENT))

    def create(self, liked_movie_ids: list[int], display_name: str | None, secret_hash: str) -> s.NewUser:
        """Create the user with their likes stored as feedback, then recommend from those likes at once. The answer's
        `secret` is left empty: the route hands the secret over (api/ownership.py), the database keeps its hash."""
        unknown = [m for m in liked_movie_ids if m not in self.catalogue.movies]
        if unknown:
            raise ResourceNotFoundError(f"movie ids not in the catalogue: {unknown[:10]}")
        # Chosen before the user is written, so a missing model never leaves a user without an answer.
        model = self.recommendations.models.first_loaded(CATALOGUE.fallback())
        with self.db.session() as session:
            detail = create_user(session, display_name or NEW_USER_NAME, liked_movie_ids, secret_hash=secret_hash)
        recs = self.recommendations.for_history(model, liked_movie_ids, s.DEFAULT_K, detail.user_id)
        return s.NewUser(user=self._detail(detail), recommendations=recs, secret="")

    def _detail(self, user: UserDetail) -> s.UserDetail:
        genre_counts: dict[str, int] = {}
        recent = []
        for item in user.recent:
            movie = self.catalogue.movies.get(item.movie_id)
            if movie is None:
                continue
            recent.append(from_record(s.HistoryItem, item, movie=movie))
            for genre in movie.genres:
                genre_counts[genre] = genre_counts.get(genre, 0) + 1
        recent_genres = [
            s.GenreCount(genre=g, count=n) for g, n in sorted(genre_counts.items(), key=lambda x: (-x[1], x[0]))
        ]
        return from_record(
            s.UserDetail, user, **self._profile(user.profile), recent_genres=recent_genres, recent=recent
        )
