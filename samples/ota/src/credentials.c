/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * Development only (CONFIG_APP_TLS_CREDENTIALS_FROM_FILES): register the TLS
 * credentials compiled in from certs/ under CONFIG_APP_MQTT_SEC_TAG.
 */

#include <zephyr/init.h>
#include <zephyr/logging/log.h>
#include <zephyr/net/tls_credentials.h>
#include <zephyr/version.h>

LOG_MODULE_REGISTER(app_credentials, LOG_LEVEL_INF);

/* TLS_CREDENTIAL_SERVER_CERTIFICATE became _PUBLIC_CERTIFICATE in 4.2. */
#if ZEPHYR_VERSION_CODE >= ZEPHYR_VERSION(4, 1, 99)
#define APP_DEVICE_CERTIFICATE TLS_CREDENTIAL_PUBLIC_CERTIFICATE
#else
#define APP_DEVICE_CERTIFICATE TLS_CREDENTIAL_SERVER_CERTIFICATE
#endif

/* PEM: mbedTLS wants the terminating NUL counted. */
static const unsigned char ca[] = {
#include "certs/ca.pem.inc"
	0};
static const unsigned char device_cert[] = {
#include "certs/device.crt.inc"
	0};
static const unsigned char device_key[] = {
#include "certs/device.key.inc"
	0};

static int register_credentials(void)
{
	int rc = tls_credential_add(CONFIG_APP_MQTT_SEC_TAG, TLS_CREDENTIAL_CA_CERTIFICATE, ca,
				    sizeof(ca));

	rc = rc ? rc
		: tls_credential_add(CONFIG_APP_MQTT_SEC_TAG, APP_DEVICE_CERTIFICATE, device_cert,
				     sizeof(device_cert));
	rc = rc ? rc
		: tls_credential_add(CONFIG_APP_MQTT_SEC_TAG, TLS_CREDENTIAL_PRIVATE_KEY,
				     device_key, sizeof(device_key));
	if (rc != 0) {
		LOG_ERR("registering the TLS credentials failed: %d", rc);
	}
	return 0;
}

SYS_INIT(register_credentials, APPLICATION, 0);
