#!/usr/bin/env bash
# Makes sure the services the integration tests need are up: PostgreSQL on
# 127.0.0.1:5432 with a gellhub_test database, and Redis on 127.0.0.1:6379;
# and that Chromium (the widget's browser test) is installed.
# Starts them when they are stopped and installs them from Debian's packages
# when they are missing (CI and new machines start from the bare machine).
# Set GELLHUB_TEST_DATABASE_URL / GELLHUB_TEST_REDIS_URL to use other servers;
# this script then leaves services alone.
# The S3 tests start their own versitygw (adapters/s3blob/s3test); this
# script only installs it into .bin/ when missing, so that the tests do not
# pay the install (about two minutes) themselves. GELLHUB_VERSITYGW names
# another binary to use instead. The same goes for stripe-mock, which the
# Stripe tests start (adapters/stripe/stripetest); GELLHUB_STRIPE_MOCK names
# another binary.
set -euo pipefail

log() { printf 'services: %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # name, command...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  log "$name did not come up"; return 1
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

repo=$(cd "$(dirname "$0")/.." && pwd)

ensure_postgres() {
  if [ -n "${GELLHUB_TEST_DATABASE_URL:-}" ]; then log "PostgreSQL: using GELLHUB_TEST_DATABASE_URL"; return; fi
  if ! tcp_open 127.0.0.1 5432; then
    local installed=""
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql; installed=1; fi
    local ver; ver=$(ls /etc/postgresql | sort -V | tail -n1)
    # A cluster this script installed (or any, in CI) trusts local TCP
    # connections, as the machine kind is set up; a developer's own cluster
    # is left as its owner configured it.
    local hba="/etc/postgresql/$ver/main/pg_hba.conf"
    if { [ -n "$installed" ] || [ "${CI:-}" = true ]; } && ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
      as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    fi
    log "starting PostgreSQL $ver"
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    wait_for PostgreSQL tcp_open 127.0.0.1 5432
  fi
  wait_for PostgreSQL psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1'
  if [ "$(psql -h 127.0.0.1 -U postgres -d postgres -Atc "select 1 from pg_database where datname='gellhub_test'")" != 1 ]; then
    log "creating database gellhub_test"
    psql -h 127.0.0.1 -U postgres -d postgres -qc 'create database gellhub_test' || true
  fi
  log "PostgreSQL ready (database gellhub_test)"
}

ensure_redis() {
  if [ -n "${GELLHUB_TEST_REDIS_URL:-}" ]; then log "Redis: using GELLHUB_TEST_REDIS_URL"; return; fi
  if ! tcp_open 127.0.0.1 6379; then
    command -v redis-server >/dev/null || apt_install redis-server
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    wait_for Redis tcp_open 127.0.0.1 6379
  fi
  log "Redis ready"
}

# Keep in step with s3test.Version (adapters/s3blob/s3test/s3test.go).
VERSITYGW_VERSION=v1.8.0

ensure_versitygw() {
  if [ -n "${GELLHUB_VERSITYGW:-}" ]; then log "versitygw: using GELLHUB_VERSITYGW"; return; fi
  local bin="$repo/.bin"
  if [ -x "$bin/versitygw" ] && [ "$(cat "$bin/versitygw.version" 2>/dev/null)" = "$VERSITYGW_VERSION" ]; then
    log "versitygw $VERSITYGW_VERSION ready (.bin/versitygw)"; return
  fi
  log "installing versitygw $VERSITYGW_VERSION into .bin/ (go install, about two minutes the first time)"
  mkdir -p "$bin"
  (cd "${TMPDIR:-/tmp}" && GOBIN="$bin" GOFLAGS= go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION")
  echo "$VERSITYGW_VERSION" > "$bin/versitygw.version"
  log "versitygw $VERSITYGW_VERSION ready (.bin/versitygw)"
}

# Keep in step with stripetest.Version (adapters/stripe/stripetest/stripetest.go).
STRIPE_MOCK_VERSION=v0.203.0

ensure_stripe_mock() {
  if [ -n "${GELLHUB_STRIPE_MOCK:-}" ]; then log "stripe-mock: using GELLHUB_STRIPE_MOCK"; return; fi
  local bin="$repo/.bin"
  if [ -x "$bin/stripe-mock" ] && [ "$(cat "$bin/stripe-mock.version" 2>/dev/null)" = "$STRIPE_MOCK_VERSION" ]; then
    log "stripe-mock $STRIPE_MOCK_VERSION ready (.bin/stripe-mock)"; return
  fi
  log "installing stripe-mock $STRIPE_MOCK_VERSION into .bin/ (go install)"
  mkdir -p "$bin"
  (cd "${TMPDIR:-/tmp}" && GOBIN="$bin" GOFLAGS= go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION")
  echo "$STRIPE_MOCK_VERSION" > "$bin/stripe-mock.version"
  log "stripe-mock $STRIPE_MOCK_VERSION ready (.bin/stripe-mock)"
}

# The widget's browser test (apps/api/internal/httpapi) drives Debian's
# chromium headless at /usr/bin/chromium.
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then log "Chromium ready (/usr/bin/chromium)"; return; fi
  apt_install chromium
  log "Chromium ready (/usr/bin/chromium)"
}

ensure_postgres
ensure_redis
ensure_versitygw
ensure_stripe_mock
ensure_chromium
