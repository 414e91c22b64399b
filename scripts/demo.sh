#!/usr/bin/env bash
# make demo: warren's main job on a real local RabbitMQ node.
#  1. validate the examples (each with its target's rules)
#  2. warren boot: seed a blank node from examples/boot-seed (no guest user)
#  3. warren diff: the node matches the files (exit 0)
#  4. change the broker behind warren's back, and warren diff shows the drift (exit 2)
#  5. warren apply: make it match again; a second diff is empty
#  6. warren export: a trimmed copy of what the node has
set -euo pipefail
cd "$(dirname "$0")/.."
W=bin/warren
say() { if [ -t 1 ]; then printf '\n\033[1m$ %s\033[0m\n' "$*"; else printf '\n$ %s\n' "$*"; fi; }
step() { say "$@"; "$@"; }                                              # must succeed
step_exits() { want=$1; shift; say "$@"; set +e; "$@"; got=$?; set -e; # must exit with $want
  [ "$got" = "$want" ] || { echo "demo: expected exit $want, got $got" >&2; exit 1; }; }

# It runs on RabbitMQ 4.3; RABBITMQ=4.0 or 3.10 make demo (WARREN_RABBITMQ
# here) runs it on another version.
export WARREN_RABBITMQ="${WARREN_RABBITMQ:-4.3}"
if [ "$WARREN_RABBITMQ" = 3.10 ]; then ./scripts/ensure-rabbitmq.sh; else ./scripts/ensure-rabbitmq-chroot.sh "$WARREN_RABBITMQ" >/dev/null; fi
D=.tmp/demo
rm -rf "$D" && mkdir -p "$D"

# The examples read passwords from the environment and a file; give the demo some.
export WARREN_ADMIN_PASSWORD=demo-admin-pw BILLING_PASSWORD=demo-billing-pw GRAFANA_PASSWORD=demo-grafana-pw
export ACTIVEMQ_ADMIN_PASSWORD=console-admin-pw-1 ACTIVEMQ_ORDERS_PASSWORD=orders-service-pw-1 ACTIVEMQ_REPLICATION_PASSWORD=replication-pw-12
export INVENTORY_SECRET_KEY=Inventory-Key-1 REPORTING_SECRET_KEY=Reporting-Key-1
printf 'demo-orders-pw\n' > "$D/orders-password" && chmod 600 "$D/orders-password"
sed "s|/run/secrets/orders-password|$PWD/$D/orders-password|" examples/boot-seed/definitions.yaml > "$D/seed.yaml"

echo "== 1. validate"
step $W validate "$D/seed.yaml"
step $W validate examples/ci-drift/definitions
for t in amazonmq-rabbitmq amazonmq-activemq huaweicloud-rabbitmq; do
  step $W validate --target "$t" "examples/targets/$t"
done

echo; echo "== 2. boot: what a blank node imports at its first boot"
step $W boot "$D/seed.yaml" --out "$D/boot"
step cat "$D/boot/10-warren-definitions.conf"
go build -o bin/devnode ./scripts/devnode   # run it directly: go run would not pass on the signal that stops it
bin/devnode -no-admin -conf-file "$D/boot/10-warren-definitions.conf" -env "$D/node.env" > "$D/node.log" 2>&1 &
NODE=$!
trap 'kill -INT $NODE 2>/dev/null; wait $NODE 2>/dev/null || true' EXIT
for _ in $(seq 180); do [ -s "$D/node.env" ] && break; kill -0 $NODE 2>/dev/null || { cat "$D/node.log"; exit 1; }; sleep 1; done
[ -s "$D/node.env" ] || { echo "demo: the node did not start" >&2; cat "$D/node.log"; exit 1; }
WARREN_URL=$(sed -n 's/^WARREN_URL=//p' "$D/node.env")
export WARREN_URL WARREN_USERNAME=ops-admin WARREN_PASSWORD=$WARREN_ADMIN_PASSWORD
echo "node up at $WARREN_URL: $(head -1 "$D/node.log")"
say "curl -u guest:guest $WARREN_URL/api/whoami   # no guest on a node seeded by warren boot"
curl -s -o /dev/null -w '%{http_code}\n' -u guest:guest "$WARREN_URL/api/whoami"

# The management API answers before the boot-time import has finished
# starting every vhost; give it a moment.
for _ in $(seq 60); do $W diff "$D/seed.yaml" >/dev/null 2>&1 && break; sleep 1; done

echo; echo "== 3. diff: in sync"
step_exits 0 $W diff "$D/seed.yaml"

echo; echo "== 4. someone changes the broker behind warren's back"
api() { curl -sf -u "ops-admin:$WARREN_ADMIN_PASSWORD" -H 'content-type: application/json' -X "$1" "$WARREN_URL/api/$2" ${3:+-d "$3"}; }
say "PUT permissions/orders/orders (configure .*); DELETE queues/orders/orders.dead; PUT users/intruder"
api PUT permissions/orders/orders '{"configure":".*","write":".*","read":".*"}'
api DELETE queues/orders/orders.dead
api PUT users/intruder '{"password":"x","tags":"administrator"}'
step_exits 2 $W diff "$D/seed.yaml"

echo; echo "== 5. apply (and --prune for the intruder)"
step $W apply --yes --prune "$D/seed.yaml"
step_exits 0 $W diff "$D/seed.yaml"

echo; echo "== 6. export: a clean copy of the node's definitions"
step $W export --trim default-vhost -o "$D/export.yaml"
step cat "$D/export.yaml"
echo; echo "demo: done. The node stops now; make node starts one to try warren on."
