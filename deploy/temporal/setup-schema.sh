#!/bin/sh
# One-shot job of the `temporal-schema` service (image temporalio/admin-tools).
#
# Creates Temporal's two PostgreSQL databases if they are missing and brings their schemas
# up to the version that ships with this admin-tools image. Safe to run on every
# `docker compose up`: `create` ignores an existing database, `setup-schema -v 0.0` does
# nothing once a schema is versioned, and `update-schema` only applies newer versions.
# Keep the admin-tools and server image tags equal so the schema matches the server.
#
# Settings (from docker-compose.yml): DB_HOST, DB_PORT, DB_USER, SQL_PASSWORD (read by
# temporal-sql-tool itself), TEMPORAL_DB, TEMPORAL_VISIBILITY_DB.
set -eu

: "${DB_HOST:=postgres}"
: "${DB_PORT:=5432}"
: "${DB_USER:=postgres}"
: "${TEMPORAL_DB:=temporal}"
: "${TEMPORAL_VISIBILITY_DB:=temporal_visibility}"

SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

sql_tool() {
    temporal-sql-tool --plugin postgres12 --ep "$DB_HOST" -p "$DB_PORT" -u "$DB_USER" "$@"
}

# depends_on waits for the postgres healthcheck; this loop only covers a slow network.
tries=0
until nc -z "$DB_HOST" "$DB_PORT"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 30 ]; then
        echo "PostgreSQL at $DB_HOST:$DB_PORT is not reachable, giving up" >&2
        exit 1
    fi
    echo "waiting for PostgreSQL at $DB_HOST:$DB_PORT ..."
    sleep 2
done

setup_database() {
    db=$1
    versioned=$2
    echo "Temporal schema: database $db"
    sql_tool --db "$db" create
    sql_tool --db "$db" setup-schema -v 0.0
    sql_tool --db "$db" update-schema -d "$SCHEMA_DIR/$versioned/versioned"
}

setup_database "$TEMPORAL_DB" temporal
setup_database "$TEMPORAL_VISIBILITY_DB" visibility
echo "Temporal schemas are up to date"
