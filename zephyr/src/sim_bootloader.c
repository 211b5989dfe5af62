/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * TEST ONLY (CONFIG_OTA_AGENT_SIM_BOOTLOADER): what MCUboot would do at boot,
 * emulated on native_sim, where MCUboot cannot run. At every start, before
 * the application, it reads the slot trailers in flash.bin the way bootutil
 * does (mcuboot_swap_type()) and:
 *
 * - TEST/PERM: swaps slot0 and slot1 sector by sector, then writes the
 *   primary trailer (magic, copy-done, and image-ok for PERM) and erases the
 *   secondary one, so the new image runs "on trial" (swap type REVERT,
 *   boot_is_img_confirmed() false);
 * - REVERT (the trial image was not confirmed before this reset): swaps
 *   back and marks the restored image confirmed, as MCUboot does.
 *
 * The running code never changes (native_sim executes the ELF, not slot0):
 * "the new firmware" is the version in slot0's MCUboot header, which is what
 * the agent reads. If slot0 holds no image at all, a header-only image with
 * the application's VERSION is written first ("factory programming").
 *
 * Not power-fail safe, no image validation, no scratch/move semantics: it
 * exists so that an update goes through reboot, self test and commit or
 * revert on a laptop. Never enable it on hardware.
 */

#include <errno.h>
#include <string.h>

#include <zephyr/dfu/mcuboot.h>
#include <zephyr/init.h>
#include <zephyr/logging/log.h>
#include <zephyr/storage/flash_map.h>
#include <zephyr/sys/byteorder.h>

#include "shim_internal.h"

#if __has_include(<app_version.h>)
#include <app_version.h>
#define SIM_FACTORY_MAJOR    APP_VERSION_MAJOR
#define SIM_FACTORY_MINOR    APP_VERSION_MINOR
#define SIM_FACTORY_REVISION APP_PATCHLEVEL
#else
#define SIM_FACTORY_MAJOR    0
#define SIM_FACTORY_MINOR    0
#define SIM_FACTORY_REVISION 0
#endif

LOG_MODULE_DECLARE(ota_agent, CONFIG_OTA_AGENT_LOG_LEVEL);

/* bootutil's trailer with BOOT_MAX_ALIGN 8: magic, then image-ok, copy-done
 * and swap-info in 8-byte units below it.
 */
#define SIM_ALIGN          8U
#define SIM_MAGIC_LEN      16U
#define SIM_TRAILER_FIELDS (SIM_MAGIC_LEN + 3U * SIM_ALIGN)
#define SIM_FLAG_SET       0x01U
#define SIM_SECTOR_MAX     4096U

/* boot_img_magic for BOOT_MAX_ALIGN 8 (bootutil_public.c). */
static const uint8_t boot_magic[SIM_MAGIC_LEN] = {
	0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
	0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
};

static uint8_t sector_a[SIM_SECTOR_MAX];
static uint8_t sector_b[SIM_SECTOR_MAX];

/* The trailer fields at the end of a slot's last sector buffer. */
static void write_trailer(uint8_t *end, uint8_t swap_type, bool image_ok)
{
	uint8_t *fields = end - SIM_TRAILER_FIELDS;

	memset(fields, 0xff, SIM_TRAILER_FIELDS);
	fields[0] = swap_type;                 /* swap info: image 0 */
	fields[SIM_ALIGN] = SIM_FLAG_SET;      /* copy done */
	if (image_ok) {
		fields[2U * SIM_ALIGN] = SIM_FLAG_SET;
	}
	memcpy(end - SIM_MAGIC_LEN, boot_magic, SIM_MAGIC_LEN);
}

static int swap_slots(const struct flash_area *p, const struct flash_area *s, uint32_t sector,
		      uint8_t swap_type, bool image_ok)
{
	for (uint32_t off = 0; off < p->fa_size; off += sector) {
		bool last = off + sector == p->fa_size;
		int rc = flash_area_read(p, off, sector_a, sector);

		rc = rc ? rc : flash_area_read(s, off, sector_b, sector);
		if (last) {
			write_trailer(sector_b + sector, swap_type, image_ok);
			memset(sector_a + sector - SIM_TRAILER_FIELDS, 0xff, SIM_TRAILER_FIELDS);
		}
		rc = rc ? rc : flash_area_flatten(p, off, sector);
		rc = rc ? rc : flash_area_write(p, off, sector_b, sector);
		rc = rc ? rc : flash_area_flatten(s, off, sector);
		rc = rc ? rc : flash_area_write(s, off, sector_a, sector);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

/* A header-only MCUboot image (struct image_header, 32 bytes) in slot0. */
static int provision_factory_image(const struct flash_area *p)
{
	uint8_t hdr[32];

	memset(hdr, 0, sizeof(hdr));
	sys_put_le32(0x96f3b83dU, &hdr[0]); /* IMAGE_MAGIC */
	sys_put_le16(sizeof(hdr), &hdr[8]);  /* ih_hdr_size */
	hdr[20] = SIM_FACTORY_MAJOR;
	hdr[21] = SIM_FACTORY_MINOR;
	sys_put_le16(SIM_FACTORY_REVISION, &hdr[22]);
	LOG_WRN("sim bootloader: slot0 is empty; writing a %u.%u.%u factory header",
		SIM_FACTORY_MAJOR, SIM_FACTORY_MINOR, SIM_FACTORY_REVISION);
	return flash_area_write(p, 0, hdr, sizeof(hdr));
}

static int sim_bootloader(void)
{
	struct mcuboot_img_header header;
	const struct flash_area *p;
	const struct flash_area *s;
	struct flash_sector first;
	uint32_t count = 1;
	int type;
	int rc;

	rc = flash_area_open(OTA_PARTITION_ID(slot0_partition), &p);
	rc = rc ? rc : flash_area_open(OTA_PARTITION_ID(slot1_partition), &s);
	if (rc != 0) {
		LOG_ERR("sim bootloader: cannot open the slots: %d", rc);
		return 0;
	}
	rc = flash_area_get_sectors(OTA_PARTITION_ID(slot0_partition), &count, &first);
	if ((rc != 0 && rc != -ENOMEM) || first.fs_size > SIM_SECTOR_MAX ||
	    p->fa_size != s->fa_size || p->fa_size % first.fs_size != 0 ||
	    flash_area_align(p) > SIM_ALIGN) {
		LOG_ERR("sim bootloader: unsupported slot geometry");
		return 0;
	}
	if (boot_read_bank_header(OTA_PARTITION_ID(slot0_partition), &header, sizeof(header)) ==
	    -EIO) {
		(void)provision_factory_image(p);
	}

	type = mcuboot_swap_type();
	switch (type) {
	case BOOT_SWAP_TYPE_TEST:
	case BOOT_SWAP_TYPE_PERM:
		rc = swap_slots(p, s, first.fs_size, (uint8_t)type, type == BOOT_SWAP_TYPE_PERM);
		break;
	case BOOT_SWAP_TYPE_REVERT:
		rc = swap_slots(p, s, first.fs_size, BOOT_SWAP_TYPE_REVERT, true);
		break;
	default:
		return 0;
	}
	if (rc != 0) {
		LOG_ERR("sim bootloader: swap failed: %d", rc);
		return 0;
	}
	if (boot_read_bank_header(OTA_PARTITION_ID(slot0_partition), &header, sizeof(header)) ==
	    0) {
		LOG_INF("sim bootloader: %s to %u.%u.%u; swap type now %d",
			type == BOOT_SWAP_TYPE_REVERT ? "reverted" : "swapped",
			header.h.v1.sem_ver.major, header.h.v1.sem_ver.minor,
			header.h.v1.sem_ver.revision, mcuboot_swap_type());
	}
	return 0;
}

SYS_INIT(sim_bootloader, APPLICATION, 0);
