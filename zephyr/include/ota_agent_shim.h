/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/**
 * @file
 * @brief The flat C ABI between the ota-agent C shim and its Rust crates.
 *
 * Internal to the module: applications use <ota_agent.h>. Everything that is
 * macro-, Kconfig- or struct-layout-shaped in Zephyr (struct mqtt_client,
 * FIXED_PARTITION_ID, dfu/mcuboot.h, settings) stays behind these functions.
 * Only fixed-width integers, (pointer, length) pairs and the structs below
 * cross the boundary; the Rust mirror is
 * zephyr/rust/ota-agent-zephyr/src/ffi.rs and must keep the same field order.
 *
 * Unless stated otherwise a function returns 0 (or a non-negative count) on
 * success and a negative errno on failure.
 */

#ifndef OTA_AGENT_SHIM_H_
#define OTA_AGENT_SHIM_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Kconfig values, computed in C so that booleans and zeros reach Rust. */
struct ota_shim_config {
	uint32_t block_size;
	uint32_t blocks_per_request;
	uint32_t http_range_size;
	uint32_t request_timeout_ms;
	uint32_t max_retries;
	uint32_t self_test_timeout_ms;
	uint32_t status_every_blocks;
	uint32_t resume_every_blocks; /**< 0 without CONFIG_OTA_AGENT_RESUME */
	uint32_t firmware_file_type;
	uint8_t allow_downgrade;
	uint8_t protocol_mqtt;
	uint8_t protocol_http;
	uint8_t prefer_http;
	int32_t thread_priority;
	uint32_t api_timeout_ms;
	uint32_t queue_depth;
	const uint8_t *thing_name; /**< CONFIG_OTA_AGENT_THING_NAME, not NUL-counted */
	uint32_t thing_name_len;
	const uint8_t *signing_key_hex; /**< CONFIG_OTA_AGENT_SIGNING_KEY */
	uint32_t signing_key_hex_len;
};

/** The upload slot's geometry. */
struct ota_shim_slot_info {
	uint32_t capacity;    /**< whole erase units below MCUboot's trailer */
	uint32_t erase_size;  /**< from flash_area_get_sectors() */
	uint32_t write_align; /**< flash_area_align() */
	uint32_t area_id;     /**< flash area id of the slot */
};

/** One HTTP range request (strings are copied, not NUL-terminated). */
struct ota_shim_http_request {
	const uint8_t *host;
	uint32_t host_len;
	const uint8_t *path;
	uint32_t path_len;
	uint16_t port;
	uint8_t tls;
	uint32_t first; /**< first byte, inclusive */
	uint32_t last;  /**< last byte, inclusive */
};

/** Receives HTTP body fragments; return 0 to go on, negative to abort. */
typedef int32_t (*ota_shim_http_sink_t)(void *ctx, uint16_t status, const uint8_t *data,
					uint32_t len);

/* Configuration and kernel. */
void ota_shim_config_get(struct ota_shim_config *out);
int64_t ota_shim_uptime_ms(void);
uintptr_t ota_shim_thread_self(void);

/* MQTT on the application's client. Message ids come from Rust and always
 * have bit 15 set (the application uses 1..0x7fff).
 */
int32_t ota_shim_mqtt_bind(void *client, const uint8_t *thing, uint32_t thing_len);
int32_t ota_shim_mqtt_subscribe(const uint8_t *topic, uint32_t topic_len, uint8_t qos,
				uint16_t msg_id);
int32_t ota_shim_mqtt_unsubscribe(const uint8_t *topic, uint32_t topic_len, uint16_t msg_id);
int32_t ota_shim_mqtt_publish(const uint8_t *topic, uint32_t topic_len, const uint8_t *payload,
			      uint32_t payload_len, uint8_t qos, uint16_t msg_id);

/* The upload slot (flash_area_*). */
int32_t ota_shim_slot_open(struct ota_shim_slot_info *info);
int32_t ota_shim_slot_erase(uint32_t off, uint32_t len);
int32_t ota_shim_slot_write(uint32_t off, const uint8_t *data, uint32_t len);
int32_t ota_shim_slot_read(uint32_t off, uint8_t *buf, uint32_t len);

/* MCUboot and reboot. */
int64_t ota_shim_boot_running_version(void); /**< major<<24|minor<<16|revision */
int32_t ota_shim_boot_pending_commit(void);  /**< 1 on trial, 0 confirmed */
int32_t ota_shim_boot_request_test(void);
int32_t ota_shim_boot_confirm(void);
int32_t ota_shim_boot_reject(void);
void ota_shim_reboot(void);

/* The resume record (settings key "ota_agent/resume"). */
int32_t ota_shim_progress_load(uint8_t *buf, uint32_t cap); /**< length, -ENOENT */
int32_t ota_shim_progress_save(const uint8_t *record, uint32_t len);
int32_t ota_shim_progress_clear(void);

/* HTTP: the response status, or a negative errno. */
int32_t ota_shim_http_get(const struct ota_shim_http_request *req, ota_shim_http_sink_t sink,
			  void *ctx);

/* Implemented in Rust (crate ota-agent-zephyr-rt), called by the shim's MQTT
 * event hook on the thread that runs mqtt_input(). They copy what they need
 * before returning.
 */
void ota_agent_rx_publish(const uint8_t *topic, uint32_t topic_len, const uint8_t *payload,
			  uint32_t payload_len);
void ota_agent_rx_puback(uint16_t msg_id);
void ota_agent_rx_dropped(void);

#ifdef __cplusplus
}
#endif

#endif /* OTA_AGENT_SHIM_H_ */
