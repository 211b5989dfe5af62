#!/usr/bin/env bash
# End-to-end throughput on loopback: time to update one simulated device with
# 1 and 16 MiB images over MQTT streams (1, 4, 16 blocks of 4 KiB per request)
# and HTTP (4 and 64 KiB ranges), through mosquitto and the OTA service,
# against the raw floor (plain clients moving the same bytes through the same
# broker or HTTP server) measured in the same run. Prints one table of medians.
#
# Usage: bench/load/throughput.sh [options]   (options: --help)
# Needs: mosquitto. Build output goes to $CARGO_TARGET_DIR (default: the
# workspace's target/). See bench/load/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

fail() {
    echo "throughput.sh: $*" >&2
    exit 1
}

command -v mosquitto >/dev/null || [[ -x /usr/sbin/mosquitto ]] || [[ -n ${MOSQUITTO:-} ]] ||
    fail "mosquitto not found: apt-get install -y mosquitto"

cd "$repo"
echo "throughput.sh: building the throughput command (release)" >&2
exec cargo run --quiet --release -p ota-agent-bench --bin throughput -- \
    --invoked-as "bench/load/throughput.sh${*:+ $*}" "$@"
