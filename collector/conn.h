/*
 * conn.h — one WebSocket connection to the exchange, from connect to close.
 *
 * A conn is one physical connection with one connection id: it connects to a combined-stream
 * path, subscribes its streams with SUBSCRIBE messages paced below the market's incoming-message
 * limit, hands every text message it receives to its owner untouched, and reports its end once.
 * It never reconnects: the pool (pool.h) decides what replaces it. libwebsockets answers the
 * server's pings with their payload at once; data-idle detection is the pool's, from
 * conn_last_frame_ms.
 *
 * Lifetime: the owner creates it, starts it, and releases it with conn_release once it no longer
 * wants events; the memory goes when libwebsockets has let go of the socket too.
 */
#ifndef BOOKCAST_COLLECTOR_CONN_H
#define BOOKCAST_COLLECTOR_CONN_H

#include "envelope.h"
#include "net.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Control messages per second the collector sends on one connection: below Binance's incoming
   limits of 5 (spot) and 10 (futures), which count pongs too (binance-protocol.md §2). */
#define CONN_MSGS_PER_S_SPOT 3
#define CONN_MSGS_PER_S_FUTURES 7
/* Streams per SUBSCRIBE message. */
#define CONN_STREAMS_PER_MESSAGE 100
/* Largest message accepted; a larger one is dropped and counted (the envelope's bound). */
#define CONN_MAX_MESSAGE_BYTES ENVELOPE_MAX_PAYLOAD

typedef struct conn_t conn_t;

typedef struct {
    /* The handshake completed. */
    void (*on_up)(void *arg, conn_t *conn, int64_t recv_ns);
    /* One complete text message (NUL-terminated at payload[len], borrowed for the call). */
    void (*on_text)(void *arg, conn_t *conn, const char *payload, size_t len, int64_t recv_ns);
    /* A message over CONN_MAX_MESSAGE_BYTES was dropped: the streams of this connection may
       have lost data. */
    void (*on_oversized)(void *arg, conn_t *conn, size_t len);
    /* The connection ended (was_up false: it never opened). Called exactly once; no event
       follows. `reason` is borrowed for the call. */
    void (*on_down)(void *arg, conn_t *conn, bool was_up, const char *reason, int64_t recv_ns);
} conn_events_t;

/* A connection to `url` (its path is the combined-stream path, e.g. /stream) numbered conn_id.
   Nothing happens until conn_start. NULL when out of memory. */
conn_t *conn_new(net_t *net, market_t market, uint32_t conn_id, const net_url_t *url,
                 const conn_events_t *events, void *arg);

/* Spaces control messages at least interval_ms apart (default: the market's rate above). */
void conn_set_message_interval_ms(conn_t *self, int64_t interval_ms);
int64_t conn_message_interval_ms(const conn_t *self);

/* Starts connecting. Returns 0, or -1 when the connect could not even start (on_down follows
   from the next loop pass with was_up false, so the caller handles one path). */
int conn_start(conn_t *self);

/* Queues SUBSCRIBE (or UNSUBSCRIBE) messages for these streams, sent once open and paced. The
   stream list the connection holds changes at once. Returns 0, or -1 when out of memory. */
int conn_subscribe(conn_t *self, const char *const *streams, size_t count);
int conn_unsubscribe(conn_t *self, const char *const *streams, size_t count);

/* Closes with a close frame (1000) when open, or gives up connecting; on_down follows with
   `reason`. No-op once down. */
void conn_close(conn_t *self, const char *reason);

/* The owner stops listening: no more events; the memory is freed once libwebsockets is done. */
void conn_release(conn_t **self_p);

uint32_t conn_id(const conn_t *self);
bool conn_is_up(const conn_t *self);
/* Streams held, in subscription order (borrowed until the next subscribe or unsubscribe). */
size_t conn_stream_count(const conn_t *self);
const char *conn_stream(const conn_t *self, size_t index);
bool conn_has_stream(const conn_t *self, const char *stream);
/* True once every SUBSCRIBE sent so far has been answered and nothing is waiting to be sent. */
bool conn_subscribed(const conn_t *self);
/* Monotonic ms of the handshake (0 before), of the last message received (0 before any). */
int64_t conn_up_ms(const conn_t *self);
int64_t conn_last_frame_ms(const conn_t *self);
/* Counters. */
uint64_t conn_frames(const conn_t *self);
uint64_t conn_bytes(const conn_t *self);
/* SUBSCRIBE/UNSUBSCRIBE answers that were errors ({"error":…}). */
uint64_t conn_request_errors(const conn_t *self);

#endif
