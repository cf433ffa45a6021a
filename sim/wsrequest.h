/*
 * wsrequest.h — one WebSocket connection's control requests, answered as Binance answers them.
 *
 * A sim_wsconn_t is the protocol state of one market-data connection: its market, its path's
 * route, the "combined" property and the ordered set of subscribed streams. The server creates
 * it from the handshake's path and streams, hands it every client text message
 * (sim_wsconn_handle), sends the reply text back unwrapped (Binance never wraps control
 * responses, whatever "combined" says), starts or stops the streams the reply names, and closes
 * the connection when the reply says so. Nothing here touches a socket or a clock; wsrequest.c
 * documents every rule and its source.
 *
 * Not thread-safe: one sim_wsconn_t belongs to one connection.
 */
#ifndef BOOKCAST_SIM_WSREQUEST_H
#define BOOKCAST_SIM_WSREQUEST_H

#include "envelope.h" /* market_t */
#include "streamname.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Streams one connection may hold: 1024 on spot [S-WS], USD-M [UM-CONN] and COIN-M [CM-CONN]. */
#define SIM_WSCONN_MAX_STREAMS 1024

/* Close sent after an "invalid stream" error: Binance closes the connection then (observed on
   fstream 2026-08 and on spot); code and reason are the sim's choice (wsrequest.c). */
#define SIM_WSCONN_CLOSE_INVALID_CODE 1008
#define SIM_WSCONN_CLOSE_INVALID_REASON "Invalid request"

typedef struct sim_wsconn_t sim_wsconn_t;

typedef enum {
    SIM_WSMETHOD_NONE = 0, /* the message failed before its method was known */
    SIM_WSMETHOD_SUBSCRIBE,
    SIM_WSMETHOD_UNSUBSCRIBE,
    SIM_WSMETHOD_LIST_SUBSCRIPTIONS,
    SIM_WSMETHOD_SET_PROPERTY,
    SIM_WSMETHOD_GET_PROPERTY,
} sim_wsmethod_t;

/* What to do with one client message. Filled by sim_wsconn_handle; release with
   sim_wsreply_clear. */
typedef struct {
    char *response;      /* the text frame to send, NUL-terminated; owned by the reply */
    size_t response_len; /* its length in bytes; 0 only when handling failed (out of memory) */
    sim_wsmethod_t method;
    int error_code;      /* Binance's error code 0..3, or -1 when the request succeeded */
    char **added;        /* SUBSCRIBE: streams newly subscribed, in subscription order */
    size_t added_count;
    char **removed;      /* UNSUBSCRIBE: streams that were subscribed and no longer are */
    size_t removed_count;
    bool close;          /* send the response, then close with close_code and close_reason */
    uint16_t close_code;
    const char *close_reason; /* static */
} sim_wsreply_t;

/* New connection state for `market` from the handshake: `path` without its query ("/ws",
   "/ws/btcusdt@depth", "/stream", "/public/stream", …) and `streams`, the value of the
   "streams=" query argument ("a/b/c"; NULL or "" when absent). Streams from "/ws/a/b" and
   from `streams` are subscribed in order (empty segments skipped, repeats once). Returns NULL
   with a reason in err (when not NULL) if the market serves no WebSocket at `path`, a name is
   malformed, the names exceed SIM_WSCONN_MAX_STREAMS, or memory runs out. */
sim_wsconn_t *sim_wsconn_new(market_t market, const char *path, const char *streams, char *err,
                             size_t err_len);
/* Frees *self_p and sets it to NULL. NULL-safe. */
void sim_wsconn_destroy(sim_wsconn_t **self_p);

/* Answers one client text message (`len` bytes at `text`, UTF-8, not necessarily
   NUL-terminated). Returns 0 and fills *reply (any previous content is overwritten, not
   freed), or -1 when out of memory, with *reply empty (the server should close, 1011). */
int sim_wsconn_handle(sim_wsconn_t *self, const char *text, size_t len, sim_wsreply_t *reply);

/* Frees what *reply owns and zeroes it. NULL-safe. */
void sim_wsreply_clear(sim_wsreply_t *reply);

typedef enum {
    SIM_WSCONN_ADD_OK = 0,    /* subscribed (LIVE or SILENT: see sim_wsconn_parsed) */
    SIM_WSCONN_ADD_DUPLICATE, /* already subscribed: nothing changed */
    SIM_WSCONN_ADD_INVALID,   /* malformed name */
    SIM_WSCONN_ADD_LIMIT,     /* the connection already holds SIM_WSCONN_MAX_STREAMS */
    SIM_WSCONN_ADD_NOMEM,
} sim_wsconn_add_t;

/* Subscribes one stream outside any request (what sim_wsconn_new does for URL streams). */
sim_wsconn_add_t sim_wsconn_add(sim_wsconn_t *self, const char *name);

/* Streams subscribed, in subscription order (what LIST_SUBSCRIPTIONS returns). */
size_t sim_wsconn_stream_count(const sim_wsconn_t *self);
/* The index-th stream's name as the client wrote it; NULL when index >= count. Valid until the
   next call that changes the set. */
const char *sim_wsconn_stream(const sim_wsconn_t *self, size_t index);
/* The index-th stream parsed for this connection's market; NULL when index >= count. */
const sim_streamname_t *sim_wsconn_parsed(const sim_wsconn_t *self, size_t index);
/* True when this connection delivers the index-th stream (LIVE, and routed by its path).
   Whether its symbol exists is the caller's check (sim_universe_find). */
bool sim_wsconn_delivers(const sim_wsconn_t *self, size_t index);
/* True when `name` is subscribed (exact, case-sensitive match). */
bool sim_wsconn_has(const sim_wsconn_t *self, const char *name);

/* The "combined" property: wrap data frames as {"stream":…,"data":…} when true. */
bool sim_wsconn_combined(const sim_wsconn_t *self);
market_t sim_wsconn_market(const sim_wsconn_t *self);
/* The path's route (streamname.h): NONE on spot, COIN-M and USD-M's unrouted /ws, /stream. */
sim_wsroute_t sim_wsconn_route(const sim_wsconn_t *self);

#endif
