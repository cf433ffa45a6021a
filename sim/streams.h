/*
 * streams.h — one symbol's Binance streams, folded from the engine's updates and trades.
 *
 * The engine hands every book update and trade of a symbol, in logical-time order, to
 * sim_streams_on_update / sim_streams_on_trade; sim_streams_tick tells the streams that logical
 * time has reached `now` with nothing else happening. Out come the events of every stream the
 * market has — diff depth at each speed, partial depth, bookTicker, trade, aggTrade, klines,
 * markPrice — through the callbacks of a sink, each event in a buffer the streams own and valid
 * only during the callback.
 *
 * The events depend only on the updates and trades and their logical times: not on how often
 * tick is called, not on wall time, and not on when interest was set (interest only decides what
 * is handed to the sink). streams.c explains the windows and where each rule comes from.
 *
 * Not thread-safe: one owner. A sink callback must not call back into the same sim_streams_t.
 */
#ifndef BOOKCAST_SIM_STREAMS_H
#define BOOKCAST_SIM_STREAMS_H

#include "events.h"
#include "symbols.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Diff and partial depth speeds. Spot: 1000 ms (plain @depth, @depthN) and 100 ms. Futures:
   250 ms (plain @depth, @depthN), 500 ms, 100 ms, and 0 ms (diff only: one event per update). */
typedef enum {
    SIM_SPEED_0MS = 0,
    SIM_SPEED_100MS,
    SIM_SPEED_250MS,
    SIM_SPEED_500MS,
    SIM_SPEED_1000MS,
    SIM_SPEED_COUNT
} sim_depth_speed_t;

/* Window length of `speed` in ms (0, 100, 250, 500, 1000). */
unsigned sim_depth_speed_ms(sim_depth_speed_t speed);
/* True when `market` has a diff depth stream at `speed`. */
bool sim_depth_speed_valid(market_t market, sim_depth_speed_t speed);
/* True when `market` has partial depth streams at `speed` (as diff, minus futures' 0 ms). */
bool sim_partial_speed_valid(market_t market, sim_depth_speed_t speed);
/* The speed of the plain "<s>@depth" / "<s>@depth<N>" stream: spot 1000 ms, futures 250 ms. */
sim_depth_speed_t sim_depth_speed_default(market_t market);

/* Partial depth sizes: @depth5, @depth10, @depth20. */
typedef enum { SIM_PARTIAL_5 = 0, SIM_PARTIAL_10, SIM_PARTIAL_20, SIM_PARTIAL_COUNT } sim_partial_t;
/* Levels per side of `partial`: 5, 10 or 20. */
unsigned sim_partial_levels(sim_partial_t partial);

/* Kline intervals, in Binance's order. Futures have all but 1s. */
typedef enum {
    SIM_KLINE_1S = 0,
    SIM_KLINE_1M,
    SIM_KLINE_3M,
    SIM_KLINE_5M,
    SIM_KLINE_15M,
    SIM_KLINE_30M,
    SIM_KLINE_1H,
    SIM_KLINE_2H,
    SIM_KLINE_4H,
    SIM_KLINE_6H,
    SIM_KLINE_8H,
    SIM_KLINE_12H,
    SIM_KLINE_1D,
    SIM_KLINE_3D,
    SIM_KLINE_1W,
    SIM_KLINE_1MO, /* "1M": calendar month, UTC */
    SIM_KLINE_COUNT
} sim_kline_interval_t;

/* The interval as Binance writes it ("1s", "1m", …, "1M"); a static string. */
const char *sim_kline_interval_name(sim_kline_interval_t interval);
/* Parses a name written as above (case matters: "1m" is a minute, "1M" a month). Returns 0, or
   -1 and leaves *out when the name is unknown. */
int sim_kline_interval_parse(const char *name, sim_kline_interval_t *out);
/* True when `market` has klines of `interval` (spot: all; futures: all but 1s). */
bool sim_kline_interval_valid(market_t market, sim_kline_interval_t interval);

/* markPrice speeds: <s>@markPrice (3000 ms) and <s>@markPrice@1s. Futures only. */
typedef enum { SIM_MARK_3S = 0, SIM_MARK_1S, SIM_MARK_COUNT } sim_mark_speed_t;

/* A read-only view of a book, best first on both sides. The streams read at most the best
   SIM_STREAMS_BOOK_LEVELS levels of each side, so a view of just those is enough. */
#define SIM_STREAMS_BOOK_LEVELS 20
typedef struct {
    const sim_level_t *bids; /* descending price */
    size_t bid_count;
    const sim_level_t *asks; /* ascending price */
    size_t ask_count;
    uint64_t last_update_id; /* the book's id; read by sim_streams_set_initial_book only */
} sim_book_view_t;

/* Where events go. Every callback may be NULL (that kind is dropped). `ctx` is passed back. The
   event and the arrays it points to belong to the streams and live until the callback returns. */
typedef struct {
    void *ctx;
    /* Diff depth <s>@depth[@<speed>]. */
    void (*diff_depth)(void *ctx, const sim_depth_event_t *ev, sim_depth_speed_t speed);
    /* Spot partial depth <s>@depth<N>[@100ms]. */
    void (*partial_depth_spot)(void *ctx, const sim_partial_depth_t *ev, sim_partial_t partial,
                               sim_depth_speed_t speed);
    /* Futures partial depth <s>@depth<N>[@<speed>]: the diff shape, U/u/pu of the window. */
    void (*partial_depth_futures)(void *ctx, const sim_depth_event_t *ev, sim_partial_t partial,
                                  sim_depth_speed_t speed);
    void (*book_ticker)(void *ctx, const sim_book_ticker_t *ev);
    void (*trade)(void *ctx, const sim_trade_event_t *ev);
    void (*agg_trade)(void *ctx, const sim_agg_trade_t *ev);
    void (*kline)(void *ctx, const sim_kline_t *ev, sim_kline_interval_t interval);
    void (*mark_price)(void *ctx, const sim_mark_price_t *ev, sim_mark_speed_t speed);
} sim_streams_sink_t;

/* Which streams have subscribers. Bits of speeds, intervals or mark speeds a market does not
   have are ignored. */
typedef struct {
    uint32_t diff_depth;                       /* bit 1u << sim_depth_speed_t */
    uint32_t partial_depth[SIM_PARTIAL_COUNT]; /* per size, bit 1u << sim_depth_speed_t */
    bool book_ticker;
    bool trade;
    bool agg_trade;
    uint32_t kline;      /* bit 1u << sim_kline_interval_t */
    uint32_t mark_price; /* bit 1u << sim_mark_speed_t */
} sim_streams_interest_t;

/* Every stream of every kind: for tests and for a sim that renders everything. */
sim_streams_interest_t sim_streams_interest_all(void);

typedef struct sim_streams_t sim_streams_t;

/* The streams of `symbol` (borrowed: must outlive the streams; its market decides the streams,
   its seed the deterministic details). epoch_ms is the wall time of logical time 0 and is added
   to every E and T; kline boundaries and funding times follow the UTC calendar of wall time.
   Starts with no sink and no interest. NULL when out of memory or symbol is NULL. */
sim_streams_t *sim_streams_new(const sim_symbol_t *symbol, int64_t epoch_ms);
/* Frees *self_p and sets it to NULL. NULL-safe. */
void sim_streams_destroy(sim_streams_t **self_p);

/* The book at logical time 0 (levels copied) and its update id. Call it before the first update:
   it is what spot partial depth and markPrice show until the first update, and its id is the
   futures pu of the first diff event. Without it, snapshot-like streams start at the first
   update and that first pu is first_id - 1. Returns 0, or -1 (ignored) after the first update. */
int sim_streams_set_initial_book(sim_streams_t *self, const sim_book_view_t *book);

/* One engine update, applied to the true book whose state afterwards is `book_after` (read
   during the call only). First closes every window ending at or before u->time_ms, then folds the
   update in: every diff speed, the @0ms event, bookTicker when the best bid or ask changed.
   book_after must not be NULL; if it is, the streams keep the book they had and send no
   bookTicker. */
void sim_streams_on_update(sim_streams_t *self, const sim_update_t *u,
                           const sim_book_view_t *book_after);

/* One trade. First closes every window ending at or before t->time_ms, then emits the trade and
   folds it into aggTrade and every kline interval. */
void sim_streams_on_trade(sim_streams_t *self, const sim_trade_t *t);

/* Logical time has reached now_ms: closes every window ending at or before now_ms, emitting its
   events in the order of their end times. Nothing earlier than now_ms may be given afterwards.
   The book between updates is the one after the last update, which the streams keep; no book is
   taken here, so how often tick is called cannot change any event. */
void sim_streams_tick(sim_streams_t *self, int64_t now_ms);

/* The logical time of the next window end with something to emit (tick(t) for any t below it
   does nothing); INT64_MAX when none. Changes with every input and with the interest. */
int64_t sim_streams_next_deadline_ms(const sim_streams_t *self);

/* Replaces the sink (copied; NULL: none). */
void sim_streams_set_sink(sim_streams_t *self, const sim_streams_sink_t *sink);

/* Replaces the interest (copied; NULL: none). Takes effect for every event emitted from now on;
   accumulation never depends on it. */
void sim_streams_set_interest(sim_streams_t *self, const sim_streams_interest_t *interest);

/* Inputs whose time was earlier than a time already reached (a caller bug): they were folded in
   at the time already reached. */
uint64_t sim_streams_late_inputs(const sim_streams_t *self);
/* Levels a window could not record because memory ran out (each also logged). */
uint64_t sim_streams_dropped_levels(const sim_streams_t *self);

#endif
