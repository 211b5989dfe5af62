#!/usr/bin/env bash
# Footprint of the AWS IoT OTA C agent, the reference for the Rust agent's
# flash budget (see README.md).
#   bench/c_reference/run.sh [SRC]
# SRC (default bench/c_reference/src/) holds ota/, corejson/ and tinycbor/.
# A missing checkout is cloned from GitHub at the pinned commit; an existing
# one must be at that commit. Output goes to bench/c_reference/build/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/src}

die() { echo "run.sh: $*" >&2; exit 1; }

for tool in arm-none-eabi-gcc arm-none-eabi-gcc-ar arm-none-eabi-size arm-none-eabi-nm; do
    command -v "$tool" >/dev/null ||
        die "$tool not found; install it with: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi"
done
[ -f "$(arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard \
        --specs=nano.specs -print-file-name=libc_nano.a)" ] ||
    die "newlib for arm-none-eabi not found; install it with: apt-get install libnewlib-arm-none-eabi"
for tool in python3 git make; do
    command -v "$tool" >/dev/null || die "$tool not found; install it with: apt-get install $tool"
done

# name, GitHub repository, pinned commit. corejson and tinycbor are the
# submodule commits the OTA repository pins (coreJSON v3.2.0, tinycbor v0.5.4).
pins=(
    "ota aws/ota-for-aws-iot-embedded-sdk 477ee9a556bb2e44cc06b424c78670e17b759e81"
    "corejson FreeRTOS/coreJSON 5b31f4c37a034911a4992fd415f8177a75014946"
    "tinycbor intel/tinycbor 11590e470dfc1a144eb5665655c7ff6627b8e0f6"
)

mkdir -p "$src"
src=$(cd "$src" && pwd -P)
case $src$here in *[[:space:]]*) die "make cannot take paths with spaces: $src, $here";; esac
case $src/ in "$(cd "$here" && pwd -P)"/build/*) die "SRC must not be under build/ (run.sh deletes build/)";; esac
for pin in "${pins[@]}"; do
    read -r name repo commit <<<"$pin"
    dir=$src/$name
    if [ ! -e "$dir" ]; then
        echo "cloning $repo into $dir"
        # Cloned beside and moved into place at the pinned commit, so that a
        # failed clone leaves nothing for the next run to trip on.
        tmp=$dir.partial
        rm -rf "$tmp"
        git clone -q "https://github.com/$repo.git" "$tmp" || die "could not clone https://github.com/$repo"
        git -C "$tmp" checkout -q "$commit" 2>/dev/null || {
            git -C "$tmp" fetch -q origin "$commit" && git -C "$tmp" checkout -q "$commit"
        } || die "could not check out $commit of $repo"
        mv "$tmp" "$dir"
    fi
    [ "$(git -C "$dir" rev-parse --show-toplevel 2>/dev/null)" = "$dir" ] ||
        die "$dir exists but is not a git checkout of $repo; remove it or pass another SRC"
    head=$(git -C "$dir" rev-parse HEAD)
    [ "$head" = "$commit" ] ||
        die "$dir is at $head, not at the pinned commit $commit of $repo (git -C $dir checkout $commit)"
    [ -z "$(git -C "$dir" status --porcelain --untracked-files=no)" ] ||
        die "$dir has local changes to tracked files; the figures are for the pinned commit as is"
done

version=$(arm-none-eabi-gcc -dumpfullversion)
echo "arm-none-eabi-gcc $version"
[ "$version" = 12.2.1 ] ||
    echo "run.sh: note: the figures in README.md were measured with GCC 12.2.1; $version gives different ones" >&2
cd "$here"
make -s clean
for cfg in mqtt both; do
    for libc in nano full; do
        for nd in 1 0; do make -j1 SRC="$src" CFG=$cfg LIBC=$libc NDEBUG=$nd; done
    done
    make -j1 SRC="$src" CFG=$cfg STRERR=1
    make -j1 SRC="$src" CFG=$cfg LTO=1
done
python3 analyze.py build/*-ndebug1-* > build/report_ndebug1.txt
python3 analyze.py build/*-ndebug0-* > build/report_ndebug0.txt
python3 summary.py build/*-ndebug* | tee build/summary.txt
echo "per-variant reports: $here/build/report_ndebug1.txt, $here/build/report_ndebug0.txt"
