#!/usr/bin/env bash
# make demo: warren's checks on the examples. Validates every example (with
# its target's rules), shows what a broken file gets, and formats a file.
set -euo pipefail
cd "$(dirname "$0")/.."
W=bin/warren
say() { if [ -t 1 ]; then printf '\n\033[1m$ %s\033[0m\n' "$*"; else printf '\n$ %s\n' "$*"; fi; }
step() { say "$@"; "$@"; }                                      # must succeed
step_fails() { say "$@"; if "$@"; then echo "demo: expected that to fail" >&2; exit 1; fi; }

# Passwords come from the environment in the examples; give the demo some.
export WARREN_ADMIN_PASSWORD=demo-admin-password BILLING_PASSWORD=demo GRAFANA_PASSWORD=demo
export ACTIVEMQ_ADMIN_PASSWORD=console-admin-pw-1 ACTIVEMQ_ORDERS_PASSWORD=orders-service-pw-1 ACTIVEMQ_REPLICATION_PASSWORD=replication-pw-12
export INVENTORY_SECRET_KEY=Inventory-Key-1 REPORTING_SECRET_KEY=Reporting-Key-1

step $W validate examples/boot-seed
step $W validate examples/ci-drift/definitions
for t in amazonmq-rabbitmq amazonmq-activemq huaweicloud-rabbitmq; do
  step $W validate --target "$t" "examples/targets/$t"
done

mkdir -p .tmp/demo
cat > .tmp/demo/broken.json <<'JSON'
{
  "users": [
    {"name": "ops", "password": "hunter2", "password_hash": "not base64!", "tags": "administrator"},
    {"name": "guest", "tags": ["administrator", "policymaker"]}
  ],
  "permissions": [
    {"user": "ops", "vhost": "orders", "configure": "^(orders", "write": ".*", "read": ".*"}
  ],
  "queues": [
    {"name": "events", "vhost": "orders", "durable": true, "arguments": {"x-queue-type": "stream", "x-max-length": 1000}}
  ]
}
JSON
step_fails $W validate --target amazonmq-rabbitmq .tmp/demo/broken.json

cp examples/ci-drift/definitions/20-topology.yaml .tmp/demo/topology.yaml
step $W fmt --check examples/boot-seed examples/ci-drift/definitions examples/targets/*
step $W fmt --to json .tmp/demo/topology.yaml
