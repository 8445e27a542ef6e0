#!/bin/sh
# Creates Temporal's databases on PostgreSQL and applies every schema version; safe to run again. Run by the
# compose file's temporal-schema (admin-tools image) and by `npm run cluster` (devstack/temporal-cluster.ts), which
# points TEMPORAL_SCHEMA_DIR at the schema of the server it built.
set -eu
# The password goes by the environment (the tool's SQL_PASSWORD), never on a command line others can list.
SQL_PASSWORD="$(cat "$POSTGRES_PWD_FILE")"
export SQL_PASSWORD
SCHEMA=${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}
sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"; }

for db in temporal temporal_visibility; do
  sql --db "$db" create-database || true # already there on a second run
done
sql --db temporal setup-schema -v 0.0 || true
sql --db temporal update-schema -d "$SCHEMA/temporal/versioned"
sql --db temporal_visibility setup-schema -v 0.0 || true
sql --db temporal_visibility update-schema -d "$SCHEMA/visibility/versioned"
