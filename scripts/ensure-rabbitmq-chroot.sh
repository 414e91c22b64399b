#!/usr/bin/env bash
# Makes sure a RabbitMQ installation newer than the host's is ready for the
# tests, the demo and the benchmark: Debian's rabbitmq-server (with the
# Erlang it needs) in a chroot made with debootstrap, outside the
# repository. Prints the chroot's path on standard output; what it does goes
# to standard error.
#
#   scripts/ensure-rabbitmq-chroot.sh SERIES
#
#   SERIES 4.0   Debian trixie's rabbitmq-server (4.0.5)
#   SERIES 4.3   Debian testing's rabbitmq-server (4.3.6 when this was written;
#                testing moves, and the chroot records what it installed)
#
#   WARREN_RABBITMQ_CACHE  where the chroots live (default: ${XDG_CACHE_HOME:-$HOME/.cache}/warren);
#                          the tests (seeders/rabbitmq/rabbitmqtest) read the same variable
#   WARREN_MIRROR          Debian mirror (default: http://deb.debian.org/debian)
#
# The chroot's RabbitMQ version is written to its /warren-rabbitmq-version.
# A second run reuses the chroot (and mounts /proc in it again after a
# reboot). Needs root, or sudo without a password.
set -euo pipefail

series="${1:?usage: $0 4.0|4.3}"
case "$series" in
  4.0) suite=trixie ;;
  4.3) suite=testing ;;
  *) echo "warren: $0: no chroot for RabbitMQ $series (4.0 and 4.3 run in chroots; 3.10 is the host's package)" >&2; exit 2 ;;
esac
cache="${WARREN_RABBITMQ_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/warren}"
root="$cache/rabbitmq-$series-$suite"
mirror="${WARREN_MIRROR:-http://deb.debian.org/debian}"
say() { echo "warren: $*" >&2; }
# testing's Release file can be past its Valid-Until date; apt refuses it
# without this option.
apt_opts="-o Acquire::Check-Valid-Until=false"

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  say "RabbitMQ $series runs in a chroot, and making or entering one needs root. Run as root:"
  say "    $0 $series"
  exit 1
fi

installed_version() { ls "$1/usr/lib/rabbitmq/lib" | sed -n 's/^rabbitmq_server-//p' | head -1; }
if [ -x "$root/usr/lib/rabbitmq/bin/rabbitmq-server" ] && [ ! -s "$root/warren-rabbitmq-version" ]; then
  # A chroot made before the version was recorded.
  installed_version "$root" | $SUDO tee "$root/warren-rabbitmq-version" >/dev/null
fi
if [ ! -x "$root/usr/lib/rabbitmq/bin/rabbitmq-server" ]; then
  mkdir -p "$cache"
  if ! command -v debootstrap >/dev/null 2>&1; then
    say "installing debootstrap (apt-get install debootstrap), to make a Debian $suite chroot for RabbitMQ $series..."
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq debootstrap >/dev/null
  fi
  say "making a Debian $suite chroot for RabbitMQ $series in $root (debootstrap, about a minute, once)..."
  tmp="$root.partial"
  if mountpoint -q "$tmp/proc" 2>/dev/null; then $SUDO umount "$tmp/proc"; fi
  $SUDO rm -rf "$tmp"
  $SUDO debootstrap --variant=minbase "$suite" "$tmp" "$mirror" >"$cache/debootstrap-$series.log" 2>&1 || {
    say "debootstrap failed; the end of $cache/debootstrap-$series.log:"; tail -20 "$cache/debootstrap-$series.log" >&2; exit 1; }
  # No service starts inside the chroot when packages install.
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$tmp/usr/sbin/policy-rc.d" >/dev/null
  $SUDO chmod +x "$tmp/usr/sbin/policy-rc.d"
  # A minbase chroot has no /etc/hosts, and a node then fails with "epmd
  # error for host localhost: nxdomain".
  printf '127.0.0.1 localhost\n::1 localhost\n' | $SUDO tee "$tmp/etc/hosts" >/dev/null
  say "installing rabbitmq-server in the chroot (apt-get install rabbitmq-server)..."
  $SUDO chroot "$tmp" sh -c "DEBIAN_FRONTEND=noninteractive apt-get $apt_opts update -qq && DEBIAN_FRONTEND=noninteractive apt-get $apt_opts install -y -qq --no-install-recommends rabbitmq-server" >"$cache/install-$series.log" 2>&1 || {
    say "installing rabbitmq-server in the chroot failed; the end of $cache/install-$series.log:"; tail -20 "$cache/install-$series.log" >&2; exit 1; }
  $SUDO chroot "$tmp" apt-get clean >/dev/null 2>&1 || true
  version="$(installed_version "$tmp")"
  case "$version" in
    "$series".*) ;;
    *) say "Debian $suite installed RabbitMQ '$version', not a $series release"; exit 1 ;;
  esac
  echo "$version" | $SUDO tee "$tmp/warren-rabbitmq-version" >/dev/null
  if [ -e "$root" ]; then
    if mountpoint -q "$root/proc"; then $SUDO umount "$root/proc"; fi
    $SUDO rm -rf "$root"
  fi
  $SUDO mv "$tmp" "$root"
  say "RabbitMQ $version is ready in $root."
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
