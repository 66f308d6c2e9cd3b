#!/bin/sh
# quickstart.sh - the README's first command: install what nnrun and its
# tests need from Debian's packages, build nnrun in build/, and train the
# seed's conv model (models/cnn.yaml).  Works as root (no sudo needed, as in
# containers and CI images) and as a user who may use sudo.
#
#   ./quickstart.sh                 install, build, train models/cnn.yaml
#   ./quickstart.sh --no-train      install and build only
#   ./quickstart.sh -- ARGS...      install, build, then `build/nnrun ARGS...`
#
# Exit status: that of the failing step (apt-get, meson, ninja, nnrun).
set -eu
cd "$(dirname "$0")"

# The build needs the first six; the rest are for the test suite and the
# data: the Fashion-MNIST data set, python3 (test helpers), valgrind
# (memcheck), GNU parallel (sweeps) and headless Chromium (report page).
PACKAGES="gcc libc6-dev meson ninja-build pkg-config libyaml-dev zlib1g-dev check
dataset-fashion-mnist python3 valgrind parallel chromium fonts-dejavu-core"

train=1
case "${1:-}" in
--no-train) train=0; shift ;;
--) shift ;;
"") ;;
*) echo "quickstart.sh: unknown argument '$1' (expected --no-train or -- ARGS...)" >&2; exit 2 ;;
esac

as_root=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "quickstart.sh: not root and sudo is not installed; run it as root, or install sudo" >&2
        exit 1
    fi
    as_root=sudo
fi

echo "quickstart.sh: installing packages${as_root:+ (with sudo)}" >&2
# shellcheck disable=SC2086  # PACKAGES is a word list
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $PACKAGES >/dev/null

echo "quickstart.sh: building in build/" >&2
if [ -f build/build.ninja ]; then
    meson setup --reconfigure build >/dev/null
else
    meson setup build >/dev/null
fi
ninja -C build

[ "$train" -eq 1 ] || exit 0
if [ "$#" -eq 0 ]; then
    set -- models/cnn.yaml
fi
exec build/nnrun "$@"
