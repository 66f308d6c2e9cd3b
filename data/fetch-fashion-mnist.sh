#!/bin/sh
# fetch-fashion-mnist.sh - download Fashion-MNIST (Zalando Research, MIT
# licence) into data/fashion-mnist/ at the root of the nnrun repository.
#
# The four official .gz files come from Zalando's mirror, with the GitHub
# repository as a fallback.  Each is written to a temporary name, checked
# against the official MD5 sums and only then renamed into place, so an
# interrupted or corrupted download never leaves a file nnrun would pick up.
# Files already present and correct are left alone.
#
# Environment (all optional):
#   FASHION_MNIST_URL         space-separated base URLs to try instead of the
#                             official ones (e.g. file:///srv/mirror/fashion)
#   FASHION_MNIST_DIR         where to put the files (default: data/fashion-mnist
#                             next to this script's directory)
#   FASHION_MNIST_DOWNLOADER  curl or wget (default: curl if installed)
#
# On Debian the package dataset-fashion-mnist installs the same data into
# /usr/share/datasets/fashion-mnist/, which nnrun finds without this script.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
root=$(CDPATH='' cd -- "$here/.." && pwd)
dest=${FASHION_MNIST_DIR:-$root/data/fashion-mnist}
mirrors=${FASHION_MNIST_URL:-"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion"}

# name, MD5 of the official .gz, MD5 of the decompressed IDX file.  The second
# sum also accepts a recompressed copy of the same data (Debian's package,
# for one, ships the identical IDX bytes in differently compressed .gz files).
files='
train-images-idx3-ubyte 8d4fb7e6c68d591d4c3dfef9ec88bf0d f4a8712d7a061bf5bd6d2ca38dc4d50a
train-labels-idx1-ubyte 25c81989df183df01b3e8a0aad5dffbe 9018921c3c673c538a1fc5bad174d6f9
t10k-images-idx3-ubyte bef4ecab320f06d8554ea6380940ec79 8181f5470baa50b63fa0f6fddb340f0a
t10k-labels-idx1-ubyte bb300cfdad3c16e7a12a480ee83cd310 15d484375f8d13e6eb1aabb0c3f46965
'

me=$(basename -- "$0")
die() { printf '%s: error: %s\n' "$me" "$*" >&2; exit 1; }
say() { printf '%s: %s\n' "$me" "$*"; }

case ${1:-} in
    -h|--help)
        sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0 ;;
    '') ;;
    *) die "unexpected argument '$1' (try --help)" ;;
esac

# MD5 of standard input, as 32 lowercase hex digits.
if command -v md5sum >/dev/null 2>&1; then
    md5_of() { md5sum | cut -d' ' -f1; }
elif command -v md5 >/dev/null 2>&1; then
    md5_of() { md5 -q; }
elif command -v openssl >/dev/null 2>&1; then
    md5_of() { openssl dgst -md5 | sed 's/^.*= *//'; }
else
    die "need md5sum, md5 or openssl to check the downloads"
fi

# check FILE GZ_MD5 RAW_MD5: succeeds when FILE is the official .gz, or a
# gzip file holding exactly the official IDX bytes; sets $how to say which.
check() {
    sum=$(md5_of <"$1")
    how="MD5 $sum of the .gz"
    [ "$sum" = "$2" ] && return 0
    sum=$( (gzip -dc <"$1" 2>/dev/null || echo corrupt) | md5_of)
    how="MD5 $sum of the decompressed IDX data"
    [ "$sum" = "$3" ]
}

downloader=${FASHION_MNIST_DOWNLOADER:-}
if [ -z "$downloader" ]; then
    if command -v curl >/dev/null 2>&1; then
        downloader=curl
    elif command -v wget >/dev/null 2>&1; then
        downloader=wget
    fi
fi
case $downloader in
    curl|wget) command -v "$downloader" >/dev/null 2>&1 || die "$downloader is not installed" ;;
    '') die "need curl or wget to download (or install Debian's package dataset-fashion-mnist)" ;;
    *) die "FASHION_MNIST_DOWNLOADER must be curl or wget, not '$downloader'" ;;
esac
command -v gzip >/dev/null 2>&1 || die "need gzip to check the downloads"

# fetch URL OUT
fetch() {
    if [ "$downloader" = curl ]; then
        curl -fsSL --retry 2 --connect-timeout 30 -o "$2" "$1" </dev/null
    else
        wget -q --tries=3 --timeout=30 -O "$2" "$1" </dev/null
    fi
}

mkdir -p -- "$dest" || die "cannot create $dest"
part=''
trap 'if [ -n "$part" ]; then rm -f -- "$part"; fi' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

while read -r name gz_md5 raw_md5; do
    [ -n "$name" ] || continue
    out=$dest/$name.gz
    if [ -f "$out" ] && check "$out" "$gz_md5" "$raw_md5"; then
        say "$name.gz: already there, checksum OK ($how)"
        continue
    fi
    [ -f "$out" ] && say "$name.gz: present but its checksum is wrong; downloading it again"
    ok=0
    for base in $mirrors; do
        url=${base%/}/$name.gz
        part=$dest/.$name.gz.part.$$
        say "$name.gz: downloading $url"
        if ! fetch "$url" "$part"; then
            say "$name.gz: download from $url failed"
        elif ! check "$part" "$gz_md5" "$raw_md5"; then
            say "$name.gz: checksum mismatch for $url (expected MD5 $gz_md5)"
        else
            mv -f -- "$part" "$out"
            part=''
            ok=1
            say "$name.gz: checksum OK ($how)"
            break
        fi
        rm -f -- "$part"
        part=''
    done
    [ "$ok" -eq 1 ] || die "could not get a correct $name.gz from any of: $mirrors"
done <<EOF
$files
EOF

if [ -z "${FASHION_MNIST_DIR:-}" ]; then
    say "Fashion-MNIST is in $dest (nnrun finds it when run from $root)"
else
    say "Fashion-MNIST is in $dest (point nnrun at it with NNRUN_DATA=$dest)"
fi
