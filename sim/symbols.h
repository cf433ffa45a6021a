/*
 * symbols.h — the simulated symbol universe of one market.
 *
 * A market's symbols are a pure function of (market, count, seed): the same arguments always give
 * the same names, tick and step sizes, decimals and starting prices, so two sim runs with one
 * seed serve identical exchangeInfo and identical streams. The first names are familiar ones
 * (BTCUSDT, ETHUSDT, …; COIN-M BTCUSD_PERP, …), including a USD-M delivery contract
 * BTCUSDT_251226 whose name has BTCUSDT as a prefix, because subscribers must cope with that.
 */
#ifndef BOOKCAST_SIM_SYMBOLS_H
#define BOOKCAST_SIM_SYMBOLS_H

#include "decimal.h"
#include "envelope.h" /* market_t */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_SYMBOL_MAX 32

typedef struct {
    char name[SIM_SYMBOL_MAX + 1];  /* "BTCUSDT", "BTCUSD_PERP", "BTCUSDT_251226" */
    char lower[SIM_SYMBOL_MAX + 1]; /* "btcusdt": the form used in stream names */
    char pair[SIM_SYMBOL_MAX + 1];  /* futures pair: "BTCUSD" (COIN-M "ps"), "BTCUSDT" (USD-M);
                                       spot: the name */
    char base[16];                  /* "BTC" */
    char quote[16];                 /* "USDT"; COIN-M: "USD" */
    market_t market;
    bool perpetual;                 /* futures: PERPETUAL, else a delivery contract; spot false */
    dec_t tick_size;                /* price grid, e.g. 0.01 (spot BTC), 0.10 (USD-M BTC) */
    dec_t step_size;                /* quantity grid, e.g. 0.00001 (spot BTC), 0.001, 1 (COIN-M) */
    unsigned price_decimals;        /* digits after the point in price strings: spot 8, futures
                                       the tick's */
    unsigned qty_decimals;          /* spot 8, USD-M the step's, COIN-M 0 (integer contracts) */
    dec_t initial_price;            /* mid price at logical time 0, on the tick grid */
    unsigned ladder_levels;         /* levels per side at logical time 0 */
    uint64_t seed;                  /* this symbol's own seed, derived from the run's seed */
} sim_symbol_t;

typedef struct sim_universe_t sim_universe_t;

/* The first `count` symbols of `market` for run seed `seed`. NULL when out of memory or when
   count is 0 or beyond SIM_UNIVERSE_MAX. */
#define SIM_UNIVERSE_MAX 10000
sim_universe_t *sim_universe_new(market_t market, size_t count, uint64_t seed);
void sim_universe_destroy(sim_universe_t **self_p);

size_t sim_universe_count(const sim_universe_t *self);
/* The index-th symbol (borrowed, valid until the universe is destroyed); NULL when index >= count. */
const sim_symbol_t *sim_universe_get(const sim_universe_t *self, size_t index);
/* Looks a symbol up by name in any case ("btcusdt" or "BTCUSDT"); NULL when unknown. */
const sim_symbol_t *sim_universe_find(const sim_universe_t *self, const char *name);
/* The index of `symbol` in the universe; SIZE_MAX when it is not one of this universe's. */
size_t sim_universe_index(const sim_universe_t *self, const sim_symbol_t *symbol);

#endif
