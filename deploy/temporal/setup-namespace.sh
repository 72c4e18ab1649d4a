#!/bin/sh
# One-shot job of the `temporal-setup` service (image temporalio/admin-tools), run once
# the Temporal server is up.
#
# Creates the namespace the Lifecare services use and registers the custom search
# attributes that OrderLifecycle keeps current (DESIGN.md, "Workflows"), so operators can
# filter orders in the Temporal UI. Idempotent: what already exists is left alone.
#
# Settings (from docker-compose.yml): TEMPORAL_ADDRESS (host:port, also read by the
# `temporal` CLI), TEMPORAL_NAMESPACE, TEMPORAL_NAMESPACE_RETENTION.
set -eu

: "${TEMPORAL_ADDRESS:=temporal:7233}"
: "${TEMPORAL_NAMESPACE:=default}"
: "${TEMPORAL_NAMESPACE_RETENTION:=168h}"

# name:type of every custom search attribute the workflows set.
SEARCH_ATTRIBUTES="CustomerNumber:Keyword UnitId:Keyword OrderStatus:Keyword"

# Talk to the server's IPv4 address: the server listens on 0.0.0.0 only, and a resolver
# that prefers an IPv6 address for the service name would otherwise fail to connect.
host=${TEMPORAL_ADDRESS%:*}
port=${TEMPORAL_ADDRESS##*:}
ipv4=$(getent ahosts "$host" 2>/dev/null | awk '$1 ~ /^[0-9.]+$/ { print $1; exit }' || true)
if [ -n "$ipv4" ]; then
    TEMPORAL_ADDRESS="$ipv4:$port"
fi
export TEMPORAL_ADDRESS

# The container healthcheck only sees the port open; wait until the frontend serves.
tries=0
until temporal operator cluster health >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "Temporal at $TEMPORAL_ADDRESS did not become healthy, giving up" >&2
        temporal operator cluster health
        exit 1
    fi
    echo "waiting for Temporal at $TEMPORAL_ADDRESS ..."
    sleep 2
done

if temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
    echo "namespace $TEMPORAL_NAMESPACE exists"
else
    echo "creating namespace $TEMPORAL_NAMESPACE (retention $TEMPORAL_NAMESPACE_RETENTION)"
    temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" \
        --retention "$TEMPORAL_NAMESPACE_RETENTION"
fi

# A fresh namespace can take a moment to be visible to every part of the server.
tries=0
until existing=$(temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE" 2>/dev/null); do
    tries=$((tries + 1))
    if [ "$tries" -ge 30 ]; then
        temporal operator search-attribute list --namespace "$TEMPORAL_NAMESPACE"
        exit 1
    fi
    sleep 2
done

for attribute in $SEARCH_ATTRIBUTES; do
    name=${attribute%:*}
    type=${attribute#*:}
    if printf '%s\n' "$existing" | grep -qw "$name"; then
        echo "search attribute $name exists"
    else
        echo "creating search attribute $name ($type)"
        temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" \
            --name "$name" --type "$type"
    fi
done
echo "Temporal namespace $TEMPORAL_NAMESPACE is ready"
