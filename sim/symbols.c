/*
 * symbols.c — the simulated symbol universes (symbols.h).
 *
 * Each market starts with a short list of familiar symbols whose grids follow Binance's (spot
 * BTCUSDT tick 0.01 step 0.00001; USD-M BTCUSDT tick 0.10 with two price decimals, as the real
 * "61510.90" shows; COIN-M quantities in whole contracts), then generated ones named after their
 * index ("S0042USDT", "S0042USD_PERP"). Starting prices of the familiar symbols are those of the
 * captures in binance-real-data (8 Aug 2024) so a demo looks like that day.
 *
 * Stability. A symbol is a pure function of (run seed, market, name): its seed is a hash of the
 * three, and everything random about it (generated price, grids, ladder size) is drawn from its
 * own generator. Names depend only on the index, so a universe of 10 symbols is exactly the
 * first 10 of a universe of 2000, and adding symbols never changes existing ones.
 *
 * Generated grids. Prices spread over 0.0001 … 50000 (a decade drawn uniformly, then a
 * 4-digit mantissa); the tick leaves 5 or 6 significant digits (price / tick in 10^4 … 10^6)
 * and is never finer than 1e-8; futures ticks are sometimes 5 or 10 units of their last decimal
 * ("0.05", "0.10") so the grid is not always a power of ten. Steps make one step worth about
 * $0.01–$1 on spot (never coarser than 1) and $1–$100 on USD-M (0.001 … 1000); COIN-M steps are
 * one contract. Generated ladders hold 200–600 levels a side; the familiar ones up to 2000 (spot
 * BTCUSDT) and at most 1000 on futures, whose REST snapshots stop at 1000 levels.
 *
 * Lookup by name goes through an index sorted by the lower-case name (binary search), because
 * the WebSocket layer looks up every subscribed stream and universes hold thousands of names.
 *
 * Rejected: tables of real exchangeInfo for thousands of symbols (large, dated, licence
 * questions), and random names (a stable, readable index in the name helps people debugging).
 */
#include "symbols.h"

#include "rng.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sim_universe_t {
    market_t market;
    size_t count;
    sim_symbol_t *symbols;
    size_t *by_name; /* indices into symbols, ordered by `lower` */
};

/* A familiar symbol. Decimal grids are written as strings, exactly as exchangeInfo has them. */
typedef struct {
    const char *name;
    const char *base;
    const char *quote;
    const char *pair;
    bool perpetual;
    const char *tick;
    const char *step;
    unsigned price_decimals;
    unsigned qty_decimals;
    const char *price;
    unsigned ladder_levels;
} named_symbol_t;

/* Spot renders every price and quantity with 8 decimals. */
static const named_symbol_t spot_named[] = {
    {"BTCUSDT", "BTC", "USDT", "BTCUSDT", false, "0.01", "0.00001", 8, 8, "61837.63", 2000},
    {"ETHUSDT", "ETH", "USDT", "ETHUSDT", false, "0.01", "0.0001", 8, 8, "2682.15", 1600},
    {"BNBUSDT", "BNB", "USDT", "BNBUSDT", false, "0.01", "0.001", 8, 8, "520.13", 1200},
    {"SOLUSDT", "SOL", "USDT", "SOLUSDT", false, "0.01", "0.001", 8, 8, "152.37", 1200},
    {"XRPUSDT", "XRP", "USDT", "XRPUSDT", false, "0.0001", "1", 8, 8, "0.5612", 600},
    {"DOGEUSDT", "DOGE", "USDT", "DOGEUSDT", false, "0.00001", "1", 8, 8, "0.10234", 800},
    {"ADAUSDT", "ADA", "USDT", "ADAUSDT", false, "0.0001", "0.1", 8, 8, "0.3521", 400},
    {"LTCUSDT", "LTC", "USDT", "LTCUSDT", false, "0.01", "0.001", 8, 8, "61.04", 600},
};

/* USD-M: prices with pricePrecision decimals (BTCUSDT: 2 for a 0.10 tick), quantities with the
   step's. BTCUSDT_251226 is a delivery contract whose name starts with "BTCUSDT". */
static const named_symbol_t usdm_named[] = {
    {"BTCUSDT", "BTC", "USDT", "BTCUSDT", true, "0.10", "0.001", 2, 3, "61800.20", 1000},
    {"ETHUSDT", "ETH", "USDT", "ETHUSDT", true, "0.01", "0.001", 2, 3, "2681.50", 1000},
    {"BTCUSDT_251226", "BTC", "USDT", "BTCUSDT", false, "0.1", "0.001", 1, 3, "63120.0", 500},
    {"SOLUSDT", "SOL", "USDT", "SOLUSDT", true, "0.01", "1", 2, 0, "152.35", 800},
    {"XRPUSDT", "XRP", "USDT", "XRPUSDT", true, "0.0001", "0.1", 4, 1, "0.5611", 600},
    {"DOGEUSDT", "DOGE", "USDT", "DOGEUSDT", true, "0.00001", "1", 5, 0, "0.10231", 800},
    {"BNBUSDT", "BNB", "USDT", "BNBUSDT", true, "0.01", "0.01", 2, 2, "520.10", 800},
    {"ETHUSDT_251226", "ETH", "USDT", "ETHUSDT", false, "0.01", "0.001", 2, 3, "2710.25", 500},
};

/* COIN-M: quantities are whole contracts. */
static const named_symbol_t coinm_named[] = {
    {"BTCUSD_PERP", "BTC", "USD", "BTCUSD", true, "0.1", "1", 1, 0, "61790.1", 1000},
    {"ETHUSD_PERP", "ETH", "USD", "ETHUSD", true, "0.01", "1", 2, 0, "2682.17", 1000},
    {"BTCUSD_251226", "BTC", "USD", "BTCUSD", false, "0.1", "1", 1, 0, "63050.0", 500},
    {"SOLUSD_PERP", "SOL", "USD", "SOLUSD", true, "0.01", "1", 2, 0, "152.34", 600},
    {"XRPUSD_PERP", "XRP", "USD", "XRPUSD", true, "0.0001", "1", 4, 0, "0.5610", 600},
    {"ETHUSD_251226", "ETH", "USD", "ETHUSD", false, "0.01", "1", 2, 0, "2709.80", 500},
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static void named_list(market_t market, const named_symbol_t **list, size_t *count)
{
    switch (market) {
    case MARKET_SPOT:
        *list = spot_named;
        *count = COUNT_OF(spot_named);
        break;
    case MARKET_USDM:
        *list = usdm_named;
        *count = COUNT_OF(usdm_named);
        break;
    case MARKET_COINM:
        *list = coinm_named;
        *count = COUNT_OF(coinm_named);
        break;
    default:
        *list = NULL;
        *count = 0;
    }
}

/* 10^exponent units of 1e-8, for exponent -8 … 10. */
static dec_t dec_pow10(int exponent)
{
    int64_t units = 1;
    for (int i = -8; i < exponent; i++)
        units *= 10;
    return (dec_t){units};
}

/* Parses a decimal of the tables above; -1 on a malformed entry (a bug caught by any test). */
static int dec_of(const char *text, dec_t *out)
{
    return dec_parse(text, strlen(text), 0, out) == DEC_OK && out->units > 0 ? 0 : -1;
}

static void copy_text(char *dst, size_t dst_size, const char *src)
{
    snprintf(dst, dst_size, "%s", src);
}

static void set_lower(sim_symbol_t *s)
{
    size_t i = 0;
    for (; s->name[i] != '\0'; i++)
        s->lower[i] = (char)tolower((unsigned char)s->name[i]);
    s->lower[i] = '\0';
}

/* FNV-1a of the name, mixed with the run seed and the market. */
static uint64_t symbol_seed(uint64_t run_seed, market_t market, const char *name)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= UINT64_C(0x100000001b3);
    }
    return sim_mix64(sim_mix64(run_seed) ^ sim_mix64(h + (uint64_t)market));
}

static int fill_named(sim_symbol_t *s, market_t market, const named_symbol_t *n)
{
    copy_text(s->name, sizeof s->name, n->name);
    copy_text(s->pair, sizeof s->pair, n->pair);
    copy_text(s->base, sizeof s->base, n->base);
    copy_text(s->quote, sizeof s->quote, n->quote);
    s->market = market;
    s->perpetual = n->perpetual;
    s->price_decimals = n->price_decimals;
    s->qty_decimals = n->qty_decimals;
    s->ladder_levels = n->ladder_levels;
    if (dec_of(n->tick, &s->tick_size) != 0 || dec_of(n->step, &s->step_size) != 0 ||
        dec_of(n->price, &s->initial_price) != 0)
        return -1;
    return 0;
}

/* A generated symbol: everything after the name comes from its own seed. */
static void fill_generated(sim_symbol_t *s, market_t market, size_t index)
{
    char number[8];
    snprintf(number, sizeof number, "S%04u", (unsigned)index);
    copy_text(s->base, sizeof s->base, number);
    s->market = market;
    if (market == MARKET_COINM) {
        snprintf(s->name, sizeof s->name, "%sUSD_PERP", number);
        snprintf(s->pair, sizeof s->pair, "%sUSD", number);
        copy_text(s->quote, sizeof s->quote, "USD");
    } else {
        snprintf(s->name, sizeof s->name, "%sUSDT", number);
        copy_text(s->pair, sizeof s->pair, s->name);
        copy_text(s->quote, sizeof s->quote, "USDT");
    }
    s->perpetual = market != MARKET_SPOT;

    sim_rng_t rng;
    sim_rng_seed(&rng, s->seed);
    /* price = 0.mmmmmm × 10^(decade+1) with a 6-digit mantissa: 10^decade <= price < 10^(decade+1) */
    int decade = (int)sim_rng_range(&rng, -4, 4);
    int64_t mantissa = sim_rng_range(&rng, 100000, decade == 4 ? 500000 : 999999);
    /* The tick leaves 5 or 6 significant digits (price / tick in 10^4 … 10^6); never finer than
       1e-8. Some futures ticks are 5 or 10 units of the last decimal. */
    int tick_exp = decade - 3 - (int)sim_rng_range(&rng, 1, 2);
    int64_t tick_multiple = 1;
    if (market != MARKET_SPOT && decade - 5 >= -8) {
        uint64_t pick = sim_rng_below(&rng, 10);
        if (pick <= 1) {
            tick_exp = decade - 5;
            tick_multiple = pick == 0 ? 5 : 10; /* "0.05"; "0.10": a decimal more than needed */
        }
    }
    if (tick_exp < -8)
        tick_exp = -8;
    dec_t tick = dec_pow10(tick_exp);
    tick.units *= tick_multiple;
    s->tick_size = tick;
    int64_t price_units = decade + 3 >= 0 ? mantissa * dec_pow10(decade - 5).units /* ≥ 1e-8 */
                                           : mantissa / 10; /* decade -4: 5 digits, in 1e-8 units */
    price_units -= price_units % tick.units; /* onto the grid */
    if (price_units < tick.units)
        price_units = tick.units;
    s->initial_price = (dec_t){price_units};

    int step_exp;
    if (market == MARKET_SPOT) {
        step_exp = -decade - 1 - (int)sim_rng_below(&rng, 2); /* one step ≈ $0.01 … $1 */
        if (step_exp < -8)
            step_exp = -8;
        if (step_exp > 0)
            step_exp = 0;
        s->price_decimals = 8;
        s->qty_decimals = 8;
    } else if (market == MARKET_USDM) {
        step_exp = -decade + (int)sim_rng_below(&rng, 2); /* one step ≈ $1 … $100 */
        if (step_exp < -3)
            step_exp = -3;
        if (step_exp > 3)
            step_exp = 3;
        s->price_decimals = tick_exp < 0 ? (unsigned)-tick_exp : 0;
        s->qty_decimals = step_exp < 0 ? (unsigned)-step_exp : 0;
    } else {
        step_exp = 0; /* one contract */
        s->price_decimals = tick_exp < 0 ? (unsigned)-tick_exp : 0;
        s->qty_decimals = 0;
    }
    s->step_size = dec_pow10(step_exp);
    s->ladder_levels = (unsigned)sim_rng_range(&rng, 200, 600);
}

static int compare_lower(const void *a, const void *b, void *arg)
{
    const sim_symbol_t *symbols = arg;
    return strcmp(symbols[*(const size_t *)a].lower, symbols[*(const size_t *)b].lower);
}

sim_universe_t *sim_universe_new(market_t market, size_t count, uint64_t seed)
{
    if (count == 0 || count > SIM_UNIVERSE_MAX)
        return NULL;
    if (market != MARKET_SPOT && market != MARKET_USDM && market != MARKET_COINM)
        return NULL;
    sim_universe_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->market = market;
    self->count = count;
    self->symbols = calloc(count, sizeof *self->symbols);
    self->by_name = calloc(count, sizeof *self->by_name);
    if (!self->symbols || !self->by_name) {
        sim_universe_destroy(&self);
        return NULL;
    }
    const named_symbol_t *named;
    size_t named_count;
    named_list(market, &named, &named_count);
    for (size_t i = 0; i < count; i++) {
        sim_symbol_t *s = &self->symbols[i];
        if (i < named_count) {
            if (fill_named(s, market, &named[i]) != 0) {
                sim_universe_destroy(&self);
                return NULL;
            }
            s->seed = symbol_seed(seed, market, s->name);
        } else {
            /* The seed depends on the name, which depends only on the index. */
            char name[SIM_SYMBOL_MAX + 1];
            snprintf(name, sizeof name, market == MARKET_COINM ? "S%04uUSD_PERP" : "S%04uUSDT",
                     (unsigned)i);
            s->seed = symbol_seed(seed, market, name);
            fill_generated(s, market, i);
        }
        set_lower(s);
        self->by_name[i] = i;
    }
    qsort_r(self->by_name, count, sizeof *self->by_name, compare_lower, self->symbols);
    return self;
}

void sim_universe_destroy(sim_universe_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_universe_t *self = *self_p;
    free(self->symbols);
    free(self->by_name);
    free(self);
    *self_p = NULL;
}

size_t sim_universe_count(const sim_universe_t *self)
{
    return self->count;
}

const sim_symbol_t *sim_universe_get(const sim_universe_t *self, size_t index)
{
    return index < self->count ? &self->symbols[index] : NULL;
}

const sim_symbol_t *sim_universe_find(const sim_universe_t *self, const char *name)
{
    char lower[SIM_SYMBOL_MAX + 1];
    size_t len = 0;
    if (!name)
        return NULL;
    for (; name[len] != '\0'; len++) {
        if (len == SIM_SYMBOL_MAX)
            return NULL;
        lower[len] = (char)tolower((unsigned char)name[len]);
    }
    lower[len] = '\0';
    size_t lo = 0, hi = self->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const sim_symbol_t *s = &self->symbols[self->by_name[mid]];
        int c = strcmp(s->lower, lower);
        if (c == 0)
            return s;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t sim_universe_index(const sim_universe_t *self, const sim_symbol_t *symbol)
{
    uintptr_t first = (uintptr_t)self->symbols, at = (uintptr_t)symbol;
    if (at < first || at >= first + self->count * sizeof *self->symbols ||
        (at - first) % sizeof *self->symbols != 0)
        return SIZE_MAX;
    return (at - first) / sizeof *self->symbols;
}
