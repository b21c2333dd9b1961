#!/usr/bin/env bash
# Installs the Debian 12 packages FreezR needs. Does nothing when they are all present.
#   scripts/install-deps.sh build   what building and running the binary need (`make run`)
#   scripts/install-deps.sh deb     that, plus what building the Debian package needs (`make deb`)
#   scripts/install-deps.sh test    all of that, plus the test and benchmark toolchain (`make test`)
set -euo pipefail
what=${1:-test}
packages=(
  build-essential cmake pkg-config
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  libsqlite3-dev libboost1.81-dev libsystemd-dev libncurses-dev libcap-ng-dev zlib1g-dev libre2-dev
  libssl-dev libyaml-cpp-dev libcrypt-dev python3
)
if [[ $what == deb || $what == test ]]; then
  packages+=(debhelper dpkg-dev lintian systemd)
fi
if [[ $what == test ]]; then
  packages+=(
    libgtest-dev libgmock-dev libbenchmark-dev
    python3 python3-jsonschema dbus sqlite3 procps systemd prometheus prometheus-alertmanager
    chromium tmux clang btop prometheus-process-exporter
    curl openssl strace man-db groff zsh fish
    systemd-container mmdebstrap zstd
    libclang-rt-14-dev
  )
elif [[ $what != build && $what != deb ]]; then
  echo "usage: $0 build|deb|test" >&2
  exit 2
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ $what == test ]]; then
  command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
fi
if ((${#missing[@]})); then
  echo "Installing: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
[[ $what == test ]] || exit 0

# The dashboard's test tools (playwright-core, ws) and the vendored uPlot's source package.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ ! -d "$here/web/node_modules/playwright-core" || ! -d "$here/web/node_modules/ws" ]]; then
  (cd "$here/web" && npm ci --no-audit --no-fund --loglevel=error)
fi
