"""Small helpers the API tests share: a profile owner's header and reading an error envelope."""

from __future__ import annotations

from typing import Any


def bearer(secret: str) -> dict[str, str]:
    """The header that acts as the profile whose secret this is."""
    return {"Authorization": f"Bearer {secret}"}


def error_message(response: Any, status: int, code: str) -> str:
    """The message of an error answer, after checking its status and code."""
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code, error
    return str(error["message"])
