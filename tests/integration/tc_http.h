/*
 * tc_http.h — one HTTP GET of bookcast-testclient (REST snapshots, the sim's /_sim/book truth,
 * the `http` subcommand), over its own connection.
 *
 * The response is kept whole: status, the headers a Binance client acts on (request weight,
 * Retry-After, content type) and the body, up to TC_HTTP_MAX_BODY bytes. The done callback runs
 * exactly once per request, with status 0 and a reason when no response arrived.
 */
#ifndef BOOKCAST_TC_HTTP_H
#define BOOKCAST_TC_HTTP_H

#include "tc_net.h"

#include <stdbool.h>
#include <stddef.h>

#define TC_HTTP_MAX_BODY (64u * 1024u * 1024u)
#define TC_HTTP_HEADER_VALUE_MAX 256

/* The headers reported, in the order the `http` subcommand prints them. */
typedef enum {
    TC_HDR_USED_WEIGHT_1M = 0, /* x-mbx-used-weight-1m */
    TC_HDR_USED_WEIGHT,        /* x-mbx-used-weight (legacy, the 1-minute value) */
    TC_HDR_RETRY_AFTER,        /* retry-after, seconds (429 and 418) */
    TC_HDR_CONTENT_TYPE,       /* content-type */
    TC_HDR_COUNT
} tc_http_header_t;

typedef struct {
    int status;      /* HTTP status, or 0 when no response arrived */
    char error[256]; /* status 0: why */
    bool header_present[TC_HDR_COUNT];
    char header[TC_HDR_COUNT][TC_HTTP_HEADER_VALUE_MAX];
    const char *body; /* NUL-terminated (body_len excludes it); borrowed for the callback */
    size_t body_len;
} tc_http_response_t;

typedef struct tc_http tc_http_t;

/* Called once when the request is over; `resp` and its body are valid only during the call. */
typedef void (*tc_http_done_fn)(void *arg, tc_http_t *request, const tc_http_response_t *resp);

/* Starts a GET of `url` (http:// or https://). The net owns the request. `done` may run before
   this returns (a refused connect). Returns NULL only when out of memory. */
tc_http_t *tc_http_get(tc_net_t *net, const tc_url_t *url, tc_http_done_fn done, void *arg);

/* The lower-case header name, e.g. "x-mbx-used-weight-1m". */
const char *tc_http_header_name(tc_http_header_t header);

#endif
