/*
 * market.h — one symbol's simulated market: a true order book that changes and trades.
 *
 * The engine runs in logical time (integer ms from 0). Book updates and taker orders arrive as
 * two Poisson processes; each book update changes one to three levels, each taker order sweeps
 * one or more levels from the top and gives one trade per level filled, followed by one book
 * update for those levels. Everything is a function of (symbol, params) alone: the same inputs
 * give the same events byte for byte, however sim_market_advance calls are split, and whatever
 * other markets exist. No allocation after sim_market_new; not thread-safe (one owner).
 *
 * Invariants the engine keeps at every update (the tests check them):
 *   - neither side is ever empty and the book is never crossed; no level has quantity 0;
 *   - every price is on the tick grid, every quantity on the step grid;
 *   - a side holds at most symbol->ladder_levels levels, and at least half of that;
 *   - each change's prev_qty is the level's quantity before the change, so replaying the
 *     changes onto the initial book reproduces the engine's book exactly;
 *   - spot update ids are contiguous (first_id == last_id == previous last_id + 1); futures
 *     ids skip a random gap (first_id = previous last_id + 1 + gap) and span a few ids;
 *   - trade ids are contiguous per symbol.
 */
#ifndef BOOKCAST_SIM_MARKET_H
#define BOOKCAST_SIM_MARKET_H

#include "book.h"
#include "events.h"
#include "symbols.h"

#include <stdint.h>

typedef struct {
    uint32_t book_updates_per_s;  /* mean rate of book updates (besides trades'); default 20 */
    uint32_t trades_per_s;        /* mean rate of taker orders; default 2 */
    uint32_t futures_id_gap_mean; /* futures: mean ids skipped between updates; default 40 */
    uint32_t near_levels;         /* "near the top": the best this many levels; default 20 */
    uint32_t far_change_ppm;      /* share of book changes anywhere in the ladder; default 150000 */
    uint32_t sweep_ppm;           /* share of taker orders filling more than one level;
                                     default 100000 */
    uint32_t max_sweep_levels;    /* most levels one taker order fills, 1 … SIM_UPDATE_MAX_CHANGES;
                                     default 8 */
} sim_market_params_t;

/* Rates are capped so that a mean inter-arrival time is at least 1 µs. */
#define SIM_MARKET_RATE_MAX 1000000u

/* Fills *p with the defaults above. */
void sim_market_params_default(sim_market_params_t *p);

typedef struct sim_market_t sim_market_t;

/* A market for `symbol` (borrowed: it must outlive the market) at logical time 0, its book
   holding symbol->ladder_levels levels a side around symbol->initial_price. params NULL means
   the defaults. NULL when out of memory, or when params or the symbol are unusable (a rate
   above SIM_MARKET_RATE_MAX, max_sweep_levels outside 1 … SIM_UPDATE_MAX_CHANGES, a tick or step
   that is not positive, fewer than 2 ladder levels, a price too low for its ladder). */
sim_market_t *sim_market_new(const sim_symbol_t *symbol, const sim_market_params_t *params);
/* Frees *self_p and sets it to NULL. NULL-safe. */
void sim_market_destroy(sim_market_t **self_p);

typedef struct {
    /* A book update, already applied: sim_market_book() shows the book after it. */
    void (*on_update)(void *arg, const sim_update_t *u);
    /* A trade; the trades of one taker order come first, then the update for the levels they
       filled (same time_ms). During on_trade the book is still as before the taker order. */
    void (*on_trade)(void *arg, const sim_trade_t *t);
    void *arg;
} sim_market_sink_t;

/* Runs the engine up to logical time until_ms: every event with time_ms < until_ms that has not
   run yet, in time order, calling the sink (either callback, or the sink, may be NULL). Events
   are borrowed for the duration of the callback. The callbacks must not call advance on the
   same market. A until_ms at or before the last one does nothing. */
void sim_market_advance(sim_market_t *self, int64_t until_ms, const sim_market_sink_t *sink);

/* The logical time (ms) of the next event not yet run; INT64_MAX when both rates are 0. Lets a
   load-mode server jump straight to the next event. */
int64_t sim_market_next_event_ms(const sim_market_t *self);

/* The true book now (borrowed; changes with each advance). */
const sim_book_t *sim_market_book(const sim_market_t *self);

/* The book's update id now: the last update's last_id, or the starting id before any update
   (a snapshot taken at logical time 0 carries it as lastUpdateId). */
uint64_t sim_market_last_update_id(const sim_market_t *self);

/* The last trade id given, or the one before the first trade's id when none was given yet. */
uint64_t sim_market_last_trade_id(const sim_market_t *self);

/* The symbol given to sim_market_new. */
const sim_symbol_t *sim_market_symbol(const sim_market_t *self);

#endif
