/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/* The upload slot, through the flash map. */

#include <errno.h>

#include <zephyr/dfu/mcuboot.h>
#include <zephyr/logging/log.h>
#include <zephyr/storage/flash_map.h>
#include <zephyr/sys/util.h>

#include <ota_agent_shim.h>

#include "shim_internal.h"

LOG_MODULE_DECLARE(ota_agent, CONFIG_OTA_AGENT_LOG_LEVEL);

/* bootutil_public.h: BOOT_MAGIC_SZ, and BOOT_MAX_ALIGN's default. */
#define OTA_BOOT_MAGIC_SZ  16U
#define OTA_BOOT_MAX_ALIGN 8U

static const struct flash_area *slot_fa;
static struct ota_shim_slot_info slot_info;

/*
 * boot_trailer_sz() for swap modes: 3 status entries per sector (swap-move:
 * one move state and two swap states) of one write unit each, swap size,
 * swap info, copy done and image ok in BOOT_MAX_ALIGN units, and the magic.
 * CONFIG_OTA_AGENT_MCUBOOT_MAX_IMG_SECTORS must be at least MCUboot's
 * BOOT_MAX_IMG_SECTORS (a larger value only wastes slot space).
 */
static uint32_t mcuboot_trailer_size(uint32_t write_align)
{
	const uint32_t a = MAX(OTA_BOOT_MAX_ALIGN, write_align);

	return 3U * CONFIG_OTA_AGENT_MCUBOOT_MAX_IMG_SECTORS * write_align + 4U * a +
	       ROUND_UP(OTA_BOOT_MAGIC_SZ, a);
}

int32_t ota_shim_slot_open(struct ota_shim_slot_info *info)
{
	struct flash_sector first;
	uint32_t count = 1;
	uint32_t erase;
	uint32_t align;
	uint32_t limit;
	ssize_t status_off;
	int rc;

	if (slot_fa == NULL) {
		rc = flash_area_open(OTA_UPLOAD_AREA_ID, &slot_fa);
		if (rc != 0) {
			LOG_ERR("cannot open the upload slot (area %u): %d", OTA_UPLOAD_AREA_ID, rc);
			slot_fa = NULL;
			return rc;
		}
	}
	/* Only the first sector is asked for: -ENOMEM says there are more. */
	rc = flash_area_get_sectors(OTA_UPLOAD_AREA_ID, &count, &first);
	if ((rc != 0 && rc != -ENOMEM) || count != 1) {
		return rc != 0 ? rc : -EIO;
	}
	erase = first.fs_size;
	align = flash_area_align(slot_fa);
	if (erase == 0 || slot_fa->fa_size % erase != 0) {
		LOG_ERR("the upload slot must be whole %u-byte sectors", erase);
		return -ENOTSUP;
	}

	limit = slot_fa->fa_size - MIN(slot_fa->fa_size, mcuboot_trailer_size(align));
	status_off = boot_get_trailer_status_offset(slot_fa->fa_size);
	if (status_off >= 0 && (size_t)status_off < limit) {
		limit = (uint32_t)status_off;
	}
	limit = ROUND_DOWN(limit, erase);
	if (OTA_MCUBOOT_SWAP_MOVE) {
		/* Swap-move moves the primary image up by one sector. */
		limit = limit >= erase ? limit - erase : 0;
	}

	slot_info = (struct ota_shim_slot_info){
		.capacity = limit,
		.erase_size = erase,
		.write_align = align,
		.area_id = OTA_UPLOAD_AREA_ID,
	};
	*info = slot_info;
	LOG_INF("upload slot: area %u, %u bytes usable, erase %u, write %u", slot_info.area_id,
		slot_info.capacity, erase, align);
	return 0;
}

static int32_t in_slot(uint32_t off, uint32_t len)
{
	if (slot_fa == NULL) {
		return -EBADF;
	}
	if (off > slot_info.capacity || len > slot_info.capacity - off) {
		return -EINVAL;
	}
	return 0;
}

int32_t ota_shim_slot_erase(uint32_t off, uint32_t len)
{
	int32_t rc = in_slot(off, len);

	/* flatten: erase, or fill with the erase value where there is no erase. */
	return rc != 0 ? rc : flash_area_flatten(slot_fa, off, len);
}

int32_t ota_shim_slot_write(uint32_t off, const uint8_t *data, uint32_t len)
{
	int32_t rc = in_slot(off, len);

	return rc != 0 ? rc : flash_area_write(slot_fa, off, data, len);
}

int32_t ota_shim_slot_read(uint32_t off, uint8_t *buf, uint32_t len)
{
	int32_t rc = in_slot(off, len);

	return rc != 0 ? rc : flash_area_read(slot_fa, off, buf, len);
}

int32_t ota_shim_slot_clear_trailer(void)
{
	if (slot_fa == NULL) {
		return -EBADF;
	}
	return flash_area_flatten(slot_fa, slot_info.capacity,
				  slot_fa->fa_size - slot_info.capacity);
}
