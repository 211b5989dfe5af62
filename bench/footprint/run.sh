#!/usr/bin/env bash
# The flash, RAM and stack ota-agent takes from a product: builds a minimal
# Cortex-M firmware (firmware/) without the agent, with it and a stub
# signature verifier, and with its P256Verifier, in two configurations, then
# prints the table (report/). See README.md for the method.
#
# Needs: rustup targets thumbv7em-none-eabi and thumbv8m.main-none-eabi; the
# llvm-tools component (installed if missing); a nightly toolchain with
# rust-src for the stack measurement (rust-src installed if missing).
# Build output goes to $CARGO_TARGET_DIR (default: bench/footprint/target).
#
# run.sh --check: only the images of thumbv7em-none-eabi with the stub
# verifier; fails if the agent logic or peak stack of either configuration
# is above its ceiling in ceilings.txt (CI runs this).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
targets=(thumbv7em-none-eabi thumbv8m.main-none-eabi)
root=${CARGO_TARGET_DIR:-$here/target}
out=$root/footprint

fail() {
    echo "run.sh: $*" >&2
    exit 1
}

# build KIND TARGET FEATURES DEST [cargo options...]: KIND "sizes" uses the
# default toolchain, as a product would; "stack" uses nightly.
build() {
    local kind=$1 target=$2 features=$3 dest=$4
    shift 4
    local cargo=(cargo)
    [[ $kind == stack ]] && cargo=(cargo +nightly)
    CARGO_TARGET_DIR=$root/$kind "${cargo[@]}" build --quiet --release \
        --manifest-path "$here/firmware/Cargo.toml" --target "$target" \
        --features "$features" "$@"
    mkdir -p "$(dirname "$dest")"
    cp "$root/$kind/$target/release/firmware" "$dest"
}

check=false
case ${1:-} in
"") ;;
--check) check=true targets=(thumbv7em-none-eabi) ;;
*) fail "usage: run.sh [--check]" ;;
esac

# --- Prerequisites ---------------------------------------------------------

installed=$(rustup target list --installed)
for t in "${targets[@]}"; do
    grep -qx "$t" <<<"$installed" ||
        fail "target $t missing: rustup target add ${targets[*]}"
done

rustup toolchain list | grep -q '^nightly' ||
    fail "no nightly toolchain (for -Z emit-stack-sizes): rustup toolchain install nightly --profile minimal --component rust-src"
if ! rustup component list --installed | grep -q '^llvm-tools'; then
    echo "run.sh: installing llvm-tools (for llvm-objdump)" >&2
    rustup component add llvm-tools
fi
if ! rustup component list --installed --toolchain nightly | grep -q '^rust-src'; then
    echo "run.sh: installing rust-src on nightly (for -Z build-std)" >&2
    rustup component add rust-src --toolchain nightly
fi
host=$(rustc -vV | sed -n 's/^host: //p')
objdump=$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-objdump
[[ -x $objdump ]] || fail "$objdump not found: rustup component add llvm-tools"

# --- How to build and report -------------------------------------------------

# Recursion bounds for the stack analysis (NAME=N: a cycle through a
# function whose name contains NAME nests at most N times):
# - formatting recurses where a Display impl formats: status.rs renders a
#   version through its Display, which formats integers: 2 levels;
# - core's panic for a bad str slice slices its own message at char
#   boundaries only, so it cannot fail again: 1 level.
bounds=(
    --bound "core::fmt::write=2"
    --bound "core::str::slice_error_fail=1"
)

# build_variant TARGET VARIANT:FEATURES: its size image and, but for the
# baseline, its stack image: every function's frame size in .stack_sizes,
# core and compiler_builtins rebuilt so that theirs are there too.
build_variant() {
    local t=$1 v=${2%%:*} features=${2#*:}
    echo "run.sh: building $t $v" >&2
    build sizes "$t" "$features" "$out/$t/$v.elf"
    [[ $v == baseline ]] && return
    RUSTFLAGS="-Z emit-stack-sizes" build stack "$t" "$features" "$out/$t/stack/$v.elf" \
        -Z build-std=core,compiler_builtins -Z build-std-features=compiler-builtins-mem
}

report() {
    CARGO_TARGET_DIR=$root/report cargo run --quiet --release \
        --manifest-path "$here/report/Cargo.toml" -- \
        --builds "$out" --objdump "$objdump" "${bounds[@]}" "$@"
}

if $check; then
    for variant in baseline: mqtt-stub:agent http-stub:http; do
        build_variant "${targets[0]}" "$variant"
    done
    report --target "${targets[0]}" --check "$here/ceilings.txt"
    exit
fi

# --- Builds -----------------------------------------------------------------

# Variant:firmware features. "stub" uses a stub verifier (the agent's
# p256-verifier feature off); "p256" the agent's default P256Verifier.
variants=(baseline: mqtt-stub:agent mqtt-p256:p256 http-stub:http http-p256:http,p256)

for t in "${targets[@]}"; do
    for variant in "${variants[@]}"; do
        build_variant "$t" "$variant"
    done
done

# --- Report -----------------------------------------------------------------

target_args=()
for t in "${targets[@]}"; do target_args+=(--target "$t"); done
report "${target_args[@]}"
