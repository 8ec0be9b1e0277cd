#!/usr/bin/env bash
# Monitoring: deploy/prometheus (config, alert and recording rules, rule unit
# tests), deploy/alertmanager, deploy/grafana (provisioning, dashboard) and
# docs/monitoring.md stay valid and in step with the code and the compose
# files. promtool comes from Debian's `prometheus` package (apt-get, only when
# absent); Grafana is not installed: its files are checked structurally.
# shellcheck disable=SC2317 # the helpers below are called through check()
set -euo pipefail
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PROM=deploy/prometheus
if ! ensure_pyyaml; then
  not_ok "no python3 with PyYAML, and apt-get could not install python3-yaml"
  finish
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# --- promtool ---------------------------------------------------------------------------
if ensure_tool promtool prometheus; then
  promtool check config "$PROM/prometheus.yml" >"$WORK/config" 2>&1 && rc=0 || rc=$?
  check "promtool check config $PROM/prometheus.yml (exit $rc)" test "$rc" -eq 0
  [ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/config"
  check "... which loads the rule files" grep -q 'SUCCESS: [1-9][0-9]* rule files found' "$WORK/config"
  promtool check rules "$PROM"/rules/*.yml >"$WORK/rules" 2>&1 && rc=0 || rc=$?
  check "promtool check rules $PROM/rules/*.yml (exit $rc)" test "$rc" -eq 0
  [ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/rules"
  promtool test rules "$PROM"/tests/*.yml >"$WORK/unit" 2>&1 && rc=0 || rc=$?
  check "promtool test rules $PROM/tests/*.yml (exit $rc)" test "$rc" -eq 0
  [ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/unit"

  # The unit tests can fail: a rule test expecting the wrong thing is caught.
  mkdir -p "$WORK/bad/rules" "$WORK/bad/tests"
  sed 's/> 900$/> 90000/' "$PROM/rules/reporter.yml" >"$WORK/bad/rules/reporter.yml"
  cp "$PROM"/tests/*.yml "$WORK/bad/tests/"
  promtool test rules "$WORK"/bad/tests/*.yml >"$WORK/bad.out" 2>&1 && rc=0 || rc=$?
  check "promtool test rules fails when a threshold is broken (exit $rc)" test "$rc" -ne 0
  check "... naming the alert" grep -q 'ReporterQueueJobWaitingTooLong' "$WORK/bad.out"
else
  not_ok "promtool: not installed and apt-get could not install the prometheus package"
fi

# --- structure, names and cross-references (python) --------------------------------------------
"$PY" - "$ROOT" >"$WORK/py" 2>&1 <<'PY' && rc=0 || rc=$?
import json, re, sys
from pathlib import Path
import yaml

ROOT = Path(sys.argv[1])
PROM = ROOT / "deploy/prometheus"
failed = False


def check(ok, what, detail=""):
    global failed
    failed |= not ok
    print(("ok - " if ok else "not ok - ") + what + ("" if ok or not detail else f" ({detail})"))


# Metric names the code exports (counters keep their name; histograms add
# _bucket/_sum/_count), what node_exporter and the backup scripts export,
# Prometheus' own `up`, and the recording rules.
code = "\n".join(p.read_text() for p in ROOT.glob("crates/*/src/**/*.rs"))
known = {"up"}
for kind, name in re.findall(r'(counter|gauge|histogram)!\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"', code):
    known.add(name)
    if kind == "histogram":
        known |= {name + "_bucket", name + "_sum", name + "_count"}
known |= {"node_filesystem_avail_bytes", "node_filesystem_size_bytes", "node_filesystem_readonly",
          "reporter_backup_last_success_timestamp_seconds"}
rules = [yaml.safe_load(p.read_text()) for p in sorted((PROM / "rules").glob("*.yml"))]
all_rules = [r for doc in rules for g in doc["groups"] for r in g["rules"]]
records = {r["record"] for r in all_rules if "record" in r}
alerts = [r["alert"] for r in all_rules if "alert" in r]
known |= records

for new in ("reporter_schedule_hours_overdue", "reporter_runs_unfinished_past_hour",
            "reporter_queue_oldest_job_age_seconds", "reporter_workers_expected",
            "reporter_browser_lease_oldest_seconds", "reporter_dependency_up"):
    check(new in known, f"the API exports {new}")

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
            "bool", "offset", "inf", "nan"}


def metric_names(expr):
    """Metric names in a PromQL expression (not functions, labels, keywords)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        word, rest = m.group(0), e[m.end():]
        if re.match(r"\s*\(", rest) or word.lower() in KEYWORDS:
            continue
        if m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] == "."):
            continue  # 26e3, 0.5
        names.add(word)
    return names


unknown = {n for r in all_rules for n in metric_names(r["expr"]) if n not in known}
check(not unknown, "every metric the rules read exists (code, node_exporter, backup textfile, up, recording rules)",
      ", ".join(sorted(unknown)))
check(len(alerts) == len(set(alerts)), "alert names are unique")
for r in all_rules:
    if "alert" not in r:
        continue
    ok = r.get("labels", {}).get("severity") in ("critical", "warning") and \
        all(r.get("annotations", {}).get(k) for k in ("summary", "description", "runbook"))
    check(ok, f"{r['alert']}: severity, summary, description and runbook")
    check(r["annotations"].get("runbook") == f"docs/monitoring.md#{r['alert'].lower()}",
          f"{r['alert']}: runbook links its docs/monitoring.md section")

# Every alert fires in a unit test, and the tests have not-firing cases.
fired, quiet = set(), set()
for p in sorted((PROM / "tests").glob("*.yml")):
    for t in yaml.safe_load(p.read_text()).get("tests", []):
        for a in t.get("alert_rule_test", []):
            (fired if a.get("exp_alerts") else quiet).add(a["alertname"])
check(set(alerts) <= fired, "every alert fires in a rule unit test", ", ".join(sorted(set(alerts) - fired)))
check(set(alerts) <= quiet, "every alert has a not-firing unit test case", ", ".join(sorted(set(alerts) - quiet)))

# --- prometheus.yml: a job per process -----------------------------------------------------------
cfg = yaml.safe_load((PROM / "prometheus.yml").read_text())
jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
targets = lambda j: [t for sc in jobs.get(j, {}).get("static_configs", []) for t in sc["targets"]]
check(sorted(targets("reporter-api")) == ["api-a:8000", "api-b:8000"], "scrapes both API replicas on :8000")
dns = (jobs.get("reporter-worker", {}).get("dns_sd_configs") or [{}])[0]
check(dns.get("names") == ["worker"] and dns.get("type") == "A" and dns.get("port") == 9100,
      "finds every worker replica by DNS (A, worker, 9100)")
check(targets("reporter-beat") == ["beat:9100"], "scrapes beat on :9100")
check(targets("node") == ["node-exporter:9100"], "scrapes node-exporter")
am = [t for a in cfg["alerting"]["alertmanagers"] for sc in a["static_configs"] for t in sc["targets"]]
check(am == ["alertmanager:9093"], "sends alerts to alertmanager:9093")
check(cfg.get("rule_files") == ["rules/*.yml"], "loads rules/*.yml (relative to the config)")

# --- alertmanager: one webhook, its URL from a file that is not in git --------------------------
amc = yaml.safe_load((ROOT / "deploy/alertmanager/alertmanager.yml").read_text())
receivers = {r["name"]: r for r in amc["receivers"]}
routed = {amc["route"]["receiver"]} | {r["receiver"] for r in amc["route"].get("routes", [])}
check(routed <= set(receivers), "alertmanager routes only to defined receivers")
hooks = [w for r in amc["receivers"] for w in r.get("webhook_configs", [])]
check(hooks and all("url" not in w and str(w.get("url_file", "")).startswith("/etc/alertmanager/") for w in hooks),
      "webhook URLs come from url_file, never inline")
check("webhook_url" in (ROOT / "deploy/alertmanager/.gitignore").read_text().split(),
      "deploy/alertmanager/webhook_url is git-ignored")
inhibited = {m for i in amc.get("inhibit_rules", []) for m in i.get("source_matchers", []) + i.get("target_matchers", [])}
names_in = set(re.findall(r"Reporter[A-Za-z]+", " ".join(inhibited)))
check(names_in <= set(alerts), "inhibit rules name existing alerts", ", ".join(sorted(names_in - set(alerts))))

# --- grafana: provisioning and dashboard ----------------------------------------------------------
ds = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())["datasources"]
check(len(ds) == 1 and ds[0]["type"] == "prometheus" and ds[0]["url"] == "http://prometheus:9090",
      "grafana's data source is the prometheus service")
uid = ds[0]["uid"]
prov = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/reporter.yml").read_text())["providers"]
dash_path = prov[0]["options"]["path"]
dashboards = sorted((ROOT / "deploy/grafana/dashboards").glob("*.json"))
check(dashboards, "deploy/grafana/dashboards holds a dashboard")
for p in dashboards:
    try:
        d = json.loads(p.read_text())
    except ValueError as e:
        check(False, f"{p.name} is valid JSON", e)
        continue
    check(True, f"{p.name} is valid JSON")
    panels = [x for x in d.get("panels", []) if x.get("type") != "row"]
    check(d.get("uid") and d.get("title") and len(panels) >= 10, f"{p.name}: uid, title and at least 10 panels",
          len(panels))
    ids = [x.get("id") for x in d.get("panels", [])]
    check(len(ids) == len(set(ids)), f"{p.name}: panel ids are unique")
    bad_ds, bad_names, empty = [], set(), []
    for x in panels:
        if not x.get("targets"):
            empty.append(x.get("title"))
        for t in [x] + x.get("targets", []):
            if (t.get("datasource") or {}).get("uid") != uid:
                bad_ds.append(x.get("title"))
        for t in x.get("targets", []):
            bad_names |= {n for n in metric_names(t.get("expr", "")) if n not in known}
    check(not empty, f"{p.name}: every panel has a query", ", ".join(map(str, empty)))
    check(not bad_ds, f"{p.name}: every panel and query uses data source uid {uid}", ", ".join(sorted(set(map(str, bad_ds)))))
    check(not bad_names, f"{p.name}: every metric its queries read exists", ", ".join(sorted(bad_names)))
    grid = all({"h", "w", "x", "y"} <= set(x.get("gridPos", {})) for x in d.get("panels", []))
    check(grid, f"{p.name}: every panel has a grid position")

# --- docs/monitoring.md: a section per alert, and no section for an alert that is gone ------------
doc = (ROOT / "docs/monitoring.md").read_text()
sections = set(re.findall(r"^#{2,3} +`?(Reporter[A-Za-z]+)`?\s*$", doc, re.M))
check(set(alerts) <= sections, "docs/monitoring.md has a section for every alert", ", ".join(sorted(set(alerts) - sections)))
check(sections <= set(alerts), "every alert section of docs/monitoring.md is a real alert", ", ".join(sorted(sections - set(alerts))))
links = set(re.findall(r"runbook\.md#([a-z0-9-]+)", doc))
anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).strip().replace(" ", "-")
           for h in re.findall(r"^#+ +(.*)$", (ROOT / "docs/runbook.md").read_text(), re.M)}
check(links and links <= anchors, "docs/monitoring.md links only existing docs/runbook.md sections",
      ", ".join(sorted(links - anchors)))
for word in ("ssh -N -L", "127.0.0.1:9090", "127.0.0.1:3000", "WORKER_REPLICAS", "BACKUP_METRICS_DIR"):
    check(word in doc, f"docs/monitoring.md explains {word}")

# --- compose: the services mount these files where the configs expect them --------------------
for name in ("compose.prod.yml", "compose.staging.yml"):
    svcs = yaml.safe_load((ROOT / name).read_text())["services"]

    def mounts(s):
        out = {}
        for v in svcs.get(s, {}).get("volumes", []):
            v = str(v)
            cut = v.index("}") + 1 if v.startswith("${") else 0  # ${VAR:-default} holds a colon
            parts = v[cut:].split(":")
            if len(parts) >= 2:
                out[parts[1]] = v[:cut] + parts[0]
        return out

    def flag(s, f):
        for a in svcs.get(s, {}).get("command", []) or []:
            if str(a).startswith(f + "="):
                return str(a).split("=", 1)[1]
        return None

    pm = mounts("prometheus")
    check(pm.get("/etc/prometheus") == "./deploy/prometheus" and flag("prometheus", "--config.file") == "/etc/prometheus/prometheus.yml",
          f"{name}: prometheus reads deploy/prometheus/prometheus.yml at /etc/prometheus")
    gm = mounts("grafana")
    check(gm.get("/etc/grafana/provisioning") == "./deploy/grafana/provisioning" and gm.get(dash_path) == "./deploy/grafana/dashboards",
          f"{name}: grafana mounts its provisioning and the dashboards at {dash_path}")
    amm = mounts("alertmanager")
    check(amm.get("/etc/alertmanager") == "./deploy/alertmanager"
          and flag("alertmanager", "--config.file") == "/etc/alertmanager/alertmanager.yml",
          f"{name}: alertmanager reads deploy/alertmanager at /etc/alertmanager")
    nm = mounts("node-exporter")
    tdir = flag("node-exporter", "--collector.textfile.directory")
    check(tdir and str(nm.get(tdir, "")).startswith("${BACKUP_METRICS_DIR:-"),
          f"{name}: node-exporter's textfile directory is BACKUP_METRICS_DIR", nm)
    check(nm.get("/host") == "/" and flag("node-exporter", "--path.rootfs") == "/host",
          f"{name}: node-exporter sees the host's file systems read-only")
    scraped = {t.split(":")[0] for j in ("reporter-api", "reporter-beat", "node") for t in targets(j)} | {"worker", "alertmanager"}
    check(scraped <= set(svcs), f"{name}: every scraped host is a service", ", ".join(sorted(scraped - set(svcs))))
    for s in ("worker", "beat"):
        env = svcs.get(s, {}).get("environment") or {}
        check(str(env.get("REPORTER_METRICS_BIND", "")).endswith(":9100"),
              f"{name}: {s} serves metrics on :9100 (REPORTER_METRICS_BIND)")
    for s in ("prometheus", "grafana", "alertmanager"):
        ports = [str(p) for p in svcs.get(s, {}).get("ports", [])]
        check(ports and all(p.startswith("127.0.0.1:") for p in ports), f"{name}: {s} is published on 127.0.0.1 only")

sys.exit(1 if failed else 0)
PY
cat "$WORK/py"
T_PASSED=$((T_PASSED + $(grep -c '^ok - ' "$WORK/py" || true)))
T_FAILED=$((T_FAILED + $(grep -c '^not ok - ' "$WORK/py" || true)))
check "the structure checks ran to the end (exit $rc)" test "$rc" -le 1

finish
