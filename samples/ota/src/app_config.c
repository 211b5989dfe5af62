/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/* The sample's Kconfig values for Rust, as one flat struct. */

#include <stdint.h>

#include <zephyr/kernel.h>

/* Mirrored by `AppConfig` in src/conn.rs. */
struct app_config {
	const char *broker_host;
	const char *client_id;
	uint32_t reconnect_base_ms;
	uint32_t reconnect_max_ms;
	int32_t sec_tag;
	uint16_t broker_port;
	uint8_t tls;
	uint8_t self_test; /* 0 pass, 1 fail, 2 silent */
};

void app_config_get(struct app_config *out)
{
	*out = (struct app_config){
		.broker_host = CONFIG_APP_MQTT_BROKER_HOST,
		/* AWS IoT policies usually require client id == thing name. */
		.client_id = CONFIG_OTA_AGENT_THING_NAME,
		.reconnect_base_ms = CONFIG_APP_RECONNECT_BASE_MS,
		.reconnect_max_ms = CONFIG_APP_RECONNECT_MAX_MS,
#if defined(CONFIG_APP_MQTT_TLS)
		.sec_tag = CONFIG_APP_MQTT_SEC_TAG,
		.tls = 1,
#else
		.sec_tag = -1,
		.tls = 0,
#endif
		.broker_port = CONFIG_APP_MQTT_BROKER_PORT,
		.self_test = IS_ENABLED(CONFIG_APP_SELF_TEST_FAIL)     ? 1
			     : IS_ENABLED(CONFIG_APP_SELF_TEST_SILENT) ? 2
								       : 0,
	};
}
