/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/**
 * @file
 * @brief ota-agent: AWS IoT OTA updates for Zephyr, the C API.
 *
 * The application owns the MQTT connection. It hands the agent its
 * `struct mqtt_client`, forwards every MQTT event to
 * ota_agent_mqtt_evt_handler(), suspends the agent when the connection drops
 * and resumes it after the next CONNACK. The agent runs on its own thread
 * (CONFIG_OTA_AGENT_THREAD_STACK_SIZE / _PRIORITY) and reports through the
 * event callback, which runs on that thread.
 *
 * Calls from other threads wait for the agent thread's answer (at most
 * CONFIG_OTA_AGENT_API_TIMEOUT_MS). Calls made from inside the event callback
 * (that is, on the agent thread) are queued and run as soon as the callback
 * returns; they return 0 ("queued") and their outcome shows in later events
 * and in ota_agent_get_state().
 *
 * Errors are negative errnos: -ENODEV (not started), -EPERM (not possible in
 * this state), -ENOENT (no active job), -EINVAL (bad argument), -EBUSY (the
 * agent thread did not answer in time), -EALREADY (already initialised),
 * or the flash/bootloader error that made the call fail.
 *
 * The agent's MQTT message ids have bit 15 set: the application must use
 * message ids 1..0x7fff on the same client.
 */

#ifndef OTA_AGENT_H_
#define OTA_AGENT_H_

#include <stdbool.h>
#include <stdint.h>

#include <zephyr/net/mqtt.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Agent states (ota_agent_get_state()), as the FreeRTOS agent names them. */
enum ota_agent_state {
	OTA_AGENT_STATE_UNINITIALIZED = 0,
	OTA_AGENT_STATE_INIT = 1,
	OTA_AGENT_STATE_REQUESTING_JOB = 2,
	OTA_AGENT_STATE_WAITING_FOR_JOB = 3,
	OTA_AGENT_STATE_CREATING_FILE = 4,
	OTA_AGENT_STATE_REQUESTING_FILE_BLOCK = 5,
	OTA_AGENT_STATE_WAITING_FOR_FILE_BLOCK = 6,
	OTA_AGENT_STATE_CLOSING_FILE = 7,
	OTA_AGENT_STATE_SUSPENDED = 8,
	OTA_AGENT_STATE_STOPPED = 9,
};

/** The agent's view of the image (ota_agent_get_image_state()). */
enum ota_agent_image_state {
	OTA_AGENT_IMAGE_STATE_UNKNOWN = 0,
	OTA_AGENT_IMAGE_STATE_TESTING = 1,
	OTA_AGENT_IMAGE_STATE_ACCEPTED = 2,
	OTA_AGENT_IMAGE_STATE_REJECTED = 3,
	OTA_AGENT_IMAGE_STATE_ABORTED = 4,
};

/** What ota_agent_set_image_state() takes. */
enum ota_agent_image_verdict {
	/** Self test passed: report SUCCEEDED, then confirm the image. */
	OTA_AGENT_IMAGE_ACCEPTED = 1,
	/** Self test failed: report FAILED, then roll back (reboots). */
	OTA_AGENT_IMAGE_REJECTED = 2,
	/** Abort the current job: report FAILED, leave the slot unbootable
	 *  (during the self test: report FAILED, then roll back). */
	OTA_AGENT_IMAGE_ABORTED = 3,
};

/** Event types (struct ota_agent_event.type). */
enum ota_agent_event_type {
	/** A job was accepted (download starts or resumes, or a self test begins). */
	OTA_AGENT_EVT_RECEIVED_JOB = 1,
	/** The image is downloaded, verified and reported: call
	 *  ota_agent_activate_new_image() when ready to reboot.
	 */
	OTA_AGENT_EVT_ACTIVATE = 2,
	/** A non-firmware file was downloaded, verified and reported. */
	OTA_AGENT_EVT_UPDATE_COMPLETE = 3,
	/** The new image booted: run the self test, then call
	 *  ota_agent_set_image_state().
	 */
	OTA_AGENT_EVT_START_TEST = 4,
	/** The job failed (reason set). */
	OTA_AGENT_EVT_FAIL = 5,
	/** The self test could not start or timed out; the agent rolls back. */
	OTA_AGENT_EVT_SELF_TEST_FAILED = 6,
	/** The service has no job for this device. */
	OTA_AGENT_EVT_NO_ACTIVE_JOB = 7,
};

/** Why a job failed (struct ota_agent_event.reason). */
enum ota_agent_fail_reason {
	OTA_AGENT_FAIL_NONE = 0,
	OTA_AGENT_FAIL_JOB_DOCUMENT = 1,   /**< detail: job parser code */
	OTA_AGENT_FAIL_CUSTOM_JOB_DECLINED = 2,
	OTA_AGENT_FAIL_FILE_TOO_LARGE = 3,
	OTA_AGENT_FAIL_UNSUPPORTED_PROTOCOL = 4,
	OTA_AGENT_FAIL_RETRIES_EXHAUSTED = 5,
	OTA_AGENT_FAIL_USER_ABORT = 6,
	OTA_AGENT_FAIL_ERASE = 7,          /**< port_error: flash errno */
	OTA_AGENT_FAIL_FLASH = 8,          /**< port_error: flash errno */
	OTA_AGENT_FAIL_SIGNATURE = 9,
	OTA_AGENT_FAIL_IMAGE = 10,         /**< detail: MCUboot image check code */
	OTA_AGENT_FAIL_DOWNGRADE = 11,
	OTA_AGENT_FAIL_SAME_VERSION = 12,
	OTA_AGENT_FAIL_ACTIVATE = 13,      /**< port_error: bootloader errno */
	OTA_AGENT_FAIL_SELF_TEST_REJECTED = 14,
	OTA_AGENT_FAIL_SELF_TEST_TIMEOUT = 15,
	OTA_AGENT_FAIL_IMAGE_STATE_MISMATCH = 16,
	OTA_AGENT_FAIL_CONFIRM = 17,       /**< port_error: bootloader errno */
	OTA_AGENT_FAIL_STATUS_NOT_DELIVERED = 18,
	OTA_AGENT_FAIL_CANCELLED = 19,
};

/** An event, valid only during the callback. */
struct ota_agent_event {
	uint32_t type;       /**< enum ota_agent_event_type */
	uint32_t reason;     /**< enum ota_agent_fail_reason, or 0 */
	uint32_t detail;     /**< sub code (see enum ota_agent_fail_reason) */
	int32_t port_error;  /**< negative errno of a flash/boot failure, or 0 */
	const uint8_t *text; /**< English reason, NOT NUL-terminated, or NULL */
	uint32_t text_len;
};

/** Block statistics of the current (or last) transfer. */
struct ota_agent_statistics {
	uint32_t received;
	uint32_t queued;
	uint32_t processed;
	uint32_t dropped;
};

/** The status the application reports for a custom (non-OTA) job it claims. */
struct ota_agent_custom_job_reply {
	uint32_t status; /**< 1 IN_PROGRESS, 2 SUCCEEDED, 3 FAILED */
	uint32_t code;   /**< FAILED: application main code */
	uint32_t sub;    /**< FAILED: application sub code */
};

/** Event callback; runs on the agent thread. */
typedef void (*ota_agent_event_cb_t)(const struct ota_agent_event *event, void *user_data);

/**
 * Custom job callback; runs on the agent thread. Return 0 and fill @p reply
 * to claim the job, non-zero to decline it (it is then reported FAILED).
 */
typedef int32_t (*ota_agent_custom_job_cb_t)(const uint8_t *job_id, uint32_t job_id_len,
					      const uint8_t *document, uint32_t document_len,
					      void *user_data,
					      struct ota_agent_custom_job_reply *reply);

/** What ota_agent_init() takes. */
struct ota_agent_params {
	/** The application's client; must stay valid while the agent runs. */
	struct mqtt_client *client;
	/** Thing name (not NUL-terminated); NULL for CONFIG_OTA_AGENT_THING_NAME. */
	const uint8_t *thing_name;
	uint32_t thing_name_len;
	/** SEC1 P-256 code-signing key (65 or 33 bytes); NULL for
	 *  CONFIG_OTA_AGENT_SIGNING_KEY.
	 */
	const uint8_t *signing_key;
	uint32_t signing_key_len;
	/** Event callback, may be NULL. */
	ota_agent_event_cb_t event_cb;
	/** Custom job callback, may be NULL (every non-OTA job is declined). */
	ota_agent_custom_job_cb_t custom_job_cb;
	/** Passed to both callbacks. */
	void *user_data;
};

/**
 * OTA_Init: create the agent (and its thread on first use) and start it:
 * subscribe to the job topics and ask for the next job. Call it once the
 * client is connected (after CONNACK). After ota_agent_shutdown() it may be
 * called again.
 */
int32_t ota_agent_init(const struct ota_agent_params *params);

/** OTA_Shutdown: stop; unsubscribe from the agent's topics if asked. */
int32_t ota_agent_shutdown(bool unsubscribe);

/** OTA_GetState: enum ota_agent_state. Callable from any context. */
uint32_t ota_agent_get_state(void);

/** OTA_CheckForUpdate: ask for the next job now. */
int32_t ota_agent_check_for_update(void);

/** OTA_Suspend: send nothing and ignore messages (call on disconnect). */
int32_t ota_agent_suspend(void);

/** OTA_Resume: re-subscribe and carry on (call after CONNACK). */
int32_t ota_agent_resume(void);

/** OTA_ActivateNewImage: request the MCUboot test swap and reboot. */
int32_t ota_agent_activate_new_image(void);

/** OTA_SetImageState: enum ota_agent_image_verdict. */
int32_t ota_agent_set_image_state(uint32_t verdict);

/** OTA_GetImageState: enum ota_agent_image_state. Callable from any context. */
uint32_t ota_agent_get_image_state(void);

/** OTA_GetStatistics. Callable from any context. */
int32_t ota_agent_get_statistics(struct ota_agent_statistics *stats);

/**
 * The application's MQTT event handler calls this for every event, on the
 * thread that runs mqtt_input(). For a PUBLISH on one of the agent's topics it
 * drains the payload (into a CONFIG_OTA_AGENT_MQTT_PAYLOAD_BUFFER_SIZE buffer),
 * sends the QoS 1 PUBACK and queues the message for the agent thread; for a
 * PUBACK/SUBACK/UNSUBACK with an agent message id it consumes the event.
 *
 * @return 0 if the event was the agent's (the application must not read the
 *         payload), 1 if it was not, negative errno if draining failed.
 */
int ota_agent_mqtt_evt_handler(struct mqtt_client *client, const struct mqtt_evt *evt);

#ifdef __cplusplus
}
#endif

#endif /* OTA_AGENT_H_ */
