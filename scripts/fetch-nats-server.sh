#!/usr/bin/env bash
# Fetches a nats-server that survives partitions (2.10.27, Debian trixie's build) into
# .nats/nats-server, without touching the machine's apt sources or its own nats-server.
# nats-server 2.9.10 (Debian bookworm) lets R3 replicas diverge after a partition and drops
# writes it acknowledged (docs/operations.md, "A network partition"); the partition test
# runs on this build. Needs only Debian's package repositories.
set -euo pipefail
cd "$(dirname "$0")/.."

want="2.10.27"
dest="$PWD/.nats"
bin="$dest/nats-server"
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "v$want"; then
  echo "nats-server: $("$bin" --version | sed "s/^nats-server: //") already in .nats/"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial" "$dest"
cat >"$work/trixie.sources" <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
apt_opts=(
  -o "Dir::Etc::sourcelist=/dev/null"
  -o "Dir::Etc::sourceparts=$work"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache::Archives=$work/archives"
  -o "Dir::Cache::pkgcache=$work/pkgcache.bin"
  -o "Dir::Cache::srcpkgcache=$work/srcpkgcache.bin"
  -o "APT::Sandbox::User=root"
)
echo "nats-server: fetching Debian trixie's index (about 10 MB)"
if ! apt-get "${apt_opts[@]}" -qq update; then
  echo "nats-server: could not read Debian trixie's package index; check access to deb.debian.org" >&2
  exit 1
fi
version="$(apt-cache "${apt_opts[@]}" show nats-server | sed -n 's/^Version: //p' | grep "^$want" | head -n1)"
if [ -z "$version" ]; then
  echo "nats-server: Debian trixie has no nats-server $want any more; set the version in scripts/fetch-nats-server.sh" >&2
  exit 1
fi
(cd "$work" && apt-get "${apt_opts[@]}" -qq download "nats-server=$version")
dpkg-deb -x "$work"/nats-server_*.deb "$work/root"
install -m 0755 "$work/root/usr/sbin/nats-server" "$bin"
echo "nats-server: $("$bin" --version | sed "s/^nats-server: //") in .nats/"
