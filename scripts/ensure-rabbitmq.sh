#!/usr/bin/env bash
# Makes sure rabbitmq-server (with rabbitmqctl and the management plugin) is
# installed, installing Debian's package when it is missing. Used by
# `make test` and `make demo`, so both work on a fresh machine.
set -euo pipefail

if command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "warren: rabbitmq-server is not installed and this system has no apt-get." >&2
  echo "warren: install RabbitMQ (3.10 or later, with the management plugin) and run this again." >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  echo "warren: rabbitmq-server is not installed, and installing it needs root. Run:" >&2
  echo "    sudo apt-get update && sudo apt-get install -y rabbitmq-server" >&2
  exit 1
fi

echo "warren: rabbitmq-server is not installed; installing Debian's rabbitmq-server package (apt-get install rabbitmq-server)..." >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq rabbitmq-server >/dev/null
echo "warren: rabbitmq-server installed." >&2
