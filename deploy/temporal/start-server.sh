#!/bin/sh
# Starts the Temporal server as its image does (`temporal-server start`: the server's own configuration template,
# filled from the environment, docker-compose.yml and devstack/temporal-cluster.ts), with the PostgreSQL password
# read from a file: the template takes it only from POSTGRES_PWD, and a file keeps it out of the compose file.
set -eu
POSTGRES_PWD="$(cat "$POSTGRES_PWD_FILE")"
export POSTGRES_PWD
exec temporal-server start
