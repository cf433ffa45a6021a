/*
 * plan.h — which Binance streams a collector subscribes to, and on which route.
 *
 * The configuration names symbols and channels; the plan turns each (symbol, channel) into the
 * exchange's stream name ("btcusdt@depth@100ms", "btcusdt@kline_1m") and says which route of the
 * market serves it: USD-M splits its streams between /public (depth, partial depth, bookTicker,
 * trade) and /market (aggTrade, kline, markPrice), and a connection on one route never delivers
 * the other's streams (binance-protocol.md §1); spot and COIN-M have one route. Streams of
 * different routes therefore never share a connection. Pure functions, no allocation.
 */
#ifndef BOOKCAST_COLLECTOR_PLAN_H
#define BOOKCAST_COLLECTOR_PLAN_H

#include "envelope.h" /* market_t */

#include <stdbool.h>
#include <stddef.h>

#define PLAN_STREAM_MAX 64  /* longest stream name, NUL included */
#define PLAN_KLINES_MAX 16  /* kline intervals per symbol */
#define PLAN_STREAMS_PER_SYMBOL (6 + PLAN_KLINES_MAX)

typedef enum {
    PLAN_ROUTE_NONE = 0, /* spot, COIN-M: the market's only WebSocket path */
    PLAN_ROUTE_PUBLIC,   /* USD-M /public */
    PLAN_ROUTE_MARKET,   /* USD-M /market */
} plan_route_t;

/* The channels of one market, from markets.<m>.channels.* */
typedef struct {
    bool depth;
    unsigned depth_speed_ms;   /* spot 100|1000; futures 0|100|250|500 */
    bool trade;
    bool agg_trade;
    bool book_ticker;
    unsigned depth_n;          /* 0 (off), 5, 10, 20 */
    unsigned depth_n_speed_ms; /* spot 100|1000; futures 100|250|500 */
    bool mark_price;           /* futures only */
    size_t kline_count;
    char klines[PLAN_KLINES_MAX][4]; /* "1m", "1M", … */
} plan_channels_t;

/* The stream names of `symbol` (any case) for the enabled channels, written to out (up to max),
   in a fixed order: depth, partial depth, trade, aggTrade, bookTicker, markPrice, klines.
   Channels the market does not have (spot markPrice) are skipped. Returns the
   count, or 0 when the symbol is empty or too long. */
size_t plan_symbol_streams(market_t market, const char *symbol, const plan_channels_t *channels,
                           char out[][PLAN_STREAM_MAX], size_t max);

/* The route that serves `stream` on `market` (by the part after the first '@'). */
plan_route_t plan_route(market_t market, const char *stream);

/* The WebSocket path of a combined connection on `route`: "/stream", "/public/stream",
   "/market/stream". */
const char *plan_route_path(market_t market, plan_route_t route);

/* "public", "market", or "" for NONE. */
const char *plan_route_name(plan_route_t route);

/* The symbol of a stream name in upper case ("btcusdt@depth" → "BTCUSDT") into out. Returns its
   length, or 0 when the name has no '@' or the symbol does not fit. */
size_t plan_stream_symbol(const char *stream, char *out, size_t out_len);

#endif
