#!/usr/bin/env bash
# Fuzzes the live API against its own OpenAPI document with schemathesis, once per
# role (and once without a token): every generated request must get an answer the
# document allows (status, content type, body schema), never a 5xx.
#
# Usage: [SEED=119] .ci/schemathesis.sh SATRIA_BINARY [SECONDS_PER_ROLE]
# The settings of the checks (which statuses a schema-valid request may get) are
# in .ci/schemathesis.toml.
# Needs `st` (pip install schemathesis). Starts `satria serve` on 127.0.0.1 with a
# throw-away data directory and a small generated demo map, and stops it at the end.
set -euo pipefail
bin=$(realpath "$1")
per_role=${2:-12}
seed=${SEED:-119}
config=$(realpath "$(dirname "$0")/schemathesis.toml")
work=$(mktemp -d)
data="$work/data"
mkdir -p "$data"
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A small map keeps the first start short; the API is the same.
"$bin" mapgen --scale 0.03 -o "$data/banyumas-demo.osm.pbf" >/dev/null
"$bin" serve --data-dir "$data" --addr 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
base=
for _ in $(seq 1 600); do
  base=$(grep -Eo 'serving http://127\.0\.0\.1:[0-9]+' "$work/serve.out" | head -1 | sed 's/serving //' || true)
  [ -n "$base" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/serve.out" "$work/serve.err"; echo "satria serve exited"; exit 1; fi
  sleep 0.2
done
[ -n "$base" ] || { echo "satria serve did not start"; cat "$work/serve.err"; exit 1; }
echo "schemathesis against $base (seed $seed)"

status=0
# One worker per run: schemathesis (through hypothesis) parses Python source with
# ast.parse, and CPython 3.11 before 3.11.8 can fail that with "AST constructor
# recursion depth mismatch" when two threads of one process parse at once (a tool
# error, not a finding). Separate processes do not share that, so the roles run
# ST_PARALLEL at a time (2 by default, one per core), each for its own bounded
# time; each run's output is printed whole, in the order the runs were started.
parallel=${ST_PARALLEL:-2}
labels=()
pids=()
run() { # label, extra args...
  local label=$1; shift
  local log="$work/st-${#labels[@]}.log"
  labels+=("$label")
  while [ "$(jobs -rp | grep -vc "^$server_pid\$")" -ge "$parallel" ]; do wait -n || true; done
  (
    rc=0
    st --config-file "$config" run "$base/api/openapi.json" --url "$base" --checks all \
      --exclude-checks ignored_auth \
      --max-time "$per_role" --seed "$seed" --workers 1 --no-shrink \
      --suppress-health-check all --output-truncate true \
      --request-timeout 10 "$@" >"$log" 2>&1 || rc=$?
    echo "$rc" >"$log.rc"
  ) &
  pids+=($!)
}
finish() { # waits for every run, prints each one's output, fails if one failed
  local i rc
  for i in "${!pids[@]}"; do wait "${pids[$i]}" 2>/dev/null || true; done
  for i in "${!pids[@]}"; do
    rc=$(cat "$work/st-$i.log.rc" 2>/dev/null || echo "no exit status")
    echo "-- schemathesis as ${labels[$i]} (exit $rc)"
    cat "$work/st-$i.log"
    [ "$rc" = 0 ] || status=1
  done
}

declare -a users tokens
while read -r user password; do
  token=$(curl -sf -X POST "$base/api/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  users+=("$user"); tokens+=("$token")
done < <(awk '/== demo accounts/ {on=1; next} on && /role/ {print $1, $2}' "$work/serve.out")
[ "${#users[@]}" -ge 9 ] || { echo "expected the nine demo accounts, found ${#users[@]}"; exit 1; }
for i in "${!users[@]}"; do
  # Logging out would end the run's own session: the anonymous run covers that operation.
  run "${users[$i]}" -H "Authorization: Bearer ${tokens[$i]}" --exclude-path /api/auth/logout
done
run "anonymous"
finish

if ! kill -0 "$server_pid" 2>/dev/null; then echo "satria serve died during the run"; status=1; fi
exit $status
