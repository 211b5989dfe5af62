/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/* MCUboot image control (dfu/mcuboot.h) and reboot. */

#include <errno.h>

#include <zephyr/dfu/mcuboot.h>
#include <zephyr/logging/log.h>
#include <zephyr/logging/log_ctrl.h>
#include <zephyr/sys/reboot.h>

#include <ota_agent_shim.h>

#include "shim_internal.h"

LOG_MODULE_DECLARE(ota_agent, CONFIG_OTA_AGENT_LOG_LEVEL);

#define OTA_IMAGE CONFIG_OTA_AGENT_MCUBOOT_IMAGE_INDEX

int64_t ota_shim_boot_running_version(void)
{
	struct mcuboot_img_header header;
	const struct mcuboot_img_sem_ver *v = &header.h.v1.sem_ver;
	int rc = boot_read_bank_header(boot_fetch_active_slot(), &header, sizeof(header));

	if (rc != 0) {
		return rc;
	}
	return ((int64_t)v->major << 24) | ((int64_t)v->minor << 16) | v->revision;
}

/* After a test swap MCUboot reports REVERT until the image is confirmed. */
int32_t ota_shim_boot_pending_commit(void)
{
#if OTA_IMAGE == 0
	int type = mcuboot_swap_type();
#else
	int type = mcuboot_swap_type_multi(OTA_IMAGE);
#endif

	return type < 0 ? type : (type == BOOT_SWAP_TYPE_REVERT ? 1 : 0);
}

int32_t ota_shim_boot_request_test(void)
{
	/* As flash_img does at its final flush: a stale or torn trailer from an
	 * earlier attempt would make boot_request_upgrade() skip or fail.
	 */
	int32_t rc = ota_shim_slot_clear_trailer();

	if (rc != 0) {
		return rc;
	}
#if OTA_IMAGE == 0
	return boot_request_upgrade(BOOT_UPGRADE_TEST);
#else
	return boot_request_upgrade_multi(OTA_IMAGE, BOOT_UPGRADE_TEST);
#endif
}

int32_t ota_shim_boot_confirm(void)
{
#if OTA_IMAGE == 0
	return boot_write_img_confirmed();
#else
	return boot_write_img_confirmed_multi(OTA_IMAGE);
#endif
}

/* Swap-with-revert needs nothing written for an image on trial: MCUboot
 * reverts it at the next reset. An image that became permanent without being
 * confirmed (MCUboot leaves one so when power is cut while it marks a swap
 * done) is rolled back by swapping the previous image, which the swap left in
 * the secondary slot, back in permanently; MCUboot validates it first.
 */
int32_t ota_shim_boot_reject(void)
{
	int32_t pending = ota_shim_boot_pending_commit();
	int32_t rc;

	if (pending != 0) {
		return pending < 0 ? pending : 0;
	}
	rc = ota_shim_slot_clear_trailer();
	if (rc != 0) {
		return rc;
	}
#if OTA_IMAGE == 0
	return boot_request_upgrade(BOOT_UPGRADE_PERMANENT);
#else
	return boot_request_upgrade_multi(OTA_IMAGE, BOOT_UPGRADE_PERMANENT);
#endif
}

void ota_shim_reboot(void)
{
	LOG_INF("rebooting");
	LOG_PANIC();
	sys_reboot(SYS_REBOOT_COLD);
}
