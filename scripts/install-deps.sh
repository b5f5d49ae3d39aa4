#!/bin/sh
# Installs the Debian 12 packages EnergyLens needs to build and test.
# Uses sudo when not root. Safe to rerun: apt-get skips what is installed.
set -e
PKGS="build-essential pkg-config clang clang-format clang-tidy libclang-rt-14-dev \
libnlopt-dev libgsl-dev libjansson-dev libcsv-dev libyaml-dev libcmocka-dev libxgboost-dev \
libcurl4-openssl-dev python3 python3-numpy zsh valgrind"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $missing
