"""The deploy/ files without a Docker engine: linters, the compose-spec schema, and agreement between the files.

What no test here can do is build the image or start the stack (no Docker engine on this machine or in CI);
deploy/README.md lists the commands that do.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from docker.utils.build import exclude_paths

from tests.deploy.nginx import check_config, write_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "docker-compose.yml"
HOST_MODELS = DEPLOY / "docker-compose.host-models.yml"
TLS_OVERRIDE = DEPLOY / "docker-compose.tls.yml"
ENTRYPOINT = DEPLOY / "docker-entrypoint.sh"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "movie-genie.json"
NGINX_SITE = DEPLOY / "nginx" / "movie-genie.conf"
NGINX_COMMON = DEPLOY / "nginx" / "common.conf"
NGINX_LOCATIONS = DEPLOY / "nginx" / "locations.conf"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    """A linter from the dev extras (next to this interpreter, or on PATH)."""
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not installed: it is pinned in the dev extras, run `pip install -e '.[dev]'`")
    return str(path)


# The secrets compose requires (`${VAR:?message}`: no fallback passwords); `config` is checked with them set.
COMPOSE_SECRETS = {
    "POSTGRES_PASSWORD": "test-postgres-password",
    "GRAFANA_PASSWORD": "test-grafana-password",
    "REDIS_PASSWORD": "test-redis-password",
}


def _run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **env} if env is not None else None
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False, env=environ)


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments) with continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln else "") for ln in lines]


def test_dockerfile_passes_hadolint() -> None:
    result = _run([_tool("hadolint"), "--no-color", str(DOCKERFILE)])
    assert result.returncode == 0, f"hadolint:\n{result.stdout}{result.stderr}"


def test_entrypoint_passes_shellcheck() -> None:
    result = _run([_tool("shellcheck"), "--shell=sh", str(ENTRYPOINT)])
    assert result.returncode == 0, f"shellcheck:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("path", [COMPOSE, HOST_MODELS, TLS_OVERRIDE], ids=lambda p: p.name)
def test_compose_files_match_the_compose_spec(path: Path) -> None:
    # check-jsonschema ships the official compose-spec JSON schema (vendor.compose-spec), so this runs offline.
    result = _run([_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)])
    assert result.returncode == 0, f"{path.name} breaks the compose spec:\n{result.stdout}{result.stderr}"


def test_docker_compose_config_accepts_the_stack(tmp_path: Path) -> None:
    """`docker compose config` where a compose CLI exists (v2 plugin, else Debian's docker-compose v1)."""
    files = ["-f", str(COMPOSE), "-f", str(HOST_MODELS)]
    v2 = shutil.which("docker") and _run(["docker", "compose", "version"]).returncode == 0
    if v2:
        for args in (["-f", str(COMPOSE)], files, ["-f", str(COMPOSE), "-f", str(TLS_OVERRIDE)]):
            result = _run(["docker", "compose", *args, "config", "--quiet"], COMPOSE_SECRETS)
            assert result.returncode == 0, result.stderr
        return
    if not shutil.which("docker-compose"):
        pytest.skip("no compose CLI here (docker compose v2 or docker-compose); the compose-spec schema test covers it")
    # docker-compose v1 predates the spec's top-level `name:` and rejects it; everything else it still checks
    # (interpolation, depends_on conditions, volumes) on a copy, with relative paths resolved from deploy/.
    copy = tmp_path / "docker-compose.yml"
    copy.write_text(re.sub(r"(?m)^name:.*\n", "", COMPOSE.read_text(encoding="utf-8")), encoding="utf-8")
    base = ["docker-compose", "--project-directory", str(DEPLOY), "-f", str(copy)]
    for extra in ([], ["-f", str(HOST_MODELS)], ["-f", str(TLS_OVERRIDE)]):
        result = _run([*base, *extra, "config", "--quiet"], COMPOSE_SECRETS)
        assert result.returncode == 0, result.stderr
    tls = yaml.safe_load(_run([*base, "-f", str(TLS_OVERRIDE), "config"], COMPOSE_SECRETS).stdout)["services"]["proxy"]
    # The override swaps the site for the TLS one (same target) and adds the HTTPS port to the plain one.
    targets = {v.split(":")[1]: v.split(":")[0] for v in tls["volumes"]}
    assert Path(targets["/etc/nginx/conf.d/default.conf"]).name == "movie-genie-tls.conf"
    assert Path(targets["/etc/nginx/tls"]).name == "tls"
    assert sorted(str(p).rsplit(":", 1)[1].split("/")[0] for p in tls["ports"]) == ["8080", "8443"]
    merged = yaml.safe_load(_run([*base, "-f", str(HOST_MODELS), "config"], COMPOSE_SECRETS).stdout)
    app = merged["services"]["app"]
    assert app["build"]["args"]["TRAIN_AT_BUILD"] == "0"
    assert {v.split(":", 1)[1] for v in app["volumes"]} == {"/app/data:ro", "/app/artifacts:ro"}
    # Every file or folder the stack bind-mounts from deploy/ exists (data/ and artifacts/ come from the pipeline).
    for service in merged["services"].values():
        for source in (v.split(":", 1)[0] for v in service.get("volumes", []) if v.startswith("/")):
            assert Path(source).exists() or Path(source).name in {"data", "artifacts"}, source


def test_every_file_the_dockerfile_copies_is_in_the_build_context() -> None:
    patterns = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    # docker-py's implementation of .dockerignore matching, as the Docker CLI applies it to the context.
    included = set(exclude_paths(str(ROOT), patterns, dockerfile="deploy/Dockerfile"))
    sources = []
    for instruction, args in _instructions():
        if instruction == "COPY" and "--from=" not in args:
            parts = [p for p in args.split() if not p.startswith("--")]
            sources += parts[:-1]
    assert {"src", "pyproject.toml", ".dvc/config", "deploy/docker-entrypoint.sh"} <= set(sources)
    for source in sources:
        path = source.rstrip("/")
        assert (ROOT / path).exists(), f"COPY {source}: not in the repository"
        assert path in included, f"COPY {source}: excluded from the build context by .dockerignore"
    tracked = _run(["git", "ls-files", "src"]).stdout.split()
    missing = [f for f in tracked if f not in included]
    assert not missing, f".dockerignore drops package files: {missing[:10]}"
    assert not {"data", "artifacts", ".venv", ".git", ".env", "web/node_modules"} & included


def test_image_serves_on_the_port_prometheus_scrapes() -> None:
    instructions = _instructions()
    exposed = {args for instr, args in instructions if instr == "EXPOSE"}
    cmd = next(args for instr, args in instructions if instr == "CMD")
    healthcheck = next(args for instr, args in instructions if instr == "HEALTHCHECK")
    assert exposed == {"5001"} and '"--port", "5001"' in cmd and "127.0.0.1:5001/api/health" in healthcheck
    user = next(args for instr, args in reversed(instructions) if instr == "USER")
    assert user.split(":")[0] not in {"0", "root"}, "the image must not run as root"

    compose = _compose()
    app = compose["services"]["app"]
    assert "ports" not in app and app["expose"] == ["5001"], "gunicorn is reached through the proxy only"
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    job = next(j for j in prometheus["scrape_configs"] if j["job_name"] == "movie-genie")
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["app:5001"]
    mounts = compose["services"]["prometheus"]["volumes"]
    assert "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts
    for rule_file in prometheus["rule_files"]:  # each rule file is mounted where prometheus.yml names it
        assert f"./prometheus/{Path(rule_file).name}:{rule_file}:ro" in mounts
        assert (DEPLOY / "prometheus" / Path(rule_file).name).is_file()


def test_the_proxy_is_the_only_door_to_the_app() -> None:
    services = _compose()["services"]
    proxy = services["proxy"]
    assert proxy["ports"] == ["${PUBLISH_ADDRESS:-127.0.0.1}:${APP_PORT:-5001}:8080"]
    assert proxy["volumes"] == [
        "./nginx/nginx.conf:/etc/nginx/nginx.conf:ro",
        "./nginx/movie-genie.conf:/etc/nginx/conf.d/default.conf:ro",
        "./nginx/common.conf:/etc/nginx/common.conf:ro",
        "./nginx/locations.conf:/etc/nginx/locations.conf:ro",
    ]
    assert proxy["depends_on"] == {"app": {"condition": "service_healthy"}}
    site = NGINX_SITE.read_text(encoding="utf-8")
    assert re.search(r"^\s*listen 8080;", site, re.M)
    assert re.search(r"^\s*server app:5001;", NGINX_COMMON.read_text(encoding="utf-8"), re.M)
    # The site's relative includes resolve in /etc/nginx, where compose mounts them.
    for name in re.findall(r"^\s*include (\S+);", site, re.M):
        assert f"./nginx/{name}:/etc/nginx/{name}:ro" in proxy["volumes"], name
    # Every published port is on loopback unless PUBLISH_ADDRESS says otherwise.
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.startswith("${PUBLISH_ADDRESS:-127.0.0.1}:"), (name, port)


def max_body_bytes() -> int:
    """serving.max_body_bytes of params.yaml."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    return int(params["serving"]["max_body_bytes"])


def test_the_proxy_body_limit_is_the_apps() -> None:
    site = NGINX_COMMON.read_text(encoding="utf-8")
    size = re.search(r"^\s*client_max_body_size (\d+)([km]?);", site, re.M)
    buffer = re.search(r"^\s*client_body_buffer_size (\d+)([km]?);", site, re.M)
    assert size and buffer
    units = {"": 1, "k": 1024, "m": 1024 * 1024}
    limit = int(size.group(1)) * units[size.group(2)]
    assert limit == max_body_bytes(), "client_max_body_size must be serving.max_body_bytes of params.yaml"
    assert int(buffer.group(1)) * units[buffer.group(2)] >= limit, "bodies must be buffered in memory whole"
    # the app's own 413 message
    assert f"request body too large (limit {limit} bytes)" in NGINX_LOCATIONS.read_text(encoding="utf-8")


def test_the_shipped_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    """`nginx -t` (Debian's nginx) on the shipped file, its upstream host pointed at loopback (`app` resolves only
    on the compose network)."""
    config = write_config(tmp_path / "nginx", "127.0.0.1:5001", 8080)
    result = check_config(config)
    assert result.returncode == 0, f"nginx -t:\n{result.stderr}"
    assert "warn" not in result.stderr, result.stderr


def test_app_reaches_the_compose_database_and_cache() -> None:
    services = _compose()["services"]
    env = services["app"]["environment"]
    pg = services["postgres"]["environment"]
    assert env["DATABASE_URL"].startswith(f"postgresql+psycopg://{pg['POSTGRES_USER']}:")
    assert env["DATABASE_URL"].endswith(f"@postgres:5432/{pg['POSTGRES_DB']}")
    assert re.fullmatch(r"redis://:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379/0", env["REDIS_URL"])
    assert re.fullmatch(r"redis://:\$\{REDIS_PASSWORD:\?[^}]+\}@limits:6379/0", env["RATE_LIMIT_REDIS_URL"])
    assert services["app"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "limits": {"condition": "service_healthy"},
    }


def test_compose_runs_production_settings_with_secrets_from_the_environment() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    # No fallback passwords: each secret is required (`${VAR:?message}`), so a forgotten one stops `up` at once.
    assert not re.search(r"\$\{(POSTGRES_PASSWORD|GRAFANA_PASSWORD|REDIS_PASSWORD)(:?-)", text)
    services = _compose()["services"]
    env = services["app"]["environment"]
    assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_PASSWORD:?")
    # Demo mode off and write limits on; the client address from the one proxy in front (nginx).
    assert env["MOVIE_GENIE_ENV"] == "production" and env["MOVIE_GENIE_TRUSTED_PROXIES"] == "1"


def test_grafana_provisioning_finds_the_dashboard_and_datasource() -> None:
    import json

    grafana = _compose()["services"]["grafana"]
    mounts = dict(v.rsplit(":", 1)[0].split(":", 1) for v in grafana["volumes"] if v.startswith("./"))
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/movie-genie.yml").read_text())
    folder = provider["providers"][0]["options"]["path"]
    assert mounts["./grafana/dashboards"] == folder
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{folder}/{DASHBOARD.name}" and DASHBOARD.is_file()

    datasources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = datasources["datasources"][0]["uid"]
    assert datasources["datasources"][0]["url"] == "http://prometheus:9090"
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels and all(p["datasource"]["uid"] == uid for p in panels)
    assert all(t["datasource"]["uid"] == uid for p in panels for t in p["targets"])
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
