/*
 * render.h — the simulator's stream events written as the exact JSON Binance sends.
 *
 * Every function writes one payload into a caller-owned buffer and returns its length. The
 * market (spot, USD-M, COIN-M) comes from the event's symbol; field names, their order, JSON
 * types and number formats follow the real exchange market by market (see render.c for the
 * table and its sources).
 *
 * Common contract of every sim_render_* function:
 *  - On success the payload is written to buf[0 .. len) followed by a NUL, and len is returned;
 *    so cap must be at least len + 1. Nothing is allocated and no other state is touched.
 *  - 0 is returned when the buffer is too small, when an argument is NULL or of the wrong market,
 *    and when a price or quantity cannot be written exactly at the symbol's decimals (a bug in
 *    the caller: the renderer never rounds), or is negative. Then buf holds nothing useful
 *    (buf[0] is NUL when cap > 0), and nothing at or beyond buf + cap is ever written.
 *  - Prices use symbol->price_decimals, quantities symbol->qty_decimals; markPrice values use 8.
 *  - `opt` may be NULL: the sim's default, SIM_RENDER_CURRENT.
 */
#ifndef BOOKCAST_SIM_RENDER_H
#define BOOKCAST_SIM_RENDER_H

#include "events.h"

#include <stddef.h>

typedef enum {
    /* Exactly what the 2024 captures show: no "st", no "nq", no USD-M "ps", no markPrice "ap". */
    SIM_RENDER_LEGACY = 0,
    /* Today's fields: USD-M "ps" (depth, partial depth, bookTicker), USD-M aggTrade "nq",
       USD-M markPrice "ap", and "st" (1 USD-M, 2 COIN-M) on futures payloads. */
    SIM_RENDER_CURRENT = 1,
} sim_render_format_t;

typedef struct {
    sim_render_format_t format;
} sim_render_options_t;

/* The sim's default: the current format. */
static inline sim_render_options_t sim_render_options_default(void)
{
    return (sim_render_options_t){.format = SIM_RENDER_CURRENT};
}

/* Bytes one price level ["p","q"], with its comma, can take. */
#define SIM_RENDER_LEVEL_MAX 50
/* Bytes any payload can take besides its levels (names up to SIM_SYMBOL_MAX, kline intervals
   up to 16 bytes; the longest, a kline, takes about 500). */
#define SIM_RENDER_FIXED_MAX 1024
/* A buffer of this size always holds a payload with `levels` price levels (both sides). */
static inline size_t sim_render_size_max(size_t levels)
{
    return SIM_RENDER_FIXED_MAX + levels * SIM_RENDER_LEVEL_MAX;
}

/* Diff depth (<s>@depth, @depth@100ms, …). Spot: {"e","E","s","U","u","b","a"}; futures:
   {"e","E","T","s",["ps"],"U","u","pu","b","a",["st"]}. */
size_t sim_render_depth_diff(const sim_render_options_t *opt, const sim_depth_event_t *ev,
                             char *buf, size_t cap);

/* Spot partial depth (<s>@depth5/10/20): {"lastUpdateId","bids","asks"}, no e/E/s. Spot only. */
size_t sim_render_depth_partial_spot(const sim_partial_depth_t *ev, char *buf, size_t cap);

/* Futures partial depth (<s>@depth5/10/20): the futures diff shape, e "depthUpdate" included.
   Futures only. */
size_t sim_render_depth_partial_futures(const sim_render_options_t *opt,
                                        const sim_depth_event_t *ev, char *buf, size_t cap);

/* <s>@bookTicker. Spot {"u","s","b","B","a","A"}; USD-M {"e","u","s",["ps"],"b","B","a","A","T",
   "E",["st"]}; COIN-M {"u","e","s","ps","b","B","a","A","T","E",["st"]}. */
size_t sim_render_book_ticker(const sim_render_options_t *opt, const sim_book_ticker_t *ev,
                              char *buf, size_t cap);

/* <s>@trade. Spot {"e","E","s","t","p","q","T","m","M"}; futures {"e","E","T","s","t","p","q",
   "X":"MARKET","m",["st"]}. */
size_t sim_render_trade(const sim_render_options_t *opt, const sim_trade_event_t *ev, char *buf,
                        size_t cap);

/* <s>@aggTrade. Spot {"e","E","s","a","p","q","f","l","T","m","M"}; futures {"e","E","a","s","p",
   "q",["nq" USD-M],"f","l","T","m",["st"]}. "nq" repeats "q": the sim has no RPI orders. */
size_t sim_render_agg_trade(const sim_render_options_t *opt, const sim_agg_trade_t *ev, char *buf,
                            size_t cap);

/* <s>@kline_<i>: {"e","E","s","k":{"t","T","s","i","f","L","o","c","h","l","v","n","x","q","V",
   "Q","B"}}, the same in every market and format; "f" and "L" are -1 when !has_trades. */
size_t sim_render_kline(const sim_render_options_t *opt, const sim_kline_t *ev, char *buf,
                        size_t cap);

/* <s>@markPrice[@1s], futures only: {"e","E","s","p",["ap" USD-M],"P","i","r","T",["st"]}, every
   number with 8 decimals; a delivery contract sends "r":"" and "T":0. */
size_t sim_render_mark_price(const sim_render_options_t *opt, const sim_mark_price_t *ev, char *buf,
                             size_t cap);

/* REST depth snapshot body. Spot {"lastUpdateId","bids","asks"}; USD-M {"lastUpdateId","E","T",
   "bids","asks"}; COIN-M {"lastUpdateId","E","T","symbol","pair","bids","asks"}. */
size_t sim_render_depth_snapshot(const sim_render_options_t *opt, const sim_depth_snapshot_t *ev,
                                 char *buf, size_t cap);

/* Where sim_render_combined puts the payload for a stream name of `stream_len` bytes. */
static inline size_t sim_render_combined_offset(size_t stream_len)
{
    return sizeof("{\"stream\":\"") - 1 + stream_len + sizeof("\",\"data\":") - 1;
}

/* The combined-stream frame {"stream":"<stream>","data":<payload>}. `payload` may lie anywhere,
   inside buf included: render it at buf + sim_render_combined_offset(strlen(stream)) and nothing
   is copied. 0 when the buffer is too small, the payload is empty, or the stream name is empty or
   holds a character JSON would need to escape. */
size_t sim_render_combined(const char *stream, const char *payload, size_t payload_len, char *buf,
                           size_t cap);

#endif
