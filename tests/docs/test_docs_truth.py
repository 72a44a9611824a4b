"""What the pages claim about the project is checked against the project: the port the server listens on, how the
diagrams are loaded, and (test_docs_figures.py) where every figure comes from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
_LOCAL_URL = re.compile(r"(?P<before>\S*?)(?:127\.0\.0\.1|localhost):(?P<port>\d+)")


def serving_port() -> int:
    """The port `make run` serves on (the Makefile's PORT), which the CLI's `serve --port` default must match."""
    match = re.search(r"^PORT\s*\?=\s*(\d+)", (ROOT / "Makefile").read_text(encoding="utf-8"), re.MULTILINE)
    assert match, "the Makefile sets no PORT"
    return int(match.group(1))


def published_ports() -> set[int]:
    """The host ports deploy/docker-compose.yml publishes (Grafana, Prometheus, the front door)."""
    services = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    ports = set()
    for service in services.values():
        for mapping in service.get("ports", []):
            # "${PUBLISH_ADDRESS:-127.0.0.1}:${APP_PORT:-5001}:8080": the host port is the part before the last ":".
            host = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(mapping)).rsplit(":", 2)[-2]
            ports.add(int(host))
    return ports


def wrong_ports(text: str, allowed: set[int]) -> list[str]:
    """Every 127.0.0.1:PORT or localhost:PORT in `text` whose port is not allowed (an MLflow URI is not the app)."""
    return [
        match.group(0)
        for match in _LOCAL_URL.finditer(text)
        if int(match.group("port")) not in allowed and "MLFLOW_TRACKING_URI" not in match.group("before")
    ]


def test_the_cli_serves_on_the_makefiles_port() -> None:
    """`movie-genie serve` without --port listens where `make run` says it does."""
    from movie_genie.cli import cli

    serve = cli.commands["serve"]
    port = next(p for p in serve.params if p.name == "port")
    assert port.default == serving_port()


def test_port_check_catches_a_wrong_port() -> None:
    """The check below sees the port of a curl example and lets the published ports and MLflow's URI through."""
    text = "curl http://127.0.0.1:8000/api/health; open localhost:3000; MLFLOW_TRACKING_URI=http://127.0.0.1:5000"
    assert wrong_ports(text, {5001, 3000}) == ["http://127.0.0.1:8000"]


@pytest.mark.parametrize("page", [*PAGES, ROOT / "README.md"], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_local_url_uses_the_configured_port(page: Path) -> None:
    """A local URL on a page points at the app's port (or a port the compose file publishes), never a stale one."""
    allowed = {serving_port(), *published_ports()}
    found = wrong_ports(page.read_text(encoding="utf-8"), allowed)
    assert not found, f"{page.relative_to(ROOT)} uses {found}: the server listens on {serving_port()}"


def test_the_api_reference_examples_use_the_configured_port() -> None:
    """The generated REST API page's curl examples (docs/gen/api_reference.py) target the same port."""
    source = (DOCS / "gen" / "api_reference.py").read_text(encoding="utf-8")
    assert not wrong_ports(source, {serving_port()})


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_no_page_says_the_site_loads_from_a_cdn(page: Path) -> None:
    """The site loads nothing from another host (docs/hooks.py vendors mermaid.js); no page may say it does."""
    for sentence in re.split(r"(?<=[.!?])\s+", page.read_text(encoding="utf-8")):
        if re.search(r"\bCDN\b", sentence):
            assert re.search(r"\b(no|not|never|nothing|without)\b", sentence), (
                f"docs/{page.relative_to(DOCS)} says something loads from a CDN: {sentence.strip()[:200]}"
            )
