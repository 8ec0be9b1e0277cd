"""Checks of .github/workflows/ci.yml and deploy-staging.yml: they parse, have
the triggers and jobs the project relies on, and take secrets only from
${{ secrets.* }}. Prints `ok - ...` / `not ok - ...` lines.

    python3 tests/deploy/check_workflows.py REPO_ROOT
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
    text = (ROOT / ".github/workflows" / name).read_text()
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        check(False, f"{name} parses as YAML", str(e).splitlines()[0])
        return None, text
    check(isinstance(doc, dict), f"{name} parses as YAML")
    # PyYAML reads the key `on` as the boolean True.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc, text


def steps_text(job):
    return "\n".join(str(s.get("run", "")) + " " + str(s.get("uses", "")) + " " + str(s.get("with", ""))
                     for s in job.get("steps", []))


def secret_hygiene(name, doc, text):
    # Every secret comes from ${{ secrets.X }}; no literal token, key or password.
    literal = re.findall(r"(?i)(?:password|token|secret|api[_-]?key)\s*:\s*(?!\$\{\{)['\"]?[A-Za-z0-9/+_-]{8,}", text)
    literal = [l for l in literal if "postgres" not in l.lower()]
    check(not literal, f"{name}: no literal secret", "; ".join(literal))
    check(not re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----", text), f"{name}: no private key inline")
    # Secrets are never echoed or interpolated straight into a shell script.
    bad = [s.get("name", "?") for j in doc.get("jobs", {}).values() for s in j.get("steps", [])
           if "secrets." in str(s.get("run", ""))]
    check(not bad, f"{name}: run scripts get secrets through env:, never inline", ", ".join(bad))
    check("StrictHostKeyChecking no" not in text and "StrictHostKeyChecking=no" not in text,
          f"{name}: SSH host keys are checked")


ci, ci_text = load("ci.yml")
if ci:
    on = ci["on"] or {}
    check("main" in (on.get("push") or {}).get("branches", []), "ci.yml: runs on push to main")
    check("main" in (on.get("pull_request") or {}).get("branches", []), "ci.yml: runs on pull requests to main")
    jobs = ci.get("jobs", {})
    everything = "\n".join(steps_text(j) for j in jobs.values())
    check("cargo fmt --all -- --check" in everything, "ci.yml: cargo fmt --check")
    check(re.search(r"cargo clippy .*-- -D warnings", everything), "ci.yml: cargo clippy -D warnings")
    test_jobs = [j for j in jobs.values() if "scripts/test.sh" in steps_text(j)]
    check(test_jobs, "ci.yml: runs scripts/test.sh")
    if test_jobs:
        services = test_jobs[0].get("services", {})
        check("postgres" in services and "postgres" in str(services["postgres"].get("image")),
              "ci.yml: the test job has a PostgreSQL service container")
        check("redis" in services and "redis" in str(services["redis"].get("image")),
              "ci.yml: the test job has a Redis service container")
        check(re.search(r"apt-get install[^\n]*(\n\s+[^\n]*)*chromium", steps_text(test_jobs[0])),
              "ci.yml: the test job installs Chromium with apt")
    check(re.search(r"cargo (audit|deny)", everything), "ci.yml: cargo audit or cargo deny")
    check("shellcheck" in everything, "ci.yml: shellcheck")
    builds = [s for j in jobs.values() for s in j.get("steps", []) if "docker/build-push-action" in str(s.get("uses"))]
    check(builds and all(str((b.get("with") or {}).get("push")).lower() == "false" for b in builds),
          "ci.yml: builds the image with docker/build-push-action, without pushing")
    check(builds and all((b.get("with") or {}).get("file") == "deploy/Dockerfile" for b in builds),
          "ci.yml: builds deploy/Dockerfile")
    check(ci.get("permissions", {}).get("contents") == "read", "ci.yml: read-only token")
    check(all(j.get("timeout-minutes") for j in jobs.values()), "ci.yml: every job has a timeout")
    secret_hygiene("ci.yml", ci, ci_text)

dep, dep_text = load("deploy-staging.yml")
if dep:
    on = dep["on"] or {}
    push = on.get("push") or {}
    check("staging" in push.get("branches", []), "deploy-staging.yml: runs on push to staging")
    check("v*-staging" in push.get("tags", []), "deploy-staging.yml: runs on v*-staging tags")
    check(set(on) == {"push"}, "deploy-staging.yml: no other trigger (no pull_request)", sorted(on))
    jobs = dep.get("jobs", {})
    everything = "\n".join(steps_text(j) for j in jobs.values())
    builds = [s for j in jobs.values() for s in j.get("steps", []) if "docker/build-push-action" in str(s.get("uses"))]
    check(builds and str((builds[0].get("with") or {}).get("push")).lower() == "true",
          "deploy-staging.yml: builds and pushes the image")
    check(re.search(r"rev-parse --short", everything) and "version" in everything,
          "deploy-staging.yml: tags the image with the version and the short commit")
    check(re.search(r"ssh .*scripts/deploy\.sh deploy --env staging --tag \$TAG", everything, re.S),
          "deploy-staging.yml: deploys over SSH with scripts/deploy.sh deploy --env staging --tag")
    check("scripts/smoke-test.sh" in everything, "deploy-staging.yml: runs the smoke test")
    rollback = [s for j in jobs.values() for s in j.get("steps", [])
                if "scripts/deploy.sh rollback" in str(s.get("run", ""))]
    check(rollback and "failure()" in str(rollback[0].get("if", "")),
          "deploy-staging.yml: rolls back on failure")
    check(rollback and "steps.deploy.outcome == 'success'" in str(rollback[0].get("if", "")),
          "deploy-staging.yml: does not roll back twice (deploy.sh already did when it failed)")
    deploy_job = next((j for j in jobs.values() if "scripts/deploy.sh deploy" in steps_text(j)), {})
    check(deploy_job.get("environment") == "staging", "deploy-staging.yml: the deploy job uses the staging environment")
    check((dep.get("concurrency") or {}).get("cancel-in-progress") is False,
          "deploy-staging.yml: deploys queue, never cancel each other")
    used = set(re.findall(r"secrets\.([A-Z0-9_]+)", dep_text))
    check(used >= {"STAGING_SSH_KEY", "STAGING_SSH_HOST", "STAGING_SMOKE_PASSWORD"},
          "deploy-staging.yml: SSH and smoke credentials come from secrets", sorted(used))
    secret_hygiene("deploy-staging.yml", dep, dep_text)

sys.exit(0 if all(results) else 1)
