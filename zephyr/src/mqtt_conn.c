/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/* The optional MQTT connection helper (see ota_mqtt_conn.h). */

#include <errno.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/mqtt.h>
#include <zephyr/net/socket.h>
#include <zephyr/random/random.h>

#include <ota_agent.h>
#include <ota_mqtt_conn.h>

#include "shim_internal.h"

LOG_MODULE_DECLARE(ota_agent, CONFIG_OTA_AGENT_LOG_LEVEL);

#define CLIENT_ID_MAX 128

static struct mqtt_client client;
static struct sockaddr_storage broker;
static uint8_t rx_buf[CONFIG_OTA_AGENT_MQTT_CONN_RX_BUFFER_SIZE];
static uint8_t tx_buf[CONFIG_OTA_AGENT_MQTT_CONN_TX_BUFFER_SIZE];
static uint8_t drain_buf[128];
static char client_id[CLIENT_ID_MAX + 1];
static struct zsock_pollfd fds;
static ota_mqtt_conn_evt_cb_t app_cb;
static bool connected;
static int connack_result;

#if defined(CONFIG_MQTT_LIB_TLS)
static sec_tag_t sec_tags[1];
static char tls_host[CLIENT_ID_MAX + 1];
#endif

/* A PUBLISH nobody wants: read it off the socket (mqtt_input() would
 * otherwise return -EBUSY) and acknowledge it if asked to.
 */
static void drain(struct mqtt_client *c, const struct mqtt_publish_param *p)
{
	uint32_t left = p->message.payload.len;

	while (left > 0) {
		uint32_t chunk = MIN(left, sizeof(drain_buf));

		if (mqtt_readall_publish_payload(c, drain_buf, chunk) < 0) {
			return;
		}
		left -= chunk;
	}
	if (p->message.topic.qos == MQTT_QOS_1_AT_LEAST_ONCE) {
		const struct mqtt_puback_param ack = {.message_id = p->message_id};

		(void)mqtt_publish_qos1_ack(c, &ack);
	}
}

static void evt_handler(struct mqtt_client *c, const struct mqtt_evt *evt)
{
	switch (evt->type) {
	case MQTT_EVT_CONNACK:
		connack_result = evt->result;
		connected = evt->result == 0;
		break;
	case MQTT_EVT_DISCONNECT:
		connected = false;
		break;
	default:
		break;
	}
	if (ota_agent_mqtt_evt_handler(c, evt) != 1) {
		return;
	}
	if (app_cb != NULL) {
		app_cb(c, evt);
	} else if (evt->type == MQTT_EVT_PUBLISH && evt->result == 0) {
		drain(c, &evt->param.publish);
	}
}

static int resolve(const char *host, uint16_t port)
{
	const struct zsock_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct zsock_addrinfo *res = NULL;
	char service[8];
	int rc;

	snprintk(service, sizeof(service), "%u", port);
	rc = zsock_getaddrinfo(host, service, &hints, &res);
	if (rc != 0 || res == NULL) {
		LOG_WRN("cannot resolve %s (%d)", host, rc);
		return -EHOSTUNREACH;
	}
	memcpy(&broker, res->ai_addr, MIN(res->ai_addrlen, sizeof(broker)));
	zsock_freeaddrinfo(res);
	return 0;
}

static int setup_transport(const struct ota_mqtt_conn_params *p)
{
	if (!p->tls) {
		client.transport.type = MQTT_TRANSPORT_NON_SECURE;
		return 0;
	}
#if defined(CONFIG_MQTT_LIB_TLS)
	struct mqtt_sec_config *tls = &client.transport.tls.config;

	sec_tags[0] = p->sec_tag;
	strncpy(tls_host, p->host, sizeof(tls_host) - 1);
	client.transport.type = MQTT_TRANSPORT_SECURE;
	tls->peer_verify = TLS_PEER_VERIFY_REQUIRED;
	tls->cipher_list = NULL;
	tls->sec_tag_list = sec_tags;
	tls->sec_tag_count = ARRAY_SIZE(sec_tags);
	tls->hostname = tls_host;
	return 0;
#else
	LOG_ERR("TLS requested without CONFIG_MQTT_LIB_TLS");
	return -EPROTONOSUPPORT;
#endif
}

static int socket_fd(void)
{
#if defined(CONFIG_MQTT_LIB_TLS)
	if (client.transport.type == MQTT_TRANSPORT_SECURE) {
		return client.transport.tls.sock;
	}
#endif
	return client.transport.tcp.sock;
}

int32_t ota_mqtt_conn_connect(const struct ota_mqtt_conn_params *p)
{
	int64_t deadline;
	int rc;

	if (p == NULL || p->host == NULL || p->client_id == NULL ||
	    strlen(p->client_id) > CLIENT_ID_MAX) {
		return -EINVAL;
	}
	rc = resolve(p->host, p->port);
	if (rc != 0) {
		return rc;
	}
	mqtt_client_init(&client);
	strncpy(client_id, p->client_id, CLIENT_ID_MAX);
	client.broker = &broker;
	client.evt_cb = evt_handler;
	client.client_id.utf8 = (const uint8_t *)client_id;
	client.client_id.size = strlen(client_id);
	client.protocol_version = MQTT_VERSION_3_1_1;
	client.rx_buf = rx_buf;
	client.rx_buf_size = sizeof(rx_buf);
	client.tx_buf = tx_buf;
	client.tx_buf_size = sizeof(tx_buf);
	rc = setup_transport(p);
	if (rc != 0) {
		return rc;
	}

	connected = false;
	connack_result = -EINPROGRESS;
	rc = mqtt_connect(&client);
	if (rc != 0) {
		return rc;
	}
	fds.fd = socket_fd();
	fds.events = ZSOCK_POLLIN;
	deadline = k_uptime_get() + p->connack_timeout_ms;
	while (connack_result == -EINPROGRESS) {
		int64_t left = deadline - k_uptime_get();

		if (left <= 0 || zsock_poll(&fds, 1, (int)left) <= 0 || mqtt_input(&client) < 0) {
			break;
		}
	}
	if (!connected) {
		LOG_WRN("no CONNACK accepted from %s:%u (%d)", p->host, p->port, connack_result);
		(void)mqtt_abort(&client);
		return connack_result > 0 ? -ECONNREFUSED : -ETIMEDOUT;
	}
	return 0;
}

int32_t ota_mqtt_conn_process(int32_t timeout_ms)
{
	int keepalive;
	int ready;
	int rc;

	if (!connected) {
		return -ENOTCONN;
	}
	keepalive = mqtt_keepalive_time_left(&client);
	ready = zsock_poll(&fds, 1, keepalive < 0 ? timeout_ms : MIN(keepalive, timeout_ms));
	if (ready < 0) {
		rc = -errno;
		(void)mqtt_abort(&client);
		return rc;
	}
	if (ready > 0 && (fds.revents & ZSOCK_POLLIN) != 0) {
		rc = mqtt_input(&client);
		if (rc < 0 && rc != -EAGAIN) {
			(void)mqtt_abort(&client);
			return rc;
		}
	}
	if (ready > 0 && (fds.revents & (ZSOCK_POLLERR | ZSOCK_POLLHUP | ZSOCK_POLLNVAL)) != 0) {
		(void)mqtt_abort(&client);
		return -ECONNRESET;
	}
	rc = mqtt_live(&client);
	if (rc < 0 && rc != -EAGAIN) {
		(void)mqtt_abort(&client);
		return rc;
	}
	/* Two keep-alive periods without PINGRESP: the broker is gone. */
	if (client.unacked_ping > 1) {
		(void)mqtt_abort(&client);
		return -ETIMEDOUT;
	}
	return connected ? 0 : -ENOTCONN;
}

void ota_mqtt_conn_disconnect(void)
{
	if (connected) {
		(void)OTA_MQTT_DISCONNECT(&client);
	}
	connected = false;
}

bool ota_mqtt_conn_is_connected(void)
{
	return connected;
}

struct mqtt_client *ota_mqtt_conn_client(void)
{
	return &client;
}

void ota_mqtt_conn_set_callback(ota_mqtt_conn_evt_cb_t cb)
{
	app_cb = cb;
}

uint32_t ota_mqtt_conn_random(void)
{
	return sys_rand32_get();
}
