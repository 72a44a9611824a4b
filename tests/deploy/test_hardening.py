"""The compose stack's hardening rules, read from the files (no Docker engine here to start it).

Before, compose served plain HTTP with no TLS path, kept every default capability, wrote anywhere in each
container, had no memory or CPU limit, and its Redis (cache and rate-limit counters together, allkeys-lru) had no
password. Each rule below failed on those files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
TLS_OVERRIDE = DEPLOY / "docker-compose.tls.yml"
# Image users that are not root: the app's own (Dockerfile), nginx, postgres and redis as their images define them.
# Prometheus (nobody) and Grafana (472) run unprivileged by their images' USER.
NON_ROOT_USERS = {
    "app": "10001:10001",
    "proxy": "101:101",
    "postgres": "999:999",
    "redis": "999:999",
    "limits": "999:999",
}


def _services() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"])


SERVICES = sorted(_services())


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_drops_every_capability_and_privilege_gain(name: str) -> None:
    service = _services()[name]
    assert service["cap_drop"] == ["ALL"]
    assert "cap_add" not in service, "no service needs a capability back (each runs as a non-root user)"
    assert "no-new-privileges:true" in service["security_opt"]
    assert not service.get("privileged")


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_has_a_read_only_root_and_writes_only_to_tmpfs_or_volumes(name: str) -> None:
    service = _services()[name]
    assert service["read_only"] is True
    for mount in service.get("tmpfs", []):
        assert re.search(r"\bsize=\d+[km]\b", mount), f"{name}: tmpfs {mount} needs a size"
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("./"):  # files from deploy/ are configuration: never writable
            assert volume.endswith(":ro"), f"{name}: {volume} must be read-only"


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_has_memory_cpu_and_process_limits(name: str) -> None:
    service = _services()[name]
    limits = service["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) > 0 and re.fullmatch(r"\d+[mg]", str(limits["memory"])), limits
    assert int(service["pids_limit"]) > 0


def test_services_whose_images_start_as_root_run_as_their_own_users() -> None:
    services = _services()
    for name, user in NON_ROOT_USERS.items():
        assert services[name]["user"] == user, name


def test_redis_servers_require_the_password_from_the_environment() -> None:
    services = _services()
    for name in ("redis", "limits"):
        service = services[name]
        command = " ".join(service["command"])
        assert '--requirepass "$$REDIS_PASSWORD"' in command, name
        assert service["environment"]["REDIS_PASSWORD"].startswith("${REDIS_PASSWORD:?"), "no default password"
        # The health check's redis-cli authenticates through REDISCLI_AUTH and must see PONG, not NOAUTH.
        assert service["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD:?")
        assert "grep -q PONG" in service["healthcheck"]["test"][1]
    env = services["app"]["environment"]
    for key in ("REDIS_URL", "RATE_LIMIT_REDIS_URL"):
        assert env[key].startswith("redis://:${REDIS_PASSWORD:?"), key


def test_rate_limit_counters_have_a_redis_of_their_own_that_never_evicts() -> None:
    services = _services()
    cache = " ".join(services["redis"]["command"])
    counters = " ".join(services["limits"]["command"])
    assert "--maxmemory-policy allkeys-lru" in cache
    assert "--maxmemory-policy noeviction" in counters and "--maxmemory " in counters
    assert "@limits:6379/" in services["app"]["environment"]["RATE_LIMIT_REDIS_URL"]
    assert "@redis:6379/" in services["app"]["environment"]["REDIS_URL"]


def test_the_tls_override_serves_https_with_the_tls_site() -> None:
    proxy = yaml.safe_load(TLS_OVERRIDE.read_text(encoding="utf-8"))["services"]["proxy"]
    assert proxy["ports"] == ["${PUBLISH_ADDRESS:-127.0.0.1}:${HTTPS_PORT:-443}:8443"]
    assert "./nginx/movie-genie-tls.conf:/etc/nginx/conf.d/default.conf:ro" in proxy["volumes"]
    assert "./tls:/etc/nginx/tls:ro" in proxy["volumes"]
    site = (DEPLOY / "nginx" / "movie-genie-tls.conf").read_text(encoding="utf-8")
    assert re.search(r"^\s*listen 8443 ssl;", site, re.M)
    assert "ssl_certificate tls/fullchain.pem;" in site and "ssl_certificate_key tls/privkey.pem;" in site
    assert "return 308 https://$host$request_uri;" in site
    # HSTS only when the request came over TLS: one map, sent by every location.
    common = (DEPLOY / "nginx" / "common.conf").read_text(encoding="utf-8")
    assert re.search(r'map \$scheme \$strict_transport_security \{\s*https\s+"max-age=\d+', common)
    assert "Strict-Transport-Security" not in (DEPLOY / "nginx" / "movie-genie.conf").read_text(encoding="utf-8")


def test_tls_keys_stay_out_of_git_and_the_image() -> None:
    root = DEPLOY.parent
    assert "deploy/tls/" in (root / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "deploy/tls" in (root / ".dockerignore").read_text(encoding="utf-8").splitlines()
