#!/usr/bin/env bash
# The programs the docs tell an operator to run are Debian packages that
# config/dependencies.txt lists (.ci/setup installs exactly those): a
# command line in a doc that CI's machine cannot run is a recipe nobody
# checked. Usage: doc_tools.sh SOURCE_DIR
set -euo pipefail
src=$1
deps=$(grep -v '^#' "$src/config/dependencies.txt")
missing=""
# program package: the program as a command (a code line or an inline code
# span starting with it) in README.md or docs/, and the package it comes in.
while read -r program package; do
  if grep -Eq "(^|\`)$program [-'\"a-z]" "$src/README.md" "$src"/docs/*.md \
     && ! grep -qx "$package" <<< "$deps"; then
    missing+=" $program ($package)"
  fi
done <<'TOOLS'
curl curl
sqlite3 sqlite3
openssl openssl
psql postgresql
python3 python3
TOOLS
if [ -n "$missing" ]; then
  echo "FAIL: the docs run programs that config/dependencies.txt lacks:$missing"
  exit 1
fi
echo "every program the docs run is in config/dependencies.txt"
