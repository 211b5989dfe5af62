/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/**
 * @file
 * @brief Optional MQTT connection helper (CONFIG_OTA_AGENT_MQTT_CONN).
 *
 * For applications (such as the Rust sample) that keep the connection
 * policy (when to connect, backoff, what to do on loss) but do not want to
 * handle `struct mqtt_client` themselves: one statically allocated client,
 * name resolution, plain TCP or TLS, CONNACK wait, and a poll step that runs
 * mqtt_input() and mqtt_live(). Every MQTT event goes to
 * ota_agent_mqtt_evt_handler() first; events that are not the agent's go to
 * the application's callback, or are drained and acknowledged.
 *
 * All functions must be called from one thread (the one that owns the
 * connection). Errors are negative errnos.
 */

#ifndef OTA_MQTT_CONN_H_
#define OTA_MQTT_CONN_H_

#include <stdbool.h>
#include <stdint.h>

#include <zephyr/net/mqtt.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Where and how to connect. Strings are NUL-terminated and copied. */
struct ota_mqtt_conn_params {
	const char *host;      /**< broker host name or address */
	uint16_t port;         /**< broker port (1883, 8883) */
	const char *client_id; /**< MQTT client id (AWS IoT: the thing name) */
	uint8_t tls;           /**< 1: TLS (needs CONFIG_MQTT_LIB_TLS) */
	int32_t sec_tag;       /**< TLS credentials tag (tls_credential_add()) */
	uint32_t connack_timeout_ms;
};

/** Events the agent did not take; runs on the connection's thread. */
typedef void (*ota_mqtt_conn_evt_cb_t)(struct mqtt_client *client, const struct mqtt_evt *evt);

/** Resolve, connect and wait for a successful CONNACK. */
int32_t ota_mqtt_conn_connect(const struct ota_mqtt_conn_params *params);

/**
 * Wait up to @p timeout_ms (shortened to the keep-alive deadline) for input,
 * process it, and send a PINGREQ when due. Returns -ENOTCONN (or the error
 * that closed it) once the connection is gone.
 */
int32_t ota_mqtt_conn_process(int32_t timeout_ms);

/** Send DISCONNECT and close. */
void ota_mqtt_conn_disconnect(void);

/** Whether the last CONNACK was accepted and no DISCONNECT came since. */
bool ota_mqtt_conn_is_connected(void);

/** The client, for ota_agent_params.client. */
struct mqtt_client *ota_mqtt_conn_client(void);

/** Receive the events the agent does not take (NULL: drain and drop). */
void ota_mqtt_conn_set_callback(ota_mqtt_conn_evt_cb_t cb);

/** A random value for reconnect jitter (sys_rand32_get()). */
uint32_t ota_mqtt_conn_random(void);

#ifdef __cplusplus
}
#endif

#endif /* OTA_MQTT_CONN_H_ */
