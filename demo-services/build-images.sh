#!/usr/bin/env bash
# Builds the demo images locally, with no registry and no base image to pull:
#
#   grid-node-base:local          FROM scratch: the host's node binary, exactly the libraries
#                                 `ldd` lists (plus the dynamic loader), /etc/passwd with a
#                                 non-root user, /tmp. Every image below starts FROM it.
#   grid-demo:v1, :v2, :v3        demo-services/versioned/server.js with VERSION baked in
#   grid-shop-<part>:v1           demo-services/shop/<part>.js (store, data-ingest, business-logic, frontend-api)
#
# Every image runs as uid 10001, listens on $PORT (8080 unless the runtime sets it) on
# $HOST (0.0.0.0 so that `docker run -p` and bridge networking work; Grid's host-networking
# pods get HOST=127.0.0.1 from the driver), and carries the label grid.demo-image=true plus
# grid.input-hash=<sha256 of everything that went into it>. A build whose hash matches the
# tagged image's label is skipped, so a second run takes well under a second.
#
#   demo-services/build-images.sh            build what changed
#   demo-services/build-images.sh --force    rebuild everything
#   demo-services/build-images.sh --grid-build-base
#                                            also grid-node-build:local, the base that builds Grid's
#                                            own Dockerfile offline (host's npm + C++ toolchain)
#
# Needs a Docker Engine (dockerd 20.10 or later is enough: the classic builder, no buildx).
set -euo pipefail
cd "$(dirname "$0")/.."

FORCE=0
GRID_BUILD_BASE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --grid-build-base) GRID_BUILD_BASE=1 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-images: unknown argument '$arg' (have: --force, --grid-build-base)" >&2; exit 2 ;;
  esac
done

BUILD_TIMEOUT_S=${GRID_IMAGE_BUILD_TIMEOUT_S:-180}
LABEL=grid.demo-image=true
UID_GID=10001
# The classic builder: dockerd 20.10 has it, and the CLI then needs no buildx plugin.
export DOCKER_BUILDKIT=0

command -v docker >/dev/null || { echo "build-images: the docker CLI is not installed" >&2; exit 1; }
timeout 20 docker info >/dev/null 2>&1 || {
  echo "build-images: no Docker Engine answers on ${DOCKER_HOST:-/var/run/docker.sock} (docker info failed or took > 20 s)" >&2
  exit 1
}
NODE_BIN=$(readlink -f "$(command -v node)")
[ -x "$NODE_BIN" ] || { echo "build-images: no node binary on PATH" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/grid-images.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

hash_of() { sha256sum | cut -c1-64; }

label_of() { # image label -> value, or empty when the image or the label is missing
  docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

# build <tag> <context dir> <input hash>: skips when the tag already carries that hash;
# removes the image the tag pointed at before, when it was one of ours and nothing uses it.
build() {
  local tag=$1 ctx=$2 hash=$3 old started
  old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  if [ "$FORCE" = 0 ] && [ -n "$old" ] && [ "$(label_of "$tag" grid.input-hash)" = "$hash" ]; then
    echo "  $tag: up to date"
    return
  fi
  started=$(date +%s%N)
  if ! timeout "$BUILD_TIMEOUT_S" docker build -q --label "$LABEL" --label "grid.input-hash=$hash" -t "$tag" "$ctx" >"$WORK/build.log" 2>&1; then
    cat "$WORK/build.log" >&2
    echo "build-images: building $tag failed (or took > ${BUILD_TIMEOUT_S} s)" >&2
    exit 1
  fi
  local new
  new=$(docker image inspect -f '{{.Id}}' "$tag")
  if [ -n "$old" ] && [ "$old" != "$new" ] && [ "$(docker image inspect -f '{{ index .Config.Labels "grid.demo-image" }}' "$old" 2>/dev/null)" = true ]; then
    docker image rm "$old" >/dev/null 2>&1 || true # still used by a container or another tag: keep it
  fi
  echo "  $tag: built in $(( ($(date +%s%N) - started) / 1000000 )) ms"
}

# --- grid-node-base:local ----------------------------------------------------------------

BASE=grid-node-base:local
base_ctx="$WORK/base"
root="$base_ctx/rootfs"
mkdir -p "$root/usr/bin" "$root/etc" "$root/tmp" "$root/app"
chmod 1777 "$root/tmp"
cp "$NODE_BIN" "$root/usr/bin/node"
# `ldd` prints "libx.so => /path (addr)" for libraries and "/lib64/ld-linux-… (addr)" for the
# loader; vdso has no file. Each is copied (symlinks resolved) to the path the binary asks for.
ldd "$NODE_BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u >"$WORK/libs"
[ -s "$WORK/libs" ] || { echo "build-images: ldd listed no libraries for $NODE_BIN" >&2; exit 1; }
while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done <"$WORK/libs"
printf 'root:x:0:0:root:/:/sbin/nologin\ngrid:x:%s:%s:grid:/app:/sbin/nologin\n' "$UID_GID" "$UID_GID" >"$root/etc/passwd"
printf 'root:x:0:\ngrid:x:%s:\n' "$UID_GID" >"$root/etc/group"
cat >"$base_ctx/Dockerfile" <<EOF
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_ENV=production
WORKDIR /app
USER $UID_GID:$UID_GID
EOF
base_hash=$( { cat "$base_ctx/Dockerfile"; (cd "$root" && find . -type f -print0 | sort -z | xargs -0 sha256sum); } | hash_of)
echo "build-images: node $("$NODE_BIN" --version) from $NODE_BIN, $(wc -l <"$WORK/libs") libraries"
build "$BASE" "$base_ctx" "$base_hash"
base_id=$(docker image inspect -f '{{.Id}}' "$BASE")

# --- grid-node-build:local (only with --grid-build-base) ----------------------------------
# The base plus npm and a C++ toolchain, so Grid's own Dockerfile builds with no base image to
# pull (better-sqlite3 compiles from source when its prebuilt binary cannot be downloaded).
# The toolchain is the host's own Debian packages: python3, make, g++ and the shell tools
# node-gyp's Makefiles call, with their dependencies, from `dpkg -L` (docs left out), plus the
# node headers of the host's node (npm_config_nodedir) so nothing is fetched from nodejs.org.

build_grid_base() {
  command -v dpkg-query >/dev/null && command -v apt-cache >/dev/null || {
    echo "build-images: --grid-build-base needs a Debian host (dpkg, apt-cache)" >&2; exit 1; }
  local ctx="$WORK/build-base" pkgs closure p npm_dir nodedir
  mkdir -p "$ctx/rootfs/usr/lib/node_modules" "$ctx/rootfs/usr/bin" "$ctx/rootfs/etc/ssl/certs"
  pkgs="python3-minimal python3.11-minimal libpython3.11-stdlib make g++ gcc cpp coreutils sed grep util-linux dash findutils libc6-dev"
  closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances $pkgs 2>/dev/null | grep -v -e '^ ' -e '<' | sort -u)
  for p in $closure; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' && dpkg -L "$p"
  done | grep -v -E '^/usr/share/(doc|man|locale|info|lintian)(/|$)' \
    | grep -v -x -E '/(bin|sbin|lib|lib64)' | sort -u >"$WORK/toolchain.list"
  # dpkg -L lists every parent directory too; --no-recursion keeps tar to exactly the list. On a
  # merged /usr (/bin, /lib are symlinks) the bare /bin, /lib… entries are left out, so the base's
  # /lib stays a directory and the files under it (libm.so's linker script names /lib paths) land in it.
  tar -C / --no-recursion -cf "$ctx/toolchain.tar" -T <(sed 's|^/||' "$WORK/toolchain.list") 2>"$WORK/tar.log" || {
    grep -v 'Cannot stat' "$WORK/tar.log" >&2 || true; }
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  cp -R "$npm_dir" "$ctx/rootfs/usr/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/rootfs/usr/bin/npm"
  nodedir=$(dirname "$(dirname "$NODE_BIN")")
  [ -f "$nodedir/include/node/node.h" ] || { echo "build-images: no node headers at $nodedir/include/node" >&2; exit 1; }
  mkdir -p "$ctx/rootfs/usr/include"
  cp -R "$nodedir/include/node" "$ctx/rootfs/usr/include/node"
  # The host's CA bundle: npm reaches its registry through whatever TLS setup the host has.
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then cp -L /etc/ssl/certs/ca-certificates.crt "$ctx/rootfs/etc/ssl/certs/"; fi
  cat >"$ctx/Dockerfile" <<EOF
FROM $BASE
USER 0:0
ADD toolchain.tar /
COPY rootfs/ /
# cc and c++ are update-alternatives links, not in any package list.
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt npm_config_nodedir=/usr PYTHON=/usr/bin/python3 CC=gcc CXX=g++
EOF
  local hash
  hash=$( { echo "$base_id"; cat "$ctx/Dockerfile"; sha256sum <"$ctx/toolchain.tar"; (cd "$ctx/rootfs" && find . -type f -print0 | sort -z | xargs -0 sha256sum); } | hash_of)
  build grid-node-build:local "$ctx" "$hash"
}
if [ "$GRID_BUILD_BASE" = 1 ]; then build_grid_base; fi

# --- the demo images: small contexts on top of the base ---------------------------------

# app_image <tag> <entry script, relative to demo-services/> <VERSION> <files and dirs under demo-services/...>
app_image() {
  local tag=$1 entry=$2 version=$3
  shift 3
  local ctx="$WORK/ctx-${tag//[:\/]/-}"
  mkdir -p "$ctx/app/demo-services"
  for f in package.json "$@"; do
    mkdir -p "$ctx/app/demo-services/$(dirname "$f")"
    cp -R "demo-services/$f" "$ctx/app/demo-services/$f"
  done
  cat >"$ctx/Dockerfile" <<EOF
FROM $BASE
COPY app/ /app/
ENV VERSION=$version PORT=8080 HOST=0.0.0.0
EXPOSE 8080
CMD ["node", "/app/demo-services/$entry"]
EOF
  local hash
  hash=$( { echo "$base_id"; cat "$ctx/Dockerfile"; (cd "$ctx/app" && find . -type f -print0 | sort -z | xargs -0 sha256sum); } | hash_of)
  build "$tag" "$ctx" "$hash"
}

for v in v1 v2 v3; do
  app_image "grid-demo:$v" versioned/server.js "$v" lib/runtime.js versioned/server.js
done
for part in store data-ingest business-logic frontend-api; do
  app_image "grid-shop-$part:v1" "shop/$part.js" 1.0.0 lib/runtime.js shop/common.js shop/upstream.js "shop/$part.js"
done
echo "build-images: done"
