/*
 * venue.h — one simulated Binance market (spot, USD-M or COIN-M) as its listener serves it.
 *
 * A venue owns the market's symbols, each symbol's engine, streams and recent history, the
 * subscriptions of its WebSocket connections and the REST endpoints. The server (server.c) moves
 * bytes; the venue decides what they are. Logical time drives everything: sim_venue_advance(now)
 * runs every engine to `now`, and each stream event that comes out is rendered once and queued
 * to every subscriber of that stream.
 */
#ifndef BOOKCAST_SIM_VENUE_H
#define BOOKCAST_SIM_VENUE_H

#include "envelope.h"
#include "outq.h"
#include "ratelimit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sim_venue_t sim_venue_t;

typedef struct {
    market_t market;
    size_t symbol_count;
    uint64_t seed;
    int64_t epoch_ms;            /* wall time of logical time 0, for every E and T */
    uint32_t book_updates_per_s; /* per symbol; 0 keeps the engine's default */
    uint32_t trades_per_s;       /* per symbol; 0 keeps the engine's default */
    bool legacy_fields;          /* render exactly like the 2024 captures (no st/ps/nq) */
    sim_restweight_t *weights;   /* REST weight budgets, shared by the venues (borrowed) */
    const char *truth_symbols;   /* comma-separated names given a long history (and written to
                                    the truth file), "ALL", or NULL/"" for none */
    size_t truth_history;        /* changes kept per truth symbol (0: the default, 262144) */
    size_t history;              /* changes kept per other symbol (0: the default, 512) */
    FILE *truth_file;            /* where truth symbols' books and updates go (borrowed), or NULL */
} sim_venue_options_t;

/* One WebSocket connection as the venue sees it. The server embeds it in its connection. */
typedef struct sim_subscriber_t {
    /* Queues `msg` for the connection (takes its own reference). */
    void (*deliver)(struct sim_subscriber_t *self, sim_msg_t *msg);
    bool combined;      /* wrap payloads as {"stream":…,"data":…} */
    int route;          /* USD-M path family, from streamname.h; others ignore it */
} sim_subscriber_t;

/* A venue at logical time 0. NULL with the reason logged when out of memory or when a truth
   symbol is not one of the market's. */
sim_venue_t *sim_venue_new(const sim_venue_options_t *options);
void sim_venue_destroy(sim_venue_t **self_p);

market_t sim_venue_market(const sim_venue_t *self);

/* Runs the market to logical time now_ms and delivers every event due. */
void sim_venue_advance(sim_venue_t *self, int64_t now_ms);

/* The earliest logical time at which any symbol has an engine event not yet run (INT64_MAX when
   none): lets load mode jump ahead. */
int64_t sim_venue_next_event_ms(const sim_venue_t *self);

/* Adds or removes one stream of a subscriber. The name was validated by the caller (wsrequest);
   a stream this subscriber's path does not route, or of an unknown symbol, is accepted and never
   delivers. Returns 0, or -1 when out of memory. */
int sim_venue_subscribe(sim_venue_t *self, sim_subscriber_t *sub, const char *stream);
void sim_venue_unsubscribe(sim_venue_t *self, sim_subscriber_t *sub, const char *stream);
void sim_venue_unsubscribe_all(sim_venue_t *self, sim_subscriber_t *sub);

/* ---- REST ---- */

#define SIM_HTTP_MAX_HEADERS 4

typedef struct {
    const char *method; /* "GET" */
    const char *path;   /* "/api/v3/depth" */
    const char *query;  /* "symbol=BTCUSDT&limit=1000", or "" */
    const char *peer;   /* client address, for the per-IP weight */
    int64_t now_ms;     /* wall clock */
} sim_http_request_t;

typedef struct {
    int status;
    const char *content_type;
    char *body;         /* malloc'd; the server frees it */
    size_t body_len;
    size_t header_count;
    struct {
        char name[48];
        char value[64];
    } headers[SIM_HTTP_MAX_HEADERS];
    int64_t delay_ms;   /* answer this much later (a slow-snapshot fault) */
} sim_http_response_t;

/* Answers one REST request on this venue's listener (not /_sim/: see control.h). */
void sim_venue_http(sim_venue_t *self, const sim_http_request_t *req, sim_http_response_t *resp);

/* Sets resp to `status` with a malloc'd copy of the JSON `body`. */
void sim_http_respond(sim_http_response_t *resp, int status, const char *body);

/* Reads the value of `key` from a query string "a=1&b=2" into out (NUL-terminated, truncated to
   out_len - 1). True when the key is present. */
bool sim_http_query_get(const char *query, const char *key, char *out, size_t out_len);

/* ---- truth and faults (the control API, control.c) ---- */

/* The true book of `symbol` after update id `update_id` (the current book when has_id is false)
   as {"symbol":…,"update_id":N,"bids":[[p,q],…],"asks":[…]}, every level, best first. Returns
   the HTTP status: 200 with *body malloc'd, 404 for an unknown symbol, 410 for an id older than
   the symbol's kept history, 409 for an id not reached yet (*body then holds the reason). */
int sim_venue_book_json(sim_venue_t *self, const char *symbol, bool has_id, uint64_t update_id,
                        char **body);

/* Faults on a symbol's streams ("" or NULL symbol: every symbol of the venue). count is how many
   events (per depth speed) the fault takes; ms the length of a stall. Return how many symbols
   were affected (0: unknown symbol). */
typedef enum {
    SIM_STREAM_FAULT_GAP = 0,  /* drop the next diff depth events: U jumps, futures pu breaks */
    SIM_STREAM_FAULT_BREAK_PU, /* futures: send the next diff events with a wrong pu */
    SIM_STREAM_FAULT_DUPLICATE,/* send the next diff depth events twice */
    SIM_STREAM_FAULT_REORDER,  /* swap the next diff depth event with the one after it */
    SIM_STREAM_FAULT_STALL,    /* deliver nothing of the symbol for ms (events are lost) */
} sim_stream_fault_t;
int sim_venue_stream_fault(sim_venue_t *self, sim_stream_fault_t fault, const char *symbol,
                           uint32_t count, int64_t ms);

/* Faults on the next `count` depth snapshot requests of this venue. */
typedef enum {
    SIM_REST_FAULT_STALE = 0, /* the book from before the stream (as far back as history goes) */
    SIM_REST_FAULT_5XX,       /* 503 with an HTML body, as a failing gateway answers */
    SIM_REST_FAULT_429,       /* 429 -1003 with Retry-After */
    SIM_REST_FAULT_418,       /* 418 -1003 "IP banned" with Retry-After */
    SIM_REST_FAULT_SLOW,      /* answered after ms */
    SIM_REST_FAULT_COUNT
} sim_rest_fault_t;
void sim_venue_rest_fault(sim_venue_t *self, sim_rest_fault_t fault, uint32_t count, int64_t ms);

/* Clears every pending stream and REST fault. */
void sim_venue_clear_faults(sim_venue_t *self);

/* A JSON object of the venue's counters for /_sim/status (malloc'd). */
char *sim_venue_status_json(const sim_venue_t *self);

#endif
