/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * The resume record in Zephyr settings (CONFIG_OTA_AGENT_RESUME). Without
 * it the functions exist but report -ENOTSUP (the Rust side then uses no
 * store, but still links against these symbols).
 */

#include <errno.h>

#include <zephyr/kernel.h>
#if defined(CONFIG_OTA_AGENT_RESUME)
#include <zephyr/settings/settings.h>
#endif

#include <ota_agent_shim.h>

#if defined(CONFIG_OTA_AGENT_RESUME)

#define OTA_SETTINGS_TREE "ota_agent"
#define OTA_SETTINGS_KEY  OTA_SETTINGS_TREE "/resume"

struct load_ctx {
	uint8_t *buf;
	uint32_t cap;
	int32_t result;
};

static int ensure_settings(void)
{
	static bool ready;
	int rc;

	if (ready) {
		return 0;
	}
	/* Safe to call more than once; the application may have done it. */
	rc = settings_subsys_init();
	ready = rc == 0;
	return rc;
}

static int load_cb(const char *key, size_t len, settings_read_cb read_cb, void *cb_arg,
		   void *param)
{
	struct load_ctx *ctx = param;
	const char *next;
	ssize_t n;

	if (!settings_name_steq(key, "resume", &next) || next != NULL) {
		return 0;
	}
	if (len > ctx->cap) {
		ctx->result = -ENOSPC;
		return 1;
	}
	n = read_cb(cb_arg, ctx->buf, len);
	/* A deleted record reads as 0 bytes. */
	ctx->result = n > 0 ? (int32_t)n : (n == 0 ? -ENOENT : (int32_t)n);
	return 1;
}

int32_t ota_shim_progress_load(uint8_t *buf, uint32_t cap)
{
	struct load_ctx ctx = {.buf = buf, .cap = cap, .result = -ENOENT};
	int rc = ensure_settings();

	if (rc == 0) {
		rc = settings_load_subtree_direct(OTA_SETTINGS_TREE, load_cb, &ctx);
	}
	return rc != 0 ? (rc < 0 ? rc : -EIO) : ctx.result;
}

int32_t ota_shim_progress_save(const uint8_t *record, uint32_t len)
{
	int rc = ensure_settings();

	if (rc == 0) {
		rc = settings_save_one(OTA_SETTINGS_KEY, record, len);
	}
	return rc <= 0 ? rc : -EIO;
}

int32_t ota_shim_progress_clear(void)
{
	int rc = ensure_settings();

	if (rc == 0) {
		rc = settings_delete(OTA_SETTINGS_KEY);
	}
	return rc <= 0 ? rc : -EIO;
}

#else /* !CONFIG_OTA_AGENT_RESUME */

int32_t ota_shim_progress_load(uint8_t *buf, uint32_t cap)
{
	ARG_UNUSED(buf);
	ARG_UNUSED(cap);
	return -ENOTSUP;
}

int32_t ota_shim_progress_save(const uint8_t *record, uint32_t len)
{
	ARG_UNUSED(record);
	ARG_UNUSED(len);
	return -ENOTSUP;
}

int32_t ota_shim_progress_clear(void)
{
	return -ENOTSUP;
}

#endif /* CONFIG_OTA_AGENT_RESUME */
