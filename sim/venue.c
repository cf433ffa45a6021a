/*
 * venue.c — one simulated market: engines in, rendered stream messages out (see venue.h).
 *
 * Data path. sim_venue_advance(now) runs each symbol's engine (market.c) to `now`; every update
 * is recorded in the symbol's history (history.c), written to the truth file when the symbol is
 * traced, and folded with every trade into the symbol's streams (streams.c), which hand out
 * finished events. An event is rendered once (render.c) and queued, by reference, to every
 * connection subscribed to its stream: raw connections share one message, combined ones share
 * one message per stream name, because the {"stream":…} wrapper names the stream as the client
 * wrote it.
 *
 * Subscriptions. Each symbol keeps a short list of "slots", one per distinct stream name anyone
 * subscribed, each with its subscribers. The streams are told which kinds have a slot (their
 * "interest"), so nothing is rendered that nobody reads. A slot is found by scanning: a symbol
 * has a handful of distinct streams, and the scan touches only that symbol's slots.
 *
 * Faults (the control API, control.c) act here, between the streams and the subscribers: a gap
 * drops the next diff events, break_pu rewrites their pu, duplicate sends them twice, reorder
 * holds one back until the next, stall drops everything of the symbol for a while. Each diff
 * speed counts its own events, so a fault hits every speed a client may be reading. The truth
 * (history, truth file) is never touched by a fault: it is what the client should have built.
 *
 * REST. /api/v3 (spot), /fapi/v1 (USD-M), /dapi/v1 (COIN-M): depth, exchangeInfo, ping, time,
 * each charged to the client's per-minute weight (ratelimit.c), which answers 429 and 418 as
 * Binance does. Depth snapshot faults (stale, 5xx, 429, 418, slow) take the next requests.
 */
#include "venue.h"

#include "history.h"
#include "log.h"
#include "market.h"
#include "render.h"
#include "streamname.h"
#include "streams.h"
#include "symbols.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TRUTH_HISTORY_DEFAULT 262144 /* changes: about an hour of a default-rate symbol */
#define HISTORY_DEFAULT 512          /* changes: a few seconds back, for stale snapshots */
#define SPOT_DEPTH_LIMIT_DEFAULT 100 /* [S-REST] default 100, max 5000 */
#define SPOT_DEPTH_LIMIT_MAX 5000
#define FUTURES_DEPTH_LIMIT_DEFAULT 500 /* [PY-SDK] market_data_api.py: default 500 */
#define FAULT_RETRY_AFTER_S 5           /* Retry-After of an injected 429/418 */

/* One distinct stream name subscribed on one symbol, and who reads it. */
typedef struct {
    char *name;                /* as the client wrote it */
    sim_streamkind_t kind;
    int key;                   /* speed, partial size, kline interval or mark speed, per kind */
    sim_subscriber_t **subs;
    size_t sub_count, sub_cap;
} slot_t;

/* A diff depth event held back by the reorder fault. */
typedef struct {
    char *payload;
    size_t len;
} held_t;

typedef struct {
    sim_venue_t *venue;
    const sim_symbol_t *symbol;
    sim_market_t *market;
    sim_streams_t *streams;
    sim_history_t *history;
    bool traced;
    int64_t last_update_ms; /* logical time of the last update, for futures snapshot T */
    slot_t *slots;
    size_t slot_count, slot_cap;
    /* faults, per diff depth speed */
    uint32_t gap[SIM_SPEED_COUNT];
    uint32_t break_pu[SIM_SPEED_COUNT];
    uint32_t duplicate[SIM_SPEED_COUNT];
    uint32_t reorder[SIM_SPEED_COUNT];
    held_t held[SIM_SPEED_COUNT];
    int64_t stall_until_ms;
} venue_symbol_t;

struct sim_venue_t {
    sim_venue_options_t opt;
    sim_render_options_t render;
    sim_universe_t *universe;
    venue_symbol_t *symbols;
    int64_t *due_ms; /* per symbol: the logical time it next has work; contiguous, so a tick
                        that has nothing to do for most symbols touches only this array */
    size_t symbol_count;
    int64_t now_ms;
    char *scratch;
    size_t scratch_cap;
    uint32_t rest_fault[SIM_REST_FAULT_COUNT];
    int64_t rest_slow_ms;
    /* counters for /_sim/status */
    uint64_t events_rendered, messages_queued, render_failures, events_faulted;
    uint64_t rest_requests, rest_refused;
};

/* ---- small helpers ------------------------------------------------------------------------- */

void sim_http_respond(sim_http_response_t *resp, int status, const char *body)
{
    resp->status = status;
    resp->content_type = "application/json;charset=UTF-8";
    resp->body = strdup(body);
    resp->body_len = resp->body ? strlen(body) : 0;
}

bool sim_http_query_get(const char *query, const char *key, char *out, size_t out_len)
{
    size_t key_len = strlen(key);
    const char *p = query;
    while (p && *p) {
        const char *end = strchr(p, '&');
        size_t seg = end ? (size_t)(end - p) : strlen(p);
        if (seg > key_len && strncmp(p, key, key_len) == 0 && p[key_len] == '=') {
            size_t n = seg - key_len - 1;
            if (out_len) {
                if (n > out_len - 1)
                    n = out_len - 1;
                memcpy(out, p + key_len + 1, n);
                out[n] = '\0';
            }
            return true;
        }
        if (seg == key_len && strncmp(p, key, key_len) == 0) {
            if (out_len)
                out[0] = '\0';
            return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

static void add_header(sim_http_response_t *resp, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_header(sim_http_response_t *resp, const char *name, const char *fmt, ...)
{
    if (resp->header_count >= SIM_HTTP_MAX_HEADERS)
        return;
    size_t i = resp->header_count++;
    snprintf(resp->headers[i].name, sizeof resp->headers[i].name, "%s", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(resp->headers[i].value, sizeof resp->headers[i].value, fmt, ap);
    va_end(ap);
}

/* A scratch buffer of at least `need` bytes, or NULL when out of memory. */
static char *scratch(sim_venue_t *self, size_t need)
{
    if (need > self->scratch_cap) {
        size_t cap = self->scratch_cap ? self->scratch_cap : 4096;
        while (cap < need)
            cap *= 2;
        char *p = realloc(self->scratch, cap);
        if (!p)
            return NULL;
        self->scratch = p;
        self->scratch_cap = cap;
    }
    return self->scratch;
}

static int depth_speed_of_ms(unsigned ms)
{
    for (int s = 0; s < SIM_SPEED_COUNT; s++)
        if (sim_depth_speed_ms((sim_depth_speed_t)s) == ms)
            return s;
    return -1;
}

/* The slot key of a parsed stream name: which event of its kind it receives. -1: none. */
static int slot_key(const sim_streamname_t *p)
{
    switch (p->kind) {
    case SIM_STREAMKIND_DEPTH:
        return depth_speed_of_ms(p->speed_ms);
    case SIM_STREAMKIND_PARTIAL_DEPTH: {
        int s = depth_speed_of_ms(p->speed_ms);
        int size = p->levels == 5 ? SIM_PARTIAL_5 : p->levels == 10 ? SIM_PARTIAL_10
                                                                    : SIM_PARTIAL_20;
        return s < 0 ? -1 : size * SIM_SPEED_COUNT + s;
    }
    case SIM_STREAMKIND_KLINE: {
        sim_kline_interval_t iv;
        return sim_kline_interval_parse(p->interval, &iv) == 0 ? (int)iv : -1;
    }
    case SIM_STREAMKIND_MARK_PRICE:
        return p->speed_ms == 1000 ? SIM_MARK_1S : SIM_MARK_3S;
    default:
        return 0;
    }
}

/* ---- delivery ------------------------------------------------------------------------------ */

/* Queues the payload (in the scratch buffer or anywhere else) to every subscriber of the
   symbol's streams of `kind` with `key`. */
static void deliver(venue_symbol_t *vs, sim_streamkind_t kind, int key, const char *payload,
                    size_t len)
{
    sim_venue_t *v = vs->venue;
    sim_msg_t *raw = NULL;
    for (size_t i = 0; i < vs->slot_count; i++) {
        slot_t *slot = &vs->slots[i];
        if (slot->kind != kind || slot->key != key || slot->sub_count == 0)
            continue;
        sim_msg_t *wrapped = NULL;
        for (size_t k = 0; k < slot->sub_count; k++) {
            sim_subscriber_t *sub = slot->subs[k];
            sim_msg_t **msg = sub->combined ? &wrapped : &raw;
            if (!*msg) {
                if (sub->combined) {
                    size_t total = sim_render_combined_offset(strlen(slot->name)) + len + 1;
                    *msg = sim_msg_new(NULL, total + 1);
                    if (*msg) {
                        size_t n = sim_render_combined(slot->name, payload, len,
                                                       (char *)sim_msg_data(*msg), total + 1);
                        (*msg)->len = (uint32_t)n;
                        if (n == 0)
                            sim_msg_unref(msg);
                    }
                } else {
                    *msg = sim_msg_new(payload, len);
                }
                if (!*msg) {
                    v->render_failures++;
                    log_warn("%s %s: cannot queue a %s message (out of memory)",
                             market_name(v->opt.market), vs->symbol->name, slot->name);
                    continue;
                }
            }
            sub->deliver(sub, *msg);
            v->messages_queued++;
        }
        sim_msg_unref(&wrapped);
    }
    sim_msg_unref(&raw);
}

static bool stalled(const venue_symbol_t *vs)
{
    return vs->venue->now_ms < vs->stall_until_ms;
}

/* Counts a rendered event; false (counted and logged) when rendering failed (len 0). */
static bool rendered(venue_symbol_t *vs, size_t len)
{
    vs->venue->events_rendered++;
    if (len)
        return true;
    vs->venue->render_failures++;
    log_warn("%s %s: an event could not be rendered", market_name(vs->venue->opt.market),
             vs->symbol->name);
    return false;
}

/* The scratch buffer to render an event of `levels` price levels into (its size in *cap), or
   NULL when the symbol is stalled by a fault or memory ran out. */
static char *render_buffer(venue_symbol_t *vs, size_t levels, size_t *cap)
{
    if (stalled(vs))
        return NULL;
    *cap = sim_render_size_max(levels);
    char *buf = scratch(vs->venue, *cap);
    if (!buf)
        rendered(vs, 0); /* counted and logged as a failed render */
    return buf;
}

/* Delivers the event rendered at buf, when it was. */
static void publish(venue_symbol_t *vs, sim_streamkind_t kind, int key, const char *buf,
                    size_t len)
{
    if (rendered(vs, len))
        deliver(vs, kind, key, buf, len);
}

static void on_diff_depth(void *ctx, const sim_depth_event_t *ev, sim_depth_speed_t speed)
{
    venue_symbol_t *vs = ctx;
    sim_venue_t *v = vs->venue;
    if (stalled(vs))
        return;
    if (vs->gap[speed]) {
        vs->gap[speed]--;
        v->events_faulted++;
        log_info("%s %s: fault gap: dropped diff depth U=%" PRIu64 " u=%" PRIu64 " (%ums)",
                 market_name(v->opt.market), vs->symbol->name, ev->first_update_id,
                 ev->last_update_id, sim_depth_speed_ms(speed));
        return;
    }
    sim_depth_event_t e = *ev;
    if (vs->break_pu[speed] && v->opt.market != MARKET_SPOT) {
        vs->break_pu[speed]--;
        v->events_faulted++;
        e.prev_last_update_id = ev->prev_last_update_id > 0 ? ev->prev_last_update_id - 1 : 1;
        log_info("%s %s: fault break_pu: pu %" PRIu64 " sent as %" PRIu64,
                 market_name(v->opt.market), vs->symbol->name, ev->prev_last_update_id,
                 e.prev_last_update_id);
    }
    size_t cap;
    char *payload = render_buffer(vs, ev->bid_count + ev->ask_count, &cap);
    size_t len = payload ? sim_render_depth_diff(&v->render, &e, payload, cap) : 0;
    if (!payload || !rendered(vs, len))
        return;
    if (vs->reorder[speed] && !vs->held[speed].payload) {
        vs->held[speed].payload = malloc(len);
        if (vs->held[speed].payload) {
            memcpy(vs->held[speed].payload, payload, len);
            vs->held[speed].len = len;
            vs->reorder[speed]--;
            v->events_faulted++;
            log_info("%s %s: fault reorder: holding u=%" PRIu64 " back",
                     market_name(v->opt.market), vs->symbol->name, ev->last_update_id);
            return;
        }
    }
    deliver(vs, SIM_STREAMKIND_DEPTH, (int)speed, payload, len);
    if (vs->duplicate[speed]) {
        vs->duplicate[speed]--;
        v->events_faulted++;
        log_info("%s %s: fault duplicate: u=%" PRIu64 " sent twice", market_name(v->opt.market),
                 vs->symbol->name, ev->last_update_id);
        deliver(vs, SIM_STREAMKIND_DEPTH, (int)speed, payload, len);
    }
    if (vs->held[speed].payload) {
        deliver(vs, SIM_STREAMKIND_DEPTH, (int)speed, vs->held[speed].payload,
                vs->held[speed].len);
        free(vs->held[speed].payload);
        vs->held[speed].payload = NULL;
    }
}

static void on_partial_spot(void *ctx, const sim_partial_depth_t *ev, sim_partial_t partial,
                            sim_depth_speed_t speed)
{
    venue_symbol_t *vs = ctx;
    size_t cap;
    char *buf = render_buffer(vs, ev->bid_count + ev->ask_count, &cap);
    if (buf)
        publish(vs, SIM_STREAMKIND_PARTIAL_DEPTH, (int)partial * SIM_SPEED_COUNT + (int)speed, buf,
                sim_render_depth_partial_spot(ev, buf, cap));
}

static void on_partial_futures(void *ctx, const sim_depth_event_t *ev, sim_partial_t partial,
                               sim_depth_speed_t speed)
{
    venue_symbol_t *vs = ctx;
    size_t cap;
    char *buf = render_buffer(vs, ev->bid_count + ev->ask_count, &cap);
    if (buf)
        publish(vs, SIM_STREAMKIND_PARTIAL_DEPTH, (int)partial * SIM_SPEED_COUNT + (int)speed, buf,
                sim_render_depth_partial_futures(&vs->venue->render, ev, buf, cap));
}

static void on_book_ticker(void *ctx, const sim_book_ticker_t *ev)
{
    venue_symbol_t *vs = ctx;
    size_t cap;
    char *buf = render_buffer(vs, 2, &cap);
    if (buf)
        publish(vs, SIM_STREAMKIND_BOOK_TICKER, 0, buf,
                sim_render_book_ticker(&vs->venue->render, ev, buf, cap));
}

static void on_trade(void *ctx, const sim_trade_event_t *ev)
{
    venue_symbol_t *vs = ctx;
    size_t cap;
    char *buf = render_buffer(vs, 1, &cap);
    if (buf)
        publish(vs, SIM_STREAMKIND_TRADE, 0, buf,
                sim_render_trade(&vs->venue->render, ev, buf, cap));
}

static void on_agg_trade(void *ctx, const sim_agg_trade_t *ev)
{
    venue_symbol_t *vs = ctx;
    size_t cap;
    char *buf = render_buffer(vs, 1, &cap);
    if (buf)
        publish(vs, SIM_STREAMKIND_AGG_TRADE, 0, buf,
                sim_render_agg_trade(&vs->venue->render, ev, buf, cap));
}

static void on_kline(void *ctx, const sim_kline_t *ev, sim_kline_interval_t interval)
{
    venue_symbol_t *vs = ctx;
    size_t cap;
    char *buf = render_buffer(vs, 4, &cap);
    if (buf)
        publish(vs, SIM_STREAMKIND_KLINE, (int)interval, buf,
                sim_render_kline(&vs->venue->render, ev, buf, cap));
}

static void on_mark_price(void *ctx, const sim_mark_price_t *ev, sim_mark_speed_t speed)
{
    venue_symbol_t *vs = ctx;
    size_t cap;
    char *buf = render_buffer(vs, 4, &cap);
    if (buf)
        publish(vs, SIM_STREAMKIND_MARK_PRICE, (int)speed, buf,
                sim_render_mark_price(&vs->venue->render, ev, buf, cap));
}

/* ---- the engine side ----------------------------------------------------------------------- */

/* The top of the book the streams need, copied into `bids`/`asks`. */
static sim_book_view_t book_view(const sim_market_t *market, sim_level_t *bids, sim_level_t *asks)
{
    const sim_book_t *book = sim_market_book(market);
    sim_book_view_t view = {
        .bids = bids,
        .bid_count = sim_book_top(book, SIM_BID, bids, SIM_STREAMS_BOOK_LEVELS),
        .asks = asks,
        .ask_count = sim_book_top(book, SIM_ASK, asks, SIM_STREAMS_BOOK_LEVELS),
        .last_update_id = sim_market_last_update_id(market),
    };
    return view;
}

/* One level as the truth file writes it: ["price","qty"]. */
static void truth_write_level(FILE *f, const sim_symbol_t *s, dec_t price, dec_t qty, bool first)
{
    char p[DEC_STRLEN], q[DEC_STRLEN];
    dec_format_fixed(price, s->price_decimals, p);
    dec_format_fixed(qty, s->qty_decimals, q);
    fprintf(f, "%s[\"%s\",\"%s\"]", first ? "" : ",", p, q);
}

static void truth_write_book(venue_symbol_t *vs)
{
    FILE *f = vs->venue->opt.truth_file;
    const sim_book_t *book = sim_market_book(vs->market);
    fprintf(f, "{\"type\":\"book\",\"market\":\"%s\",\"symbol\":\"%s\",\"update_id\":%" PRIu64,
            market_name(vs->symbol->market), vs->symbol->name,
            sim_market_last_update_id(vs->market));
    for (int side = SIM_BID; side <= SIM_ASK; side++) {
        fputs(side == SIM_BID ? ",\"bids\":[" : "],\"asks\":[", f);
        size_t n = sim_book_count(book, (sim_side_t)side);
        for (size_t i = 0; i < n; i++) {
            sim_level_t l = sim_book_level(book, (sim_side_t)side, i);
            truth_write_level(f, vs->symbol, l.price, l.qty, i == 0);
        }
    }
    fputs("]}\n", f);
}

static void truth_write_update(venue_symbol_t *vs, const sim_update_t *u)
{
    FILE *f = vs->venue->opt.truth_file;
    fprintf(f,
            "{\"type\":\"update\",\"market\":\"%s\",\"symbol\":\"%s\",\"first_id\":%" PRIu64
            ",\"last_id\":%" PRIu64 ",\"time_ms\":%" PRId64,
            market_name(vs->symbol->market), vs->symbol->name, u->first_id, u->last_id,
            vs->venue->opt.epoch_ms + u->time_ms);
    for (int side = SIM_BID; side <= SIM_ASK; side++) {
        fputs(side == SIM_BID ? ",\"b\":[" : "],\"a\":[", f);
        bool first = true;
        for (size_t i = 0; i < u->change_count; i++) {
            if (u->changes[i].side != (sim_side_t)side)
                continue;
            truth_write_level(f, vs->symbol, u->changes[i].price, u->changes[i].qty, first);
            first = false;
        }
    }
    fputs("]}\n", f);
}

static void on_engine_update(void *arg, const sim_update_t *u)
{
    venue_symbol_t *vs = arg;
    sim_history_record(vs->history, u);
    vs->last_update_ms = u->time_ms;
    if (vs->traced && vs->venue->opt.truth_file)
        truth_write_update(vs, u);
    sim_level_t bids[SIM_STREAMS_BOOK_LEVELS], asks[SIM_STREAMS_BOOK_LEVELS];
    sim_book_view_t view = book_view(vs->market, bids, asks);
    sim_streams_on_update(vs->streams, u, &view);
}

static void on_engine_trade(void *arg, const sim_trade_t *t)
{
    venue_symbol_t *vs = arg;
    sim_streams_on_trade(vs->streams, t);
}

/* When the symbol next has work: an engine event at t runs once now > t (advance runs events
   before `until`), a stream deadline d once now >= d. */
static void symbol_reschedule(sim_venue_t *self, size_t i)
{
    venue_symbol_t *vs = &self->symbols[i];
    int64_t engine = sim_market_next_event_ms(vs->market);
    int64_t due = engine == INT64_MAX ? INT64_MAX : engine + 1;
    int64_t streams = sim_streams_next_deadline_ms(vs->streams);
    self->due_ms[i] = streams < due ? streams : due;
}

void sim_venue_advance(sim_venue_t *self, int64_t now_ms)
{
    if (now_ms <= self->now_ms)
        return;
    self->now_ms = now_ms;
    for (size_t i = 0; i < self->symbol_count; i++) {
        if (self->due_ms[i] > now_ms)
            continue;
        venue_symbol_t *vs = &self->symbols[i];
        if (sim_market_next_event_ms(vs->market) < now_ms) {
            sim_market_sink_t sink = {on_engine_update, on_engine_trade, vs};
            sim_market_advance(vs->market, now_ms, &sink);
        }
        sim_streams_tick(vs->streams, now_ms);
        symbol_reschedule(self, i);
    }
    if (self->opt.truth_file)
        fflush(self->opt.truth_file);
}

int64_t sim_venue_next_event_ms(const sim_venue_t *self)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < self->symbol_count; i++) {
        int64_t t = sim_market_next_event_ms(self->symbols[i].market);
        if (t < next)
            next = t;
    }
    return next;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

/* True when `name` is in the comma-separated `list` (any case), or the list is "ALL". */
static bool listed(const char *list, const char *name)
{
    if (!list || !*list)
        return false;
    if (strcasecmp(list, "ALL") == 0)
        return true;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0)
            return true;
        p = end ? end + 1 : p + len;
    }
    return false;
}

static int symbol_init(sim_venue_t *self, venue_symbol_t *vs, const sim_symbol_t *symbol)
{
    vs->venue = self;
    vs->symbol = symbol;
    sim_market_params_t params;
    sim_market_params_default(&params);
    if (self->opt.book_updates_per_s)
        params.book_updates_per_s = self->opt.book_updates_per_s;
    if (self->opt.trades_per_s)
        params.trades_per_s = self->opt.trades_per_s;
    vs->market = sim_market_new(symbol, &params);
    vs->streams = sim_streams_new(symbol, self->opt.epoch_ms);
    vs->traced = listed(self->opt.truth_symbols, symbol->name);
    size_t cap = vs->traced ? self->opt.truth_history : self->opt.history;
    vs->history = vs->market ? sim_history_new(cap, sim_market_last_update_id(vs->market)) : NULL;
    if (!vs->market || !vs->streams || !vs->history)
        return -1;
    sim_level_t bids[SIM_STREAMS_BOOK_LEVELS], asks[SIM_STREAMS_BOOK_LEVELS];
    sim_book_view_t view = book_view(vs->market, bids, asks);
    sim_streams_set_initial_book(vs->streams, &view);
    sim_streams_sink_t sink = {
        .ctx = vs,
        .diff_depth = on_diff_depth,
        .partial_depth_spot = on_partial_spot,
        .partial_depth_futures = on_partial_futures,
        .book_ticker = on_book_ticker,
        .trade = on_trade,
        .agg_trade = on_agg_trade,
        .kline = on_kline,
        .mark_price = on_mark_price,
    };
    sim_streams_set_sink(vs->streams, &sink);
    sim_streams_set_interest(vs->streams, NULL);
    if (vs->traced && self->opt.truth_file)
        truth_write_book(vs);
    return 0;
}

static void symbol_fini(venue_symbol_t *vs)
{
    for (size_t i = 0; i < vs->slot_count; i++) {
        free(vs->slots[i].name);
        free(vs->slots[i].subs);
    }
    free(vs->slots);
    for (int s = 0; s < SIM_SPEED_COUNT; s++)
        free(vs->held[s].payload);
    sim_history_destroy(&vs->history);
    sim_streams_destroy(&vs->streams);
    sim_market_destroy(&vs->market);
}

sim_venue_t *sim_venue_new(const sim_venue_options_t *options)
{
    sim_venue_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->opt = *options;
    if (!self->opt.truth_history)
        self->opt.truth_history = TRUTH_HISTORY_DEFAULT;
    if (!self->opt.history)
        self->opt.history = HISTORY_DEFAULT;
    self->render = sim_render_options_default();
    if (self->opt.legacy_fields)
        self->render.format = SIM_RENDER_LEGACY;
    self->universe = sim_universe_new(options->market, options->symbol_count, options->seed);
    if (!self->universe) {
        log_error("sim: cannot create %zu %s symbols (at most %d)", options->symbol_count,
                  market_name(options->market), SIM_UNIVERSE_MAX);
        free(self);
        return NULL;
    }
    self->symbol_count = sim_universe_count(self->universe);
    self->symbols = calloc(self->symbol_count, sizeof *self->symbols);
    self->due_ms = calloc(self->symbol_count, sizeof *self->due_ms);
    if (!self->symbols || !self->due_ms) {
        sim_venue_destroy(&self);
        return NULL;
    }
    for (size_t i = 0; i < self->symbol_count; i++) {
        if (symbol_init(self, &self->symbols[i], sim_universe_get(self->universe, i)) != 0) {
            log_error("sim: cannot start %s %s (out of memory or a bad engine parameter)",
                      market_name(options->market), sim_universe_get(self->universe, i)->name);
            sim_venue_destroy(&self);
            return NULL;
        }
        symbol_reschedule(self, i);
    }
    return self;
}

void sim_venue_destroy(sim_venue_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_venue_t *self = *self_p;
    if (self->symbols)
        for (size_t i = 0; i < self->symbol_count; i++)
            symbol_fini(&self->symbols[i]);
    free(self->symbols);
    free(self->due_ms);
    sim_universe_destroy(&self->universe);
    free(self->scratch);
    free(self);
    *self_p = NULL;
}

market_t sim_venue_market(const sim_venue_t *self)
{
    return self->opt.market;
}

static venue_symbol_t *find_symbol(sim_venue_t *self, const char *name)
{
    const sim_symbol_t *s = sim_universe_find(self->universe, name);
    if (!s)
        return NULL;
    size_t i = sim_universe_index(self->universe, s);
    return i < self->symbol_count ? &self->symbols[i] : NULL;
}

/* ---- subscriptions ------------------------------------------------------------------------- */

/* Tells the streams which kinds have a subscriber. */
static void update_interest(venue_symbol_t *vs)
{
    sim_streams_interest_t in;
    memset(&in, 0, sizeof in);
    for (size_t i = 0; i < vs->slot_count; i++) {
        const slot_t *slot = &vs->slots[i];
        if (slot->sub_count == 0)
            continue;
        switch (slot->kind) {
        case SIM_STREAMKIND_DEPTH:
            in.diff_depth |= 1u << slot->key;
            break;
        case SIM_STREAMKIND_PARTIAL_DEPTH:
            in.partial_depth[slot->key / SIM_SPEED_COUNT] |= 1u << (slot->key % SIM_SPEED_COUNT);
            break;
        case SIM_STREAMKIND_BOOK_TICKER:
            in.book_ticker = true;
            break;
        case SIM_STREAMKIND_TRADE:
            in.trade = true;
            break;
        case SIM_STREAMKIND_AGG_TRADE:
            in.agg_trade = true;
            break;
        case SIM_STREAMKIND_KLINE:
            in.kline |= 1u << slot->key;
            break;
        case SIM_STREAMKIND_MARK_PRICE:
            in.mark_price |= 1u << slot->key;
            break;
        default:
            break;
        }
    }
    sim_streams_set_interest(vs->streams, &in);
    symbol_reschedule(vs->venue, (size_t)(vs - vs->venue->symbols));
}

static slot_t *find_slot(venue_symbol_t *vs, const char *stream)
{
    for (size_t i = 0; i < vs->slot_count; i++)
        if (strcmp(vs->slots[i].name, stream) == 0)
            return &vs->slots[i];
    return NULL;
}

int sim_venue_subscribe(sim_venue_t *self, sim_subscriber_t *sub, const char *stream)
{
    sim_streamname_t parsed;
    if (sim_streamname_parse(self->opt.market, stream, &parsed) != SIM_STREAMNAME_LIVE ||
        !sim_streamname_delivered_on(self->opt.market, &parsed, (sim_wsroute_t)sub->route))
        return 0;
    venue_symbol_t *vs = find_symbol(self, parsed.symbol);
    int key = slot_key(&parsed);
    if (!vs || key < 0)
        return 0;
    slot_t *slot = find_slot(vs, stream);
    if (!slot) {
        if (vs->slot_count == vs->slot_cap) {
            size_t cap = vs->slot_cap ? vs->slot_cap * 2 : 4;
            slot_t *slots = realloc(vs->slots, cap * sizeof *slots);
            if (!slots)
                return -1;
            vs->slots = slots;
            vs->slot_cap = cap;
        }
        char *name = strdup(stream);
        if (!name)
            return -1;
        slot = &vs->slots[vs->slot_count++];
        *slot = (slot_t){.name = name, .kind = parsed.kind, .key = key};
    }
    for (size_t i = 0; i < slot->sub_count; i++)
        if (slot->subs[i] == sub)
            return 0;
    if (slot->sub_count == slot->sub_cap) {
        size_t cap = slot->sub_cap ? slot->sub_cap * 2 : 4;
        sim_subscriber_t **subs = realloc(slot->subs, cap * sizeof *subs);
        if (!subs)
            return -1;
        slot->subs = subs;
        slot->sub_cap = cap;
    }
    slot->subs[slot->sub_count++] = sub;
    update_interest(vs);
    return 0;
}

/* Removes sub from the slot; drops the slot when it was the last. True when it was there. */
static bool slot_remove(venue_symbol_t *vs, slot_t *slot, sim_subscriber_t *sub)
{
    for (size_t i = 0; i < slot->sub_count; i++) {
        if (slot->subs[i] != sub)
            continue;
        slot->subs[i] = slot->subs[--slot->sub_count];
        if (slot->sub_count == 0) {
            free(slot->name);
            free(slot->subs);
            *slot = vs->slots[--vs->slot_count];
        }
        return true;
    }
    return false;
}

void sim_venue_unsubscribe(sim_venue_t *self, sim_subscriber_t *sub, const char *stream)
{
    sim_streamname_t parsed;
    sim_streamname_parse(self->opt.market, stream, &parsed);
    venue_symbol_t *vs = find_symbol(self, parsed.symbol);
    if (!vs)
        return;
    slot_t *slot = find_slot(vs, stream);
    if (slot && slot_remove(vs, slot, sub))
        update_interest(vs);
}

void sim_venue_unsubscribe_all(sim_venue_t *self, sim_subscriber_t *sub)
{
    for (size_t s = 0; s < self->symbol_count; s++) {
        venue_symbol_t *vs = &self->symbols[s];
        bool changed = false;
        for (size_t i = vs->slot_count; i > 0; i--)
            changed |= slot_remove(vs, &vs->slots[i - 1], sub);
        if (changed)
            update_interest(vs);
    }
}

/* ---- REST ---------------------------------------------------------------------------------- */

static void respond_error(sim_http_response_t *resp, int status, int code, const char *msg)
{
    char body[256];
    snprintf(body, sizeof body, "{\"code\":%d,\"msg\":\"%s\"}", code, msg);
    sim_http_respond(resp, status, body);
}

/* A fault that replaces the snapshot with an error, or 0. */
static int take_rest_fault(sim_venue_t *self, sim_rest_fault_t fault)
{
    if (!self->rest_fault[fault])
        return 0;
    self->rest_fault[fault]--;
    return 1;
}

static void depth_levels(const sim_book_t *book, sim_side_t side, size_t limit, sim_level_t **out,
                         size_t *count)
{
    size_t n = sim_book_count(book, side);
    if (n > limit)
        n = limit;
    *out = malloc((n ? n : 1) * sizeof **out);
    *count = *out ? sim_book_top(book, side, *out, n) : 0;
}

static void rest_depth(sim_venue_t *self, const sim_http_request_t *req,
                       sim_http_response_t *resp, long limit)
{
    market_t m = self->opt.market;
    char name[64];
    if (!sim_http_query_get(req->query, "symbol", name, sizeof name) || !name[0]) {
        respond_error(resp, 400, -1102,
                      "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
        return;
    }
    venue_symbol_t *vs = find_symbol(self, name);
    if (!vs || strcmp(vs->symbol->name, name) != 0) {
        respond_error(resp, 400, -1121, "Invalid symbol.");
        return;
    }
    if (take_rest_fault(self, SIM_REST_FAULT_5XX)) {
        log_info("%s %s: fault snapshot_5xx: depth %s answered 503", market_name(m), req->peer,
                 name);
        resp->status = 503;
        resp->content_type = "text/html";
        resp->body = strdup("<html><body><h1>503 Service Unavailable</h1></body></html>");
        resp->body_len = resp->body ? strlen(resp->body) : 0;
        return;
    }
    if (m != MARKET_SPOT && limit == 0)
        limit = FUTURES_DEPTH_LIMIT_DEFAULT;
    if (m == MARKET_SPOT)
        limit = limit == 0 ? SPOT_DEPTH_LIMIT_DEFAULT
                           : limit > SPOT_DEPTH_LIMIT_MAX ? SPOT_DEPTH_LIMIT_MAX : limit;
    const sim_book_t *now_book = sim_market_book(vs->market);
    sim_book_t *old_book = NULL;
    uint64_t id = sim_market_last_update_id(vs->market);
    if (take_rest_fault(self, SIM_REST_FAULT_STALE)) {
        /* As far back as the history reaches: older than anything a client buffered lately. */
        uint64_t old_id = sim_history_oldest_id(vs->history);
        old_book = sim_history_book_at(vs->history, now_book, old_id);
        if (old_book) {
            log_info("%s %s: fault snapshot_stale: depth %s at %" PRIu64 " instead of %" PRIu64,
                     market_name(m), req->peer, name, old_id, id);
            id = old_id;
        }
    }
    const sim_book_t *book = old_book ? old_book : now_book;
    sim_depth_snapshot_t snap = {
        .symbol = vs->symbol,
        .last_update_id = id,
        .event_time_ms = self->opt.epoch_ms + self->now_ms,
        .transact_time_ms = self->opt.epoch_ms + vs->last_update_ms,
    };
    sim_level_t *bids, *asks;
    depth_levels(book, SIM_BID, (size_t)limit, &bids, &snap.bid_count);
    depth_levels(book, SIM_ASK, (size_t)limit, &asks, &snap.ask_count);
    snap.bids = bids;
    snap.asks = asks;
    size_t cap = sim_render_size_max(snap.bid_count + snap.ask_count);
    char *body = bids && asks ? malloc(cap) : NULL;
    size_t len = body ? sim_render_depth_snapshot(&self->render, &snap, body, cap) : 0;
    free(bids);
    free(asks);
    sim_book_destroy(&old_book);
    if (!len) {
        free(body);
        respond_error(resp, 500, -1000, "An unknown error occurred while processing the request.");
        return;
    }
    resp->status = 200;
    resp->content_type = "application/json;charset=UTF-8";
    resp->body = body;
    resp->body_len = len;
    if (take_rest_fault(self, SIM_REST_FAULT_SLOW)) {
        resp->delay_ms = self->rest_slow_ms;
        log_info("%s %s: fault snapshot_slow: depth %s answered after %" PRId64 " ms",
                 market_name(m), req->peer, name, resp->delay_ms);
    }
}

static void add_json_filters(cJSON *sym, const sim_symbol_t *s)
{
    char tick[DEC_STRLEN], step[DEC_STRLEN];
    dec_format_fixed(s->tick_size, s->market == MARKET_SPOT ? 8 : s->price_decimals, tick);
    dec_format_fixed(s->step_size, s->market == MARKET_SPOT ? 8 : s->qty_decimals, step);
    cJSON *filters = cJSON_AddArrayToObject(sym, "filters");
    cJSON *pf = cJSON_CreateObject();
    cJSON_AddStringToObject(pf, "filterType", "PRICE_FILTER");
    cJSON_AddStringToObject(pf, "minPrice", tick);
    cJSON_AddStringToObject(pf, "maxPrice", s->market == MARKET_SPOT ? "1000000.00000000"
                                                                   : "1000000");
    cJSON_AddStringToObject(pf, "tickSize", tick);
    cJSON_AddItemToArray(filters, pf);
    cJSON *lot = cJSON_CreateObject();
    cJSON_AddStringToObject(lot, "filterType", "LOT_SIZE");
    cJSON_AddStringToObject(lot, "minQty", step);
    cJSON_AddStringToObject(lot, "maxQty", s->market == MARKET_SPOT ? "9000.00000000" : "1000");
    cJSON_AddStringToObject(lot, "stepSize", step);
    cJSON_AddItemToArray(filters, lot);
}

static void add_rate_limit(cJSON *arr, const char *type, const char *interval, int num, int limit)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "rateLimitType", type);
    cJSON_AddStringToObject(r, "interval", interval);
    cJSON_AddNumberToObject(r, "intervalNum", num);
    cJSON_AddNumberToObject(r, "limit", limit);
    cJSON_AddItemToArray(arr, r);
}

/* exchangeInfo: the fields clients read (symbols with status, tick and step; rate limits), in
   each market's shape ([S-REST] exchangeInfo; [PY-SDK] futures exchange_information). */
static void rest_exchange_info(sim_venue_t *self, sim_http_response_t *resp, int64_t now_ms)
{
    market_t m = self->opt.market;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "timezone", "UTC");
    cJSON_AddNumberToObject(root, "serverTime", (double)now_ms);
    if (m != MARKET_SPOT)
        cJSON_AddStringToObject(root, "futuresType",
                                m == MARKET_USDM ? "U_MARGINED" : "COIN_MARGINED");
    cJSON *limits = cJSON_AddArrayToObject(root, "rateLimits");
    if (m == MARKET_SPOT) {
        add_rate_limit(limits, "REQUEST_WEIGHT", "MINUTE", 1, SIM_RESTWEIGHT_SPOT_LIMIT);
        add_rate_limit(limits, "ORDERS", "SECOND", 10, 100);
        add_rate_limit(limits, "ORDERS", "DAY", 1, 200000);
        add_rate_limit(limits, "RAW_REQUESTS", "MINUTE", 5, 61000);
    } else {
        add_rate_limit(limits, "REQUEST_WEIGHT", "MINUTE", 1, SIM_RESTWEIGHT_FUTURES_LIMIT);
        add_rate_limit(limits, "ORDERS", "MINUTE", 1, 1200);
        add_rate_limit(limits, "ORDERS", "SECOND", 10, 300);
    }
    cJSON_AddArrayToObject(root, "exchangeFilters");
    cJSON *symbols = cJSON_AddArrayToObject(root, "symbols");
    for (size_t i = 0; i < self->symbol_count; i++) {
        const sim_symbol_t *s = self->symbols[i].symbol;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "symbol", s->name);
        if (m == MARKET_SPOT) {
            cJSON_AddStringToObject(o, "status", "TRADING");
            cJSON_AddStringToObject(o, "baseAsset", s->base);
            cJSON_AddNumberToObject(o, "baseAssetPrecision", 8);
            cJSON_AddStringToObject(o, "quoteAsset", s->quote);
            cJSON_AddNumberToObject(o, "quotePrecision", 8);
            cJSON_AddNumberToObject(o, "quoteAssetPrecision", 8);
        } else {
            cJSON_AddStringToObject(o, "pair", s->pair);
            cJSON_AddStringToObject(o, "contractType",
                                    s->perpetual ? "PERPETUAL" : "CURRENT_QUARTER");
            cJSON_AddStringToObject(o, m == MARKET_USDM ? "status" : "contractStatus",
                                    "TRADING");
            if (m == MARKET_COINM)
                cJSON_AddNumberToObject(o, "contractSize",
                                        strcmp(s->base, "BTC") == 0 ? 100 : 10);
            cJSON_AddStringToObject(o, "baseAsset", s->base);
            cJSON_AddStringToObject(o, "quoteAsset", s->quote);
            cJSON_AddStringToObject(o, "marginAsset", m == MARKET_USDM ? s->quote : s->base);
            cJSON_AddNumberToObject(o, "pricePrecision", s->price_decimals);
            cJSON_AddNumberToObject(o, "quantityPrecision", s->qty_decimals);
        }
        add_json_filters(o, s);
        cJSON_AddItemToArray(symbols, o);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) {
        respond_error(resp, 500, -1000, "An unknown error occurred while processing the request.");
        return;
    }
    resp->status = 200;
    resp->content_type = "application/json;charset=UTF-8";
    resp->body = text;
    resp->body_len = strlen(text);
}

void sim_venue_http(sim_venue_t *self, const sim_http_request_t *req, sim_http_response_t *resp)
{
    market_t m = self->opt.market;
    self->rest_requests++;
    sim_endpoint_t ep = sim_restweight_endpoint(m, req->path);
    if (ep == SIM_ENDPOINT_NONE) {
        log_info("%s %s: no endpoint %s", market_name(m), req->peer, req->path);
        respond_error(resp, 404, -1000, "Not found.");
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        respond_error(resp, 405, -1000, "Method not allowed.");
        return;
    }
    long limit_value = 0;
    char limit_text[32];
    bool has_limit = sim_http_query_get(req->query, "limit", limit_text, sizeof limit_text);
    if (has_limit) {
        char *end;
        limit_value = strtol(limit_text, &end, 10);
        if (!limit_text[0] || *end) {
            respond_error(resp, 400, -1100,
                          "Illegal characters found in parameter 'limit'; legal range is "
                          "'^[0-9]{1,20}$'.");
            return;
        }
    }
    unsigned weight = 1;
    bool bad_limit = sim_restweight_of(m, ep, has_limit ? &limit_value : NULL, &weight) != 0;

    /* Injected rate-limit answers replace the budget's verdict, with its shape. */
    sim_restweight_verdict_t verdict;
    sim_restweight_charge(self->opt.weights, m, req->peer, weight, req->now_ms, &verdict);
    if (ep == SIM_ENDPOINT_DEPTH && verdict.http_status == 200) {
        if (take_rest_fault(self, SIM_REST_FAULT_429)) {
            verdict.http_status = 429;
            verdict.retry_after_s = FAULT_RETRY_AFTER_S;
            log_info("%s %s: fault snapshot_429", market_name(m), req->peer);
        } else if (take_rest_fault(self, SIM_REST_FAULT_418)) {
            verdict.http_status = 418;
            verdict.retry_after_s = FAULT_RETRY_AFTER_S;
            verdict.ban_until_ms = req->now_ms + FAULT_RETRY_AFTER_S * 1000;
            log_info("%s %s: fault snapshot_418", market_name(m), req->peer);
        }
    }
    add_header(resp, "X-MBX-USED-WEIGHT-1M", "%u", verdict.used_weight);
    add_header(resp, "X-MBX-USED-WEIGHT", "%u", verdict.used_weight);
    if (verdict.http_status != 200) {
        self->rest_refused++;
        char body[512];
        sim_restweight_error_body(m, &verdict, body, sizeof body);
        sim_http_respond(resp, verdict.http_status, body);
        add_header(resp, "Retry-After", "%" PRId64, verdict.retry_after_s);
        log_info("%s %s: %s%s refused %d (weight %u of %u used)", market_name(m), req->peer,
                 req->path, req->query[0] ? "?" : "", verdict.http_status, verdict.used_weight,
                 verdict.limit);
        return;
    }
    switch (ep) {
    case SIM_ENDPOINT_DEPTH:
        if (bad_limit) {
            respond_error(resp, 400, -1130, "Invalid data sent for a parameter.");
            return;
        }
        rest_depth(self, req, resp, limit_value);
        return;
    case SIM_ENDPOINT_EXCHANGE_INFO:
        rest_exchange_info(self, resp, req->now_ms);
        return;
    case SIM_ENDPOINT_PING:
        sim_http_respond(resp, 200, "{}");
        return;
    case SIM_ENDPOINT_TIME: {
        char body[64];
        snprintf(body, sizeof body, "{\"serverTime\":%" PRId64 "}", req->now_ms);
        sim_http_respond(resp, 200, body);
        return;
    }
    case SIM_ENDPOINT_NONE:
        break;
    }
}

/* ---- truth and faults ---------------------------------------------------------------------- */

int sim_venue_book_json(sim_venue_t *self, const char *symbol, bool has_id, uint64_t update_id,
                        char **body)
{
    *body = NULL;
    venue_symbol_t *vs = find_symbol(self, symbol);
    char msg[200];
    if (!vs) {
        snprintf(msg, sizeof msg, "{\"error\":\"unknown symbol\"}");
        *body = strdup(msg);
        return 404;
    }
    const sim_book_t *now_book = sim_market_book(vs->market);
    uint64_t newest = sim_market_last_update_id(vs->market);
    if (!has_id)
        update_id = newest;
    if (update_id > newest) {
        snprintf(msg, sizeof msg,
                 "{\"error\":\"update id not reached yet\",\"newest\":%" PRIu64 "}", newest);
        *body = strdup(msg);
        return 409;
    }
    sim_book_t *book = sim_history_book_at(vs->history, now_book, update_id);
    if (!book) {
        snprintf(msg, sizeof msg,
                 "{\"error\":\"update id older than the kept history\",\"oldest\":%" PRIu64 "}",
                 sim_history_oldest_id(vs->history));
        *body = strdup(msg);
        return 410;
    }
    /* The snapshot renderer writes the levels in the market's number format; the truth keeps
       its "bids":…,"asks":… part under a header of its own. */
    sim_depth_snapshot_t snap = {.symbol = vs->symbol, .last_update_id = update_id};
    sim_level_t *bids, *asks;
    depth_levels(book, SIM_BID, SIZE_MAX, &bids, &snap.bid_count);
    depth_levels(book, SIM_ASK, SIZE_MAX, &asks, &snap.ask_count);
    snap.bids = bids;
    snap.asks = asks;
    size_t cap = sim_render_size_max(snap.bid_count + snap.ask_count);
    char *rendered = bids && asks ? malloc(cap) : NULL;
    size_t len = rendered ? sim_render_depth_snapshot(&self->render, &snap, rendered, cap) : 0;
    free(bids);
    free(asks);
    sim_book_destroy(&book);
    const char *levels = len ? strstr(rendered, "\"bids\":") : NULL;
    if (!levels) {
        free(rendered);
        return 500;
    }
    int head = snprintf(msg, sizeof msg, "{\"symbol\":\"%s\",\"update_id\":%" PRIu64 ",",
                        vs->symbol->name, update_id);
    size_t rest = len - (size_t)(levels - rendered);
    *body = malloc((size_t)head + rest + 1);
    if (*body) {
        memcpy(*body, msg, (size_t)head);
        memcpy(*body + head, levels, rest + 1);
    }
    free(rendered);
    return *body ? 200 : 500;
}

static void symbol_fault(venue_symbol_t *vs, sim_stream_fault_t fault, uint32_t count, int64_t ms)
{
    for (int s = 0; s < SIM_SPEED_COUNT; s++) {
        switch (fault) {
        case SIM_STREAM_FAULT_GAP:
            vs->gap[s] += count;
            break;
        case SIM_STREAM_FAULT_BREAK_PU:
            vs->break_pu[s] += count;
            break;
        case SIM_STREAM_FAULT_DUPLICATE:
            vs->duplicate[s] += count;
            break;
        case SIM_STREAM_FAULT_REORDER:
            vs->reorder[s] += count;
            break;
        case SIM_STREAM_FAULT_STALL:
            break;
        }
    }
    if (fault == SIM_STREAM_FAULT_STALL)
        vs->stall_until_ms = vs->venue->now_ms + ms;
}

int sim_venue_stream_fault(sim_venue_t *self, sim_stream_fault_t fault, const char *symbol,
                           uint32_t count, int64_t ms)
{
    if (symbol && *symbol) {
        venue_symbol_t *vs = find_symbol(self, symbol);
        if (!vs)
            return 0;
        symbol_fault(vs, fault, count, ms);
        return 1;
    }
    for (size_t i = 0; i < self->symbol_count; i++)
        symbol_fault(&self->symbols[i], fault, count, ms);
    return (int)self->symbol_count;
}

void sim_venue_rest_fault(sim_venue_t *self, sim_rest_fault_t fault, uint32_t count, int64_t ms)
{
    if (fault < 0 || fault >= SIM_REST_FAULT_COUNT)
        return;
    self->rest_fault[fault] += count;
    if (fault == SIM_REST_FAULT_SLOW)
        self->rest_slow_ms = ms;
}

void sim_venue_clear_faults(sim_venue_t *self)
{
    memset(self->rest_fault, 0, sizeof self->rest_fault);
    for (size_t i = 0; i < self->symbol_count; i++) {
        venue_symbol_t *vs = &self->symbols[i];
        memset(vs->gap, 0, sizeof vs->gap);
        memset(vs->break_pu, 0, sizeof vs->break_pu);
        memset(vs->duplicate, 0, sizeof vs->duplicate);
        memset(vs->reorder, 0, sizeof vs->reorder);
        vs->stall_until_ms = 0;
    }
}

char *sim_venue_status_json(const sim_venue_t *self)
{
    char *out = NULL;
    size_t subscribed = 0;
    for (size_t i = 0; i < self->symbol_count; i++)
        subscribed += self->symbols[i].slot_count;
    if (asprintf(&out,
                 "{\"market\":\"%s\",\"symbols\":%zu,\"logical_ms\":%" PRId64
                 ",\"streams_subscribed\":%zu,\"events_rendered\":%" PRIu64
                 ",\"messages_queued\":%" PRIu64 ",\"render_failures\":%" PRIu64
                 ",\"events_faulted\":%" PRIu64 ",\"rest_requests\":%" PRIu64
                 ",\"rest_refused\":%" PRIu64 "}",
                 market_name(self->opt.market), self->symbol_count, self->now_ms, subscribed,
                 self->events_rendered, self->messages_queued, self->render_failures,
                 self->events_faulted, self->rest_requests, self->rest_refused) < 0)
        return NULL;
    return out;
}
