#!/usr/bin/env bash
# Installs the system libraries FlashKMeans links against, when missing (Debian/Ubuntu, as root or with sudo),
# and any extra Debian packages named as arguments (Scripts/test.sh asks for Open MPI).
set -euo pipefail

missing=()
for package in libopenblas-dev libhdf5-dev libsnappy-dev libzstd-dev zlib1g-dev pkg-config "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]}" >&2
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH; install Swift 6.1 or newer from swift.org" >&2; exit 1; }
