/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * Private to the shim: Zephyr API drift and partition selection, in one
 * place. Every check here is listed in zephyr/API.md.
 */

#ifndef OTA_AGENT_SHIM_INTERNAL_H_
#define OTA_AGENT_SHIM_INTERNAL_H_

#include <stdint.h>

#include <zephyr/devicetree.h>
#include <zephyr/storage/flash_map.h>
#include <zephyr/version.h>

/*
 * Partition macros. Zephyr main (2026) has generic PARTITION_ID() /
 * PARTITION_EXISTS() / DT_PARTITION_ID() (used by subsys/dfu/boot/mcuboot.c
 * there); releases up to at least 4.2 have FIXED_PARTITION_ID() /
 * FIXED_PARTITION_EXISTS() / DT_FIXED_PARTITION_ID(). The release that
 * switched is not confirmed here, so test for the macros themselves rather
 * than for ZEPHYR_VERSION_CODE.
 */
#if defined(PARTITION_ID) && defined(PARTITION_EXISTS)
#define OTA_PARTITION_ID(label)     PARTITION_ID(label)
#define OTA_PARTITION_EXISTS(label) PARTITION_EXISTS(label)
#else
#define OTA_PARTITION_ID(label)     FIXED_PARTITION_ID(label)
#define OTA_PARTITION_EXISTS(label) FIXED_PARTITION_EXISTS(label)
#endif

#if defined(DT_PARTITION_ID)
#define OTA_DT_PARTITION_ID(node) DT_PARTITION_ID(node)
#else
#define OTA_DT_PARTITION_ID(node) DT_FIXED_PARTITION_ID(node)
#endif

/*
 * The upload slot: a devicetree chosen node `ota-agent,upload-partition`,
 * or MCUboot's secondary slot (slot1_ns_partition in a TF-M non-secure
 * build, as subsys/dfu/boot/mcuboot_priv.h does, else slot1_partition).
 */
#if defined(CONFIG_OTA_AGENT_UPLOAD_SLOT_CHOSEN)
#define OTA_UPLOAD_AREA_ID OTA_DT_PARTITION_ID(DT_CHOSEN(ota_agent_upload_partition))
#elif defined(CONFIG_TRUSTED_EXECUTION_NONSECURE) && OTA_PARTITION_EXISTS(slot1_ns_partition)
#define OTA_UPLOAD_AREA_ID OTA_PARTITION_ID(slot1_ns_partition)
#else
#define OTA_UPLOAD_AREA_ID OTA_PARTITION_ID(slot1_partition)
#endif

/* MCUboot's swap-using-move (renamed from SWAP_WITHOUT_SCRATCH in 4.1). */
#if defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_MOVE) ||                                \
	defined(CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_WITHOUT_SCRATCH)
#define OTA_MCUBOOT_SWAP_MOVE 1
#else
#define OTA_MCUBOOT_SWAP_MOVE 0
#endif

/*
 * mqtt_disconnect() gained a `const struct mqtt_disconnect_param *` argument
 * in Zephyr 4.2 (migration guide 4.1 -> 4.2, "Networking"); 4.1.99 covers the
 * development versions after 4.1.0. NCS v3.0 (Zephyr 4.0.99 plus backports)
 * already has the new form: define OTA_AGENT_MQTT_DISCONNECT_HAS_PARAM there.
 */
#if ZEPHYR_VERSION_CODE >= ZEPHYR_VERSION(4, 1, 99) ||                                           \
	defined(OTA_AGENT_MQTT_DISCONNECT_HAS_PARAM)
#define OTA_MQTT_DISCONNECT(client) mqtt_disconnect((client), NULL)
#else
#define OTA_MQTT_DISCONNECT(client) mqtt_disconnect(client)
#endif

/*
 * http_response_cb_t returns int (to abort) since Zephyr 4.2 (PR #90287,
 * migration guide 4.1 -> 4.2); it returned void before.
 */
#if ZEPHYR_VERSION_CODE >= ZEPHYR_VERSION(4, 1, 99)
#define OTA_HTTP_CB_RETURNS_INT 1
#else
#define OTA_HTTP_CB_RETURNS_INT 0
#endif

/* shim_slot.c: erase the upload slot above the image area (MCUboot's
 * trailer), so that boot_request_upgrade() finds it blank.
 */
int32_t ota_shim_slot_clear_trailer(void);

#endif /* OTA_AGENT_SHIM_INTERNAL_H_ */
