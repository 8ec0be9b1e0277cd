"""YAML-level checks of compose.prod.yml / compose.staging.yml, deploy/Dockerfile,
.dockerignore and deploy/env.example. Prints `ok - ...` / `not ok - ...` lines;
tests/deploy/test_compose.sh counts them.

    python3 tests/deploy/check_compose.py REPO_ROOT
"""

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(sys.argv[1])
results = []


def check(ok, what, detail=""):
    results.append(bool(ok))
    print(("ok - " if ok else "not ok - ") + what + ("" if ok or not detail else f" ({detail})"))


def load(name):
    with open(ROOT / name) as f:
        return yaml.safe_load(f)


def seconds(v):
    """'30s', '5m', '1m30s', 90 -> seconds."""
    if isinstance(v, (int, float)):
        return v
    total = 0
    for n, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(v)):
        total += float(n) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}[unit]
    return total


def env_map(svc):
    e = svc.get("environment") or {}
    if isinstance(e, list):
        e = dict(x.split("=", 1) if "=" in x else (x, None) for x in e)
    return e


def walk(node, path=()):
    """Yields (path, scalar) for every scalar in a YAML tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, path + (str(k),))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, path + (str(i),))
    else:
        yield path, node


ENV_EXAMPLE = dict(re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", (ROOT / "deploy/env.example").read_text(), re.M))

SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|CREDENTIALS|_KEY$|PRIVATE", re.I)
ONLY_REF = re.compile(r"^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$")
APP = ("migrate", "api-a", "api-b", "beat", "worker")
APIS = ("api-a", "api-b")
LONG_RUNNING = ("postgres", "redis", "api-a", "api-b", "caddy", "beat", "worker", "selenium")
# deploy/prometheus, deploy/alertmanager, deploy/grafana (docs/monitoring.md);
# tests/deploy/test_monitoring.sh checks what they mount.
MONITORING = ("prometheus", "alertmanager", "grafana", "node-exporter")
EXPECTED = {"postgres", "redis", "migrate", "api-a", "api-b", "caddy", "beat", "worker", "selenium"} | set(MONITORING)


def check_compose(name, env):
    doc = load(name)
    services = doc.get("services") or {}
    check(doc.get("name") == f"reporter-{env}", f"{name}: project name reporter-{env}")
    check(set(services) >= EXPECTED, f"{name}: services include {sorted(EXPECTED)}", sorted(services))

    for s in LONG_RUNNING:
        svc = services.get(s, {})
        hc = svc.get("healthcheck") or {}
        check(hc.get("test") and not hc.get("disable"), f"{name}: {s} has a healthcheck")
        check(3 <= (hc.get("retries") or 0) <= 5, f"{name}: {s} healthcheck retries 3-5", hc.get("retries"))
        check(0 < seconds(hc.get("timeout", 0)) <= 10 and seconds(hc.get("interval", 0)) > 0
              and "start_period" in hc, f"{name}: {s} healthcheck has interval, timeout and start_period")
        check(svc.get("restart") in ("unless-stopped", "always", "on-failure"), f"{name}: {s} restarts on failure",
              svc.get("restart"))
        limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        check("cpus" in limits and "memory" in limits, f"{name}: {s} has cpu and memory limits")
        check("container_name" not in svc, f"{name}: {s} has no fixed container_name")
        log = svc.get("logging") or {}
        check((log.get("options") or {}).get("max-size"), f"{name}: {s} logs are rotated")

    # Zero downtime: caddy balances over every api-* replica with health
    # checks; a replica drains (readyz 503, then in-flight requests) within
    # its stop_grace_period.
    drain = int(ENV_EXAMPLE.get("REPORTER_API_DRAIN_SECS", "5")) + int(ENV_EXAMPLE.get("REPORTER_API_SHUTDOWN_SECS", "30"))
    for s in APIS:
        api = services.get(s, {})
        api_hc = api.get("healthcheck") or {}
        # Readiness, not fleet health: a beat or worker outage must not mark
        # the API container unhealthy (deploys and rollbacks wait on it).
        check("/api/v1/readyz" in " ".join(map(str, api_hc.get("test", []))), f"{name}: {s} healthcheck hits /api/v1/readyz")
        check(seconds(api_hc.get("interval", 0)) <= 10, f"{name}: {s} healthcheck every 10 s or less (deploys wait on it)")
        check(seconds(api.get("stop_grace_period", 0)) > drain,
              f"{name}: {s} stop_grace_period above drain + shutdown ({drain} s)", api.get("stop_grace_period"))
        check("ports" not in api, f"{name}: {s} publishes no port (caddy is the edge)")
        check(env_map(api).get("REPORTER_API_BIND") == "0.0.0.0:8000", f"{name}: {s} listens on 8000")
    caddy = services.get("caddy", {})
    cenv = env_map(caddy)
    check(sorted(str(cenv.get("REPORTER_API_UPSTREAMS", "")).split()) == [f"{s}:8000" for s in APIS],
          f"{name}: caddy balances over every api replica", cenv.get("REPORTER_API_UPSTREAMS"))
    check("./deploy/caddy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy.get("volumes", []),
          f"{name}: caddy runs deploy/caddy/Caddyfile (read-only)")
    check(any(str(v).startswith("caddy_data:") for v in caddy.get("volumes", [])),
          f"{name}: caddy keeps certificates in a volume")
    check(sorted(map(str, caddy.get("ports", []))) == sorted(["80:80", "443:443", "443:443/udp", "${API_PUBLISH:-127.0.0.1:8000}:8080"]),
          f"{name}: caddy publishes 80, 443 and the loopback API_PUBLISH listener", caddy.get("ports"))
    check(str(cenv.get("REPORTER_SITE_ADDRESS", "")).startswith("${REPORTER_SITE_ADDRESS:?"),
          f"{name}: caddy's site address is required from .env")
    caddyfile = (ROOT / "deploy/caddy/Caddyfile").read_text()
    check(re.search(r"health_uri /api/v1/readyz", caddyfile) and re.search(r"respond .*404", caddyfile)
          and "Strict-Transport-Security" in caddyfile and "{$REPORTER_API_UPSTREAMS}" in caddyfile,
          f"{name}: the Caddyfile health-checks /readyz, blocks /metrics and sends HSTS")
    # Liveness of worker and beat: their own loop, not their dependencies.
    for s in ("beat", "worker"):
        svc = services.get(s, {})
        test = " ".join(map(str, (svc.get("healthcheck") or {}).get("test", [])))
        check("reporterctl alive" in test, f"{name}: {s} healthcheck is `reporterctl alive` (liveness)", test)
        check(env_map(svc).get("REPORTER_HEARTBEAT_FILE") == "/tmp/reporter-alive", f"{name}: {s} writes its heartbeat file")
        check(env_map(svc).get("REPORTER_METRICS_BIND") == "0.0.0.0:9100", f"{name}: {s} serves metrics on 9100")

    for s in APP:
        svc = services[s]
        image = str(svc.get("image", ""))
        check(re.fullmatch(r"\$\{REPORTER_IMAGE:-[^}]+\}:\$\{REPORTER_TAG:\?[^}]*\}", image),
              f"{name}: {s} image is ${{REPORTER_IMAGE:-...}}:${{REPORTER_TAG:?}}", image)
        check(svc.get("env_file") in (".env", [".env"]), f"{name}: {s} reads env_file .env")
        check(env_map(svc).get("LOG_FORMAT") == "json", f"{name}: {s} logs JSON (LOG_FORMAT=json)")
        check(svc.get("read_only") is True and "ALL" in (svc.get("cap_drop") or []),
              f"{name}: {s} runs read-only with no capabilities")

    mig = services["migrate"]
    check(mig.get("command") == ["reporterctl", "migrate"], f"{name}: migrate runs `reporterctl migrate`")
    check(str(mig.get("restart")) == "no", f"{name}: migrate is one-shot (restart no)")
    for s in ("api-a", "api-b", "beat", "worker"):
        deps = services[s].get("depends_on") or {}
        check((deps.get("migrate") or {}).get("condition") == "service_completed_successfully",
              f"{name}: {s} waits for migrate to complete successfully")
        check(all((deps.get(d) or {}).get("condition") == "service_healthy" for d in ("postgres", "redis")),
              f"{name}: {s} waits for healthy postgres and redis")
    check((services["migrate"].get("depends_on") or {}).get("postgres", {}).get("condition") == "service_healthy",
          f"{name}: migrate waits for a healthy postgres")

    beat = services["beat"]
    check((beat.get("deploy") or {}).get("replicas") == 1, f"{name}: beat runs one replica")

    w = services["worker"]
    check("container_name" not in w and "ports" not in w, f"{name}: worker is scalable (no container_name, no ports)")
    check(w.get("init") is True, f"{name}: worker runs with init: true")
    check(seconds(w.get("stop_grace_period", 0)) >= 120,
          f"{name}: worker stop_grace_period leaves time to drain (>= 2m)", w.get("stop_grace_period"))
    check((w.get("depends_on") or {}).get("selenium", {}).get("condition") == "service_healthy",
          f"{name}: worker waits for a healthy selenium")
    check(env_map(w).get("REPORTER_WEBDRIVER_URL", "").startswith("http://selenium:4444"),
          f"{name}: worker's REPORTER_WEBDRIVER_URL is the selenium service")

    sel = services["selenium"]
    senv = env_map(sel)
    check("standalone-chromium" in str(sel.get("image")), f"{name}: selenium is selenium/standalone-chromium")
    check(str(senv.get("SE_NODE_MAX_SESSIONS", "")).startswith("${MAX_ACTIVE_SELENIUM"),
          f"{name}: selenium sessions = MAX_ACTIVE_SELENIUM")
    check(senv.get("SE_NODE_SESSION_TIMEOUT"), f"{name}: selenium has a session timeout")
    check(sel.get("shm_size"), f"{name}: selenium has a shared-memory size for Chromium")

    pg = services["postgres"]
    check(any(str(v).startswith("pgdata:") for v in pg.get("volumes", [])), f"{name}: postgres keeps data in a volume")
    check(str(env_map(pg).get("POSTGRES_PASSWORD", "")).startswith("${POSTGRES_PASSWORD:?"),
          f"{name}: postgres password comes from ${{POSTGRES_PASSWORD:?}}")
    rcmd = " ".join(map(str, services["redis"].get("command", [])))
    check("--requirepass" in rcmd and "--appendonly yes" in rcmd, f"{name}: redis has --requirepass and --appendonly yes")
    check(any(str(v).startswith("redisdata:") for v in services["redis"].get("volumes", [])),
          f"{name}: redis keeps its append-only file in a volume")
    check(not any("ports" in services[s] for s in ("postgres", "redis", "selenium", "beat", "migrate", "worker") + APIS),
          f"{name}: only caddy publishes the application")

    for s in MONITORING:
        svc = services.get(s, {})
        hc = svc.get("healthcheck") or {}
        check(hc.get("test") and hc.get("retries") == 5 and 0 < seconds(hc.get("timeout", 0)) <= 10
              and "start_period" in hc, f"{name}: {s} has a healthcheck (retries 5, timeout, start_period)")
        check(svc.get("restart") == "unless-stopped", f"{name}: {s} restarts unless stopped")
        limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
        check("cpus" in limits and "memory" in limits, f"{name}: {s} has cpu and memory limits")
        check(((svc.get("logging") or {}).get("options") or {}).get("max-size"), f"{name}: {s} logs are rotated")
        image = str(svc.get("image", ""))
        check(re.fullmatch(r"[\w./-]+:v?\d+\.\d+\.\d+", image), f"{name}: {s} image is pinned to a version", image)
        check(all(str(p).startswith("127.0.0.1:") for p in svc.get("ports", [])),
              f"{name}: {s} publishes only on 127.0.0.1", svc.get("ports"))

    # No inline secrets: a secret-named key holds only a ${VAR} reference, and
    # no password-looking literal appears anywhere.
    bad = []
    for path, value in walk(services):
        key = path[-1]
        if SECRET_NAME.search(key) and value is not None and not ONLY_REF.match(str(value)):
            bad.append("/".join(path))
        if isinstance(value, str) and re.search(r"(?i)(password|passwd|secret)\s*[=:]\s*['\"]?(?!\$)\w", value):
            bad.append("/".join(path))
        if isinstance(value, str) and re.search(r"://[^/${}\s:@]+:[^@${}\s]+@", value):
            bad.append("/".join(path))
    check(not bad, f"{name}: no inline secret (only ${{VAR}} references)", ", ".join(bad))
    return doc


prod = check_compose("compose.prod.yml", "prod")
staging = check_compose("compose.staging.yml", "staging")

# Staging differs only where it must: name, sizes, log level, browser pool.
ALLOWED = [r"^name$", r"/deploy/resources/limits/(cpus|memory)$", r"/RUST_LOG$", r"/SE_NODE_MAX_SESSIONS$",
           r"^services/redis/command/2$"]


def flat(doc):
    return {"/".join(p): v for p, v in walk(doc)}


fp, fs = flat(prod), flat(staging)
diff = sorted(k for k in set(fp) | set(fs) if fp.get(k) != fs.get(k))
unexpected = [k for k in diff if not any(re.search(a, k) for a in ALLOWED)]
check(not unexpected, "compose.staging.yml differs from prod only in name, sizes, log level and browser pool",
      ", ".join(unexpected))
check(any("limits" in k for k in diff), "staging is sized smaller than prod")

# --- Dockerfile -------------------------------------------------------------------------
df = (ROOT / "deploy/Dockerfile").read_text()
lines = [l.strip() for l in re.sub(r"\\\n", " ", df).splitlines() if l.strip() and not l.strip().startswith("#")]
froms = [l for l in lines if l.upper().startswith("FROM ")]
check(len(froms) >= 3, "Dockerfile is multi-stage", len(froms))
check("cargo chef cook" in df and "cargo chef prepare" in df, "Dockerfile caches dependencies with cargo-chef")
check(froms and re.search(r"debian:\S*slim", froms[-1]), "Dockerfile runtime is a slim Debian", froms[-1] if froms else "")
runtime = df[df.rfind("FROM "):]
check("libpq5" in runtime and "ca-certificates" in runtime and "curl" in runtime,
      "runtime installs libpq5, ca-certificates and curl")
check("--uid 1000" in runtime and re.search(r"^USER 1000(:1000)?$", runtime, re.M), "runtime runs as uid 1000")
for b in ("reporter-api", "reporter-worker", "reporter-beat", "reporterctl", "portal-sim"):
    check(b in df, f"image holds {b}")
hc = re.search(r"^HEALTHCHECK (.*)$", re.sub(r"\\\n\s*", " ", df), re.M)
check(hc and all(x in hc.group(1) for x in ("--interval=30s", "--timeout=5s", "--start-period=10s", "--retries=5"))
      and "curl" in hc.group(1) and "/api/v1/readyz" in hc.group(1),
      "HEALTHCHECK: curl /api/v1/readyz, 30s/5s/10s/5")
leaky = [l for l in lines if re.match(r"(?i)(ENV|ARG)\s", l) and SECRET_NAME.search(l.split()[1].split("=")[0])]
check(not leaky, "no secret in ENV/ARG layers", "; ".join(leaky))
check(not re.search(r"(?i)COPY\s+[^\n]*\.env\b", df), "no .env copied into the image")

di = [l.strip() for l in (ROOT / ".dockerignore").read_text().splitlines() if l.strip() and not l.startswith("#")]
for must in ("/.git", "**/target", "**/.env", "/.dev", "/.deploy", "/backups", "**/*.dump"):
    check(must in di, f".dockerignore excludes {must}")
check(not any(p.lstrip("/") in ("crates", "migrations", "Cargo.toml", "Cargo.lock") for p in di),
      ".dockerignore keeps crates/, migrations/, Cargo.toml and Cargo.lock")

# --- env.example ------------------------------------------------------------------------------
example = {}
for l in (ROOT / "deploy/env.example").read_text().splitlines():
    m = re.match(r"^([A-Z_][A-Z0-9_]*)=(.*)$", l)
    if m:
        example[m.group(1)] = m.group(2)
settings = re.findall(r'^\s*s\("([A-Z_]+)"', (ROOT / "crates/core/src/config/settings_table.rs").read_text(), re.M)
check(len(settings) >= 20, "found the settings table in crates/core/src/config/settings_table.rs", len(settings))
missing = [s for s in settings + ["RUST_LOG"] if s not in example]
check(not missing, "deploy/env.example lists every setting of crates/core/src/config/settings_table.rs", ", ".join(missing))
compose_vars = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", (ROOT / "compose.prod.yml").read_text()))
compose_vars -= {"REPORTER_TAG"}
missing = sorted(v for v in compose_vars if v not in example)
check(not missing, "deploy/env.example lists every variable the compose files read", ", ".join(missing))
for k in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "REPORTER_CREDENTIALS_KEY", "SMOKE_PASSWORD", "DATABASE_URL", "REDIS_URL"):
    check("CHANGE_ME" in example.get(k, ""), f"deploy/env.example: {k} is a placeholder, not a secret")
check("REPORTER_TAG" not in example, "deploy/env.example does not pin REPORTER_TAG (deploy.sh passes it)")

sys.exit(0 if all(results) else 1)
