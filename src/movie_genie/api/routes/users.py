"""Users: the picker's list, a profile, cold-start creation, a user's feedback, the ratings export and deleting a
profile."""

from __future__ import annotations

from flask import Response

from movie_genie.api.envelope import respond
from movie_genie.api.idempotency import idempotent
from movie_genie.api.ownership import (
    OWNER_ERRORS,
    OWNER_SECURITY,
    hand_over_secret,
    may_read,
    new_secret,
    readable_profiles,
    require_owner,
)
from movie_genie.api.routes._blueprint import api_blueprint
from movie_genie.api.schemas import (
    RATINGS_CSV_RESPONSE,
    CreateUserBody,
    DeletedUserResponse,
    ErrorResponse,
    FeedbackListQuery,
    FeedbackListResponse,
    HomeResponse,
    IdempotencyHeader,
    MovieMarkResponse,
    NewUserResponse,
    SimilarUsersQuery,
    SimilarUsersResponse,
    UserMoviePath,
    UserPath,
    UserRatingsQuery,
    UserRatingsResponse,
    UserResponse,
    UsersQuery,
    UsersResponse,
)
from movie_genie.api.services import services
from movie_genie.api.services.users import private_view

bp = api_blueprint("users", "/api/users", "Users, profiles and cold start")


@bp.get("", responses={200: UsersResponse})
def list_users(query: UsersQuery) -> Response:
    """Users described by their distinctive taste, favourite films and activity, paged; `q` matches an id exactly
    (listed first), a name, or a taste word such as a genre or tag. A profile created in the app is listed with its
    id and name only (`private`), except to its owner and the admin token, and a taste word never finds it: its
    taste is its owner's (MovieLens profiles are the public data set's)."""
    users, total = services().users.list_users(query.q, query.page, query.page_size)
    readable = readable_profiles()
    shown = [user if readable(user) else private_view(user) for user in users]
    return _varies_by_reader(respond(shown, page=query.page, page_size=query.page_size, total=total))


@bp.post("", responses={201: NewUserResponse, 404: ErrorResponse, 409: ErrorResponse, 503: ErrorResponse})
def create_user(header: IdempotencyHeader, body: CreateUserBody) -> Response:
    """Create a new user from at least 3 liked films and return their first recommendations and the profile's
    secret (shown once: send it as `Authorization: Bearer <secret>` to rate as this profile).

    With an Idempotency-Key and a Client-Token, a retry from the same caller creates no second profile: it answers
    201 with the profile the first request created and `secret: null`, and `secret_note` says that the key was
    already used and the profile's secret went to the first answer. A secret is never minted, replaced or given
    twice. The key replays only to the caller that sent it (the same Client-Token and body): anyone else who learns
    or guesses a key gets a 409, never the profile; without a Client-Token a repeat of the key is a 409 as well
    (the profile was made once, and there is no caller to recognise)."""
    minted: list[str] = []  # the secret of the profile this request creates; stays empty on a replay

    def write() -> Response:
        secret, secret_hash = new_secret()
        minted.append(secret)
        return respond(services().users.create(body.liked_movie_ids, body.display_name, secret_hash), status=201)

    response = idempotent("POST /api/users", header, body, write, replay_needs_caller=True)
    return hand_over_secret(response, minted[0] if minted else None)


@bp.get("/<int:user_id>", responses={200: UserResponse, 404: ErrorResponse})
def read_user(path: UserPath) -> Response:
    """A user's profile: counts, distinctive taste, favourite films and the most recent history. A profile created
    in the app shows all this to its owner (its bearer secret) and the admin token only; anyone else learns only
    that it exists: its id, name, source and creation time, with `private` true and everything else empty.
    MovieLens profiles are the public data set's and show everything to everyone."""
    user = services().users.get(path.user_id)
    if user.source == "app" and not may_read(path.user_id):
        user = private_view(user)
    return _varies_by_reader(respond(user))


@bp.delete(
    "/<int:user_id>",
    responses={200: DeletedUserResponse, **OWNER_ERRORS, 503: ErrorResponse},
    security=OWNER_SECURITY,
)
def delete_user(path: UserPath) -> Response:
    """Delete a profile made in the app and everything it left here; its owner only.
    Its ratings and marks, the lists it was shown and the stored answers of its requests go in one transaction.
    MovieLens profiles cannot be deleted (403). Afterwards the profile is 404, its key opens nothing and its id is
    never given to another profile. Model versions already retrained on its marks (`movie-genie retrain`) keep what
    they learned until the next retraining."""
    services().users.require_deletable(path.user_id)
    require_owner(path.user_id)
    return respond(services().delete_user(path.user_id))


@bp.get(
    "/<int:user_id>/ratings.csv",
    responses={200: RATINGS_CSV_RESPONSE, **OWNER_ERRORS},
    security=OWNER_SECURITY,
)
def export_user_ratings(path: UserPath) -> Response:
    """Download the user's ratings as a MovieLens ratings.csv; a profile created in the app: its owner only.
    `text/csv` with the header `userId,movieId,rating,timestamp` and one line per film the user rated, by movie id,
    at its current rating (an app rating replaces the data set's, a cleared one is gone; timestamp in unix
    seconds), sent as the attachment `movie-genie-ratings-<user_id>.csv`."""
    require_owner(path.user_id, read=True)
    body = services().users.export_ratings(path.user_id)
    response = Response(body, status=200, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="movie-genie-ratings-{path.user_id}.csv"'
    response.headers["Cache-Control"] = "private, no-store"  # a person's ratings: never kept by a shared cache
    return response


@bp.get(
    "/<int:user_id>/ratings",
    responses={200: UserRatingsResponse, **OWNER_ERRORS},
    security=OWNER_SECURITY,
)
def list_user_ratings(path: UserPath, query: UserRatingsQuery) -> Response:
    """Every film the user rated with their rating, newest first, paged; a profile created in the app: its owner
    only."""
    require_owner(path.user_id, read=True)
    items, total = services().users.ratings(path.user_id, query.page, query.page_size)
    return respond(items, page=query.page, page_size=query.page_size, total=total)


@bp.get(
    "/<int:user_id>/similar",
    responses={200: SimilarUsersResponse, **OWNER_ERRORS},
    security=OWNER_SECURITY,
)
def list_similar_users(path: UserPath, query: SimilarUsersQuery) -> Response:
    """People with similar taste: Two-Tower's nearest users, else (not loaded) those sharing distinctive traits;
    they are found from the user's history, so a profile created in the app: its owner only. Profiles created in
    the app that the request may not read are left out (fewer than `k` then)."""
    require_owner(path.user_id, read=True)
    found = services().users.similar(path.user_id, query.k)
    # Another person's app profile is never listed: being "similar to" someone would tell its taste.
    readable = readable_profiles()
    found = found.model_copy(update={"items": [item for item in found.items if readable(item.user)]})
    return _varies_by_reader(respond(found))


@bp.get(
    "/<int:user_id>/feedback",
    responses={200: FeedbackListResponse, **OWNER_ERRORS},
    security=OWNER_SECURITY,
)
def list_user_feedback(path: UserPath, query: FeedbackListQuery) -> Response:
    """The user's feedback events, newest first (at most `limit`); a profile created in the app: its owner only."""
    require_owner(path.user_id, read=True)
    return respond(services().feedback.list_events(path.user_id, query.limit))


@bp.get(
    "/<int:user_id>/home",
    responses={200: HomeResponse, **OWNER_ERRORS, 503: ErrorResponse},
    security=OWNER_SECURITY,
)
def read_user_home(path: UserPath) -> Response:
    """The user's home page: ordered rows (purpose, model, cards with reasons), none showing a film they touched;
    its reasons name films the user liked, so a profile created in the app: its owner only. Each recommendation
    row is logged as an impression (meta.impression_ids)."""
    require_owner(path.user_id, read=True)
    served = services().home.home(path.user_id)
    impression_ids = services().online.log_lists(path.user_id, "home", served)
    return respond(served.body, cached=served.cached, impression_ids=impression_ids)


@bp.get(
    "/<int:user_id>/movies/<int:movie_id>",
    responses={200: MovieMarkResponse, **OWNER_ERRORS},
    security=OWNER_SECURITY,
)
def read_user_movie(path: UserMoviePath) -> Response:
    """What the user did with one film: their rating (data set or app) and like, dislike, watched, dismiss marks;
    a profile created in the app: its owner only."""
    require_owner(path.user_id, read=True)
    return respond(services().feedback.mark(path.user_id, path.movie_id))


def _varies_by_reader(response: Response) -> Response:
    """Mark an answer that depends on who asks (an app profile's owner sees more): no shared cache may mix them."""
    response.vary.add("Authorization")
    return response
