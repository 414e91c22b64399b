#!/bin/sh
# make release: static warren binaries for Linux and macOS on amd64 and
# arm64 in dist/, named warren-VERSION-OS-ARCH, with dist/SHA256SUMS; then
# checks them: the checksums verify, each binary is static and -trimpath
# (go version -m), and the one for this machine prints its version and commit.
set -eu
GO=${GO:-go}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
PLATFORMS=${PLATFORMS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64"}
DIST=${DIST:-dist}

rm -rf "$DIST"
mkdir -p "$DIST"
for p in $PLATFORMS; do
	os=${p%/*} arch=${p#*/}
	out="$DIST/warren-$VERSION-$os-$arch"
	echo "== $out"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch $GO build -trimpath \
		-ldflags "-s -w -X main.version=$VERSION -X main.commit=$COMMIT" -o "$out" ./cmd/warren
done
(cd "$DIST" && sha256sum warren-* > SHA256SUMS)

echo "== checking"
(cd "$DIST" && sha256sum -c --quiet SHA256SUMS)
for p in $PLATFORMS; do
	os=${p%/*} arch=${p#*/}
	info=$($GO version -m "$DIST/warren-$VERSION-$os-$arch")
	for want in "CGO_ENABLED=0" "-trimpath=true" "GOOS=$os" "GOARCH=$arch"; do
		echo "$info" | grep -q -- "$want" || { echo "$DIST/warren-$VERSION-$os-$arch: no $want in go version -m"; exit 1; }
	done
done
native="$DIST/warren-$VERSION-$($GO env GOOS)-$($GO env GOARCH)"
if [ -x "$native" ]; then
	got=$("$native" version)
	case "$got" in
	"warren $VERSION (commit $COMMIT, "*) echo "$got" ;;
	*) echo "$native version printed: $got (want version $VERSION, commit $COMMIT)"; exit 1 ;;
	esac
fi
echo "wrote $(echo "$PLATFORMS" | wc -w) binaries and $DIST/SHA256SUMS"
