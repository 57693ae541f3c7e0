#!/bin/sh
# Install everything ha needs on a Debian/Ubuntu machine, then build it.
#   Debian packages (as root): user-mode-linux and kmod (a kernel with IPVS and bonding for the
#   kernel tests and the demo), qemu-system-x86, busybox-static and xz-utils (the second emulated
#   kernel: Debian's own, under qemu TCG), ipvsadm and iproute2 (the reference tools), keepalived,
#   tcpdump and nftables (VRRP tests), groff (man page lint), python3, make and g++ (node-gyp builds
#   ha's native addon, src/native, during npm ci).
#   npm packages: from package-lock.json. The addon is built against the Node.js headers that
#   came with Node itself (PREFIX/include/node), never downloaded: there may be no internet.
#   The qemu guest's kernel (as root, after the build): Debian's linux-image-amd64 kernel package,
#   downloaded from the Debian mirror once and prepared in /var/cache/ha-tcg/<version>.
# Node.js 20 or newer must already be installed.
set -eu
cd "$(dirname "$0")/.."

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "install: ha needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if command -v apt-get >/dev/null 2>&1; then
  need=""
  for p in user-mode-linux kmod qemu-system-x86 busybox-static xz-utils ipvsadm iproute2 groff python3 make g++ keepalived tcpdump nftables; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
  done
  if [ -n "$need" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "install: run as root to install the Debian packages:$need" >&2
      exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
  fi
fi

# node's own headers: .npmrc says /usr (Debian's nodejs); a Node installed elsewhere has them
# under its own prefix
prefix=$(dirname "$(dirname "$(command -v node)")")
if [ -f "$prefix/include/node/node_api.h" ]; then
  npm_config_nodedir=$prefix
  export npm_config_nodedir
elif [ ! -f /usr/include/node/node_api.h ]; then
  echo "install: Node.js headers (include/node/node_api.h) not found under $prefix or /usr: install them (Debian: libnode-dev)" >&2
  exit 1
fi

npm ci --no-audit --no-fund --loglevel=error
npm run build --silent

# the kernel of the qemu (TCG) test guest: downloaded and unpacked once (src/lib/src/testing/tcg.ts)
if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    # not fatal (Ubuntu has no linux-image-amd64): test/kernel/tcg.test.js then fails, saying why
    node dist/scripts/tcg-kernel.js || echo "install: the qemu guest's kernel is not prepared" >&2
  else
    echo "install: as root, run node dist/scripts/tcg-kernel.js to prepare the qemu guest's kernel" >&2
  fi
fi
