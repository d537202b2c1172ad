#!/usr/bin/env bash
# Installs the Debian packages synq needs, only those missing. Idempotent and
# silent when everything is present. Needs root (or sudo) only when installing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev libtomlplusplus-dev
  libpcap-dev libsodium-dev
  tshark iproute2 python3
  time  # GNU time: `make bench` reports the lab CLI's wall time and peak memory
  libbpf-dev bpftool clang libmnl-dev  # synq doctor: BPF evidence (CO-RE), sock_diag
  chromium  # headless: the lab report test loads the page and takes a screenshot
)
# The lab report's charts come from npm (Vega-Lite); any Node with npm will do.
# Debian's nodejs has no npm of its own, so ask for both only when npm is missing.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
((${#missing[@]})) || exit 0

echo "synq: installing missing Debian packages: ${missing[*]}"
SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo)
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no, without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | "${SUDO[@]}" debconf-set-selections
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "synq: packages installed"
