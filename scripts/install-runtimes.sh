#!/usr/bin/env bash
# Installs the runtimes the runtime suites (test/runtimes/) serve the fetch handler on, from the npm
# registry: Bun, Deno and workerd (the runtime of Cloudflare Workers), at the versions tested. Each
# package brings its Linux binary in a platform package (@oven/bun-linux-x64, @deno/linux-x64-glibc,
# @cloudflare/workerd-linux-64); their postinstall scripts put it in place, so scripts must run.
#
#   bash scripts/install-runtimes.sh <dir>      # prints <dir>/node_modules/.bin on stdout, the rest on stderr
#   export BUN_PATH=<bin>/bun DENO_PATH=<bin>/deno WORKERD_PATH=<bin>/workerd
#
# BUN_VERSION, DENO_VERSION, WORKERD_VERSION override the versions.
set -euo pipefail
dir=${1:?usage: bash scripts/install-runtimes.sh <dir>}
BUN_VERSION=${BUN_VERSION:-1.4.5}
DENO_VERSION=${DENO_VERSION:-2.9.6}
WORKERD_VERSION=${WORKERD_VERSION:-1.20261117.1}

mkdir -p "$dir"
npm install --prefix "$dir" --no-save --no-audit --no-fund --no-package-lock --loglevel=error \
  "bun@$BUN_VERSION" "deno@$DENO_VERSION" "workerd@$WORKERD_VERSION" </dev/null >&2

bin=$(cd "$dir/node_modules/.bin" && pwd)
for b in bun deno workerd; do
  if ! version=$("$bin/$b" --version 2>&1 | head -n 1); then
    echo "install-runtimes: $bin/$b does not run: $version" >&2
    exit 1
  fi
  echo "$b: $version" >&2
done
echo "$bin"
