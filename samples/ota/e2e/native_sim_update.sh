#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End-to-end update of the sample on native_sim/native/64 against mosquitto
# and `otactl serve` on 127.0.0.1: job, MQTT stream download, activation,
# reboot (the process re-executes itself; the TEST-ONLY sim bootloader swaps
# the slots in flash.bin), self test, then commit -- or revert, when the
# sample was built with CONFIG_APP_SELF_TEST_FAIL=y.
#
# Usage: native_sim_update.sh ZEPHYR_EXE OTACTL SIGNING_KEY WORKDIR [SUCCEEDED|FAILED]
#   ZEPHYR_EXE   build/zephyr/zephyr.exe of samples/ota, built with
#                CONFIG_OTA_AGENT_SIGNING_KEY = `otactl pubkey --key SIGNING_KEY --format hex`
#   OTACTL       the otactl binary (tools/otactl)
#   SIGNING_KEY  the code-signing private key (PEM)
# Needs mosquitto, curl and jq. Written for CI; not run on the machine that
# wrote it (no Zephyr build there).
set -euo pipefail

exe=$(realpath "$1") otactl=$(realpath "$2") key=$(realpath "$3") work=$4
expect=${5:-SUCCEEDED}
thing=sim-device-1
job=e2e-$$
admin=http://127.0.0.1:8780
mkdir -p "$work" && cd "$work"
rm -f flash.bin

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

mosquitto -p 1883 >mosquitto.log 2>&1 &
pids+=($!)
"$otactl" serve --broker 127.0.0.1:1883 --admin-port 8780 >serve.log 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf "$admin/stats" >/dev/null && break; sleep 0.2; done

# The "new firmware": an MCUboot image newer than the sample's VERSION (1.0.0).
head -c 65536 /dev/urandom >payload.bin
"$otactl" image --version 1.1.0 --pad-header payload.bin -o fw.bin
curl -sf -X POST "$admin/streams" \
	-d "{\"stream_id\":\"fw\",\"files\":[{\"file_id\":0,\"path\":\"$PWD/fw.bin\"}]}"
doc=$("$otactl" job --job-id "$job" --file fw.bin --key "$key" --stream fw)
curl -sf -X POST "$admin/jobs" -d "{\"job_id\":\"$job\",\"things\":[\"$thing\"],\"document\":$doc}"

# The device. With CONFIG_NATIVE_SIM_REBOOT a reboot re-executes the process;
# without it the process exits, and this loop starts it again (flash.bin,
# like a real flash, survives).
( while :; do "$exe" --flash=flash.bin || true; echo "--- device restarted ---"; done ) \
	>device.log 2>&1 &
pids+=($!)

status=
for _ in $(seq 300); do
	status=$(curl -sf "$admin/things/$thing/jobs/$job" | jq -r '.status // .execution.status // empty' || true)
	case $status in SUCCEEDED|FAILED|REJECTED) break ;; esac
	sleep 2
done
echo "job $job: $status (expected $expect)"
grep -E "sim bootloader|ota sample|ota:" device.log | tail -40 || true
[ "$status" = "$expect" ]
if [ "$expect" = SUCCEEDED ]; then
	grep -q "sim bootloader: swapped to 1.1.0" device.log
	grep -q "image confirmed" device.log
else
	grep -q "sim bootloader: reverted to 1.0.0" device.log
fi
echo "native_sim update: 1 passed, 0 failed"
