#!/usr/bin/env bash
# Lints migrations/*/up.sql: the previous release must keep running on the new
# schema (additive only) and no statement may lock a busy table for long.
#   - squawk, a PostgreSQL migration linter, pinned to SQUAWK_VERSION below,
#     with the repository's .squawk.toml (excluded rules, each with a reason).
#     A migration whose directory has a metadata.toml saying
#     run_in_transaction = false is linted as running outside a transaction.
#   - what squawk does not check: ban-drop-constraint (ALTER TABLE ... DROP
#     CONSTRAINT), ban-truncate (TRUNCATE), ban-drop-schema (DROP SCHEMA).
#   - every exception has a reason: a `-- squawk-ignore RULE` (squawk's
#     rules) or `-- reporter-ignore RULE` (the three above) comment, right
#     above the statement, needs a `-- reviewed: WHY` line in the same
#     comment block. `-- squawk-ignore-file RULE` does the same for a file.
# squawk is installed on demand into a cache directory: from npm
# (squawk-cli, its binary ships in @squawk-cli/<platform>), else from PyPI
# (pip install --target); nothing else is installed, nothing outside the cache.
#
#   scripts/ci/lint-migrations.sh [--root DIR] [--no-install | --no-squawk] [FILE...]
#   scripts/ci/lint-migrations.sh --install-only
#
# Options:
#   --root DIR       repository whose migrations/*/up.sql and .squawk.toml are
#                    linted (default: the checkout this script is in)
#   --no-install     use an installed squawk only (SQUAWK, the cache, PATH)
#   --no-squawk      only the checks squawk lacks and the reasons (no squawk needed)
#   --install-only   make squawk available and print its path; lint nothing
#   -h, --help       this text
#
# Environment:
#   SQUAWK        squawk binary to use (must be version SQUAWK_VERSION)
#   SQUAWK_CACHE  install directory (default
#                 ${XDG_CACHE_HOME:-$HOME/.cache}/reporter/squawk-SQUAWK_VERSION)
#
# Output: one line per finding, `FILE:LINE: RULE: message` (FILE relative to
# the root, LINE 1-based), then a summary line.
# Exit: 0 clean, 1 findings, 2 usage error, 3 squawk unavailable.
set -euo pipefail

SQUAWK_VERSION=2.66.0

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NO_INSTALL=0 INSTALL_ONLY=0 NO_SQUAWK=0 FILES=()
usage_error() { printf 'error: %s (see --help)\n' "$*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || usage_error "--root needs a directory"; ROOT=$2; shift 2 ;;
    --no-install) NO_INSTALL=1; shift ;;
    --install-only) INSTALL_ONLY=1; shift ;;
    --no-squawk) NO_SQUAWK=1; shift ;;
    -h | --help) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
    -*) usage_error "unknown argument $1" ;;
    *) FILES+=("$1"); shift ;;
  esac
done
[ -d "$ROOT" ] || usage_error "--root $ROOT is not a directory"
ROOT=$(cd "$ROOT" && pwd)
CACHE=${SQUAWK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reporter/squawk-$SQUAWK_VERSION}

# --- squawk ----------------------------------------------------------------------
is_pinned() { # binary: it runs and is SQUAWK_VERSION
  [ -x "$1" ] && [ "$("$1" --version 2>/dev/null)" = "squawk $SQUAWK_VERSION" ]
}
# Installs into a fresh directory beside the cache, then moves only the binary
# into place with a rename, so concurrent installs never see half a file.
install_squawk() {
  local tmp bin=''
  mkdir -p "$CACHE/bin"
  tmp=$(mktemp -d "$CACHE/.install-XXXXXX")
  if command -v npm >/dev/null 2>&1 \
    && npm install --silent --no-audit --no-fund --include=optional --prefix "$tmp/npm" \
      "squawk-cli@$SQUAWK_VERSION" >"$tmp/log" 2>&1; then
    bin=$(find "$tmp/npm/node_modules/@squawk-cli" -path '*/bin/squawk' -type f 2>/dev/null | head -n 1)
  fi
  if [ -z "$bin" ] && command -v python3 >/dev/null 2>&1 \
    && python3 -m pip install --quiet --disable-pip-version-check --no-input --target "$tmp/pip" \
      "squawk-cli==$SQUAWK_VERSION" >>"$tmp/log" 2>&1; then
    bin="$tmp/pip/bin/squawk"
  fi
  if [ -n "$bin" ] && is_pinned "$bin"; then
    cp "$bin" "$CACHE/bin/.squawk.$$"
    chmod 755 "$CACHE/bin/.squawk.$$"
    mv -f "$CACHE/bin/.squawk.$$" "$CACHE/bin/squawk"
  else
    sed 's/^/  /' "$tmp/log" >&2 || true
  fi
  rm -rf "$tmp"
  is_pinned "$CACHE/bin/squawk"
}
find_squawk() { # prints the binary's path
  if [ -n "${SQUAWK:-}" ]; then
    is_pinned "$SQUAWK" || { echo "SQUAWK=$SQUAWK is not squawk $SQUAWK_VERSION" >&2; return 1; }
    printf '%s\n' "$SQUAWK"
  elif is_pinned "$CACHE/bin/squawk"; then
    printf '%s\n' "$CACHE/bin/squawk"
  elif command -v squawk >/dev/null 2>&1 && is_pinned "$(command -v squawk)"; then
    command -v squawk
  elif [ "$NO_INSTALL" -eq 0 ] && install_squawk; then
    printf '%s\n' "$CACHE/bin/squawk"
  else
    cat >&2 <<EOF
squawk $SQUAWK_VERSION is not available: not in SQUAWK, $CACHE/bin or PATH$([ "$NO_INSTALL" -eq 1 ] && echo ', and --no-install' || echo ', and neither npm nor pip could install it').
Install it once, as the user that runs this, with one of:
  npm install --prefix ~/.cache/reporter/squawk-npm squawk-cli@$SQUAWK_VERSION   # then SQUAWK=<that>/node_modules/.bin/squawk
  python3 -m pip install --user squawk-cli==$SQUAWK_VERSION
(or apt-get install npm / python3-pip and run this again: it installs into $CACHE).
EOF
    return 1
  fi
}

SQ=''
if [ "$NO_SQUAWK" -eq 0 ] || [ "$INSTALL_ONLY" -eq 1 ]; then
  SQ=$(find_squawk) || exit 3
fi
if [ "$INSTALL_ONLY" -eq 1 ]; then
  printf '%s\n' "$SQ"
  exit 0
fi

# --- the files -------------------------------------------------------------------------
if [ ${#FILES[@]} -eq 0 ]; then
  for f in "$ROOT"/migrations/*/up.sql; do [ -f "$f" ] && FILES+=("$f"); done
fi
[ ${#FILES[@]} -gt 0 ] || { echo "no migrations/*/up.sql under $ROOT" >&2; exit 1; }
CONFIG="$ROOT/.squawk.toml"
[ "$NO_SQUAWK" -eq 1 ] || [ -f "$CONFIG" ] || { echo "no .squawk.toml in $ROOT: the lint needs the repository's squawk settings" >&2; exit 1; }

# diesel wraps each migration in a transaction unless its metadata.toml says
# run_in_transaction = false; squawk must assume the same.
in_tx=() no_tx=()
for f in "${FILES[@]}"; do
  if grep -Eqs '^[[:space:]]*run_in_transaction[[:space:]]*=[[:space:]]*false' "$(dirname "$f")/metadata.toml"; then
    no_tx+=("$f")
  else
    in_tx+=("$f")
  fi
done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
run_squawk() { # out-file extra-flag files...
  local out=$1 flag=$2; shift 2
  if [ $# -eq 0 ] || [ "$NO_SQUAWK" -eq 1 ]; then echo '[]' >"$out"; return 0; fi
  # Exit 1 means findings; the JSON says which. Anything else is an error.
  (cd "$ROOT" && "$SQ" --config "$CONFIG" "$flag" --reporter json "$@") >"$out" 2>"$out.err" || {
    local rc=$?
    [ "$rc" -eq 1 ] && [ -s "$out" ] && return 0
    echo "squawk failed (exit $rc): $(head -c 2000 "$out.err")" >&2
    return 1
  }
}
run_squawk "$WORK/tx.json" --assume-in-transaction "${in_tx[@]+"${in_tx[@]}"}" || exit 1
run_squawk "$WORK/notx.json" --no-assume-in-transaction "${no_tx[@]+"${no_tx[@]}"}" || exit 1

python3 - "$ROOT" "${SQ:+squawk $SQUAWK_VERSION and }" "$WORK/tx.json" "$WORK/notx.json" "${FILES[@]}" <<'PY'
import json, os, re, sys

root, by, reports, files = sys.argv[1], sys.argv[2], sys.argv[3:5], sys.argv[5:]
findings = []  # (file, line, rule, message)


def rel(path):
    path = os.path.abspath(os.path.join(root, path))
    return os.path.relpath(path, root)


for report in reports:
    for d in json.load(open(report)):
        findings.append((rel(d["file"]), int(d["line"]) + 1, d["rule_name"], d["message"]))

BUILTIN = {
    "ban-drop-constraint": (re.compile(r"\bDROP\s+CONSTRAINT\b", re.I),
                            "dropping a constraint changes what the running release may rely on (ON CONFLICT, checks, foreign keys)"),
    "ban-truncate": (re.compile(r"^\s*TRUNCATE\b", re.I), "truncating a table deletes data the running release uses"),
    "ban-drop-schema": (re.compile(r"\bDROP\s+SCHEMA\b", re.I), "dropping a schema drops everything in it"),
}
IGNORE = re.compile(r"^--\s*(squawk-ignore(?:-file)?|reporter-ignore)\b\s*(.*)$")


def statements(sql):
    """(start line, code without comments and literals, comment block just above)."""
    out, code, start, comments, i, line = [], [], None, [], 0, 1
    pending = []  # comment lines since the last statement ended
    n = len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            if start is None:
                pending.append((line, sql[i:j].strip()))
            code.append(" ")
            i = j
            continue
        if sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += sql.count("\n", i, j)
            code.append(" ")
            i = j
            continue
        if c.isspace():
            line += c == "\n"
            code.append(" ")
            i += 1
            continue
        if start is None:
            start = line
            # the comment block directly above: contiguous comment lines ending
            # on the line before the statement
            block, want = [], start - 1
            for ln, text in reversed(pending):
                if ln != want:
                    break
                block.insert(0, text)
                want -= 1
            comments, pending = block, []
        m = re.match(r"\$[A-Za-z_0-9]*\$", sql[i:]) if c == "$" else None
        if c in "'\"" or m:
            end = (m.group(0) if m else c)
            j = sql.find(end, i + len(end))
            j = n if j < 0 else j + len(end)
            line += sql.count("\n", i, j)
            code.append(" x ")
            i = j
            continue
        if c == ";":
            out.append((start, "".join(code), comments))
            code, start = [], None
            i += 1
            continue
        code.append(c)
        i += 1
    if start is not None and "".join(code).strip():
        out.append((start, "".join(code), comments))
    return out


def has_reason(block):
    """A `-- reviewed: WHY` (or `-- reviewed (ref): WHY`) line in the same comment block."""
    return any(re.match(r"^--\s*reviewed\b[^:\n]*:\s*\S", t) for t in block)


for path in files:
    name = rel(path)
    sql = open(path).read()
    lines = sql.split("\n")
    # every ignore comment carries a reason in its comment block
    for k, text in enumerate(lines):
        m = IGNORE.match(text.strip())
        if not m:
            continue
        lo = k
        while lo > 0 and lines[lo - 1].strip().startswith("--"):
            lo -= 1
        hi = k
        while hi + 1 < len(lines) and lines[hi + 1].strip().startswith("--"):
            hi += 1
        block = [l.strip() for l in lines[lo:hi + 1]]
        if not has_reason(block):
            findings.append((name, k + 1, "exception-without-reason",
                             f"`{text.strip()}` needs a `-- reviewed: WHY` line in its comment block"))
        if not m.group(2).strip():
            findings.append((name, k + 1, "exception-without-rule", f"`{text.strip()}` names no rule"))
        if m.group(1) == "reporter-ignore":
            for r in re.split(r"[,\s]+", m.group(2).strip()):
                if r and r not in BUILTIN:
                    findings.append((name, k + 1, "unused-ignore", f"unknown reporter-ignore rule {r}"))
    for start, code, block in statements(sql):
        ignored = set()
        for t in block:
            m = IGNORE.match(t)
            if m and m.group(1) == "reporter-ignore":
                ignored.update(r for r in re.split(r"[,\s]+", m.group(2).strip()) if r)
        for rule, (pattern, why) in BUILTIN.items():
            if pattern.search(code) and rule not in ignored:
                findings.append((name, start, rule, why))

for f, line, rule, msg in sorted(set(findings)):
    print(f"{f}:{line}: {rule}: {msg}")
print(f"{len(files)} migration(s) linted by {by}the additive checks: "
      + (f"{len(set(findings))} finding(s)" if findings else "clean"))
sys.exit(1 if findings else 0)
PY
