#!/usr/bin/env bash
# Fleet load: N simulated devices (default 200) update at once through one
# mosquitto and one `otactl serve` process, both started here on loopback.
# Prints the wall time, what was delivered, CPU time and memory per process,
# and checks that every device ends confirmed on the new version with its
# execution SUCCEEDED (exit status 1, naming the devices, if not).
#
# Usage: bench/load/fleet.sh [DEVICES] [options]   (options: --help)
# Needs: mosquitto. Build output goes to $CARGO_TARGET_DIR (default: the
# workspace's target/). See bench/load/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

fail() {
    echo "fleet.sh: $*" >&2
    exit 1
}

command -v mosquitto >/dev/null || [[ -x /usr/sbin/mosquitto ]] || [[ -n ${MOSQUITTO:-} ]] ||
    fail "mosquitto not found: apt-get install -y mosquitto"

cd "$repo"
# `otactl serve` runs as its own process: the fleet binary finds it next to itself.
echo "fleet.sh: building otactl and the fleet command (release)" >&2
cargo build --quiet --release -p otactl --bin otactl
exec cargo run --quiet --release -p ota-agent-bench --bin fleet -- \
    --invoked-as "bench/load/fleet.sh${*:+ $*}" "$@"
