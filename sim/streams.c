/*
 * streams.c — one symbol's Binance streams, folded from engine updates and trades.
 *
 * What each stream is (binance-protocol.md §3 and §5; shapes checked against the captures in
 * binance-real-data/):
 *
 *   diff depth    One event per window [k·W, (k+1)·W) of logical time that holds updates; W is the
 *                 speed: spot 1000 ms (@depth) and 100 ms; futures 250 ms (@depth), 500, 100 ms,
 *                 and 0 ms = one event per engine update. U = first update's first_id, u = last
 *                 update's last_id, futures pu = last_id of the update before the window's first
 *                 one — so the pu chain holds across windows without updates, which send nothing
 *                 ([UM-DEPTH]: "pu = u of previous event"; the usdm capture's pu chain skips no
 *                 event). Levels: the final quantity of every price changed in the window, 0 when
 *                 removed, best first. E = epoch + window end (spot capture: E steps by exactly
 *                 100 ms); futures T = epoch + time of the window's last update; @0ms E = T =
 *                 epoch + update time.
 *   partial depth @depth5/10/20 at the market's speeds but 0 ms. Spot: at every window end the
 *                 top N of the book, {lastUpdateId}. Futures: the diff shape with the U/u/pu of
 *                 the window's updates; a window without updates sends nothing (there is no U/u to
 *                 give, and the book did not change).
 *   bookTicker    Real time: after every update that changed the best bid or ask price or
 *                 quantity; u = that update's last_id, futures E = T = epoch + update time.
 *   trade         Real time, one per trade; T = epoch + trade time, E = T + 0 or 1 ms (a hash
 *                 of the trade id: the captures show E - T of 0..1 ms).
 *   aggTrade      Spot: the consecutive trades of one taker order at one price (contiguous trade
 *                 ids); it is complete when a trade that does not belong arrives, or at the end of
 *                 its millisecond. E = T = epoch + trade time (spot capture: E == T). Futures
 *                 ("100 ms aggregation", [UM-AGG]): consecutive trades with the same price and
 *                 side within 100 ms of the aggregate's first trade; complete when a trade that
 *                 does not belong arrives (E = epoch + that trade's time) or 100 ms after the
 *                 first trade (E = epoch + first + 100). T = epoch + first trade's time, which
 *                 makes E - T the constant the futures captures show (~155 ms there, 100 here).
 *                 Aggregate ids are the symbol's own contiguous sequence.
 *   kline         Every interval the market has, built from trades; the candle's bounds follow
 *                 the UTC calendar of wall time (epoch_ms + logical), weeks start on Monday, 3d
 *                 candles count from 1970-01-01, months are calendar months. An event goes out at
 *                 the end of a cadence window (spot 2000 ms, 1000 ms for 1s; futures 250 ms) only
 *                 when the candle changed in it, and once with x = true when the candle closes (E
 *                 = epoch + the boundary), empty or not. The captures show this: an illiquid
 *                 symbol's kline stream is silent between trades (spot LRCBTC: one kline in 30 s,
 *                 with its one trade), and every E is right after a trade, never on a clock. An
 *                 empty candle has f = L = -1 (has_trades false), o = h = l = c = previous close
 *                 (the symbol's initial price before any trade). Quote volume Σ price × qty is
 *                 summed exactly in 128 bits and truncated to 8 places when sent. COIN-M: volume
 *                 is contracts, "quote" volume is base volume Σ contracts × size / price, each
 *                 trade's term truncated to 8 places; size is 100 USD for BTC, else 10 USD (the
 *                 delivery capture's ETH and ETC figures fit 10).
 *   markPrice     Futures, at every 3000 ms (@markPrice) or 1000 ms (@markPrice@1s) boundary of
 *                 logical time: p = mid of the best bid and ask rounded down to the tick; i = p
 *                 + (-1, 0 or +1) tick, a hash of the wall second so both speeds agree; P = i;
 *                 perpetuals: r = a hash of the 8 h funding period, -0.0001 … 0.0003 in steps of
 *                 0.00001, T = the next 00/08/16 UTC boundary after E; delivery contracts: no
 *                 funding (render.c writes "r":"" and "T":0). "ap" is not tracked (0: the
 *                 renderer repeats p).
 *
 * Time and determinism. Every stream state changes only at input times (updates, trades) and at
 * window ends ("deadlines"). advance(t) processes every deadline <= t in increasing order — at one
 * instant in a fixed order: aggTrade, depth by speed, klines by interval, markPrice — before an
 * input at t is folded in. Deadlines are always handled before any input at or after them and
 * after every input before them, so the event sequence is the same whether tick is called every
 * millisecond, every ten seconds, or never. The book a window end needs (partial depth,
 * markPrice) is the book after the last update before it; the streams keep its top 20 levels
 * from each update's book_after, so tick takes no book: a book handed to tick at a later time
 * than the window end would make events depend on when tick was called.
 *
 * Interest only filters. Diff windows accumulate at every speed from the first update, aggregate
 * ids are counted and klines are built whether or not anyone listens, so an event emitted after a
 * subscription is the same as if the subscriber had always been there. Streams that are pure
 * snapshots of state kept anyway (spot partial depth, markPrice) have no deadline while nobody
 * listens, and kline intervals nobody listens to catch up with the clock lazily (at their next
 * trade or when interest returns) instead of closing every empty 1 s candle: the result is the
 * same, the cost is not.
 *
 * Cost. Per update: one sorted-array insert per change per speed (windows hold tens of levels;
 * a sorted array is faster than a hash at that size and is already best first when sent), and a
 * copy of the top 20 levels. Events point into these arrays; memory is allocated only when a
 * window holds more levels than any before it.
 */
#include "streams.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

#define TOP_LEVELS SIM_STREAMS_BOOK_LEVELS /* the deepest partial depth: @depth20 */
#define MS_PER_DAY 86400000LL
#define FUNDING_PERIOD_MS (8 * 3600 * 1000LL) /* funding at 00:00, 08:00, 16:00 UTC */
#define FUTURES_AGG_WINDOW_MS 100             /* [UM-AGG] "100 ms aggregation" */
#define SPOT_KLINE_CADENCE_MS 2000            /* [S-WS] kline "Update Speed: 2000ms" */
#define SPOT_KLINE_1S_CADENCE_MS 1000         /* [S-WS] "1000ms for 1s" */
#define FUTURES_KLINE_CADENCE_MS 250          /* [PY-SDK] futures kline 250 ms */
#define MARK_3S_MS 3000
#define MARK_1S_MS 1000
#define NO_DEADLINE INT64_MAX

/* Exact sums of price × quantity need 128 bits (GCC and Clang; __extension__ keeps -Wpedantic
   quiet). */
__extension__ typedef __int128 i128_t;

typedef struct {
    sim_level_t *v; /* best first */
    size_t n, cap;
} levels_t;

typedef struct {
    bool open;         /* the current window holds at least one update */
    int64_t end;       /* its end, logical ms */
    int64_t last_time; /* time of its last update */
    uint64_t first_id; /* U */
    uint64_t last_id;  /* u */
    uint64_t prev_id;  /* pu */
    levels_t bids, asks;
} diff_window_t;

typedef struct {
    bool open;
    uint64_t taker_order_id;
    uint64_t first_trade_id, last_trade_id;
    int64_t first_time, last_time;
    dec_t price, qty;
    bool buyer_is_maker;
} agg_t;

typedef struct {
    int64_t open_wall, next_open_wall; /* the candle is [open, next_open) of wall time */
    bool has_trades;
    dec_t open, high, low, close;
    i128_t volume; /* dec units */
    i128_t quote;  /* see quote_scale */
    i128_t taker_volume;
    i128_t taker_quote;
    uint64_t trade_count;
    uint64_t first_trade_id, last_trade_id;
    bool dirty;          /* changed since its last event */
    int64_t cadence_end; /* end of the cadence window of that change */
} kline_t;

struct sim_streams_t {
    const sim_symbol_t *symbol;
    bool futures;
    bool coinm;
    int64_t epoch_ms;
    int64_t clock_ms; /* every deadline <= clock_ms has been processed */
    bool any_update;
    bool book_known; /* top_* holds the book (initial book given, or an update seen) */
    bool id_known;
    uint64_t book_id; /* last update id of the book in top_* */
    sim_level_t top_bids[TOP_LEVELS], top_asks[TOP_LEVELS];
    size_t top_bid_count, top_ask_count;
    diff_window_t diff[SIM_SPEED_COUNT];
    agg_t agg;
    uint64_t next_agg_id;
    kline_t kline[SIM_KLINE_COUNT];
    i128_t quote_scale;    /* spot/USD-M: quote in 1e-16 units; COIN-M: 1e-8 units */
    int64_t contract_size; /* COIN-M contract size in USD */
    dec_t last_price;      /* last trade price; the initial price before any trade */
    sim_streams_sink_t sink;
    sim_streams_interest_t interest;
    uint64_t late_inputs;
    uint64_t dropped_levels;
};

/* ---- small helpers ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* The end of the window of length w that holds t: the first multiple of w above t. */
static int64_t window_end(int64_t t, int64_t w)
{
    return (floor_div(t, w) + 1) * w;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* splitmix64: a fixed, well-mixed hash for the deterministic details (lags, index, funding). */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static dec_t dec_clamp128(i128_t units)
{
    if (units > INT64_MAX)
        units = INT64_MAX;
    if (units < INT64_MIN)
        units = INT64_MIN;
    return (dec_t){(int64_t)units};
}

/* ---- speeds, sizes, intervals ---- */

static const unsigned speed_ms[SIM_SPEED_COUNT] = {0, 100, 250, 500, 1000};

unsigned sim_depth_speed_ms(sim_depth_speed_t speed)
{
    return (unsigned)speed < SIM_SPEED_COUNT ? speed_ms[speed] : 0;
}

bool sim_depth_speed_valid(market_t market, sim_depth_speed_t speed)
{
    switch (speed) {
    case SIM_SPEED_100MS:
        return market == MARKET_SPOT || market == MARKET_USDM || market == MARKET_COINM;
    case SIM_SPEED_1000MS:
        return market == MARKET_SPOT;
    case SIM_SPEED_0MS:
    case SIM_SPEED_250MS:
    case SIM_SPEED_500MS:
        return market == MARKET_USDM || market == MARKET_COINM;
    default:
        return false;
    }
}

bool sim_partial_speed_valid(market_t market, sim_depth_speed_t speed)
{
    return speed != SIM_SPEED_0MS && sim_depth_speed_valid(market, speed);
}

sim_depth_speed_t sim_depth_speed_default(market_t market)
{
    return market == MARKET_SPOT ? SIM_SPEED_1000MS : SIM_SPEED_250MS;
}

unsigned sim_partial_levels(sim_partial_t partial)
{
    static const unsigned levels[SIM_PARTIAL_COUNT] = {5, 10, 20};
    return (unsigned)partial < SIM_PARTIAL_COUNT ? levels[partial] : 0;
}

typedef struct {
    const char *name;
    int64_t length_ms; /* 0: calendar month */
    int64_t offset_ms; /* candles start at offset + k·length since 1970-01-01 */
} interval_def_t;

static const interval_def_t intervals[SIM_KLINE_COUNT] = {
    [SIM_KLINE_1S] = {"1s", 1000, 0},
    [SIM_KLINE_1M] = {"1m", 60000, 0},
    [SIM_KLINE_3M] = {"3m", 3 * 60000, 0},
    [SIM_KLINE_5M] = {"5m", 5 * 60000, 0},
    [SIM_KLINE_15M] = {"15m", 15 * 60000, 0},
    [SIM_KLINE_30M] = {"30m", 30 * 60000, 0},
    [SIM_KLINE_1H] = {"1h", 3600000, 0},
    [SIM_KLINE_2H] = {"2h", 2 * 3600000, 0},
    [SIM_KLINE_4H] = {"4h", 4 * 3600000, 0},
    [SIM_KLINE_6H] = {"6h", 6 * 3600000, 0},
    [SIM_KLINE_8H] = {"8h", 8 * 3600000, 0},
    [SIM_KLINE_12H] = {"12h", 12 * 3600000, 0},
    [SIM_KLINE_1D] = {"1d", MS_PER_DAY, 0},
    [SIM_KLINE_3D] = {"3d", 3 * MS_PER_DAY, 0},
    [SIM_KLINE_1W] = {"1w", 7 * MS_PER_DAY, 4 * MS_PER_DAY}, /* 1970-01-05 was a Monday */
    [SIM_KLINE_1MO] = {"1M", 0, 0},
};

const char *sim_kline_interval_name(sim_kline_interval_t interval)
{
    return (unsigned)interval < SIM_KLINE_COUNT ? intervals[interval].name : "";
}

int sim_kline_interval_parse(const char *name, sim_kline_interval_t *out)
{
    if (!name)
        return -1;
    for (int i = 0; i < SIM_KLINE_COUNT; i++) {
        if (strcmp(name, intervals[i].name) == 0) {
            *out = (sim_kline_interval_t)i;
            return 0;
        }
    }
    return -1;
}

bool sim_kline_interval_valid(market_t market, sim_kline_interval_t interval)
{
    if ((unsigned)interval >= SIM_KLINE_COUNT)
        return false;
    if (market == MARKET_SPOT)
        return true;
    return (market == MARKET_USDM || market == MARKET_COINM) && interval != SIM_KLINE_1S;
}

sim_streams_interest_t sim_streams_interest_all(void)
{
    sim_streams_interest_t all = {
        .diff_depth = (1u << SIM_SPEED_COUNT) - 1,
        .book_ticker = true,
        .trade = true,
        .agg_trade = true,
        .kline = (1u << SIM_KLINE_COUNT) - 1,
        .mark_price = (1u << SIM_MARK_COUNT) - 1,
    };
    for (int p = 0; p < SIM_PARTIAL_COUNT; p++)
        all.partial_depth[p] = (1u << SIM_SPEED_COUNT) - 1;
    return all;
}

/* ---- calendar (UTC, days since 1970-01-01; wall times before 1970 are not expected) ---- */

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to the first day of the month holding `day`, and of the month after. */
static void month_bounds(int64_t day, int64_t *first, int64_t *next_first)
{
    int64_t y = 1970, start = 0;
    if (day < 0)
        day = 0;
    while (start + (is_leap(y) ? 366 : 365) <= day) {
        start += is_leap(y) ? 366 : 365;
        y++;
    }
    int m = 1;
    while (start + days_in_month(y, m) <= day) {
        start += days_in_month(y, m);
        m++;
    }
    *first = start;
    *next_first = start + days_in_month(y, m);
}

static void candle_bounds(sim_kline_interval_t i, int64_t wall, int64_t *open, int64_t *next_open)
{
    const interval_def_t *d = &intervals[i];
    if (d->length_ms == 0) {
        int64_t first, next_first;
        month_bounds(floor_div(wall, MS_PER_DAY), &first, &next_first);
        *open = first * MS_PER_DAY;
        *next_open = next_first * MS_PER_DAY;
    } else {
        *open = d->offset_ms + floor_div(wall - d->offset_ms, d->length_ms) * d->length_ms;
        *next_open = *open + d->length_ms;
    }
}

/* ---- sorted level maps ---- */

static bool better(bool bids, dec_t a, dec_t b)
{
    return bids ? a.units > b.units : a.units < b.units;
}

/* Sets price → qty (last write wins). -1 when the array could not grow. */
static int levels_set(levels_t *lv, bool bids, dec_t price, dec_t qty)
{
    size_t lo = 0, hi = lv->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (better(bids, lv->v[mid].price, price))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < lv->n && lv->v[lo].price.units == price.units) {
        lv->v[lo].qty = qty;
        return 0;
    }
    if (lv->n == lv->cap) {
        size_t cap = lv->cap ? lv->cap * 2 : 16;
        sim_level_t *v = realloc(lv->v, cap * sizeof *v);
        if (!v)
            return -1;
        lv->v = v;
        lv->cap = cap;
    }
    memmove(lv->v + lo + 1, lv->v + lo, (lv->n - lo) * sizeof *lv->v);
    lv->v[lo] = (sim_level_t){price, qty};
    lv->n++;
    return 0;
}

static void fold_changes(sim_streams_t *self, diff_window_t *w, const sim_update_t *u)
{
    size_t count =
        u->change_count < SIM_UPDATE_MAX_CHANGES ? u->change_count : SIM_UPDATE_MAX_CHANGES;
    for (size_t i = 0; i < count; i++) {
        const sim_change_t *c = &u->changes[i];
        bool bids = c->side == SIM_BID;
        if (levels_set(bids ? &w->bids : &w->asks, bids, c->price, c->qty) != 0) {
            self->dropped_levels++;
            log_error("sim streams %s: out of memory recording a depth level; the diff event "
                      "will miss it (%llu dropped so far)",
                      self->symbol->name, (unsigned long long)self->dropped_levels);
        }
    }
}

/* ---- emission (interest filters here and nowhere else) ----
   The wants_* tests read the interest only, never the sink: deadlines follow them, and a sink
   callback that comes and goes must not change when a candle closes. */

static bool wants_depth(const sim_streams_t *self, sim_depth_speed_t s)
{
    return (self->interest.diff_depth & (1u << s)) != 0;
}

static bool wants_partial(const sim_streams_t *self, sim_partial_t p, sim_depth_speed_t s)
{
    return (self->interest.partial_depth[p] & (1u << s)) != 0;
}

static bool wants_any_partial(const sim_streams_t *self, sim_depth_speed_t s)
{
    for (int p = 0; p < SIM_PARTIAL_COUNT; p++)
        if (wants_partial(self, (sim_partial_t)p, s))
            return true;
    return false;
}

/* Only intervals the market has: the others are never built. */
static bool wants_kline(const sim_streams_t *self, sim_kline_interval_t i)
{
    return (self->interest.kline & (1u << i)) && sim_kline_interval_valid(self->symbol->market, i);
}

static bool wants_mark(const sim_streams_t *self, sim_mark_speed_t m)
{
    return self->futures && (self->interest.mark_price & (1u << m));
}

static void emit_diff(sim_streams_t *self, const diff_window_t *w, sim_depth_speed_t s,
                      int64_t event_time)
{
    if (!self->sink.diff_depth || !wants_depth(self, s))
        return;
    sim_depth_event_t ev = {
        .symbol = self->symbol,
        .event_time_ms = self->epoch_ms + event_time,
        .transact_time_ms = self->epoch_ms + w->last_time,
        .first_update_id = w->first_id,
        .last_update_id = w->last_id,
        .prev_last_update_id = w->prev_id,
        .bids = w->bids.v,
        .bid_count = w->bids.n,
        .asks = w->asks.v,
        .ask_count = w->asks.n,
    };
    self->sink.diff_depth(self->sink.ctx, &ev, s);
}

static void emit_partial_futures(sim_streams_t *self, const diff_window_t *w, sim_depth_speed_t s,
                                 int64_t end)
{
    for (int p = 0; p < SIM_PARTIAL_COUNT; p++) {
        if (!self->sink.partial_depth_futures || !wants_partial(self, (sim_partial_t)p, s))
            continue;
        size_t n = sim_partial_levels((sim_partial_t)p);
        sim_depth_event_t ev = {
            .symbol = self->symbol,
            .event_time_ms = self->epoch_ms + end,
            .transact_time_ms = self->epoch_ms + w->last_time,
            .first_update_id = w->first_id,
            .last_update_id = w->last_id,
            .prev_last_update_id = w->prev_id,
            .bids = self->top_bids,
            .bid_count = self->top_bid_count < n ? self->top_bid_count : n,
            .asks = self->top_asks,
            .ask_count = self->top_ask_count < n ? self->top_ask_count : n,
        };
        self->sink.partial_depth_futures(self->sink.ctx, &ev, (sim_partial_t)p, s);
    }
}

static void emit_partial_spot(sim_streams_t *self, sim_depth_speed_t s)
{
    for (int p = 0; p < SIM_PARTIAL_COUNT; p++) {
        if (!self->sink.partial_depth_spot || !wants_partial(self, (sim_partial_t)p, s))
            continue;
        size_t n = sim_partial_levels((sim_partial_t)p);
        sim_partial_depth_t ev = {
            .symbol = self->symbol,
            .last_update_id = self->book_id,
            .bids = self->top_bids,
            .bid_count = self->top_bid_count < n ? self->top_bid_count : n,
            .asks = self->top_asks,
            .ask_count = self->top_ask_count < n ? self->top_ask_count : n,
        };
        self->sink.partial_depth_spot(self->sink.ctx, &ev, (sim_partial_t)p, s);
    }
}

/* ---- aggTrade ---- */

static void agg_close(sim_streams_t *self, int64_t event_time)
{
    agg_t *a = &self->agg;
    if (!a->open)
        return;
    a->open = false;
    uint64_t id = self->next_agg_id++;
    if (!self->sink.agg_trade || !self->interest.agg_trade)
        return;
    sim_agg_trade_t ev = {
        .symbol = self->symbol,
        .event_time_ms = self->epoch_ms + event_time,
        .agg_id = id,
        .first_trade_id = a->first_trade_id,
        .last_trade_id = a->last_trade_id,
        .trade_time_ms = self->epoch_ms + a->first_time,
        .price = a->price,
        .qty = a->qty,
        .buyer_is_maker = a->buyer_is_maker,
    };
    self->sink.agg_trade(self->sink.ctx, &ev);
}

static int64_t agg_deadline(const sim_streams_t *self)
{
    if (!self->agg.open)
        return NO_DEADLINE;
    return self->futures ? self->agg.first_time + FUTURES_AGG_WINDOW_MS : self->agg.last_time + 1;
}

static bool agg_takes(const sim_streams_t *self, const sim_trade_t *t, int64_t time)
{
    const agg_t *a = &self->agg;
    if (!a->open || t->price.units != a->price.units || t->buyer_is_maker != a->buyer_is_maker ||
        t->trade_id != a->last_trade_id + 1)
        return false;
    if (self->futures)
        return time < a->first_time + FUTURES_AGG_WINDOW_MS;
    return t->taker_order_id == a->taker_order_id && time == a->last_time;
}

static void agg_fold(sim_streams_t *self, const sim_trade_t *t, int64_t time)
{
    agg_t *a = &self->agg;
    if (agg_takes(self, t, time)) {
        a->last_trade_id = t->trade_id;
        a->last_time = time;
        a->qty.units += t->qty.units;
        return;
    }
    agg_close(self, self->futures ? time : a->first_time);
    *a = (agg_t){
        .open = true,
        .taker_order_id = t->taker_order_id,
        .first_trade_id = t->trade_id,
        .last_trade_id = t->trade_id,
        .first_time = time,
        .last_time = time,
        .price = t->price,
        .qty = t->qty,
        .buyer_is_maker = t->buyer_is_maker,
    };
}

/* ---- klines ---- */

static int64_t kline_cadence(const sim_streams_t *self, sim_kline_interval_t i)
{
    if (self->futures)
        return FUTURES_KLINE_CADENCE_MS;
    return i == SIM_KLINE_1S ? SPOT_KLINE_1S_CADENCE_MS : SPOT_KLINE_CADENCE_MS;
}

/* Starts the candle of interval i that holds logical time t, empty, at the last price. */
static void kline_start(sim_streams_t *self, sim_kline_interval_t i, int64_t t)
{
    int64_t open_wall, next_open_wall;
    candle_bounds(i, self->epoch_ms + t, &open_wall, &next_open_wall);
    dec_t p = self->last_price;
    self->kline[i] = (kline_t){
        .open_wall = open_wall,
        .next_open_wall = next_open_wall,
        .open = p,
        .high = p,
        .low = p,
        .close = p,
    };
}

static int64_t kline_close_time(const sim_streams_t *self, sim_kline_interval_t i)
{
    return self->kline[i].next_open_wall - self->epoch_ms;
}

/* Brings interval i, which nobody watched, up to logical time t: candles that ended on the way
   are dropped unseen, as is a change whose cadence window is over. */
static void kline_catch_up(sim_streams_t *self, sim_kline_interval_t i, int64_t t)
{
    if (kline_close_time(self, i) <= t)
        kline_start(self, i, t);
    kline_t *k = &self->kline[i];
    if (k->dirty && k->cadence_end <= t)
        k->dirty = false;
}

static void emit_kline(sim_streams_t *self, sim_kline_interval_t i, int64_t event_time, bool closed)
{
    if (!self->sink.kline)
        return;
    const kline_t *k = &self->kline[i];
    sim_kline_t ev = {
        .symbol = self->symbol,
        .event_time_ms = self->epoch_ms + event_time,
        .interval = intervals[i].name,
        .open_time_ms = k->open_wall,
        .close_time_ms = k->next_open_wall - 1,
        .first_trade_id = k->first_trade_id,
        .last_trade_id = k->last_trade_id,
        .has_trades = k->has_trades,
        .open = k->open,
        .close = k->close,
        .high = k->high,
        .low = k->low,
        .volume = dec_clamp128(k->volume),
        .quote_volume = dec_clamp128(k->quote / self->quote_scale),
        .trade_count = k->trade_count,
        .closed = closed,
        .taker_buy_volume = dec_clamp128(k->taker_volume),
        .taker_buy_quote_volume = dec_clamp128(k->taker_quote / self->quote_scale),
    };
    self->sink.kline(self->sink.ctx, &ev, i);
}

/* The trade's contribution to quote volume, in the units of quote_scale. */
static i128_t trade_quote(const sim_streams_t *self, const sim_trade_t *t)
{
    if (!self->coinm)
        return (i128_t)t->price.units * t->qty.units; /* exact, 1e-16 units */
    if (t->price.units <= 0)
        return 0;
    /* base = contracts × size / price; in 1e-8 units: qty_units × size × 1e8 / price_units */
    return (i128_t)t->qty.units * self->contract_size * DEC_SCALE / t->price.units;
}

static void kline_fold(sim_streams_t *self, sim_kline_interval_t i, const sim_trade_t *t,
                       int64_t time, i128_t quote)
{
    kline_t *k = &self->kline[i];
    if (!k->has_trades) {
        k->has_trades = true;
        k->open = k->high = k->low = t->price;
        k->first_trade_id = t->trade_id;
    }
    if (t->price.units > k->high.units)
        k->high = t->price;
    if (t->price.units < k->low.units)
        k->low = t->price;
    k->close = t->price;
    k->last_trade_id = t->trade_id;
    k->trade_count++;
    k->volume += t->qty.units;
    k->quote += quote;
    if (!t->buyer_is_maker) { /* the taker bought */
        k->taker_volume += t->qty.units;
        k->taker_quote += quote;
    }
    k->dirty = true;
    k->cadence_end = window_end(time, kline_cadence(self, i));
}

/* ---- markPrice ---- */

static void emit_mark(sim_streams_t *self, sim_mark_speed_t m, int64_t end)
{
    if (!self->sink.mark_price)
        return;
    const sim_symbol_t *sym = self->symbol;
    int64_t tick = sym->tick_size.units > 0 ? sym->tick_size.units : 1;
    int64_t mid;
    if (self->top_bid_count && self->top_ask_count)
        mid = self->top_bids[0].price.units / 2 + self->top_asks[0].price.units / 2 +
              (self->top_bids[0].price.units % 2 + self->top_asks[0].price.units % 2) / 2;
    else if (self->top_bid_count)
        mid = self->top_bids[0].price.units;
    else if (self->top_ask_count)
        mid = self->top_asks[0].price.units;
    else
        mid = self->last_price.units;
    int64_t mark = floor_div(mid, tick) * tick;
    int64_t wall = self->epoch_ms + end;
    int64_t offset = (int64_t)(mix64(sym->seed ^ (uint64_t)floor_div(wall, 1000)) % 3) - 1;
    int64_t index = mark + offset * tick;
    if (index <= 0)
        index = mark;
    sim_mark_price_t ev = {
        .symbol = sym,
        .event_time_ms = wall,
        .mark_price = {mark},
        .index_price = {index},
        .estimated_settle_price = {index},
    };
    if (sym->perpetual) {
        int64_t period = floor_div(wall, FUNDING_PERIOD_MS);
        uint64_t h = mix64(sym->seed * 31 + (uint64_t)period);
        ev.funding_rate.units = ((int64_t)(h % 41) - 10) * 1000; /* -0.0001 … 0.0003 */
        ev.next_funding_time_ms = (period + 1) * FUNDING_PERIOD_MS;
    }
    self->sink.mark_price(self->sink.ctx, &ev, m);
}

static const int64_t mark_period[SIM_MARK_COUNT] = {MARK_3S_MS, MARK_1S_MS};

/* ---- the clock ---- */

static int64_t next_deadline(const sim_streams_t *self)
{
    int64_t d = agg_deadline(self);
    int64_t clock = self->clock_ms;
    for (int s = SIM_SPEED_100MS; s < SIM_SPEED_COUNT; s++) {
        const diff_window_t *w = &self->diff[s];
        if (w->open)
            d = min64(d, w->end);
        if (!self->futures && self->book_known &&
            sim_partial_speed_valid(MARKET_SPOT, (sim_depth_speed_t)s) &&
            wants_any_partial(self, (sim_depth_speed_t)s))
            d = min64(d, window_end(clock, speed_ms[s]));
    }
    for (int i = 0; i < SIM_KLINE_COUNT; i++) {
        if (!wants_kline(self, (sim_kline_interval_t)i))
            continue;
        d = min64(d, kline_close_time(self, (sim_kline_interval_t)i));
        if (self->kline[i].dirty)
            d = min64(d, self->kline[i].cadence_end);
    }
    if (self->book_known)
        for (int m = 0; m < SIM_MARK_COUNT; m++)
            if (wants_mark(self, (sim_mark_speed_t)m))
                d = min64(d, window_end(clock, mark_period[m]));
    return d;
}

/* Everything that happens at logical time d, in the fixed order. */
static void process_deadline(sim_streams_t *self, int64_t d)
{
    if (agg_deadline(self) == d)
        agg_close(self, self->futures ? d : self->agg.first_time);

    for (int s = SIM_SPEED_100MS; s < SIM_SPEED_COUNT; s++) {
        diff_window_t *w = &self->diff[s];
        if (w->open && w->end == d) {
            emit_diff(self, w, (sim_depth_speed_t)s, d);
            if (self->futures)
                emit_partial_futures(self, w, (sim_depth_speed_t)s, d);
            w->open = false;
            w->bids.n = w->asks.n = 0;
        }
        if (!self->futures && self->book_known && d % speed_ms[s] == 0 &&
            sim_partial_speed_valid(MARKET_SPOT, (sim_depth_speed_t)s))
            emit_partial_spot(self, (sim_depth_speed_t)s);
    }

    for (int i = 0; i < SIM_KLINE_COUNT; i++) {
        sim_kline_interval_t iv = (sim_kline_interval_t)i;
        if (!wants_kline(self, iv))
            continue;
        kline_t *k = &self->kline[i];
        if (kline_close_time(self, iv) == d) {
            emit_kline(self, iv, d, true);
            kline_start(self, iv, d);
        } else if (k->dirty && k->cadence_end == d) {
            emit_kline(self, iv, d, false);
            k->dirty = false;
        }
    }

    if (self->book_known)
        for (int m = 0; m < SIM_MARK_COUNT; m++)
            if (wants_mark(self, (sim_mark_speed_t)m) && d % mark_period[m] == 0)
                emit_mark(self, (sim_mark_speed_t)m, d);
}

/* Processes every deadline <= now in order; returns the time inputs at `t` are folded in at. */
static int64_t advance(sim_streams_t *self, int64_t now)
{
    if (now < self->clock_ms) {
        self->late_inputs++;
        return self->clock_ms;
    }
    for (;;) {
        int64_t d = next_deadline(self);
        if (d > now)
            break;
        process_deadline(self, d);
        self->clock_ms = d;
    }
    self->clock_ms = now;
    return now;
}

/* ---- public ---- */

sim_streams_t *sim_streams_new(const sim_symbol_t *symbol, int64_t epoch_ms)
{
    if (!symbol)
        return NULL;
    sim_streams_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->symbol = symbol;
    self->futures = symbol->market != MARKET_SPOT;
    self->coinm = symbol->market == MARKET_COINM;
    self->epoch_ms = epoch_ms;
    self->last_price = symbol->initial_price;
    self->quote_scale = self->coinm ? 1 : DEC_SCALE;
    self->contract_size = strcmp(symbol->base, "BTC") == 0 ? 100 : 10;
    self->next_agg_id = 1000000 + symbol->seed % 9000000;
    for (int i = 0; i < SIM_KLINE_COUNT; i++)
        kline_start(self, (sim_kline_interval_t)i, 0);
    return self;
}

void sim_streams_destroy(sim_streams_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_streams_t *self = *self_p;
    for (int s = 0; s < SIM_SPEED_COUNT; s++) {
        free(self->diff[s].bids.v);
        free(self->diff[s].asks.v);
    }
    free(self);
    *self_p = NULL;
}

static void copy_top(sim_streams_t *self, const sim_book_view_t *book)
{
    self->top_bid_count = book->bid_count < TOP_LEVELS ? book->bid_count : TOP_LEVELS;
    self->top_ask_count = book->ask_count < TOP_LEVELS ? book->ask_count : TOP_LEVELS;
    if (self->top_bid_count)
        memcpy(self->top_bids, book->bids, self->top_bid_count * sizeof *book->bids);
    if (self->top_ask_count)
        memcpy(self->top_asks, book->asks, self->top_ask_count * sizeof *book->asks);
}

int sim_streams_set_initial_book(sim_streams_t *self, const sim_book_view_t *book)
{
    if (!self || !book || self->any_update)
        return -1;
    copy_top(self, book);
    self->book_id = book->last_update_id;
    self->id_known = true;
    self->book_known = true;
    return 0;
}

static bool same_level(size_t n_a, const sim_level_t *a, size_t n_b, const sim_level_t *b)
{
    if (n_a == 0 || n_b == 0)
        return n_a == n_b;
    return a->price.units == b->price.units && a->qty.units == b->qty.units;
}

void sim_streams_on_update(sim_streams_t *self, const sim_update_t *u,
                           const sim_book_view_t *book_after)
{
    if (!self || !u)
        return;
    int64_t t = advance(self, u->time_ms);
    uint64_t prev_id = self->id_known ? self->book_id : u->first_id - 1;

    for (int s = SIM_SPEED_100MS; s < SIM_SPEED_COUNT; s++) {
        if (!sim_depth_speed_valid(self->symbol->market, (sim_depth_speed_t)s))
            continue;
        diff_window_t *w = &self->diff[s];
        if (!w->open) {
            w->open = true;
            w->end = window_end(t, speed_ms[s]);
            w->first_id = u->first_id;
            w->prev_id = prev_id;
        }
        w->last_id = u->last_id;
        w->last_time = t;
        fold_changes(self, w, u);
    }

    if (self->futures && self->sink.diff_depth && wants_depth(self, SIM_SPEED_0MS)) {
        diff_window_t *w = &self->diff[SIM_SPEED_0MS];
        w->bids.n = w->asks.n = 0;
        w->first_id = u->first_id;
        w->last_id = u->last_id;
        w->prev_id = prev_id;
        w->last_time = t;
        fold_changes(self, w, u);
        emit_diff(self, w, SIM_SPEED_0MS, t);
    }

    self->any_update = true;
    self->book_id = u->last_id;
    self->id_known = true;
    if (!book_after)
        return;
    bool top_changed =
        !self->book_known ||
        !same_level(self->top_bid_count, self->top_bids, book_after->bid_count, book_after->bids) ||
        !same_level(self->top_ask_count, self->top_asks, book_after->ask_count, book_after->asks);
    copy_top(self, book_after);
    self->book_known = true;
    if (top_changed && self->sink.book_ticker && self->interest.book_ticker) {
        sim_book_ticker_t ev = {
            .symbol = self->symbol,
            .update_id = u->last_id,
            .event_time_ms = self->epoch_ms + t,
            .transact_time_ms = self->epoch_ms + t,
        };
        if (self->top_bid_count) {
            ev.bid_price = self->top_bids[0].price;
            ev.bid_qty = self->top_bids[0].qty;
        }
        if (self->top_ask_count) {
            ev.ask_price = self->top_asks[0].price;
            ev.ask_qty = self->top_asks[0].qty;
        }
        self->sink.book_ticker(self->sink.ctx, &ev);
    }
}

void sim_streams_on_trade(sim_streams_t *self, const sim_trade_t *t)
{
    if (!self || !t)
        return;
    int64_t time = advance(self, t->time_ms);

    if (self->sink.trade && self->interest.trade) {
        int64_t lag = (int64_t)(mix64(self->symbol->seed ^ t->trade_id) & 1);
        sim_trade_event_t ev = {
            .symbol = self->symbol,
            .event_time_ms = self->epoch_ms + time + lag,
            .trade = *t,
        };
        ev.trade.time_ms = self->epoch_ms + time;
        self->sink.trade(self->sink.ctx, &ev);
    }

    agg_fold(self, t, time);

    i128_t quote = trade_quote(self, t);
    for (int i = 0; i < SIM_KLINE_COUNT; i++) {
        sim_kline_interval_t iv = (sim_kline_interval_t)i;
        if (!sim_kline_interval_valid(self->symbol->market, iv))
            continue;
        kline_catch_up(self, iv, time);
        kline_fold(self, iv, t, time, quote);
    }
    self->last_price = t->price;
}

void sim_streams_tick(sim_streams_t *self, int64_t now_ms)
{
    if (!self)
        return;
    advance(self, now_ms);
}

int64_t sim_streams_next_deadline_ms(const sim_streams_t *self)
{
    return self ? next_deadline(self) : INT64_MAX;
}

void sim_streams_set_sink(sim_streams_t *self, const sim_streams_sink_t *sink)
{
    if (!self)
        return;
    if (sink)
        self->sink = *sink;
    else
        memset(&self->sink, 0, sizeof self->sink);
}

void sim_streams_set_interest(sim_streams_t *self, const sim_streams_interest_t *interest)
{
    if (!self)
        return;
    uint32_t old_klines = self->interest.kline;
    if (interest)
        self->interest = *interest;
    else
        memset(&self->interest, 0, sizeof self->interest);
    uint32_t started = self->interest.kline & ~old_klines;
    for (int i = 0; i < SIM_KLINE_COUNT; i++)
        if ((started & (1u << i)) &&
            sim_kline_interval_valid(self->symbol->market, (sim_kline_interval_t)i))
            kline_catch_up(self, (sim_kline_interval_t)i, self->clock_ms);
}

uint64_t sim_streams_late_inputs(const sim_streams_t *self)
{
    return self ? self->late_inputs : 0;
}

uint64_t sim_streams_dropped_levels(const sim_streams_t *self)
{
    return self ? self->dropped_levels : 0;
}
