#!/usr/bin/env bash
# Send-path benchmark (issue 3): against the running AppHost (`dotnet run --project Notifications.AppHost -c Release`),
# 1. single sends at a fixed rate (default 2,000/s), 2. the closed-loop maximum, 3. batch sends of 1,000 recipients,
# 4. pgbench replaying the same write pattern with as many clients as the closed loop, and the ratio of 2 to 4.
# Usage: bench/run-send-benchmark.sh [rate] [seconds]      (the AppHost's state dir: set STATE_DIR if not the default)
set -euo pipefail
cd "$(dirname "$0")/.."

rate="${1:-2000}"
seconds="${2:-30}"
clients="${CLIENTS:-32}"
users="${USERS:-1000}"
state_args=()
if [[ -n "${STATE_DIR:-}" ]]; then state_args=(--StateDirectory "$STATE_DIR"); fi

dotnet build bench/Notifications.LoadTest -c Release -v q -nologo >/dev/null
# A run with errors exits 1; the others still run, so every scenario is reported.
load_test() { dotnet bench/Notifications.LoadTest/bin/Release/net10.0/Notifications.LoadTest.dll "${state_args[@]}" --Users "$users" "$@" || true; }

echo "== single sends, fixed rate $rate/s"
load_test --Scenario single --Rate "$rate" --Concurrency 256 --Duration "00:00:$seconds"
echo
echo "== single sends, closed loop, $clients clients"
closed_loop="$(load_test --Scenario single --Rate 0 --Concurrency "$clients" --Duration "00:00:$seconds")"
echo "$closed_loop"
echo
echo "== batch sends, 1,000 recipients per request, 4 clients"
load_test --Scenario batch --Rate 0 --Concurrency 4 --BatchSize 1000 --Duration "00:00:$seconds"
echo

# The AppHost's database connection string, as a libpq URI for pgbench.
state_dir="${STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/notifications-apphost}"
connection="$(python3 - "$state_dir/endpoints.json" <<'PY'
import json, sys
resources = json.load(open(sys.argv[1]))["resources"]
parts = dict(p.split("=", 1) for p in resources["notificationsdb"]["connectionString"].split(";") if "=" in p)
get = lambda *names: next(parts[k] for k in parts if k.lower() in names)
print(f"postgresql://{get('username', 'user id')}:{get('password')}@{get('host')}:{get('port')}/{get('database')}")
PY
)"
pgbench_bin="$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench | tail -1)"
psql_bin="$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | tail -1)"
# The services' pools still hold the connections the load test made them open (registering users 64 at a time), so
# pgbench gets what is left of max_connections (less a margin for the services), at most as many as the closed loop.
free="$("$psql_bin" "$connection" -Atc "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int - count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")"
pgbench_clients=$(( clients < free - 5 ? clients : free - 5 ))
echo "== pgbench, same write pattern, $pgbench_clients clients"
pgbench_out="$("$pgbench_bin" -n -c "$pgbench_clients" -j 2 -T "$seconds" -D users="$users" -f bench/pgbench/single-send.sql "$connection" 2>&1 || true)"
echo "$pgbench_out" | grep -E "^(tps|latency|number of (transactions|failed))|error" || true
ours="$(echo "$closed_loop" | awk '/^accepted/ { gsub(/[()\/s]/, "", $4); print $4 }')"
theirs="$(echo "$pgbench_out" | awk '/^tps/ { print $3 }')"
echo "ratio (closed-loop accepted/s ÷ pgbench tx/s): $(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }')"
