#!/usr/bin/env bash
# Builds a minimal Docker image that runs this machine's redis-server (Debian's package), for
# machines that reach no image registry. Usage: .ci/build-redis-image.sh NAME:TAG
set -euo pipefail
image=${1:?usage: $0 NAME:TAG}
bin=$(command -v redis-server)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

# Debian's /usr/bin/redis-server is a symlink; the binary picks its mode from argv[0], so the
# image gets the real file under the name redis-server.
mkdir -p "$root/usr/bin" "$root/tmp" "$root/data"
cp -L "$bin" "$root/usr/bin/redis-server"
for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
chmod 1777 "$root/tmp"
tar -C "$root" -c . | docker import --change 'WORKDIR /data' - "$image" >/dev/null
echo "built $image from $(redis-server --version | cut -d' ' -f1-3)"
