#!/usr/bin/env bash
# Makes sure a RabbitMQ 4.0 installation is ready for the tests and the demo:
# Debian trixie's rabbitmq-server (4.0.5, with the Erlang it needs) in a
# chroot made with debootstrap, outside the repository. Prints the chroot's
# path on standard output; what it does goes to standard error.
#
#   WARREN_RABBITMQ_ROOT  the chroot (default: ${XDG_CACHE_HOME:-$HOME/.cache}/warren/rabbitmq-4.0-trixie);
#                         the tests (seeders/rabbitmq/rabbitmqtest) read the same variable
#   WARREN_MIRROR         Debian mirror (default: http://deb.debian.org/debian)
#
# A second run reuses the chroot (and mounts /proc in it again after a
# reboot). Needs root, or sudo without a password.
set -euo pipefail

root="${WARREN_RABBITMQ_ROOT:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/warren/rabbitmq-4.0-trixie}"
cache="$(dirname "$root")"
mirror="${WARREN_MIRROR:-http://deb.debian.org/debian}"
say() { echo "warren: $*" >&2; }

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  say "RabbitMQ 4.0 runs in a chroot, and making or entering one needs root. Run as root:"
  say "    $0"
  exit 1
fi

if [ ! -x "$root/usr/lib/rabbitmq/bin/rabbitmq-server" ]; then
  mkdir -p "$cache"
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap (apt-get install debootstrap), to make a Debian trixie chroot for RabbitMQ 4.0..."
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq debootstrap >/dev/null
  fi
  say "making a Debian trixie chroot for RabbitMQ 4.0 in $root (debootstrap, about a minute, once)..."
  tmp="$root.partial"
  $SUDO rm -rf "$tmp"
  $SUDO debootstrap --variant=minbase trixie "$tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
    say "debootstrap failed; the end of $cache/debootstrap.log:"; tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  # No service starts inside the chroot when packages install.
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$tmp/usr/sbin/policy-rc.d" >/dev/null
  $SUDO chmod +x "$tmp/usr/sbin/policy-rc.d"
  say "installing rabbitmq-server in the chroot (apt-get install rabbitmq-server)..."
  $SUDO chroot "$tmp" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server' >"$cache/install.log" 2>&1 || {
    say "installing rabbitmq-server in the chroot failed; the end of $cache/install.log:"; tail -20 "$cache/install.log" >&2; exit 1; }
  $SUDO chroot "$tmp" apt-get clean >/dev/null 2>&1 || true
  $SUDO mv "$tmp" "$root"
  say "RabbitMQ $(ls "$root/usr/lib/rabbitmq/lib" | sed -n 's/^rabbitmq_server-//p') is ready in $root."
fi

# The node needs /proc; a reboot unmounts it.
if ! mountpoint -q "$root/proc"; then
  $SUDO mount -t proc proc "$root/proc"
fi
# A chroot has no /dev/shm or /dev/pts by itself; Erlang needs neither, but
# /dev/null, /dev/urandom and friends must be real devices.
for dev in null zero random urandom; do
  [ -c "$root/dev/$dev" ] || { say "the chroot lacks /dev/$dev"; exit 1; }
done
echo "$root"
