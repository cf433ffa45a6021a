/*
 * render.c — stream events as the exact bytes Binance sends.
 *
 * Why hand-written writers. The sim renders 100,000+ events a second, so a payload is built by
 * appending literal key text and formatted numbers to the caller's buffer: no allocation, no
 * printf (its locale lookups and format parsing cost more than the payload), no cJSON (a tree per
 * message, and it writes numbers as doubles and keys in insertion order we would then have to
 * police). Each writer is a straight line of appends in wire order, so the code reads like the
 * payload it produces. A writer holds one sticky failure: once an append does not fit, or a
 * number cannot be written exactly, every later append is skipped and the function returns 0.
 *
 * Field order is the contract. JSON objects are unordered, but clients written from Binance's
 * examples scan for keys at fixed positions, and a sim that is to be indistinguishable from the
 * exchange must match it byte for byte. The order below is taken from real captures, not from the
 * documentation, where the two differ (tests/data/binance-samples/README.md lists the lines; every
 * message of the 2021 and 2024 captures renders byte-identically). markPrice is in no capture: its
 * order is that of a 2021 production frame quoted in a public client's source and of 2026 testnet
 * frames, and agrees with the COIN-M documentation.
 *
 *   kind          spot                        USD-M                          COIN-M
 *   diff depth    e E s U u b a               e E T s U u pu b a             e E T s ps U u pu b a
 *   partial       lastUpdateId bids asks      = futures diff                 = futures diff
 *   bookTicker    u s b B a A                 e u s b B a A T E              u e s ps b B a A T E
 *   trade         e E s t p q T m M           e E T s t p q X m              e E T s t p q X m
 *   aggTrade      e E s a p q f l T m M       e E a s p q f l T m            e E a s p q f l T m
 *   kline         e E s k{t T s i f L o c h l v n x q V Q B}                 (all three alike)
 *   markPrice     -                           e E s p P i r T                e E s p P i r T
 *   REST depth    lastUpdateId bids asks      lastUpdateId E T bids asks     lastUpdateId E T
 *                                                                            symbol pair bids asks
 *
 * Where the docs disagree with the wire: futures aggTrade puts "a" before "s" (docs: after);
 * USD-M bookTicker ends with T, E (docs: e u E T s …); USD-M markPrice sends p P i (docs: p i P);
 * the COIN-M REST snapshot is lastUpdateId E T symbol pair (docs: lastUpdateId symbol pair E T).
 *
 * Numbers. Prices carry symbol->price_decimals digits after the point, quantities qty_decimals
 * (spot 8/8; USD-M the tick's and step's; COIN-M quantities are integer contracts). Kline quote
 * volumes ("q", "Q") carry 8 decimals on spot and COIN-M (where they are base-asset volumes) and
 * price_decimals + qty_decimals on USD-M ("22875.8590" for a 4-decimal price and integer
 * quantities), capped at the 8 a dec_t holds. markPrice values always carry 8. Ids and times are
 * JSON integers, "m"/"x"/"M" booleans. dec_format_fixed refuses to round, and so do we: a value
 * with more digits than its field allows is a bug upstream, reported by returning 0.
 *
 * Legacy and current. SIM_RENDER_LEGACY reproduces the 2024 captures exactly. SIM_RENDER_CURRENT
 * (the sim's default) adds the fields Binance introduced since, in the places it sends them:
 *  - "st" (symbol type, 1 USD-M, 2 COIN-M; CM–UM integration, 2026-06-30) as the last key of the
 *    futures payloads whose documented models list it (diff and partial depth, bookTicker,
 *    aggTrade, markPrice) and of the undocumented futures trade stream, where third-party 2026
 *    frames show it. Klines and REST snapshots are unchanged: their models list no "st".
 *  - USD-M "ps" (pair) right after "s" in diff depth, partial depth and bookTicker: where COIN-M
 *    has always sent it, where Binance's USD-M bookTicker documentation lists it, and where USD-M
 *    frames of 2026 (testnet captures quoted in public client code) carry it in all three. The
 *    official SDK's models, generated from the documentation, append it to depth instead; they
 *    follow documentation order, which differs from the wire even for legacy fields.
 *  - USD-M aggTrade "nq" (quantity without RPI trades, 2025-12-31) right after "q", as documented
 *    and as the 2026 frames send it. The sim has no RPI orders, so "nq" repeats "q".
 *  - USD-M markPrice "ap" (mark price moving average) right after "p", as the 2026 frames send it
 *    (the documentation lists it after "r"). The sim's ap is sim_mark_price_t.mark_price_avg, or
 *    p when that is 0 (not tracked).
 * Spot payloads are the same in both formats.
 *
 * Rejected: a table-driven writer (field list + offsets into the event) — as fast, but the order
 * would live in data that is harder to read than the append sequence, and the per-market quirks
 * (ps placement, "r":"" for delivery contracts, -1 trade ids) become special cases in the table.
 */
#include "render.h"

#include <stdbool.h>
#include <string.h>

/* ---- the writer ------------------------------------------------------------------------------ */

typedef struct {
    char *p;   /* next byte to write; NULL once anything failed */
    char *end; /* one past the last byte the payload may use (the NUL goes at end) */
} writer_t;

static inline writer_t writer_start(char *buf, size_t cap)
{
    writer_t w = {NULL, NULL};
    if (buf != NULL && cap > 0) {
        w.p = buf;
        w.end = buf + cap - 1; /* keep one byte for the NUL */
    }
    return w;
}

/* The payload's length, NUL-terminated; or 0 with buf[0] = NUL after any failure. */
static size_t writer_finish(writer_t *w, char *buf, size_t cap)
{
    if (w->p == NULL) {
        if (buf != NULL && cap > 0)
            buf[0] = '\0';
        return 0;
    }
    *w->p = '\0';
    return (size_t)(w->p - buf);
}

static inline void writer_fail(writer_t *w)
{
    w->p = NULL;
}


static inline void put_bytes(writer_t *w, const char *s, size_t n)
{
    if (w->p == NULL)
        return;
    if ((size_t)(w->end - w->p) < n) {
        writer_fail(w);
        return;
    }
    memcpy(w->p, s, n);
    w->p += n;
}

/* A string literal, its length known at compile time. */
#define PUT(w, lit) put_bytes((w), "" lit "", sizeof(lit) - 1)

static inline void put_char(writer_t *w, char c)
{
    put_bytes(w, &c, 1);
}

static void put_u64(writer_t *w, uint64_t v)
{
    char digits[20];
    char *d = digits + sizeof digits;
    do {
        *--d = (char)('0' + v % 10u);
        v /= 10u;
    } while (v > 0);
    put_bytes(w, d, (size_t)(digits + sizeof digits - d));
}

static void put_i64(writer_t *w, int64_t v)
{
    if (v < 0) {
        put_char(w, '-');
        put_u64(w, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(w, (uint64_t)v);
    }
}

static inline void put_bool(writer_t *w, bool b)
{
    if (b)
        PUT(w, "true");
    else
        PUT(w, "false");
}

/* "<d>" with exactly `places` decimals; fails on a value that needs more, or a negative one
   unless `allow_negative`. */
static void put_qdec(writer_t *w, dec_t d, unsigned places, bool allow_negative)
{
    if (w->p == NULL)
        return;
    if (d.units < 0 && !allow_negative) {
        writer_fail(w);
        return;
    }
    char text[DEC_STRLEN + 2];
    text[0] = '"';
    size_t n = dec_format_fixed(d, places, text + 1);
    if (n == 0) {
        writer_fail(w);
        return;
    }
    text[n + 1] = '"';
    put_bytes(w, text, n + 2);
}

/* True for a non-empty name JSON can carry between quotes without escapes. */
static bool name_is_plain(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return false;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f)
            return false;
    }
    return true;
}

/* "<name>": symbols, pairs, intervals. */
static void put_qname(writer_t *w, const char *name)
{
    if (w->p == NULL)
        return;
    if (!name_is_plain(name)) {
        writer_fail(w);
        return;
    }
    put_char(w, '"');
    put_bytes(w, name, strlen(name));
    put_char(w, '"');
}

/* [["p","q"],…] */
static void put_levels(writer_t *w, const sim_symbol_t *sym, const sim_level_t *levels,
                       size_t count)
{
    if (count > 0 && levels == NULL) {
        writer_fail(w);
        return;
    }
    put_char(w, '[');
    for (size_t i = 0; i < count && w->p != NULL; i++) {
        if (i > 0)
            put_char(w, ',');
        put_char(w, '[');
        put_qdec(w, levels[i].price, sym->price_decimals, false);
        put_char(w, ',');
        put_qdec(w, levels[i].qty, sym->qty_decimals, false);
        put_char(w, ']');
    }
    put_char(w, ']');
}

/* ---- markets and formats --------------------------------------------------------------------- */

static inline bool is_futures(const sim_symbol_t *sym)
{
    return sym->market == MARKET_USDM || sym->market == MARKET_COINM;
}

static inline bool is_known_market(const sim_symbol_t *sym)
{
    return sym->market == MARKET_SPOT || is_futures(sym);
}

/* The event's symbol when it is one the renderer can write for; else NULL, and the writer has
   failed (an argument error: the render returns 0). */
static const sim_symbol_t *writer_symbol(writer_t *w, const sim_symbol_t *sym)
{
    if (sym == NULL || !is_known_market(sym)) {
        writer_fail(w);
        return NULL;
    }
    return sym;
}

static inline bool is_current(const sim_render_options_t *opt)
{
    return opt == NULL || opt->format == SIM_RENDER_CURRENT;
}

/* ,"st":1|2 — last key of futures payloads in the current format. */
static inline void put_symbol_type(writer_t *w, const sim_render_options_t *opt,
                                   const sim_symbol_t *sym)
{
    if (!is_current(opt))
        return;
    if (sym->market == MARKET_USDM)
        PUT(w, ",\"st\":1");
    else
        PUT(w, ",\"st\":2");
}

/* ,"ps":"<pair>" after "s": always on COIN-M, on USD-M in the current format. */
static inline void put_pair_after_symbol(writer_t *w, const sim_render_options_t *opt,
                                         const sim_symbol_t *sym)
{
    if (sym->market == MARKET_COINM || (sym->market == MARKET_USDM && is_current(opt))) {
        PUT(w, ",\"ps\":");
        put_qname(w, sym->pair);
    }
}

/* Decimals of a kline's quote volumes ("q", "Q"); see the design comment. */
static unsigned kline_quote_decimals(const sim_symbol_t *sym)
{
    if (sym->market != MARKET_USDM)
        return DEC_PLACES;
    unsigned places = sym->price_decimals + sym->qty_decimals;
    return places > DEC_PLACES ? DEC_PLACES : places;
}

#define MARK_DECIMALS 8u /* markPrice numbers: "11794.15000000", "0.00038167" */

/* ---- depth ----------------------------------------------------------------------------------- */

static void put_futures_depth(writer_t *w, const sim_render_options_t *opt,
                              const sim_depth_event_t *ev)
{
    const sim_symbol_t *sym = ev->symbol;
    PUT(w, "{\"e\":\"depthUpdate\",\"E\":");
    put_i64(w, ev->event_time_ms);
    PUT(w, ",\"T\":");
    put_i64(w, ev->transact_time_ms);
    PUT(w, ",\"s\":");
    put_qname(w, sym->name);
    put_pair_after_symbol(w, opt, sym);
    PUT(w, ",\"U\":");
    put_u64(w, ev->first_update_id);
    PUT(w, ",\"u\":");
    put_u64(w, ev->last_update_id);
    PUT(w, ",\"pu\":");
    put_u64(w, ev->prev_last_update_id);
    PUT(w, ",\"b\":");
    put_levels(w, sym, ev->bids, ev->bid_count);
    PUT(w, ",\"a\":");
    put_levels(w, sym, ev->asks, ev->ask_count);
    put_symbol_type(w, opt, sym);
    put_char(w, '}');
}

size_t sim_render_depth_diff(const sim_render_options_t *opt, const sim_depth_event_t *ev,
                             char *buf, size_t cap)
{
    writer_t w = writer_start(buf, cap);
    const sim_symbol_t *sym = writer_symbol(&w, ev ? ev->symbol : NULL);
    if (!sym)
        return writer_finish(&w, buf, cap);
    if (is_futures(sym)) {
        put_futures_depth(&w, opt, ev);
        return writer_finish(&w, buf, cap);
    }
    PUT(&w, "{\"e\":\"depthUpdate\",\"E\":");
    put_i64(&w, ev->event_time_ms);
    PUT(&w, ",\"s\":");
    put_qname(&w, sym->name);
    PUT(&w, ",\"U\":");
    put_u64(&w, ev->first_update_id);
    PUT(&w, ",\"u\":");
    put_u64(&w, ev->last_update_id);
    PUT(&w, ",\"b\":");
    put_levels(&w, sym, ev->bids, ev->bid_count);
    PUT(&w, ",\"a\":");
    put_levels(&w, sym, ev->asks, ev->ask_count);
    put_char(&w, '}');
    return writer_finish(&w, buf, cap);
}

size_t sim_render_depth_partial_futures(const sim_render_options_t *opt,
                                        const sim_depth_event_t *ev, char *buf, size_t cap)
{
    writer_t w = writer_start(buf, cap);
    if (ev == NULL || ev->symbol == NULL || !is_futures(ev->symbol))
        writer_fail(&w);
    else
        put_futures_depth(&w, opt, ev);
    return writer_finish(&w, buf, cap);
}

/* {"lastUpdateId":…,"bids":…,"asks":…} with optional futures parts in the middle. */
static void put_book_body(writer_t *w, const sim_symbol_t *sym, const sim_level_t *bids,
                          size_t bid_count, const sim_level_t *asks, size_t ask_count)
{
    PUT(w, "\"bids\":");
    put_levels(w, sym, bids, bid_count);
    PUT(w, ",\"asks\":");
    put_levels(w, sym, asks, ask_count);
    put_char(w, '}');
}

size_t sim_render_depth_partial_spot(const sim_partial_depth_t *ev, char *buf, size_t cap)
{
    writer_t w = writer_start(buf, cap);
    if (ev == NULL || ev->symbol == NULL || ev->symbol->market != MARKET_SPOT) {
        writer_fail(&w);
        return writer_finish(&w, buf, cap);
    }
    PUT(&w, "{\"lastUpdateId\":");
    put_u64(&w, ev->last_update_id);
    put_char(&w, ',');
    put_book_body(&w, ev->symbol, ev->bids, ev->bid_count, ev->asks, ev->ask_count);
    return writer_finish(&w, buf, cap);
}

size_t sim_render_depth_snapshot(const sim_render_options_t *opt, const sim_depth_snapshot_t *ev,
                                 char *buf, size_t cap)
{
    (void)opt; /* REST bodies are the same in both formats */
    writer_t w = writer_start(buf, cap);
    const sim_symbol_t *sym = writer_symbol(&w, ev ? ev->symbol : NULL);
    if (!sym)
        return writer_finish(&w, buf, cap);
    PUT(&w, "{\"lastUpdateId\":");
    put_u64(&w, ev->last_update_id);
    if (is_futures(sym)) {
        PUT(&w, ",\"E\":");
        put_i64(&w, ev->event_time_ms);
        PUT(&w, ",\"T\":");
        put_i64(&w, ev->transact_time_ms);
    }
    if (sym->market == MARKET_COINM) {
        PUT(&w, ",\"symbol\":");
        put_qname(&w, sym->name);
        PUT(&w, ",\"pair\":");
        put_qname(&w, sym->pair);
    }
    put_char(&w, ',');
    put_book_body(&w, sym, ev->bids, ev->bid_count, ev->asks, ev->ask_count);
    return writer_finish(&w, buf, cap);
}

/* ---- bookTicker ------------------------------------------------------------------------------ */

size_t sim_render_book_ticker(const sim_render_options_t *opt, const sim_book_ticker_t *ev,
                              char *buf, size_t cap)
{
    writer_t w = writer_start(buf, cap);
    const sim_symbol_t *sym = writer_symbol(&w, ev ? ev->symbol : NULL);
    if (!sym)
        return writer_finish(&w, buf, cap);
    switch (sym->market) {
    case MARKET_SPOT:
        PUT(&w, "{\"u\":");
        put_u64(&w, ev->update_id);
        break;
    case MARKET_USDM:
        PUT(&w, "{\"e\":\"bookTicker\",\"u\":");
        put_u64(&w, ev->update_id);
        break;
    case MARKET_COINM:
        PUT(&w, "{\"u\":");
        put_u64(&w, ev->update_id);
        PUT(&w, ",\"e\":\"bookTicker\"");
        break;
    }
    PUT(&w, ",\"s\":");
    put_qname(&w, sym->name);
    if (is_futures(sym))
        put_pair_after_symbol(&w, opt, sym);
    PUT(&w, ",\"b\":");
    put_qdec(&w, ev->bid_price, sym->price_decimals, false);
    PUT(&w, ",\"B\":");
    put_qdec(&w, ev->bid_qty, sym->qty_decimals, false);
    PUT(&w, ",\"a\":");
    put_qdec(&w, ev->ask_price, sym->price_decimals, false);
    PUT(&w, ",\"A\":");
    put_qdec(&w, ev->ask_qty, sym->qty_decimals, false);
    if (is_futures(sym)) {
        PUT(&w, ",\"T\":");
        put_i64(&w, ev->transact_time_ms);
        PUT(&w, ",\"E\":");
        put_i64(&w, ev->event_time_ms);
        put_symbol_type(&w, opt, sym);
    }
    put_char(&w, '}');
    return writer_finish(&w, buf, cap);
}

/* ---- trades ---------------------------------------------------------------------------------- */

size_t sim_render_trade(const sim_render_options_t *opt, const sim_trade_event_t *ev, char *buf,
                        size_t cap)
{
    writer_t w = writer_start(buf, cap);
    const sim_symbol_t *sym = writer_symbol(&w, ev ? ev->symbol : NULL);
    if (!sym)
        return writer_finish(&w, buf, cap);
    const sim_trade_t *t = &ev->trade;
    PUT(&w, "{\"e\":\"trade\",\"E\":");
    put_i64(&w, ev->event_time_ms);
    if (is_futures(sym)) {
        PUT(&w, ",\"T\":");
        put_i64(&w, t->time_ms);
    }
    PUT(&w, ",\"s\":");
    put_qname(&w, sym->name);
    PUT(&w, ",\"t\":");
    put_u64(&w, t->trade_id);
    PUT(&w, ",\"p\":");
    put_qdec(&w, t->price, sym->price_decimals, false);
    PUT(&w, ",\"q\":");
    put_qdec(&w, t->qty, sym->qty_decimals, false);
    if (is_futures(sym)) {
        PUT(&w, ",\"X\":\"MARKET\",\"m\":");
        put_bool(&w, t->buyer_is_maker);
        put_symbol_type(&w, opt, sym);
    } else {
        PUT(&w, ",\"T\":");
        put_i64(&w, t->time_ms);
        PUT(&w, ",\"m\":");
        put_bool(&w, t->buyer_is_maker);
        PUT(&w, ",\"M\":true");
    }
    put_char(&w, '}');
    return writer_finish(&w, buf, cap);
}

size_t sim_render_agg_trade(const sim_render_options_t *opt, const sim_agg_trade_t *ev, char *buf,
                            size_t cap)
{
    writer_t w = writer_start(buf, cap);
    const sim_symbol_t *sym = writer_symbol(&w, ev ? ev->symbol : NULL);
    if (!sym)
        return writer_finish(&w, buf, cap);
    PUT(&w, "{\"e\":\"aggTrade\",\"E\":");
    put_i64(&w, ev->event_time_ms);
    if (is_futures(sym)) {
        PUT(&w, ",\"a\":");
        put_u64(&w, ev->agg_id);
        PUT(&w, ",\"s\":");
        put_qname(&w, sym->name);
    } else {
        PUT(&w, ",\"s\":");
        put_qname(&w, sym->name);
        PUT(&w, ",\"a\":");
        put_u64(&w, ev->agg_id);
    }
    PUT(&w, ",\"p\":");
    put_qdec(&w, ev->price, sym->price_decimals, false);
    PUT(&w, ",\"q\":");
    put_qdec(&w, ev->qty, sym->qty_decimals, false);
    if (sym->market == MARKET_USDM && is_current(opt)) {
        PUT(&w, ",\"nq\":");
        put_qdec(&w, ev->qty, sym->qty_decimals, false);
    }
    PUT(&w, ",\"f\":");
    put_u64(&w, ev->first_trade_id);
    PUT(&w, ",\"l\":");
    put_u64(&w, ev->last_trade_id);
    PUT(&w, ",\"T\":");
    put_i64(&w, ev->trade_time_ms);
    PUT(&w, ",\"m\":");
    put_bool(&w, ev->buyer_is_maker);
    if (is_futures(sym))
        put_symbol_type(&w, opt, sym);
    else
        PUT(&w, ",\"M\":true");
    put_char(&w, '}');
    return writer_finish(&w, buf, cap);
}

/* ---- kline ----------------------------------------------------------------------------------- */

size_t sim_render_kline(const sim_render_options_t *opt, const sim_kline_t *ev, char *buf,
                        size_t cap)
{
    (void)opt; /* klines are the same in both formats */
    writer_t w = writer_start(buf, cap);
    const sim_symbol_t *sym = writer_symbol(&w, ev ? ev->symbol : NULL);
    if (!sym)
        return writer_finish(&w, buf, cap);
    unsigned pd = sym->price_decimals, qd = sym->qty_decimals, vd = kline_quote_decimals(sym);
    PUT(&w, "{\"e\":\"kline\",\"E\":");
    put_i64(&w, ev->event_time_ms);
    PUT(&w, ",\"s\":");
    put_qname(&w, sym->name);
    PUT(&w, ",\"k\":{\"t\":");
    put_i64(&w, ev->open_time_ms);
    PUT(&w, ",\"T\":");
    put_i64(&w, ev->close_time_ms);
    PUT(&w, ",\"s\":");
    put_qname(&w, sym->name);
    PUT(&w, ",\"i\":");
    put_qname(&w, ev->interval);
    if (ev->has_trades) {
        PUT(&w, ",\"f\":");
        put_u64(&w, ev->first_trade_id);
        PUT(&w, ",\"L\":");
        put_u64(&w, ev->last_trade_id);
    } else {
        PUT(&w, ",\"f\":-1,\"L\":-1");
    }
    PUT(&w, ",\"o\":");
    put_qdec(&w, ev->open, pd, false);
    PUT(&w, ",\"c\":");
    put_qdec(&w, ev->close, pd, false);
    PUT(&w, ",\"h\":");
    put_qdec(&w, ev->high, pd, false);
    PUT(&w, ",\"l\":");
    put_qdec(&w, ev->low, pd, false);
    PUT(&w, ",\"v\":");
    put_qdec(&w, ev->volume, qd, false);
    PUT(&w, ",\"n\":");
    put_u64(&w, ev->trade_count);
    PUT(&w, ",\"x\":");
    put_bool(&w, ev->closed);
    PUT(&w, ",\"q\":");
    put_qdec(&w, ev->quote_volume, vd, false);
    PUT(&w, ",\"V\":");
    put_qdec(&w, ev->taker_buy_volume, qd, false);
    PUT(&w, ",\"Q\":");
    put_qdec(&w, ev->taker_buy_quote_volume, vd, false);
    PUT(&w, ",\"B\":\"0\"}}");
    return writer_finish(&w, buf, cap);
}

/* ---- markPrice ------------------------------------------------------------------------------- */

size_t sim_render_mark_price(const sim_render_options_t *opt, const sim_mark_price_t *ev, char *buf,
                             size_t cap)
{
    writer_t w = writer_start(buf, cap);
    if (ev == NULL || ev->symbol == NULL || !is_futures(ev->symbol)) {
        writer_fail(&w);
        return writer_finish(&w, buf, cap);
    }
    const sim_symbol_t *sym = ev->symbol;
    PUT(&w, "{\"e\":\"markPriceUpdate\",\"E\":");
    put_i64(&w, ev->event_time_ms);
    PUT(&w, ",\"s\":");
    put_qname(&w, sym->name);
    PUT(&w, ",\"p\":");
    put_qdec(&w, ev->mark_price, MARK_DECIMALS, false);
    if (sym->market == MARKET_USDM && is_current(opt)) {
        PUT(&w, ",\"ap\":");
        dec_t avg = dec_is_zero(ev->mark_price_avg) ? ev->mark_price : ev->mark_price_avg;
        put_qdec(&w, avg, MARK_DECIMALS, false);
    }
    PUT(&w, ",\"P\":");
    put_qdec(&w, ev->estimated_settle_price, MARK_DECIMALS, false);
    PUT(&w, ",\"i\":");
    put_qdec(&w, ev->index_price, MARK_DECIMALS, false);
    if (sym->perpetual) {
        PUT(&w, ",\"r\":");
        put_qdec(&w, ev->funding_rate, MARK_DECIMALS, true);
        PUT(&w, ",\"T\":");
        put_i64(&w, ev->next_funding_time_ms);
    } else {
        PUT(&w, ",\"r\":\"\",\"T\":0"); /* delivery contracts have no funding */
    }
    put_symbol_type(&w, opt, sym);
    put_char(&w, '}');
    return writer_finish(&w, buf, cap);
}

/* ---- combined-stream wrapper ----------------------------------------------------------------- */

size_t sim_render_combined(const char *stream, const char *payload, size_t payload_len, char *buf,
                           size_t cap)
{
    if (buf == NULL || cap == 0)
        return 0;
    if (!name_is_plain(stream) || payload == NULL || payload_len == 0) {
        buf[0] = '\0';
        return 0;
    }
    size_t stream_len = strlen(stream);
    size_t offset = sim_render_combined_offset(stream_len);
    size_t total = offset + payload_len + 1; /* + '}' */
    if (total < offset || total >= cap) {    /* no room for the frame and its NUL */
        /* The payload may be in buf: leave it alone rather than clearing buf[0] under it. */
        if (payload != buf)
            buf[0] = '\0';
        return 0;
    }
    /* Move the payload first: the prefix may overlap where it is now. */
    if (payload != buf + offset)
        memmove(buf + offset, payload, payload_len);
    char *p = buf;
    memcpy(p, "{\"stream\":\"", sizeof("{\"stream\":\"") - 1);
    p += sizeof("{\"stream\":\"") - 1;
    memcpy(p, stream, stream_len);
    p += stream_len;
    memcpy(p, "\",\"data\":", sizeof("\",\"data\":") - 1);
    buf[offset + payload_len] = '}';
    buf[total] = '\0';
    return total;
}
