#!/usr/bin/env bash
# What accepting a download costs ota-agent, in CPU instructions per KiB,
# against the floor: SHA-256 of the same bytes alone. Builds the benchmark
# (src/) in release, runs each configuration under valgrind's callgrind
# (deterministic instruction counts, only inside the measured function) and
# prints the table. See README.md for the method.
#
# Usage: bench/block_cost/run.sh [FILE_SIZE_BYTES]   (default 1 MiB)
# Needs: valgrind. Build output goes to $CARGO_TARGET_DIR (default:
# bench/block_cost/target); the callgrind files stay in its block-cost/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
size=${1:-1048576}
root=${CARGO_TARGET_DIR:-$here/target}
out=$root/block-cost

fail() {
    echo "run.sh: $*" >&2
    exit 1
}

# --- Prerequisites ---------------------------------------------------------

command -v valgrind >/dev/null ||
    fail "valgrind not found: apt-get install -y valgrind"
[[ $size =~ ^[0-9]+$ ]] || fail "the file size must be a number of bytes, not '$size'"

# The benchmark has its own workspace, so it carries a copy of the
# workspace's release profile; figures from another profile would mislead.
release_profile() {
    awk '/^\[/ { on = ($0 == "[profile.release]") } on && NF && !/^#/' "$1"
}
[[ $(release_profile "$repo/Cargo.toml") == "$(release_profile "$here/Cargo.toml")" ]] ||
    fail "[profile.release] in $here/Cargo.toml differs from $repo/Cargo.toml: copy it over"

# --- Build -----------------------------------------------------------------

# The portable SHA-256 code, as on a Cortex-M (no SHA instructions there):
# otherwise sha2 picks SHA-NI at run time wherever the CPU, or valgrind's
# emulated CPU, offers it, and the floor would not be the device's.
rustflags='--cfg sha2_backend="soft"'
build=(cargo build --quiet --release --manifest-path "$here/Cargo.toml")
echo "run.sh: building: RUSTFLAGS='$rustflags' ${build[*]}" >&2
RUSTFLAGS=$rustflags CARGO_TARGET_DIR=$root "${build[@]}"
bin=$root/release/block-cost

# --- Report ----------------------------------------------------------------

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
core=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "unknown")
if [[ $core != unknown && -n $(git -C "$repo" status --porcelain -- src Cargo.toml 2>/dev/null) ]]; then
    core="$core, with uncommitted changes in src/ or Cargo.toml"
fi

echo "# ota-agent: instructions per KiB accepted, against SHA-256 alone"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- machine: $(uname -m), ${cpu:-CPU model unknown}"
echo "- valgrind: $(valgrind --version)"
echo "- rustc: $(rustc --version)"
echo "- core: ota-agent at $core"
profile=$(release_profile "$here/Cargo.toml" | tail -n +2 | sed 's/ *= */=/' | paste -sd ' ')
echo "- profile: release, as the workspace defines it ($profile); RUSTFLAGS='$rustflags'"
echo "- command: bench/block_cost/run.sh $size"
echo

"$bin" report --size "$size" --out "$out"

cat <<'NOTES'

What is counted: callgrind's instruction count (Ir) inside the measured
function only (--toggle-collect), callees included. "agent" feeds every block
message of the download through Agent::handle_message and then drains
poll_transmit and poll_event, as a port does: CBOR decoding, the window, the
SHA-256, the slot write call (a copy into a Vec), the GetStream requests and
progress statuses it renders, and at the end the MCUboot TLV check. The
signature verifier compares the digest only, so no P-256 is counted. The
configuration is Config::default() with MQTT only and the block size and
blocks per request shown. "SHA-256" hashes the same file in chunks of the
block size with the sha2 crate the core uses. "overhead instr/block" is
(agent - SHA-256) / blocks. Messages, image and agent are built before the
measured call and checked after it (every block accepted, digest and slot
contents match).

x86-64 instruction counts are a proxy for Cortex-M cost, not a measurement
of it: instruction mixes, memcpy and the flash driver differ, and cycles per
instruction differ more. The ratio agent / SHA-256 transfers better than
the absolute figures.
NOTES
