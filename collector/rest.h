/*
 * rest.h — REST depth snapshots (and exchangeInfo) within the exchange's weight limits.
 *
 * The bookbuilder asks for snapshots; after a mass disconnect it asks for hundreds at once.
 * Binance counts REST weight per IP per minute, answers 429 past the limit and bans with 418 a
 * client that keeps going (binance-protocol.md §4). So requests are queued and served in order,
 * one in flight at a time, and each waits (on a net timer, never blocking the loop) until the
 * weight budget (weight.h) has room for it: a storm is paced through the minutes without ever
 * earning a 429. Every answer's X-MBX-USED-WEIGHT-1M feeds the budget; a 429 or 418 blocks the
 * whole queue until its Retry-After ends, and the refused request itself is reported like any
 * other answer (the bookbuilder decides whether to ask again).
 *
 * Every accepted request is reported exactly once through its callback, on the service thread:
 * with the HTTP status and body as received, or with status 0 and a one-line reason when no
 * complete answer came (connect or TLS failure, reset, timeout, a body over the size bound, a
 * weight the budget can never fit, the collector stopping).
 *
 * Everything runs on the net's service thread: call these functions from there (main before
 * net_run, a timer, a callback), never from another thread. Lifetime: rest_destroy before
 * net_destroy (requests still queued or in flight are reported with "collector stopping"; a
 * connection still open is closed by the net later).
 */
#ifndef BOOKCAST_COLLECTOR_REST_H
#define BOOKCAST_COLLECTOR_REST_H

#include "envelope.h" /* market_t, ENVELOPE_MAX_PAYLOAD */
#include "net.h"
#include "weight.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REST_TIMEOUT_MS_DEFAULT 10000            /* collector.snapshot_timeout_ms */
#define REST_BODY_MAX_BYTES ENVELOPE_MAX_PAYLOAD /* a larger body cannot travel in a frame */

typedef struct rest_t rest_t;

/* One finished depth request, borrowed for the callback. */
typedef struct {
    const char *symbol;  /* as requested */
    uint64_t request_id; /* as requested */
    int http_status;     /* 100..599, or 0 when no complete response was received */
    const char *body;    /* the body as received, or (status 0) the reason; NUL-terminated */
    size_t body_len;     /* excluding the NUL */
    int64_t used_weight; /* X-MBX-USED-WEIGHT-1M of the answer, or -1 */
    int64_t recv_ts_ns;  /* wall clock when the answer was complete or the failure known */
} rest_result_t;

typedef void (*rest_done_fn)(void *arg, const rest_result_t *result);

/* The answer to rest_request_exchange_info: status and body as for rest_result_t. */
typedef void (*rest_info_fn)(void *arg, int http_status, const char *body, size_t len);

/* A fetcher for `market` at rest_url (scheme, host, optional port and path prefix, e.g.
   "https://api.binance.com"), spending `policy`'s share of the weight limit. `done` receives
   every depth result; it may queue new requests but must not destroy the rest_t. NULL (with
   the reason logged) for a bad URL, market or policy. */
rest_t *rest_new(net_t *net, market_t market, const char *rest_url, const weight_policy_t *policy,
                 rest_done_fn done, void *arg);

/* Reports every request not yet answered with status 0 "collector stopping" (in order, the one
   in flight first), then frees. The callbacks must not call into this rest_t. NULL-safe. */
void rest_destroy(rest_t **self_p);

/* A request with no complete answer timeout_ms after it was sent fails with status 0 "timeout
   after <timeout_ms> ms" (default REST_TIMEOUT_MS_DEFAULT; values < 1 are taken as 1). Applies to
   requests sent from now on. */
void rest_set_timeout_ms(rest_t *self, int64_t timeout_ms);

/* Bodies longer than this are cut off and the request fails with status 0 "body over <size>"
   (default and maximum REST_BODY_MAX_BYTES; smaller values are for tests). */
void rest_set_body_max_bytes(rest_t *self, size_t body_max_bytes);

/* Queues GET <rest_url>/api/v3/depth (spot), /fapi/v1/depth (USD-M) or /dapi/v1/depth (COIN-M)
   ?symbol=<symbol>&limit=<limit>. Returns 0 when the request is accepted: done() will report it
   exactly once. A limit the market does not accept is reported at once, before this returns
   (status 0, the reason naming the valid limits). Returns -1, and nothing is reported, when the
   symbol is not 1..32 of [A-Z0-9_], when out of memory, or while the rest_t is being destroyed. */
int rest_request_depth(rest_t *self, const char *symbol, unsigned limit, uint64_t request_id);

/* Queues one GET of …/exchangeInfo (weight 20 on spot, 1 on futures), in line with the depth
   requests; `done(arg, …)` gets the answer exactly once. Returns 0, or -1 (nothing reported)
   when out of memory or while being destroyed. */
int rest_request_exchange_info(rest_t *self, rest_info_fn done, void *arg);

/* The request weight of a depth snapshot of `limit` levels (binance-protocol.md §4), or 0 when
   the market does not accept that limit. */
unsigned rest_depth_weight(market_t market, unsigned limit);

/* The request weight of exchangeInfo on `market`. */
unsigned rest_exchange_info_weight(market_t market);

/* Counters for the status heartbeat. */
typedef struct {
    size_t queued;         /* accepted, not sent yet */
    size_t in_flight;      /* 0 or 1 */
    uint64_t sent;         /* requests started on the network */
    uint64_t answered_2xx; /* answers by status class */
    uint64_t answered_4xx;
    uint64_t answered_5xx;
    uint64_t answered_other; /* 1xx, 3xx */
    uint64_t failed;         /* status 0 other than timeouts: connect, TLS, reset, body size */
    uint64_t timeouts;
    uint64_t refused;     /* never sent: invalid limit or symbol, a weight above the whole budget */
    uint64_t stopped;     /* reported "collector stopping" */
    unsigned weight_used; /* this minute: ours or the exchange's count, the larger */
    unsigned weight_budget;   /* our share of the limit per minute */
    uint64_t throttled_waits; /* times the queue waited for room in the budget */
    uint64_t blocked_waits;   /* times the queue waited for a 429's or 418's Retry-After */
    uint64_t rate_limited;    /* 429 answers */
    uint64_t bans;            /* 418 answers */
    int64_t blocked_until_ms; /* wall ms before which nothing is sent (429/418); 0 when none */
    bool banned;              /* that block is a 418 ban */
    int64_t next_attempt_ms;  /* wall ms at which a waiting queue tries again; 0 when not
                                 waiting */
} rest_stats_t;

/* Fills *stats as of now (the weight window rolls with the wall clock). */
void rest_stats(rest_t *self, rest_stats_t *stats);

#endif
