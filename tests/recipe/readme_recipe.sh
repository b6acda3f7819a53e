#!/usr/bin/env bash
# Runs the README's multi-node recipe as written: the shell block of its
# "Across nodes" section, with only its paths and port moved into a
# scratch directory and a free port. Usage: readme_recipe.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1
build=$2
dir=$(mktemp -d)
trap 'pkill -f -- "--connect 127.0.0.1:$port" 2>/dev/null || true; rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The first ```sh block after the section's heading.
awk '/^## Across nodes/ { section = 1 }
     section && /^```sh$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$src/README.md" > "$dir/recipe.sh"
grep -q bus-projector "$dir/recipe.sh" || { echo "no recipe found in README.md"; exit 1; }
sed -i -e "s|/tmp/|$dir/|g" -e "s|4100|$port|g" -e "s|build/|$build/|g" \
       -e "s|config/|$src/config/|g" "$dir/recipe.sh"

cd "$dir"
bash "$dir/recipe.sh" > "$dir/stdout" 2> "$dir/stderr" || {
  echo "the recipe failed:"; cat "$dir/stdout" "$dir/stderr"; exit 1; }
cat "$dir/stdout"
fail() { echo "FAIL: $1"; echo "--- stderr:"; cat "$dir/stderr"; exit 1; }
# Remote models are named in the order their nodes attached.
grep -Eq '"type": "read_models_updated", "in_reply_to": 1, "event_id": "e1", "updated_models": \[("user_listing", "user_by_email"|"user_by_email", "user_listing")\]' "$dir/stdout" \
  || fail "the event did not reach both remote models"
grep -q '"type": "query_ok", "in_reply_to": 2, "model": "user_by_email", "key": "a@x.org"' "$dir/stdout" \
  || fail "the query was not answered by node-b's model"
echo "the README's recipe works as written"
