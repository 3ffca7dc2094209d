#!/bin/sh
# Starts the subtensor runtime under chopsticks on 127.0.0.1:$1 and keeps it up until this
# script's stdin closes (the test process that started it exits), then stops it.
# Installs chopsticks from the committed lock file on first use (`npm ci --ignore-scripts`:
# without it sqlite3 tries a prebuilt download and compiles offline for minutes).
set -eu
port="$1"
cd "$(dirname "$0")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "chain tests need Node.js 20 and npm (Debian: apt-get install nodejs npm)" >&2
    exit 1
fi
if [ ! -x node_modules/.bin/chopsticks ]; then
    npm ci --ignore-scripts --no-audit --no-fund >&2
fi
if [ ! -f spec.json ]; then
    gzip -dc subtensor-raonet-spec218.json.gz > spec.json.part
    mv spec.json.part spec.json
fi
node_modules/.bin/chopsticks --config chopsticks.yml --port "$port" &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
cat >/dev/null
