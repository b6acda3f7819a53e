#!/usr/bin/env bash
# Runs the README's failover recipe as written: the shell block of its "Two
# bus nodes on PostgreSQL" section, with only its paths and ports moved into
# a scratch directory and free ports. Usage: readme_failover_recipe.sh
# SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
dir=$(mktemp -d)
chmod 755 "$dir" # the recipe's PostgreSQL server runs as the user postgres
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_a=$(free_port)
port_b=$(free_port)
cleanup() {
  pkill -f -- "--connect 127.0.0.1:$port_a" 2> /dev/null || true
  pkill -f -- "--listen 127.0.0.1:$port_a" 2> /dev/null || true
  pkill -f -- "--listen 127.0.0.1:$port_b" 2> /dev/null || true
  bash "$src/tests/support/pg_cluster.sh" clean "$dir/bus-pg" > /dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

awk '/^### Two bus nodes on PostgreSQL/ { section = 1 }
     section && /^```sh$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$src/README.md" > "$dir/recipe.sh"
grep -q -- "--store \"\$uri\"" "$dir/recipe.sh" || { echo "no recipe found in README.md"; exit 1; }
sed -i -e "s|/tmp/|$dir/|g" -e "s|4100|$port_a|g" -e "s|4101|$port_b|g" \
       -e "s|build/|$build/|g" -e "s|config/|$src/config/|g" \
       -e "s|tests/support/|$src/tests/support/|g" "$dir/recipe.sh"

cd "$dir"
bash "$dir/recipe.sh" > "$dir/stdout" 2> "$dir/stderr" || {
  echo "the recipe failed:"; cat "$dir/stdout" "$dir/stderr"; exit 1; }
cat "$dir/stdout"
fail() { echo "FAIL: $1"; echo "--- stderr:"; cat "$dir/stderr"; exit 1; }
grep -q '"type": "read_models_updated", "in_reply_to": 1, "event_id": "e1"' "$dir/stdout" \
  || fail "the leader did not take the event"
grep -q '"type": "query_ok", "in_reply_to": 2, "model": "user_by_email", "key": "a@x.org", "value": "u1"' "$dir/stdout" \
  || fail "the standby that took over did not answer from the log with the event"
grep -q "leading the log 'bus' (lease token 2" "$dir/stderr" \
  || fail "the standby did not take the lead"
echo "the README's failover recipe works as written"
