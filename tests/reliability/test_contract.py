"""The API contract's edges (issue 31): display names refuse control and bidirectional characters, and every
integer of a query or a path is plain ASCII digits (no `1_0`, `+1`, ` 1` or other scripts' digits; `3.0` is JSON
Schema's integer 3), refused with a 400 that names the parameter."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from movie_genie.api import schemas


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    return dict(error)


# --- display names ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "evil\u202egnp.exe",  # RIGHT-TO-LEFT OVERRIDE: shows as "exe.png"
        "a\u2066b\u2069",  # LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE
        "zero\u200bwidth",  # ZERO WIDTH SPACE (Cf)
        "mark\u200fname",  # RIGHT-TO-LEFT MARK (Cf)
        "soft\u00adhyphen",  # SOFT HYPHEN (Cf)
        "bom\ufeff",  # ZERO WIDTH NO-BREAK SPACE (Cf)
        "line\u2028break",  # LINE SEPARATOR (Zl)
        "para\u2029graph",  # PARAGRAPH SEPARATOR (Zp)
    ],
)
def test_a_display_name_refuses_format_and_separator_characters(client: FlaskClient, name: str) -> None:
    """Before: only Cc (controls) and lone surrogates were refused, so a name could reverse the text around it."""
    response = client.post("/api/users", json={"liked_movie_ids": [50, 172, 181], "display_name": name})
    error = _error(response, 400, "validation_error")
    assert "display_name" in error["message"]
    code_point = next(c for c in name if not c.isalnum() and c not in " .")
    assert f"U+{ord(code_point):04X}" in error["message"]


def test_a_display_name_in_any_script_is_still_welcome(client: FlaskClient) -> None:
    for name in ("Zoë Ångström", "רות כהן", "ليلى", "山田 花子", "Ana 🎬"):
        response = client.post("/api/users", json={"liked_movie_ids": [50, 172, 181], "display_name": name})
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.get_json()["data"]["user"]["display_name"] == name


# --- integers ------------------------------------------------------------------------------------------------------

# "1.0" stays accepted (JSON Schema counts it an integer, and schemathesis sends it); "1.5" is no whole number.
NOT_PLAIN = ["1_0", "١٠", "+1", " 1", "1 ", "1.5", "１", "0x1", "1e1", "1.", "٠.0"]


@pytest.mark.parametrize("value", NOT_PLAIN)
@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/movies/popular?k={}", "k"),
        ("/api/users?page={}", "page"),
        ("/api/users?page_size={}", "page_size"),
        ("/api/recommendations?user_id=1&k={}", "k"),
        ("/api/recommendations?user_id={}", "user_id"),
        ("/api/search?q=space&min_ratings={}", "min_ratings"),
    ],
)
def test_a_query_integer_is_plain_ascii_digits(client: FlaskClient, url: str, name: str, value: str) -> None:
    """Before: pydantic's lax mode read `1_0` as 10 and `+1`, ` 1` as 1."""
    error = _error(client.get(url.format(value)), 400, "validation_error")
    assert name in error["message"] and "digits" in error["message"], error
    assert [d["loc"] for d in error["details"]] == [[name]], error


@pytest.mark.parametrize("path", ["/api/users/١", "/api/users/１", "/api/movies/١٠/similar"])
def test_a_path_integer_is_plain_ascii_digits(client: FlaskClient, path: str) -> None:
    """Before: Flask's int converter matches any Unicode digit, so /api/users/١ was user 1."""
    error = _error(client.get(path), 400, "validation_error")
    assert "digits" in error["message"] and ("user_id" in error["message"] or "movie_id" in error["message"])


def test_plain_integers_still_work(client: FlaskClient) -> None:
    assert client.get("/api/movies/popular?k=5").get_json()["data"].__len__() == 5
    assert client.get("/api/movies/popular?k=05").status_code == 200
    assert len(client.get("/api/movies/popular?k=3.0").get_json()["data"]) == 3  # JSON Schema's integer 3.0
    assert client.get("/api/users/1").status_code == 200
    assert client.get("/api/users?page=2&page_size=3").get_json()["meta"]["page"] == 2


def test_every_integer_field_of_a_request_model_gets_the_rule() -> None:
    """The rule lives on the request models' base class: each model with an integer field refuses `1_0`."""
    models = [m for m in vars(schemas).values() if isinstance(m, type) and issubclass(m, schemas._Strict)]
    checked = 0
    for model in models:
        for field_name, field in model.model_fields.items():
            if schemas.is_integer_field(field):
                checked += 1
                with pytest.raises(ValueError, match="digits"):
                    model.model_validate({field_name: "1_0"})
    assert checked >= 20
