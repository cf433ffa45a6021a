/*
 * tc_depth.h — the JSON the sync subcommand reads, turned into exact values: diff depth events
 * from the WebSocket, REST depth snapshots, and the sim's true book (/_sim/book).
 *
 * Prices and quantities go through dec_parse (common/decimal.h) and nothing else: no floating
 * point ever holds one. Update ids are JSON numbers, which cJSON stores as a double; a double
 * holds every integer up to 2^53 exactly, so an id is accepted only when it is a whole number in
 * 0..2^53 (Binance's ids are below 10^13) and converted from there without rounding.
 */
#ifndef BOOKCAST_TC_DEPTH_H
#define BOOKCAST_TC_DEPTH_H

#include "tc_book.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One diff depth event (binance-protocol.md §3). */
typedef struct {
    uint64_t first_id;     /* U */
    uint64_t last_id;      /* u */
    uint64_t prev_last_id; /* pu: futures only */
    bool has_prev_last_id;
    tc_levels_t bids; /* as sent: absolute quantities, "0" = remove */
    tc_levels_t asks;
} tc_depth_event_t;

/* A REST snapshot ({"lastUpdateId":…,"bids":…,"asks":…}) or the sim's truth
   ({"symbol":…,"update_id":…,"bids":…,"asks":…}): levels best first. */
typedef struct {
    uint64_t update_id;
    tc_levels_t bids;
    tc_levels_t asks;
} tc_book_json_t;

typedef enum {
    TC_PARSE_DEPTH = 0, /* a depth event for the symbol: *ev filled */
    TC_PARSE_OTHER,     /* valid JSON but not a depth event (a control reply): ignore it */
    TC_PARSE_BAD,       /* malformed: reason in err */
} tc_parse_t;

/* Parses one WebSocket text message, raw or wrapped as {"stream":…,"data":…}. `symbol` is the
   expected "s" (upper case); `need_pu` demands the futures field "pu". On TC_PARSE_DEPTH the
   caller owns *ev (tc_depth_event_free). */
tc_parse_t tc_depth_parse_event(const char *json, size_t len, const char *symbol, bool need_pu,
                                tc_depth_event_t *ev, char *err, size_t err_len);

/* Frees an event's levels. */
void tc_depth_event_free(tc_depth_event_t *ev);

/* Parses a REST snapshot body (id key "lastUpdateId") or a truth body (id key "update_id",
   `symbol` checked when not NULL). Both sides must be strictly best first with nonzero
   quantities. Returns 0 with *book filled (caller frees with tc_book_json_free), or -1 with a
   reason in err. */
int tc_depth_parse_book(const char *json, size_t len, const char *id_key, const char *symbol,
                        tc_book_json_t *book, char *err, size_t err_len);

void tc_book_json_free(tc_book_json_t *book);

#endif
