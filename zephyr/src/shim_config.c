/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/* Kconfig values and kernel services for the Rust side. */

#include <zephyr/kernel.h>

#include <ota_agent_shim.h>

BUILD_ASSERT(IS_POWER_OF_TWO(CONFIG_OTA_AGENT_BLOCK_SIZE),
	     "CONFIG_OTA_AGENT_BLOCK_SIZE must be a power of two");
BUILD_ASSERT((uint64_t)CONFIG_OTA_AGENT_BLOCK_SIZE * CONFIG_OTA_AGENT_BLOCKS_PER_REQUEST <=
		     128U * 1024U,
	     "one request may ask for at most 128 KiB (block size x blocks per request)");

#if defined(CONFIG_OTA_AGENT_DATA_MQTT)
/* A data block plus its CBOR envelope must fit the payload buffer. */
BUILD_ASSERT(CONFIG_OTA_AGENT_MQTT_PAYLOAD_BUFFER_SIZE >= CONFIG_OTA_AGENT_BLOCK_SIZE + 64,
	     "CONFIG_OTA_AGENT_MQTT_PAYLOAD_BUFFER_SIZE must hold a block and its envelope");
#endif

#if defined(CONFIG_OTA_AGENT_DATA_HTTP)
BUILD_ASSERT(CONFIG_OTA_AGENT_HTTP_RANGE_SIZE % CONFIG_OTA_AGENT_BLOCK_SIZE == 0,
	     "CONFIG_OTA_AGENT_HTTP_RANGE_SIZE must be a multiple of the block size");
#define OTA_HTTP_RANGE_SIZE CONFIG_OTA_AGENT_HTTP_RANGE_SIZE
#else
#define OTA_HTTP_RANGE_SIZE CONFIG_OTA_AGENT_BLOCK_SIZE
#endif

#if defined(CONFIG_OTA_AGENT_RESUME)
#define OTA_RESUME_EVERY_BLOCKS CONFIG_OTA_AGENT_RESUME_EVERY_BLOCKS
#else
#define OTA_RESUME_EVERY_BLOCKS 0
#endif

static const char thing_name[] = CONFIG_OTA_AGENT_THING_NAME;
static const char signing_key[] = CONFIG_OTA_AGENT_SIGNING_KEY;

void ota_shim_config_get(struct ota_shim_config *out)
{
	*out = (struct ota_shim_config){
		.block_size = CONFIG_OTA_AGENT_BLOCK_SIZE,
		.blocks_per_request = CONFIG_OTA_AGENT_BLOCKS_PER_REQUEST,
		.http_range_size = OTA_HTTP_RANGE_SIZE,
		.request_timeout_ms = CONFIG_OTA_AGENT_REQUEST_TIMEOUT_MS,
		.max_retries = CONFIG_OTA_AGENT_MAX_RETRIES,
		.self_test_timeout_ms = CONFIG_OTA_AGENT_SELF_TEST_TIMEOUT_S * 1000U,
		.status_every_blocks = CONFIG_OTA_AGENT_STATUS_EVERY_BLOCKS,
		.resume_every_blocks = OTA_RESUME_EVERY_BLOCKS,
		.firmware_file_type = CONFIG_OTA_AGENT_FIRMWARE_FILE_TYPE,
		.allow_downgrade = IS_ENABLED(CONFIG_OTA_AGENT_ALLOW_DOWNGRADE),
		.protocol_mqtt = IS_ENABLED(CONFIG_OTA_AGENT_DATA_MQTT),
		.protocol_http = IS_ENABLED(CONFIG_OTA_AGENT_DATA_HTTP),
		.prefer_http = IS_ENABLED(CONFIG_OTA_AGENT_PREFER_HTTP),
		.thread_priority = CONFIG_OTA_AGENT_THREAD_PRIORITY,
		.api_timeout_ms = CONFIG_OTA_AGENT_API_TIMEOUT_MS,
		.queue_depth = CONFIG_OTA_AGENT_QUEUE_DEPTH,
		.thing_name = (const uint8_t *)thing_name,
		.thing_name_len = sizeof(thing_name) - 1,
		.signing_key_hex = (const uint8_t *)signing_key,
		.signing_key_hex_len = sizeof(signing_key) - 1,
	};
}

int64_t ota_shim_uptime_ms(void)
{
	return k_uptime_get();
}

uintptr_t ota_shim_thread_self(void)
{
	return (uintptr_t)k_current_get();
}
