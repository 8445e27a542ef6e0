#!/bin/sh
# Creates Temporal's databases on PostgreSQL and applies every schema version; safe to run again.
set -eu
PW="$(cat "$POSTGRES_PWD_FILE")"
SCHEMA=/etc/temporal/schema/postgresql/v12
sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --pw "$PW" "$@"; }

for db in temporal temporal_visibility; do
  sql --db "$db" create-database || true # already there on a second run
done
sql --db temporal setup-schema -v 0.0 || true
sql --db temporal update-schema -d "$SCHEMA/temporal/versioned"
sql --db temporal_visibility setup-schema -v 0.0 || true
sql --db temporal_visibility update-schema -d "$SCHEMA/visibility/versioned"
