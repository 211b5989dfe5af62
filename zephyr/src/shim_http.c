/*
 * Copyright (c) 2026 The ota-agent authors
 * SPDX-License-Identifier: Apache-2.0
 */

/*
 * HTTP range requests for the HTTP data plane (CONFIG_OTA_AGENT_DATA_HTTP):
 * one connection per range, body fragments handed to the Rust sink as they
 * arrive. Without the option the function exists and reports -ENOTSUP.
 */

#include <errno.h>
#include <string.h>

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

#include <ota_agent_shim.h>

#include "shim_internal.h"

#if defined(CONFIG_OTA_AGENT_DATA_HTTP)

#include <zephyr/net/http/client.h>
#include <zephyr/net/socket.h>
#if defined(CONFIG_NET_SOCKETS_SOCKOPT_TLS)
#include <zephyr/net/tls_credentials.h>
#endif

LOG_MODULE_DECLARE(ota_agent, CONFIG_OTA_AGENT_LOG_LEVEL);

struct sink_ctx {
	ota_shim_http_sink_t sink;
	void *ctx;
	int aborted;
};

/* Host, then path, each NUL-terminated; both come from one URL. */
static char url_buf[CONFIG_OTA_AGENT_HTTP_URL_BUFFER_SIZE + 2];
static uint8_t recv_buf[CONFIG_OTA_AGENT_HTTP_RECV_BUFFER_SIZE];

#if OTA_HTTP_CB_RETURNS_INT
static int response_cb(struct http_response *rsp, enum http_final_call final_data,
		       void *user_data)
#else
static void response_cb(struct http_response *rsp, enum http_final_call final_data,
			void *user_data)
#endif
{
	struct sink_ctx *c = user_data;

	ARG_UNUSED(final_data);
	if (c->aborted == 0 && rsp->body_frag_start != NULL && rsp->body_frag_len > 0 &&
	    c->sink(c->ctx, rsp->http_status_code, rsp->body_frag_start,
		    (uint32_t)rsp->body_frag_len) < 0) {
		/* Before 4.2 the callback cannot abort; the rest is ignored. */
		c->aborted = -ECONNABORTED;
	}
#if OTA_HTTP_CB_RETURNS_INT
	return c->aborted;
#endif
}

static int open_socket(const char *host, const char *port, bool tls)
{
	const struct zsock_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct zsock_addrinfo *res = NULL;
	int sock;
	int rc;

	if (zsock_getaddrinfo(host, port, &hints, &res) != 0 || res == NULL) {
		LOG_WRN("cannot resolve %s", host);
		return -EHOSTUNREACH;
	}
#if defined(CONFIG_NET_SOCKETS_SOCKOPT_TLS)
	sock = zsock_socket(res->ai_family, SOCK_STREAM, tls ? IPPROTO_TLS_1_2 : IPPROTO_TCP);
#else
	sock = tls ? -EPROTONOSUPPORT : zsock_socket(res->ai_family, SOCK_STREAM, IPPROTO_TCP);
#endif
	if (sock < 0) {
		zsock_freeaddrinfo(res);
		return sock == -EPROTONOSUPPORT ? sock : -errno;
	}
#if defined(CONFIG_NET_SOCKETS_SOCKOPT_TLS)
	if (tls) {
		const sec_tag_t tags[] = {CONFIG_OTA_AGENT_HTTP_SEC_TAG};

		if (zsock_setsockopt(sock, SOL_TLS, TLS_SEC_TAG_LIST, tags, sizeof(tags)) < 0 ||
		    zsock_setsockopt(sock, SOL_TLS, TLS_HOSTNAME, host, strlen(host) + 1) < 0) {
			rc = -errno;
			zsock_close(sock);
			zsock_freeaddrinfo(res);
			return rc;
		}
	}
#endif
	rc = zsock_connect(sock, res->ai_addr, res->ai_addrlen);
	zsock_freeaddrinfo(res);
	if (rc < 0) {
		rc = -errno;
		zsock_close(sock);
		return rc;
	}
	return sock;
}

int32_t ota_shim_http_get(const struct ota_shim_http_request *r, ota_shim_http_sink_t sink,
			  void *ctx)
{
	struct sink_ctx c = {.sink = sink, .ctx = ctx};
	struct http_request req = {0};
	char *host = url_buf;
	char *path = url_buf + r->host_len + 1;
	char port[8];
	char range[48];
	const char *headers[] = {range, NULL};
	int sock;
	int rc;

	if ((size_t)r->host_len + r->path_len + 2 > sizeof(url_buf)) {
		return -ENAMETOOLONG;
	}
	memcpy(host, r->host, r->host_len);
	host[r->host_len] = '\0';
	memcpy(path, r->path, r->path_len);
	path[r->path_len] = '\0';
	snprintk(port, sizeof(port), "%u", r->port);
	snprintk(range, sizeof(range), "Range: bytes=%u-%u\r\n", r->first, r->last);

	sock = open_socket(host, port, r->tls != 0);
	if (sock < 0) {
		return sock;
	}
	req.method = HTTP_GET;
	req.url = path;
	req.host = host;
	req.port = port;
	req.protocol = "HTTP/1.1";
	req.header_fields = headers;
	req.response = response_cb;
	req.recv_buf = recv_buf;
	req.recv_buf_len = sizeof(recv_buf);

	rc = http_client_req(sock, &req, CONFIG_OTA_AGENT_REQUEST_TIMEOUT_MS, &c);
	zsock_close(sock);
	if (c.aborted != 0) {
		return c.aborted;
	}
	if (rc < 0) {
		return rc;
	}
	return req.internal.response.http_status_code;
}

#else /* !CONFIG_OTA_AGENT_DATA_HTTP */

int32_t ota_shim_http_get(const struct ota_shim_http_request *r, ota_shim_http_sink_t sink,
			  void *ctx)
{
	ARG_UNUSED(r);
	ARG_UNUSED(sink);
	ARG_UNUSED(ctx);
	return -ENOTSUP;
}

#endif /* CONFIG_OTA_AGENT_DATA_HTTP */
