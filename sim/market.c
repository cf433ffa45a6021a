/*
 * market.c — one symbol's simulated market (market.h).
 *
 * What it is. A true order book plus two Poisson processes in logical time: book updates
 * (book_updates_per_s) that change one to three levels, and taker orders (trades_per_s) that
 * sweep levels from the top. Everything downstream — diff depth at each speed, snapshots,
 * bookTicker, trades, klines — is folded from what this engine emits, and the pipeline's books
 * are checked against sim_market_book(), so the engine is the ground truth of the whole sim.
 *
 * Determinism. All randomness comes from one xoshiro generator seeded with the symbol's own
 * seed; nothing reads a clock, global state or floating point. Event times are drawn in integer
 * microseconds (exponential inter-arrival times by table inversion, rng.h) when the previous
 * event of the same process runs, and the two processes are merged by time (a book update
 * before a taker order at the same microsecond). The sequence of draws is therefore fixed by
 * the event order alone, and sim_market_advance only decides how far to go: advance(1000) once
 * and advance(1), advance(2), … advance(1000) run the very same events.
 *
 * The book model, calibrated on the captures in binance-real-data (8 Aug 2024):
 *   - at time 0 each side holds ladder_levels levels: dense near the top (gaps of 1–2 ticks),
 *     sparser deeper (mean gap G ticks, G chosen so the ladder spans ~3% of the price, 1…16),
 *     quantities spread over about four decades around a per-market typical size (spot BTC
 *     median ~0.001, USD-M ~0.1, COIN-M ~300 contracts), mostly 2–3 significant digits on the
 *     step grid, some round, a few large;
 *   - a change picks a side, a level (85% among the best `near_levels`, skewed to the very top;
 *     15% anywhere), and an action: new quantity (55%), remove, or add a level (in the spread
 *     when at the top and the spread is wider than a tick — that moves the mid — else in a gap
 *     just below the chosen level, else beyond the worst level);
 *   - adds versus removes follow the side's size: the further below 7/8 of ladder_levels, the
 *     more adds; at 3/4 removals become adds, at ladder_levels adds become removals, and taker
 *     orders never take a side below half of ladder_levels. So a side stays within
 *     [ladder_levels/2, ladder_levels] and a futures book always fits a 1000-level snapshot;
 *   - the mid wanders through in-spread adds, top removals and sweeps; a gentle pull back toward
 *     the initial price (taker direction and in-spread adds lean against the deviation) keeps a
 *     day-long run from drifting the bid ladder toward zero.
 * Prices are handled in ticks and quantities in steps (int64), so the grids hold by construction.
 *
 * Cost. A book update is ~20 generator draws, a gallop search and a memmove of the few levels
 * above the changed one (book.c keeps the best level at the end of its array); no allocation
 * after sim_market_new: the update and trades handed to the sink live in the market.
 *
 * Rejected: simulating individual resting orders (queues, cancels, matching) — far more state
 * and cost for no property the pipeline can observe, since Binance publishes only level totals;
 * a shared generator for all symbols (symbols would depend on each other and on call order);
 * per-millisecond Bernoulli ticks (cost proportional to time, not to events, and a ceiling of
 * one event per ms); doubles for the random walk (results would depend on the compiler).
 */
#include "market.h"

#include "rng.h"

#include <stdlib.h>
#include <string.h>

#define MODIFY_PPM 550000u      /* share of book changes that set a new quantity */
#define CLOSE_SPREAD_PPM_PER_TICK 400000 /* chance a change steps into the spread, per tick */
#define CLOSE_SPREAD_PPM_MAX 900000      /* of width beyond one, up to this */
#define LEAN_PPM_PER_HALF_TICK 20000 /* how hard the book follows the fair price */
#define LEAN_MAX 300000              /* the lean never exceeds ±30% of a probability */
#define FAIR_STEP_DIVISOR 1000000    /* fair price step per update: up to price / this … */
#define FAIR_STEP_MAX 8              /* … at least 1 and at most this many ticks */
#define FAIR_REVERSION_SHIFT 18      /* fair price pulled back by 2^-18 of its deviation per update */
#define FAIR_Q 16                    /* the fair price is kept in 1/65536 ticks */
#define DENSE_TOP_LEVELS 8       /* initial levels with 1–2 tick gaps */
#define QTY_UNITS_MAX INT64_C(1000000000000000) /* 1e7 whole units: a sane ceiling per level */

struct sim_market_t {
    const sim_symbol_t *symbol;
    sim_market_params_t params;
    sim_rng_t rng;
    sim_book_t *book;
    bool futures;

    int64_t tick;          /* units of one tick */
    int64_t step;          /* units of one step */
    int64_t initial_ticks; /* initial price in ticks */
    int64_t gap_ticks;     /* mean gap between deep levels (G) */
    int64_t fair_q;          /* the fair price the book follows, in 1/2^16 ticks */
    int64_t fair_step_ticks; /* its largest step per book update */

    size_t max_levels;    /* a side never holds more (ladder_levels) */
    size_t target_levels; /* the size adds and removes aim at */
    size_t low_levels;    /* at or below: removals become adds */
    size_t min_levels;    /* taker orders never take a side below this */

    int64_t median_steps; /* typical resting quantity */
    int64_t max_steps;    /* largest quantity drawn */
    int64_t coin_steps;   /* steps in one whole unit when that is a sensible round size, else 0 */

    int64_t update_mean_us, trade_mean_us; /* 0: the process never fires */
    int64_t next_update_us, next_trade_us; /* INT64_MAX: never */

    uint64_t last_update_id;
    uint64_t last_trade_id;
    uint64_t last_taker_order_id;

    sim_update_t update; /* the event handed to on_update */
    sim_trade_t trades[SIM_UPDATE_MAX_CHANGES];
};

void sim_market_params_default(sim_market_params_t *p)
{
    *p = (sim_market_params_t){
        .book_updates_per_s = 20,
        .trades_per_s = 2,
        .futures_id_gap_mean = 40,
        .near_levels = 20,
        .far_change_ppm = 150000,
        .sweep_ppm = 100000,
        .max_sweep_levels = 8,
    };
}

/* ---- small helpers ---- */

static int64_t pow10_i64(int exponent)
{
    int64_t p = 1;
    while (exponent-- > 0)
        p *= 10;
    return p;
}

/* floor(log10(x)) for x >= 1. */
static int log10_floor(int64_t x)
{
    int e = 0;
    while (x >= 10) {
        x /= 10;
        e++;
    }
    return e;
}

/* q truncated to its first `digits` significant digits (q >= 1 stays >= 1). */
static int64_t round_significant(int64_t q, int digits)
{
    int64_t limit = pow10_i64(digits), p = 1;
    while (q / p >= limit)
        p *= 10;
    return q / p * p;
}

static int64_t clamp_i64(int64_t x, int64_t lo, int64_t hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static int64_t level_ticks(const sim_market_t *self, sim_level_t level)
{
    return level.price.units / self->tick;
}

static dec_t ticks_price(const sim_market_t *self, int64_t ticks)
{
    return (dec_t){ticks * self->tick};
}

static dec_t steps_qty(const sim_market_t *self, int64_t steps)
{
    return (dec_t){steps * self->step};
}

/* ---- quantities ---- */

/* A resting quantity in steps: a decade around the typical size (-2 … +2, mostly 0), uniform
   within it, then shaped like real books — some round, some whole units, a few large. */
static int64_t draw_qty_steps(sim_market_t *self)
{
    sim_rng_t *rng = &self->rng;
    uint64_t d = sim_rng_below(rng, 100);
    int offset = d < 8 ? -2 : d < 30 ? -1 : d < 70 ? 0 : d < 92 ? 1 : 2;
    int64_t base = offset < 0 ? self->median_steps / pow10_i64(-offset)
                              : self->median_steps * pow10_i64(offset);
    if (base < 1)
        base = 1;
    int64_t q = 1 + (int64_t)sim_rng_below(rng, (uint64_t)(2 * base));
    uint64_t shape = sim_rng_below(rng, 100);
    if (shape < 6)
        q = round_significant(q, 1); /* 0.00300000 */
    else if (shape < 9 && self->coin_steps > 0)
        q = self->coin_steps * (1 + (int64_t)sim_rng_below(rng, 3)); /* 1.00000000 */
    else if (shape < 10)
        q = self->median_steps * (20 + (int64_t)sim_rng_below(rng, 181)); /* a large order */
    else if (shape < 25)
        q = round_significant(q, 2);
    return clamp_i64(q, 1, self->max_steps);
}

/* A new quantity for a level that holds old_steps: a fresh draw, or a nudge of up to a quarter;
   never equal to the old one. */
static int64_t vary_qty_steps(sim_market_t *self, int64_t old_steps)
{
    int64_t q;
    if (sim_rng_below(&self->rng, 2) == 0) {
        q = draw_qty_steps(self);
    } else {
        int64_t delta = 1 + (int64_t)sim_rng_below(&self->rng, (uint64_t)(old_steps / 4 + 1));
        q = sim_rng_below(&self->rng, 2) ? old_steps + delta : old_steps - delta;
        if (q < 1 || q > self->max_steps)
            q = old_steps - delta >= 1 ? old_steps - delta : old_steps + delta;
    }
    if (q == old_steps)
        q = old_steps > 1 ? old_steps - 1 : old_steps + 1;
    return q;
}

/* ---- the fair price the book follows ---- */

/* One step of the fair price's random walk (in 1/2^16 ticks): uniform up to ±fair_step ticks,
   pulled back toward the initial price by 2^-18 of the deviation, kept within a factor of two. */
static void walk_fair_price(sim_market_t *self)
{
    int64_t step_q = self->fair_step_ticks << FAIR_Q;
    int64_t initial_q = self->initial_ticks << FAIR_Q;
    self->fair_q += sim_rng_range(&self->rng, -step_q, step_q);
    self->fair_q += (initial_q - self->fair_q) / (INT64_C(1) << FAIR_REVERSION_SHIFT);
    self->fair_q = clamp_i64(self->fair_q, initial_q / 2, initial_q * 2);
}

/* ppm by which choices lean toward raising the mid (negative: lowering it), from how far the
   mid is below (above) the fair price: ±2% per half tick, at most ±30%. */
static int32_t lean_ppm(const sim_market_t *self)
{
    sim_level_t bid, ask;
    if (!sim_book_best(self->book, SIM_BID, &bid) || !sim_book_best(self->book, SIM_ASK, &ask))
        return 0;
    int64_t twice_mid = level_ticks(self, bid) + level_ticks(self, ask);
    int64_t twice_fair = self->fair_q >> (FAIR_Q - 1);
    return (int32_t)clamp_i64((twice_fair - twice_mid) * LEAN_PPM_PER_HALF_TICK, -LEAN_MAX,
                              LEAN_MAX);
}

/* ---- book updates ---- */

/* Applies one change to the book and appends it to the pending update. -1 when the level was
   already changed in this update (one entry per price, as Binance sends) or the book refused. */
static int record_change(sim_market_t *self, sim_side_t side, int64_t ticks, int64_t steps)
{
    sim_update_t *u = &self->update;
    dec_t price = ticks_price(self, ticks);
    if (u->change_count == SIM_UPDATE_MAX_CHANGES)
        return -1;
    for (size_t i = 0; i < u->change_count; i++)
        if (u->changes[i].side == side && u->changes[i].price.units == price.units)
            return -1;
    dec_t qty = steps_qty(self, steps), prev;
    if (sim_book_set(self->book, side, price, qty, &prev) != 0)
        return -1;
    u->changes[u->change_count++] =
        (sim_change_t){.side = side, .price = price, .qty = qty, .prev_qty = prev};
    return 0;
}

/* An index among the best `near_levels`, skewed to the top (the lesser of two uniform draws:
   the best level is about ten times as likely as the 20th). */
static size_t near_index(sim_market_t *self, size_t count)
{
    size_t near = self->params.near_levels < count ? self->params.near_levels : count;
    size_t a = (size_t)sim_rng_below(&self->rng, near);
    size_t b = (size_t)sim_rng_below(&self->rng, near);
    return a < b ? a : b;
}

/* A free price (in ticks) for a new level on `side` at or below the index-th level; false when
   none fits (a bid ladder reaching the bottom of the price range). */
static bool new_level_ticks(sim_market_t *self, sim_side_t side, size_t index, int64_t *out)
{
    const sim_book_t *book = self->book;
    size_t count = sim_book_count(book, side);
    int64_t worse = side == SIM_BID ? -1 : 1; /* direction away from the spread */
    /* The first gap of more than a tick at or below the chosen level (looking a few levels). */
    for (size_t k = index; k + 1 < count && k < index + 8; k++) {
        int64_t here = level_ticks(self, sim_book_level(book, side, k));
        int64_t next = level_ticks(self, sim_book_level(book, side, k + 1));
        int64_t gap = (next - here) * worse;
        if (gap > 1) {
            *out = here + worse * (1 + (int64_t)sim_rng_below(&self->rng, (uint64_t)(gap - 1)));
            return true;
        }
    }
    int64_t worst = level_ticks(self, sim_book_level(book, side, count - 1));
    int64_t ticks =
        worst + worse * (1 + (int64_t)sim_rng_below(&self->rng, (uint64_t)(2 * self->gap_ticks)));
    if (ticks < 1)
        return false;
    *out = ticks;
    return true;
}

typedef enum { CHANGE_MODIFY, CHANGE_ADD, CHANGE_REMOVE } change_kind_t;

/* When the spread is wider than a tick, liquidity providers step in: with a probability that
   grows with the width, a new best level 1–2 ticks better than the current one. Returns 1 when
   nothing was placed (the caller makes an ordinary change), else record_change's result. */
static int close_spread(sim_market_t *self)
{
    sim_level_t bid, ask;
    sim_book_best(self->book, SIM_BID, &bid);
    sim_book_best(self->book, SIM_ASK, &ask);
    int64_t bid_ticks = level_ticks(self, bid), ask_ticks = level_ticks(self, ask);
    int64_t spread = ask_ticks - bid_ticks;
    if (spread <= 1)
        return 1;
    int64_t close_ppm = clamp_i64(CLOSE_SPREAD_PPM_PER_TICK * (spread - 1), 0, CLOSE_SPREAD_PPM_MAX);
    if (!sim_rng_chance_ppm(&self->rng, (uint32_t)close_ppm))
        return 1;
    /* Below the fair price, bids step in more often (raising the mid). */
    int64_t bid_ppm = 500000 + lean_ppm(self);
    sim_side_t side = sim_rng_chance_ppm(&self->rng, (uint32_t)bid_ppm) ? SIM_BID : SIM_ASK;
    if (sim_book_count(self->book, side) >= self->max_levels)
        return 1;
    /* 1–2 ticks better; up to a quarter of the width more when the spread is wide. */
    int64_t reach = clamp_i64(2 + (spread - 1) / 4, 1, spread - 1);
    int64_t offset = 1 + (int64_t)sim_rng_below(&self->rng, (uint64_t)reach);
    int64_t ticks = side == SIM_BID ? bid_ticks + offset : ask_ticks - offset;
    return record_change(self, side, ticks, draw_qty_steps(self));
}

/* Makes one random change; -1 when the draw led nowhere (the caller draws again). */
static int random_change(sim_market_t *self)
{
    sim_rng_t *rng = &self->rng;
    int closed = close_spread(self);
    if (closed <= 0)
        return closed;
    sim_side_t side = sim_rng_below(rng, 2) ? SIM_ASK : SIM_BID;
    size_t count = sim_book_count(self->book, side);
    bool far = sim_rng_chance_ppm(rng, self->params.far_change_ppm);
    size_t index = far ? (size_t)sim_rng_below(rng, count) : near_index(self, count);

    change_kind_t kind = CHANGE_MODIFY;
    if (!sim_rng_chance_ppm(rng, MODIFY_PPM)) {
        /* Adds versus removes: 50/50 at the target size, leaning ±40% over an eighth of it. */
        int64_t span = (int64_t)self->max_levels / 8 > 0 ? (int64_t)self->max_levels / 8 : 1;
        int64_t add_ppm =
            500000 + ((int64_t)self->target_levels - (int64_t)count) * 400000 / span;
        kind = sim_rng_chance_ppm(rng, (uint32_t)clamp_i64(add_ppm, 100000, 900000))
                   ? CHANGE_ADD
                   : CHANGE_REMOVE;
    }
    if (kind != CHANGE_MODIFY && !far) {
        /* Near the top, the side follows the fair price: to raise the mid, remove asks and add
           bids; to lower it, the reverse. */
        int64_t lean = lean_ppm(self);
        int64_t ask_ppm = kind == CHANGE_REMOVE ? 500000 + lean : 500000 - lean;
        side = sim_rng_chance_ppm(rng, (uint32_t)ask_ppm) ? SIM_ASK : SIM_BID;
        count = sim_book_count(self->book, side);
        if (index >= count)
            index = count - 1;
    }
    if (kind == CHANGE_ADD && count >= self->max_levels)
        kind = CHANGE_REMOVE;
    else if (kind == CHANGE_REMOVE && count <= self->low_levels)
        kind = CHANGE_ADD;

    sim_level_t level = sim_book_level(self->book, side, index);
    switch (kind) {
    case CHANGE_MODIFY: {
        int64_t steps = vary_qty_steps(self, level.qty.units / self->step);
        return record_change(self, side, level_ticks(self, level), steps);
    }
    case CHANGE_REMOVE:
        return record_change(self, side, level_ticks(self, level), 0);
    case CHANGE_ADD: {
        int64_t ticks;
        if (!new_level_ticks(self, side, index, &ticks))
            return -1;
        return record_change(self, side, ticks, draw_qty_steps(self));
    }
    }
    return -1;
}

/* Gives the pending update its ids and time. Spot: the next id. Futures: ids are global across
   the exchange, so skip a random gap and span a few ids. */
static void finish_update(sim_market_t *self, int64_t time_ms)
{
    sim_update_t *u = &self->update;
    if (self->futures) {
        uint64_t gap = sim_rng_exp(&self->rng, self->params.futures_id_gap_mean);
        u->first_id = self->last_update_id + 1 + gap;
        u->last_id = u->first_id + sim_rng_below(&self->rng, 4 * u->change_count + 1);
    } else {
        u->first_id = self->last_update_id + 1;
        u->last_id = u->first_id;
    }
    u->time_ms = time_ms;
    self->last_update_id = u->last_id;
}

static void book_update(sim_market_t *self, int64_t time_ms, const sim_market_sink_t *sink)
{
    self->update.change_count = 0;
    walk_fair_price(self);
    uint64_t d = sim_rng_below(&self->rng, 100);
    int changes = d < 60 ? 1 : d < 85 ? 2 : 3;
    for (int c = 0; c < changes; c++)
        for (int attempt = 0; attempt < 8; attempt++)
            if (random_change(self) == 0)
                break;
    if (self->update.change_count == 0) { /* every draw led nowhere: nudge the best bid */
        sim_level_t best;
        sim_book_best(self->book, SIM_BID, &best);
        record_change(self, SIM_BID, level_ticks(self, best),
                      vary_qty_steps(self, best.qty.units / self->step));
    }
    finish_update(self, time_ms);
    if (sink && sink->on_update)
        sink->on_update(sink->arg, &self->update);
}

/* ---- taker orders ---- */

static void taker_order(sim_market_t *self, int64_t time_ms, const sim_market_sink_t *sink)
{
    sim_rng_t *rng = &self->rng;
    int64_t buy_ppm = 500000 + lean_ppm(self); /* below the fair price: more buyers */
    bool buy = sim_rng_chance_ppm(rng, (uint32_t)buy_ppm);
    sim_side_t hit = buy ? SIM_ASK : SIM_BID;
    size_t count = sim_book_count(self->book, hit);

    size_t levels = 1;
    if (self->params.max_sweep_levels > 1 && sim_rng_chance_ppm(rng, self->params.sweep_ppm))
        levels = 2 + (size_t)sim_rng_below(rng, self->params.max_sweep_levels - 1);
    bool last_whole = sim_rng_chance_ppm(rng, 300000);
    /* Levels filled whole remove levels: never take the side below min_levels. */
    size_t removable = count > self->min_levels ? count - self->min_levels : 0;
    if (levels - 1 + (last_whole ? 1 : 0) > removable) {
        levels = removable + 1;
        last_whole = false;
    }

    sim_update_t *u = &self->update;
    u->change_count = 0;
    size_t whole_fills = 0;
    for (size_t j = 0; j < levels; j++) {
        sim_level_t level = sim_book_level(self->book, hit, j);
        int64_t have = level.qty.units / self->step, fill;
        bool whole = j + 1 < levels || last_whole || have == 1; /* one step cannot be split */
        if (whole && whole_fills == removable)
            whole = false; /* only when the last level was to be taken whole */
        if (whole) {
            fill = have;
            whole_fills++;
        } else if (have > 1) { /* partial, skewed small: the lesser of two uniform draws */
            int64_t a = 1 + (int64_t)sim_rng_below(rng, (uint64_t)(have - 1));
            int64_t b = 1 + (int64_t)sim_rng_below(rng, (uint64_t)(have - 1));
            fill = a < b ? a : b;
        } else {
            break; /* a one-step level on a side at its minimum size: nothing more to take */
        }
        self->trades[j] = (sim_trade_t){
            .trade_id = self->last_trade_id + 1 + j,
            .taker_order_id = self->last_taker_order_id + 1,
            .time_ms = time_ms,
            .price = level.price,
            .qty = steps_qty(self, fill),
            .buyer_is_maker = !buy,
        };
        u->changes[u->change_count++] = (sim_change_t){
            .side = hit,
            .price = level.price,
            .qty = steps_qty(self, have - fill),
            .prev_qty = level.qty,
        };
    }
    if (u->change_count == 0)
        return; /* the order found nothing it may take (a side at its minimum size) */
    size_t filled = u->change_count;
    self->last_taker_order_id++;
    self->last_trade_id += filled;
    if (sink && sink->on_trade)
        for (size_t j = 0; j < filled; j++)
            sink->on_trade(sink->arg, &self->trades[j]);
    for (size_t j = 0; j < filled; j++) /* cannot fail: changes and removals never allocate */
        sim_book_set(self->book, hit, u->changes[j].price, u->changes[j].qty, NULL);
    finish_update(self, time_ms);
    if (sink && sink->on_update)
        sink->on_update(sink->arg, u);
}

/* ---- life cycle ---- */

static int64_t next_arrival(sim_market_t *self, int64_t now_us, int64_t mean_us)
{
    if (mean_us == 0)
        return INT64_MAX;
    int64_t wait = (int64_t)sim_rng_exp(&self->rng, (uint64_t)mean_us);
    return now_us > INT64_MAX - wait ? INT64_MAX : now_us + wait;
}

/* The typical resting quantity in steps, from the magnitude of one step's value: about $10
   on spot, $1000 on USD-M; COIN-M books rest a few hundred contracts. */
static int64_t typical_steps(const sim_symbol_t *symbol)
{
    if (symbol->market == MARKET_COINM)
        return 300;
    int target_exp = symbol->market == MARKET_SPOT ? 1 : 3;
    int value_exp = log10_floor(symbol->initial_price.units) +
                    log10_floor(symbol->step_size.units) - 2 * DEC_PLACES;
    int exponent = target_exp - value_exp;
    if (exponent < 0)
        return 1;
    if (exponent > 6)
        exponent = 6;
    return pow10_i64(exponent);
}

/* Builds one side of the initial ladder from the best level outward, then inserts it worst
   first so that every insert lands at the top end of the book's array. */
static int build_side(sim_market_t *self, sim_side_t side, int64_t best_ticks,
                      sim_level_t *scratch)
{
    int64_t worse = side == SIM_BID ? -1 : 1;
    int64_t ticks = best_ticks;
    size_t n = self->max_levels;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            uint64_t extra = i < DENSE_TOP_LEVELS ? (self->gap_ticks > 1 ? 2 : 1)
                                                  : (uint64_t)(2 * self->gap_ticks - 1);
            ticks += worse * (1 + (int64_t)sim_rng_below(&self->rng, extra));
        }
        if (ticks < 1)
            return -1;
        scratch[i] = (sim_level_t){ticks_price(self, ticks), steps_qty(self, draw_qty_steps(self))};
    }
    for (size_t i = n; i-- > 0;)
        if (sim_book_set(self->book, side, scratch[i].price, scratch[i].qty, NULL) != 0)
            return -1;
    return 0;
}

static bool params_valid(const sim_market_params_t *p)
{
    return p->book_updates_per_s <= SIM_MARKET_RATE_MAX && p->trades_per_s <= SIM_MARKET_RATE_MAX &&
           p->max_sweep_levels >= 1 && p->max_sweep_levels <= SIM_UPDATE_MAX_CHANGES &&
           p->near_levels >= 1 && p->far_change_ppm <= 1000000 && p->sweep_ppm <= 1000000 &&
           p->futures_id_gap_mean <= 1000000u;
}

sim_market_t *sim_market_new(const sim_symbol_t *symbol, const sim_market_params_t *params)
{
    sim_market_params_t defaults;
    sim_market_params_default(&defaults);
    if (!params)
        params = &defaults;
    if (!symbol || !params_valid(params))
        return NULL;
    int64_t tick = symbol->tick_size.units, step = symbol->step_size.units;
    if (tick <= 0 || step <= 0 || symbol->ladder_levels < 2 ||
        symbol->initial_price.units < tick || symbol->initial_price.units % tick != 0)
        return NULL;

    sim_market_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->symbol = symbol;
    self->params = *params;
    self->futures = symbol->market != MARKET_SPOT;
    self->tick = tick;
    self->step = step;
    self->initial_ticks = symbol->initial_price.units / tick;
    self->max_levels = symbol->ladder_levels;
    self->target_levels = self->max_levels - self->max_levels / 8;
    self->low_levels = self->max_levels - self->max_levels / 4;
    self->min_levels = self->max_levels / 2;
    self->gap_ticks =
        clamp_i64(self->initial_ticks / (32 * (int64_t)self->max_levels), 1, 16);
    self->fair_q = self->initial_ticks << FAIR_Q;
    self->fair_step_ticks = self->initial_ticks / FAIR_STEP_DIVISOR;
    self->fair_step_ticks = clamp_i64(self->fair_step_ticks, 1, FAIR_STEP_MAX);
    self->median_steps = typical_steps(symbol);
    self->max_steps = QTY_UNITS_MAX / step;
    if (self->max_steps > self->median_steps * 10000)
        self->max_steps = self->median_steps * 10000;
    if (self->max_steps < 1)
        self->max_steps = 1;
    if (DEC_SCALE % step == 0 && DEC_SCALE / step <= 20 * self->median_steps)
        self->coin_steps = DEC_SCALE / step;
    self->update_mean_us = params->book_updates_per_s ? 1000000 / params->book_updates_per_s : 0;
    self->trade_mean_us = params->trades_per_s ? 1000000 / params->trades_per_s : 0;
    sim_rng_seed(&self->rng, symbol->seed);

    /* The bid ladder must fit above zero with room for the price to wander. */
    if (self->initial_ticks < 2 * ((int64_t)self->max_levels * self->gap_ticks + 16))
        goto fail;
    self->book = sim_book_new(self->max_levels);
    sim_level_t *scratch = malloc(self->max_levels * sizeof *scratch);
    if (!self->book || !scratch) {
        free(scratch);
        goto fail;
    }
    int64_t spread = 1;
    if (sim_rng_below(&self->rng, 2))
        spread += (int64_t)sim_rng_below(&self->rng, (uint64_t)clamp_i64(self->gap_ticks, 1, 4));
    int64_t best_bid = self->initial_ticks - spread / 2;
    int rc = build_side(self, SIM_BID, best_bid, scratch);
    if (rc == 0)
        rc = build_side(self, SIM_ASK, best_bid + spread, scratch);
    free(scratch);
    if (rc != 0)
        goto fail;

    /* Ids at the magnitudes Binance has: spot ~5e10, futures ~5e12 (global sequences). */
    if (self->futures)
        self->last_update_id = UINT64_C(1000000000000) + sim_rng_below(&self->rng, UINT64_C(8000000000000));
    else
        self->last_update_id = UINT64_C(20000000000) + sim_rng_below(&self->rng, UINT64_C(70000000000));
    self->last_trade_id = UINT64_C(1000000000) + sim_rng_below(&self->rng, UINT64_C(4000000000));
    self->last_taker_order_id =
        UINT64_C(10000000000) + sim_rng_below(&self->rng, UINT64_C(80000000000));
    self->next_update_us = next_arrival(self, 0, self->update_mean_us);
    self->next_trade_us = next_arrival(self, 0, self->trade_mean_us);
    return self;
fail:
    sim_market_destroy(&self);
    return NULL;
}

void sim_market_destroy(sim_market_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_market_t *self = *self_p;
    sim_book_destroy(&self->book);
    free(self);
    *self_p = NULL;
}

void sim_market_advance(sim_market_t *self, int64_t until_ms, const sim_market_sink_t *sink)
{
    if (until_ms <= 0)
        return;
    int64_t limit_us = until_ms > INT64_MAX / 1000 ? INT64_MAX : until_ms * 1000;
    for (;;) {
        bool update_first = self->next_update_us <= self->next_trade_us;
        int64_t now_us = update_first ? self->next_update_us : self->next_trade_us;
        if (now_us >= limit_us)
            return;
        if (update_first) {
            book_update(self, now_us / 1000, sink);
            self->next_update_us = next_arrival(self, now_us, self->update_mean_us);
        } else {
            taker_order(self, now_us / 1000, sink);
            self->next_trade_us = next_arrival(self, now_us, self->trade_mean_us);
        }
    }
}

int64_t sim_market_next_event_ms(const sim_market_t *self)
{
    int64_t next = self->next_update_us < self->next_trade_us ? self->next_update_us
                                                              : self->next_trade_us;
    return next == INT64_MAX ? INT64_MAX : next / 1000;
}

const sim_book_t *sim_market_book(const sim_market_t *self)
{
    return self->book;
}

uint64_t sim_market_last_update_id(const sim_market_t *self)
{
    return self->last_update_id;
}

uint64_t sim_market_last_trade_id(const sim_market_t *self)
{
    return self->last_trade_id;
}

const sim_symbol_t *sim_market_symbol(const sim_market_t *self)
{
    return self->symbol;
}
