/*
 * events.h — what the simulated market produces, and what the streams render.
 *
 * The engine (market.c) emits, in logical-time order, book updates and trades for one symbol.
 * The stream layer (streams.c) folds them into the events of each Binance stream (diff depth at
 * each speed, partial depth, bookTicker, trade, aggTrade, kline, markPrice), and render.c writes
 * those events as the exact JSON each market sends. Prices and quantities are dec_t throughout.
 *
 * Update ids. Every book update carries a range [first_id, last_id]. On spot the ids of a symbol
 * are contiguous and an update uses one id (first_id == last_id). On futures the ids are global
 * across the exchange, so a symbol's consecutive updates skip ids and one update may span many:
 * first_id = previous last_id + 1 + gap. The true book "at update id X" is the book after the
 * last update whose last_id <= X.
 */
#ifndef BOOKCAST_SIM_EVENTS_H
#define BOOKCAST_SIM_EVENTS_H

#include "decimal.h"
#include "symbols.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { SIM_BID = 0, SIM_ASK = 1 } sim_side_t;

typedef struct {
    dec_t price;
    dec_t qty; /* 0 = the level is removed */
} sim_level_t;

/* Most updates change one to three levels; a trade sweeping the book changes more. */
#define SIM_UPDATE_MAX_CHANGES 32

typedef struct {
    sim_side_t side;
    dec_t price;
    dec_t qty;      /* new quantity; 0 removes the level */
    dec_t prev_qty; /* quantity before (0 when the level was absent): lets history be undone */
} sim_change_t;

/* One engine update of one symbol's book. */
typedef struct {
    uint64_t first_id;
    uint64_t last_id;
    int64_t time_ms; /* logical time */
    size_t change_count;
    sim_change_t changes[SIM_UPDATE_MAX_CHANGES];
} sim_update_t;

/* One trade: a taker order filling against one resting level. A taker order that sweeps several
   levels gives several trades with the same taker_order_id and contiguous trade ids. */
typedef struct {
    uint64_t trade_id;
    uint64_t taker_order_id;
    int64_t time_ms;
    dec_t price;
    dec_t qty;
    bool buyer_is_maker; /* true when the taker sold */
} sim_trade_t;

/* ---- Stream events, as rendered ---- */

/* Diff depth (@depth, @depth@100ms, …) and futures partial depth (same shape on futures). */
typedef struct {
    const sim_symbol_t *symbol;
    int64_t event_time_ms;       /* E */
    int64_t transact_time_ms;    /* T (futures only) */
    uint64_t first_update_id;    /* U */
    uint64_t last_update_id;     /* u */
    uint64_t prev_last_update_id;/* pu (futures only) */
    const sim_level_t *bids;     /* best first */
    size_t bid_count;
    const sim_level_t *asks;     /* best first */
    size_t ask_count;
} sim_depth_event_t;

/* Spot partial depth (@depth5/10/20): {"lastUpdateId","bids","asks"} only. Futures partial
   depth uses sim_depth_event_t. */
typedef struct {
    const sim_symbol_t *symbol;
    uint64_t last_update_id;
    const sim_level_t *bids;
    size_t bid_count;
    const sim_level_t *asks;
    size_t ask_count;
} sim_partial_depth_t;

typedef struct {
    const sim_symbol_t *symbol;
    uint64_t update_id;       /* u: the book's last update id */
    int64_t event_time_ms;    /* futures E */
    int64_t transact_time_ms; /* futures T */
    dec_t bid_price, bid_qty, ask_price, ask_qty;
} sim_book_ticker_t;

typedef struct {
    const sim_symbol_t *symbol;
    int64_t event_time_ms;
    sim_trade_t trade; /* as the engine gave it, but trade.time_ms is wall time (T), like E */
} sim_trade_event_t;

typedef struct {
    const sim_symbol_t *symbol;
    int64_t event_time_ms;
    uint64_t agg_id;
    uint64_t first_trade_id, last_trade_id;
    int64_t trade_time_ms;
    dec_t price, qty;
    bool buyer_is_maker;
} sim_agg_trade_t;

typedef struct {
    const sim_symbol_t *symbol;
    int64_t event_time_ms;
    const char *interval;     /* "1m" */
    int64_t open_time_ms, close_time_ms;
    uint64_t first_trade_id, last_trade_id; /* f, L; with no trades Binance sends -1 and -1 */
    bool has_trades;
    dec_t open, close, high, low;
    dec_t volume;             /* base asset volume (COIN-M: contracts) */
    dec_t quote_volume;       /* quote volume, truncated to 8 places (COIN-M: base volume);
                                 rendered with 8 decimals on spot and COIN-M, and with
                                 price_decimals + qty_decimals (at most 8) on USD-M, where the
                                 exact sum of price × qty has no more */
    uint64_t trade_count;
    bool closed;              /* x */
    dec_t taker_buy_volume, taker_buy_quote_volume;
} sim_kline_t;

typedef struct {
    const sim_symbol_t *symbol;
    int64_t event_time_ms;
    dec_t mark_price, index_price, estimated_settle_price;
    dec_t funding_rate;        /* may be negative; COIN-M delivery contracts send "" */
    int64_t next_funding_time_ms;
    dec_t mark_price_avg;      /* ap (USD-M, current format): moving average of the mark price;
                                  0 when the stream layer does not track one: ap repeats p */
} sim_mark_price_t;

/* REST depth snapshot body (GET /api/v3/depth, /fapi/v1/depth, /dapi/v1/depth). */
typedef struct {
    const sim_symbol_t *symbol;
    uint64_t last_update_id;  /* lastUpdateId */
    int64_t event_time_ms;    /* E (futures only) */
    int64_t transact_time_ms; /* T (futures only) */
    const sim_level_t *bids;  /* best first */
    size_t bid_count;
    const sim_level_t *asks;  /* best first */
    size_t ask_count;
} sim_depth_snapshot_t;

#endif
