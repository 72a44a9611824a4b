"""The HTTPS front door for real: Debian's nginx with deploy/nginx/movie-genie-tls.conf and a certificate made by
deploy/make-local-certificate.sh, in front of a small upstream on loopback that echoes what nginx forwarded.

HTTPS answers carry Strict-Transport-Security and tell the app the client came over TLS (X-Forwarded-Proto);
plain HTTP only redirects to HTTPS; the plain-HTTP site (no TLS) never sends HSTS.
"""

from __future__ import annotations

import http.client
import json
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.nginx import Nginx, echo_upstream

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "make-local-certificate.sh"


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with echo_upstream() as address:
        yield address


@pytest.fixture(scope="module")
def tls_proxy(upstream: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    folder = tmp_path_factory.mktemp("nginx-tls")
    if shutil.which("openssl") is None:
        pytest.fail("openssl is not installed: apt-get install openssl", pytrace=False)
    made = subprocess.run(["sh", str(SCRIPT), str(folder / "tls")], capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    with Nginx.start(folder, upstream, tls=True) as nginx:
        yield nginx


def _https(proxy: Nginx, path: str) -> http.client.HTTPResponse:
    context = ssl.create_default_context(cafile=str(proxy.folder / "tls" / "fullchain.pem"))
    assert proxy.tls_port is not None
    connection = http.client.HTTPSConnection("localhost", proxy.tls_port, context=context, timeout=10)
    connection.request("GET", path)
    return connection.getresponse()


def test_https_answers_carry_hsts_and_tell_the_app_the_scheme(tls_proxy: Nginx) -> None:
    response = _https(tls_proxy, "/api/ping")
    assert response.status == 200
    assert json.loads(response.read())["data"]["proto"] == "https"
    hsts = response.getheader("Strict-Transport-Security")
    assert hsts is not None and hsts.startswith("max-age=31536000")
    # nginx's own answers too (here its JSON 404 for /metrics).
    refused = _https(tls_proxy, "/metrics")
    assert refused.status == 404 and refused.getheader("Strict-Transport-Security") == hsts


def test_plain_http_redirects_to_https_without_hsts(tls_proxy: Nginx) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", tls_proxy.port, timeout=10)
    connection.request("GET", "/api/movies?page=2", headers={"Host": "movies.example"})
    response = connection.getresponse()
    assert response.status == 308
    assert response.getheader("Location") == "https://movies.example/api/movies?page=2"
    assert response.getheader("Strict-Transport-Security") is None


def test_the_plain_site_sends_no_hsts(upstream: str, tmp_path: Path) -> None:
    with Nginx.start(tmp_path / "nginx", upstream) as nginx:
        connection = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=10)
        connection.request("GET", "/api/ping")
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["data"]["proto"] == "http"
        assert response.getheader("Strict-Transport-Security") is None


def test_the_certificate_script_passes_shellcheck() -> None:
    shellcheck = str(Path(sys.executable).with_name("shellcheck"))  # pinned in the dev extras
    result = subprocess.run([shellcheck, "--shell=sh", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
