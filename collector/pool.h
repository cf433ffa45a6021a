/*
 * pool.h — a market's WebSocket connections: which stream rides on which connection, and what
 * replaces a connection that ends, goes stale or grows old.
 *
 * Streams are packed into "slots" of at most max_streams_per_conn streams, one route per slot
 * (USD-M /public and /market never share a connection). Each slot holds one live connection
 * (conn.h) and, while it is being rotated, its replacement. The pool keeps every slot connected:
 *   - a connection that ends is replaced after an exponential backoff with jitter; after
 *     max_attempts failures in a row the slot is failed (0: it retries forever);
 *   - a connection that delivers no message for stale_after_ms is stale, closed and replaced;
 *   - before rotate_after_ms of age (Binance cuts at 24 h), or at spot's serverShutdown event,
 *     a replacement is opened first and subscribed; once it has delivered data and every
 *     SUBSCRIBE is answered, the old connection is closed (make-before-break). The replacement's
 *     messages are marked as overlap until then, so the bookbuilder can drop duplicates;
 *   - every connection attempt of the market goes through one limiter, under the exchange's
 *     per-IP connection rate, so that even a mass disconnect never becomes a storm.
 * Everything the connections do comes out as pool events in order: CONN_UP (the streams of the
 * connection), each text message, CONN_DOWN (the streams that lost their connection, and why),
 * with the per-connection sequence numbers of the frame envelope.
 */
#ifndef BOOKCAST_COLLECTOR_POOL_H
#define BOOKCAST_COLLECTOR_POOL_H

#include "backoff.h"
#include "envelope.h"
#include "net.h"
#include "plan.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t max_streams_per_conn;  /* 1..1024 */
    int64_t stale_after_ms;       /* no message this long: replace the connection */
    int64_t rotate_after_ms;      /* replace a connection this old, make-before-break */
    backoff_policy_t backoff;
    unsigned attempts_per_5min;   /* connection attempts of this market, all slots together */
} pool_options_t;

typedef struct {
    envelope_kind_t kind; /* ENVELOPE_CONN_UP, ENVELOPE_WS_TEXT or ENVELOPE_CONN_DOWN */
    uint32_t conn_id;
    uint64_t seq;         /* per connection, from 1 (CONN_UP) */
    bool overlap;         /* WS_TEXT of a replacement while the connection it replaces is open */
    int64_t recv_ns;
    const char *payload;  /* WS_TEXT: the message as received */
    size_t len;
    const char *stream;   /* WS_TEXT: the "stream" of a combined message, or NULL */
    const char *url;      /* CONN_UP */
    const char *const *streams; /* CONN_UP, CONN_DOWN: the connection's streams */
    size_t stream_count;
    const char *reason;   /* CONN_DOWN */
} pool_event_t;

typedef struct {
    void (*on_event)(void *arg, const pool_event_t *event);
    /* Data was lost before it could become a frame (a message over the size limit): these
       streams must be told, as an OVERFLOW does. */
    void (*on_loss)(void *arg, const char *const *streams, size_t count);
    void *arg;
} pool_sink_t;

typedef struct pool_t pool_t;

/* A pool for `market`, connecting to ws_url (+ the route's path). NULL when out of memory or
   the URL is not ws:// or wss://. */
pool_t *pool_new(net_t *net, market_t market, const char *ws_url, const pool_options_t *options,
                 const pool_sink_t *sink, uint64_t seed);
void pool_destroy(pool_t **self_p);

/* Adds streams: each goes on a connection of its route with room (SUBSCRIBE on a live one), or
   on a new one. Streams already held are skipped. Returns 0, or -1 when out of memory. */
int pool_add_streams(pool_t *self, const char *const *streams, size_t count);
/* Removes streams (UNSUBSCRIBE); a connection left with none is closed. */
void pool_remove_streams(pool_t *self, const char *const *streams, size_t count);
/* True when `stream` is held. */
bool pool_has_stream(const pool_t *self, const char *stream);

/* Closes every connection ("collector stopping"); their CONN_DOWN events follow from the loop.
   Nothing reconnects afterwards. */
void pool_stop(pool_t *self);
/* True when no connection is open or opening. */
bool pool_idle(const pool_t *self);

/* Appends one object per connection slot to `array` (state, route, streams, frames, bytes,
   reconnects by reason, last frame age), and returns totals in the pool's own object. */
void pool_status(const pool_t *self, cJSON *array);

typedef struct {
    size_t slots, streams;
    size_t running, reconnecting, stale, failed;
    uint64_t frames, bytes, reconnects, connect_attempts, attempts_deferred, rotations;
} pool_stats_t;
void pool_stats(const pool_t *self, pool_stats_t *out);

#endif
