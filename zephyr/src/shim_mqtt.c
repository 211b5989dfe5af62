/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * MQTT on the application's client: the agent's SUBSCRIBE, UNSUBSCRIBE and
 * PUBLISH packets, and ota_agent_mqtt_evt_handler(), which takes the agent's
 * PUBLISHes and acknowledgements out of the application's event stream.
 */

#include <errno.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/mqtt.h>

#include <ota_agent.h>
#include <ota_agent_shim.h>

LOG_MODULE_REGISTER(ota_agent, CONFIG_OTA_AGENT_LOG_LEVEL);

/* Message ids with this bit set are the agent's (see msgid.rs). */
#define OTA_AGENT_ID_BIT 0x8000U

/* AWS IoT's longest thing name. */
#define OTA_THING_MAX 128
/* "$aws/things/" + thing + "/streams/" + 64-char stream + "/data/cbor". */
#define OTA_TOPIC_MAX 256

static struct mqtt_client *bound_client;
static uint8_t thing_name[OTA_THING_MAX];
static size_t thing_name_len;

/* The mqtt_input() thread drains payloads here, one at a time. */
static uint8_t payload_buf[CONFIG_OTA_AGENT_MQTT_PAYLOAD_BUFFER_SIZE];
static uint8_t topic_buf[OTA_TOPIC_MAX];

int32_t ota_shim_mqtt_bind(void *client, const uint8_t *thing, uint32_t thing_len)
{
	if (client == NULL || thing == NULL || thing_len == 0 || thing_len > OTA_THING_MAX) {
		return -EINVAL;
	}
	memcpy(thing_name, thing, thing_len);
	thing_name_len = thing_len;
	bound_client = client;
	return 0;
}

int32_t ota_shim_mqtt_subscribe(const uint8_t *topic, uint32_t topic_len, uint8_t qos,
				uint16_t msg_id)
{
	struct mqtt_topic t = {
		.topic = {.utf8 = topic, .size = topic_len},
		.qos = qos,
	};
	const struct mqtt_subscription_list list = {
		.list = &t,
		.list_count = 1,
		.message_id = msg_id,
	};

	if (bound_client == NULL) {
		return -ENOTCONN;
	}
	return mqtt_subscribe(bound_client, &list);
}

int32_t ota_shim_mqtt_unsubscribe(const uint8_t *topic, uint32_t topic_len, uint16_t msg_id)
{
	struct mqtt_topic t = {
		.topic = {.utf8 = topic, .size = topic_len},
		.qos = MQTT_QOS_0_AT_MOST_ONCE,
	};
	const struct mqtt_subscription_list list = {
		.list = &t,
		.list_count = 1,
		.message_id = msg_id,
	};

	if (bound_client == NULL) {
		return -ENOTCONN;
	}
	return mqtt_unsubscribe(bound_client, &list);
}

int32_t ota_shim_mqtt_publish(const uint8_t *topic, uint32_t topic_len, const uint8_t *payload,
			      uint32_t payload_len, uint8_t qos, uint16_t msg_id)
{
	/* mqtt_publish() sends the payload with zsock_sendmsg() and never writes it. */
	const struct mqtt_publish_param param = {
		.message = {
			.topic = {.topic = {.utf8 = topic, .size = topic_len}, .qos = qos},
			.payload = {.data = (uint8_t *)payload, .len = payload_len},
		},
		.message_id = msg_id,
	};

	if (bound_client == NULL) {
		return -ENOTCONN;
	}
	return mqtt_publish(bound_client, &param);
}

static bool equals(const uint8_t *s, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

/* The topics the agent subscribes to (see src/topics.rs in the core). */
static bool is_agent_topic(const uint8_t *topic, size_t len)
{
	static const char prefix[] = "$aws/things/";
	static const char streams[] = "streams/";
	static const char data[] = "/data/cbor";
	const size_t pre = sizeof(prefix) - 1;

	if (len < pre + thing_name_len + 1 || memcmp(topic, prefix, pre) != 0 ||
	    memcmp(topic + pre, thing_name, thing_name_len) != 0 ||
	    topic[pre + thing_name_len] != '/') {
		return false;
	}
	topic += pre + thing_name_len + 1;
	len -= pre + thing_name_len + 1;
	if (equals(topic, len, "jobs/notify-next") || equals(topic, len, "jobs/$next/get/accepted")) {
		return true;
	}
	return len > sizeof(streams) - 1 + sizeof(data) - 1 &&
	       memcmp(topic, streams, sizeof(streams) - 1) == 0 &&
	       memcmp(topic + len - (sizeof(data) - 1), data, sizeof(data) - 1) == 0;
}

/* Read and throw away a payload that does not fit the buffer. */
static int discard_payload(struct mqtt_client *client, uint32_t len)
{
	while (len > 0) {
		uint32_t chunk = MIN(len, sizeof(payload_buf));
		int rc = mqtt_readall_publish_payload(client, payload_buf, chunk);

		if (rc < 0) {
			return rc;
		}
		len -= chunk;
	}
	return 0;
}

static int on_publish(struct mqtt_client *client, const struct mqtt_publish_param *p)
{
	const struct mqtt_utf8 *topic = &p->message.topic.topic;
	const uint32_t len = p->message.payload.len;
	const bool fits = len <= sizeof(payload_buf);
	size_t topic_len = topic->size;
	int rc;

	if (topic_len > sizeof(topic_buf) || !is_agent_topic(topic->utf8, topic_len)) {
		return 1;
	}
	/* Keep the topic: it points into the client's rx_buf. */
	memcpy(topic_buf, topic->utf8, topic_len);

	rc = fits ? mqtt_readall_publish_payload(client, payload_buf, len)
		  : discard_payload(client, len);
	if (rc < 0) {
		LOG_ERR("reading a %u-byte payload failed: %d", len, rc);
		return rc;
	}
	if (p->message.topic.qos == MQTT_QOS_1_AT_LEAST_ONCE) {
		const struct mqtt_puback_param ack = {.message_id = p->message_id};

		rc = mqtt_publish_qos1_ack(client, &ack);
		if (rc < 0) {
			LOG_WRN("PUBACK %u failed: %d", p->message_id, rc);
		}
	}
	if (fits) {
		ota_agent_rx_publish(topic_buf, topic_len, payload_buf, len);
	} else {
		LOG_WRN("dropped a %u-byte message (CONFIG_OTA_AGENT_MQTT_PAYLOAD_BUFFER_SIZE=%u)",
			len, (unsigned int)sizeof(payload_buf));
		ota_agent_rx_dropped();
	}
	return 0;
}

static int on_suback(const struct mqtt_suback_param *s)
{
	if ((s->message_id & OTA_AGENT_ID_BIT) == 0) {
		return 1;
	}
	for (uint32_t i = 0; i < s->return_codes.len; i++) {
		if (s->return_codes.data[i] == MQTT_SUBACK_FAILURE) {
			LOG_WRN("the broker refused subscription %u", s->message_id);
		}
	}
	return 0;
}

int ota_agent_mqtt_evt_handler(struct mqtt_client *client, const struct mqtt_evt *evt)
{
	if (client == NULL || evt == NULL || client != bound_client) {
		return 1;
	}
	switch (evt->type) {
	case MQTT_EVT_PUBLISH:
		return evt->result == 0 ? on_publish(client, &evt->param.publish) : 1;
	case MQTT_EVT_PUBACK:
		if ((evt->param.puback.message_id & OTA_AGENT_ID_BIT) == 0) {
			return 1;
		}
		if (evt->result == 0) {
			ota_agent_rx_puback(evt->param.puback.message_id);
		}
		return 0;
	case MQTT_EVT_SUBACK:
		return on_suback(&evt->param.suback);
	case MQTT_EVT_UNSUBACK:
		return (evt->param.unsuback.message_id & OTA_AGENT_ID_BIT) != 0 ? 0 : 1;
	default:
		return 1;
	}
}
