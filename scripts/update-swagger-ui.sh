#!/usr/bin/env bash
# Vendor Swagger UI (the API documentation at /schema) from the npm package swagger-ui-dist,
# SmartBear's own distribution: the bundle, its stylesheet and licences, into static/swagger-ui.
# Usage: scripts/update-swagger-ui.sh [VERSION]   (default: the latest 5.x)
set -euo pipefail
version="${1:-5}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "swagger-ui-dist@$version" --silent >/dev/null && tar xzf swagger-ui-dist-*.tgz)
dest="$root/static/swagger-ui"
mkdir -p "$dest"
for file in swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE; do
  cp "$work/package/$file" "$dest/"
done
sed -n 's/.*"version": "\(.*\)".*/\1/p' "$work/package/package.json" > "$dest/VERSION"
echo "static/swagger-ui: swagger-ui-dist $(cat "$dest/VERSION")"
