/*
 * tc_http.c — one HTTP GET; see tc_http.h.
 *
 * libwebsockets' HTTP client flow: ESTABLISHED_CLIENT_HTTP when the status line and headers are
 * in (read them there, the header table is freed later), RECEIVE_CLIENT_HTTP when body bytes
 * wait (lws_http_client_read() then delivers them, de-chunked, as RECEIVE_CLIENT_HTTP_READ),
 * COMPLETED_CLIENT_HTTP at the end of the body. A server that ends the body by closing the
 * socket gives CLOSED_CLIENT_HTTP instead, which is also a complete response once headers came.
 * Header names are stored lower-case by lws, so custom headers are looked up in lower case.
 */
#include "tc_http.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

struct tc_http {
    tc_conn_t conn; /* first: the net hands us back a tc_conn_t */
    tc_http_done_fn done;
    void *arg;
    bool finished; /* done has run */
    bool have_headers;
    bool body_too_big;
    tc_http_response_t resp;
    char *body;
    size_t body_len;
    size_t body_cap;
};

static const char *const HEADER_NAMES[TC_HDR_COUNT] = {
    "x-mbx-used-weight-1m",
    "x-mbx-used-weight",
    "retry-after",
    "content-type",
};

const char *tc_http_header_name(tc_http_header_t header)
{
    return header < TC_HDR_COUNT ? HEADER_NAMES[header] : "unknown";
}

static void finish(tc_http_t *self)
{
    if (self->finished)
        return;
    self->finished = true;
    self->resp.body = self->body ? self->body : "";
    self->resp.body_len = self->body_len;
    if (!tc_net_closing(self->conn.net))
        self->done(self->arg, self, &self->resp);
    free(self->body); /* the response was borrowed for the callback only */
    self->body = NULL;
    self->body_len = self->body_cap = 0;
    self->resp.body = NULL;
}

static void fail(tc_http_t *self, const char *why)
{
    if (self->finished)
        return;
    self->resp.status = 0;
    snprintf(self->resp.error, sizeof self->resp.error, "%s", why);
    finish(self);
}

/* Reads a standard header lws knows by token, or a custom one by its (lower-case) name. */
static void read_header(tc_http_t *self, struct lws *wsi, tc_http_header_t h)
{
    char *dst = self->resp.header[h];
    bool present;
    if (h == TC_HDR_CONTENT_TYPE || h == TC_HDR_RETRY_AFTER) {
        enum lws_token_indexes token =
            h == TC_HDR_CONTENT_TYPE ? WSI_TOKEN_HTTP_CONTENT_TYPE : WSI_TOKEN_HTTP_RETRY_AFTER;
        present = lws_hdr_copy(wsi, dst, TC_HTTP_HEADER_VALUE_MAX, token) > 0;
    } else {
        char name[64];
        int name_len = snprintf(name, sizeof name, "%s:", HEADER_NAMES[h]);
        present = lws_hdr_custom_length(wsi, name, name_len) >= 0 &&
                  lws_hdr_custom_copy(wsi, dst, TC_HTTP_HEADER_VALUE_MAX, name, name_len) >= 0;
    }
    self->resp.header_present[h] = present;
    if (!present)
        dst[0] = '\0';
}

static void on_headers(tc_http_t *self, struct lws *wsi)
{
    self->have_headers = true;
    self->resp.status = (int)lws_http_client_http_response(wsi);
    for (int h = 0; h < TC_HDR_COUNT; h++)
        read_header(self, wsi, (tc_http_header_t)h);
}

static int append_body(tc_http_t *self, const void *in, size_t len)
{
    if (self->body_len + len > TC_HTTP_MAX_BODY) {
        self->body_too_big = true;
        return -1;
    }
    if (self->body_len + len + 1 > self->body_cap) {
        size_t cap = self->body_cap ? self->body_cap : 16384;
        while (cap < self->body_len + len + 1)
            cap *= 2;
        char *grown = realloc(self->body, cap);
        if (grown == NULL)
            return -1;
        self->body = grown;
        self->body_cap = cap;
    }
    memcpy(self->body + self->body_len, in, len);
    self->body_len += len;
    self->body[self->body_len] = '\0';
    return 0;
}

static int http_on_lws(tc_conn_t *conn, struct lws *wsi, enum lws_callback_reasons reason, void *in,
                       size_t len)
{
    tc_http_t *self = (tc_http_t *)conn;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char why[256];
        const char *lws_error = tc_net_take_lws_error();
        snprintf(why, sizeof why, "%.*s%s%s%s", (int)(in ? strnlen(in, len) : 0),
                 in ? (char *)in : "", lws_error[0] ? " (" : "", lws_error,
                 lws_error[0] ? ")" : "");
        for (char *p = why; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        fail(self, why[0] ? why : "connection failed");
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        on_headers(self, wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
        char buffer[LWS_PRE + 16384];
        char *px = buffer + LWS_PRE;
        int lenx = (int)sizeof buffer - LWS_PRE;
        if (lws_http_client_read(wsi, &px, &lenx) < 0)
            return -1;
        return 0;
    }
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
        if (self->finished)
            return 0; /* a failed request still draining */
        if (append_body(self, in, len) != 0) {
            fail(self, self->body_too_big ? "response body larger than 64 MiB"
                                          : "out of memory reading the response body");
            /* closed from the timer, not by returning -1 with input still buffered */
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        }
        return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        finish(self);
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
    case LWS_CALLBACK_WSI_DESTROY:
        if (self->have_headers)
            finish(self); /* body ended by the close */
        else
            fail(self, "connection closed before a response");
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, NULL, in, len);
    }
}

static void http_free(tc_conn_t *conn)
{
    tc_http_t *self = (tc_http_t *)conn;
    free(self->body);
    free(self);
}

tc_http_t *tc_http_get(tc_net_t *net, const tc_url_t *url, tc_http_done_fn done, void *arg)
{
    tc_http_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        log_error("out of memory starting an HTTP request");
        return NULL;
    }
    self->conn.on_lws = http_on_lws;
    self->conn.free_fn = http_free;
    self->done = done;
    self->arg = arg;
    if (tc_net_connect(net, &self->conn, url, "GET") != 0)
        fail(self, "libwebsockets could not start the connection");
    return self;
}
