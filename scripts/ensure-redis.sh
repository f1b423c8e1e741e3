#!/usr/bin/env bash
# Make sure Redis answers on 127.0.0.1:6379 (the tests of shared rate limits use it); install
# and start it if it is missing or down. A missing Redis is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
ready() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if command -v redis-cli >/dev/null && ready; then exit 0; fi
scripts/ensure-debian-packages.sh redis-server=redis-server redis-cli=redis-tools
if ! ready; then
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" --appendonly no \
    >/dev/null || true
fi
for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
echo "error: Redis is not reachable on 127.0.0.1:6379 and could not be started" >&2
exit 1
