/*
 * builder.c — the bookbuilder's data path: frame in → parse → book → publish. See builder.h.
 *
 * Each (market, symbol) seen has an entry: its sync_t (created with the first diff event), the
 * topics it publishes on with their seq counters, the state of its snapshot request, the trade
 * dedup windows and the last few bookTickers kept for the top-of-book check. Entries are found
 * through a czmq hash keyed "<market>.<SYMBOL>" and kept in creation order for the timers.
 *
 * The book's state is published on status.<market>.<SYMBOL> whenever it changes; a book that is
 * not synced publishes no book, bbo or depth message, so nothing built on a broken book leaves
 * the process. After every (re)sync the whole book goes out once as a book message of type
 * "snapshot", so a subscriber that only follows the bus can always rebuild the book.
 */
#include "builder.h"

#include "bus.h"
#include "conns.h"
#include "dedup.h"
#include "jbuf.h"
#include "log.h"
#include "publish.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TICKERS_KEPT 16 /* bookTickers remembered per book for the top-of-book check */
#define KLINE_INTERVALS 16
#define TICK_MAX_MS 100

typedef enum { CH_BOOK = 0, CH_BBO, CH_DEPTH, CH_TRADE, CH_KLINE, CH_STATUS, CH_COUNT } channel_t;

typedef struct {
    char interval[PARSE_INTERVAL_MAX + 1];
    int64_t last_closed_open_ms;
} kline_seen_t;

typedef struct {
    market_t market;
    char symbol[PARSE_SYMBOL_MAX + 1];
    sync_t *sync;
    char topics[CH_COUNT][BUS_TOPIC_MAX];
    uint64_t seq[CH_COUNT];
    /* the last bbo published */
    bool bbo_sent;
    book_level_t bbo_bid, bbo_ask;
    bool bbo_has_bid, bbo_has_ask;
    /* top-N depth */
    uint64_t depth_sent_id;
    int64_t depth_next_ns;
    /* snapshot request */
    uint64_t request_id;
    int64_t request_sent_ns;
    int64_t next_request_ns;
    unsigned attempts;
    uint64_t resyncs;
    sync_state_t published_state;
    sync_reason_t published_reason;
    bool status_sent;
    dedup_t trades, agg_trades;
    kline_seen_t klines[KLINE_INTERVALS];
    size_t kline_count;
    book_ticker_event_t tickers[TICKERS_KEPT];
    size_t ticker_count, ticker_next;
} entry_t;

struct builder_t {
    builder_config_t cfg;
    builder_io_t io;
    parse_t *parser;
    conns_t *conns;
    zhashx_t *by_key;
    entry_t **entries;
    size_t entry_count, entry_cap;
    jbuf_t out;
    int64_t now_ns;
    bool published_any; /* during the current frame */
    uint64_t next_request_id;
    unsigned inflight[BUILDER_MARKETS];
    uint64_t raw_seq[BUILDER_MARKETS];
    char raw_topics[BUILDER_MARKETS][BUS_TOPIC_MAX];
    char depth_channel[16];
    builder_counters_t counters;
    latency_t latency;
};

/* ---- small helpers ------------------------------------------------------------------------ */

static int64_t pub_ns(const builder_t *self)
{
    return self->io.clock_ns ? self->io.clock_ns(self->io.arg) : self->now_ns;
}

static bool is_futures(market_t m)
{
    return m == MARKET_USDM || m == MARKET_COINM;
}

static unsigned snapshot_limit(market_t m, size_t max_levels)
{
    if (m == MARKET_SPOT)
        return max_levels > 5000 ? 5000 : (unsigned)max_levels;
    /* /fapi/v1/depth and /dapi/v1/depth accept only these limits (binance-protocol.md §4). */
    static const unsigned limits[] = {5, 10, 20, 50, 100, 500, 1000};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        if (limits[i] >= max_levels)
            return limits[i];
    return 1000;
}

/* FNV-1a of the symbol and the attempt: a jitter that differs per book yet replays the same. */
static uint64_t jitter_seed(const char *symbol, unsigned attempts)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = symbol; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (h ^ attempts) * 1099511628211ULL;
}

static int64_t backoff_ns(const builder_t *self, const entry_t *e)
{
    int64_t ms = self->cfg.snapshot_retry_base_ms;
    for (unsigned i = 1; i < e->attempts && ms < self->cfg.snapshot_retry_max_ms; i++)
        ms *= 2;
    if (ms > self->cfg.snapshot_retry_max_ms)
        ms = self->cfg.snapshot_retry_max_ms;
    int64_t spread = ms / 4 + 1;
    ms += (int64_t)(jitter_seed(e->symbol, e->attempts) % (uint64_t)spread);
    return ms * 1000000;
}

static void emit(builder_t *self, entry_t *e, channel_t ch)
{
    if (jbuf_failed(&self->out)) {
        self->counters.publish_failures++;
        log_error("%s %s: out of memory writing a %s message", market_name(e->market), e->symbol,
                  e->topics[ch]);
        return;
    }
    self->io.publish(self->io.arg, e->topics[ch], self->out.data, self->out.len);
    self->counters.messages_out++;
    self->counters.bytes_out += self->out.len;
    self->published_any = true;
}

static publish_book_id_t book_id(const entry_t *e)
{
    return (publish_book_id_t){
        .market = market_name(e->market),
        .symbol = e->symbol,
        .price_places = sync_price_places(e->sync),
        .qty_places = sync_qty_places(e->sync),
        .futures = is_futures(e->market),
    };
}

/* ---- entries ------------------------------------------------------------------------------ */

static bool symbol_allowed(const builder_t *self, market_t m, const char *symbol)
{
    const builder_market_t *bm = &self->cfg.markets[m - 1];
    if (!bm->enabled)
        return false;
    if (bm->all_symbols)
        return true;
    for (size_t i = 0; i < bm->symbol_count; i++)
        if (strcmp(bm->symbols[i], symbol) == 0)
            return true;
    return false;
}

static entry_t *entry_find(const builder_t *self, market_t m, const char *symbol)
{
    char key[PARSE_SYMBOL_MAX + 16];
    snprintf(key, sizeof key, "%s.%s", market_name(m), symbol);
    return zhashx_lookup(self->by_key, key);
}

/* The entry of (m, symbol), created when the symbol is one the configuration follows. NULL,
   counted, otherwise. */
static entry_t *entry_get(builder_t *self, market_t m, const char *symbol)
{
    if (m < MARKET_SPOT || m > MARKET_COINM)
        return NULL;
    entry_t *e = entry_find(self, m, symbol);
    if (e)
        return e;
    if (!symbol_allowed(self, m, symbol)) {
        self->counters.unknown_symbols++;
        log_warn("%s %s: not a configured symbol; its data is dropped", market_name(m), symbol);
        return NULL;
    }
    if (self->entry_count >= self->cfg.max_books) {
        self->counters.books_refused++;
        log_error("%s %s: bookbuilder.max_books (%zu) reached; its data is dropped", market_name(m),
                  symbol, self->cfg.max_books);
        return NULL;
    }
    if (self->entry_count == self->entry_cap) {
        size_t cap = self->entry_cap ? self->entry_cap * 2 : 64;
        entry_t **grown = realloc(self->entries, cap * sizeof *grown);
        if (!grown)
            return NULL;
        self->entries = grown;
        self->entry_cap = cap;
    }
    e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->market = m;
    snprintf(e->symbol, sizeof e->symbol, "%s", symbol);
    static const char *const channels[CH_COUNT] = {"book", "bbo", NULL, "trade", "kline", "status"};
    for (int ch = 0; ch < CH_COUNT; ch++) {
        const char *name = ch == CH_DEPTH ? self->depth_channel : channels[ch];
        if (bus_topic(e->topics[ch], sizeof e->topics[ch], name, market_name(m), symbol) < 0) {
            free(e);
            self->counters.unknown_symbols++;
            return NULL;
        }
    }
    dedup_init(&e->trades);
    dedup_init(&e->agg_trades);
    char key[PARSE_SYMBOL_MAX + 16];
    snprintf(key, sizeof key, "%s.%s", market_name(m), symbol);
    if (zhashx_insert(self->by_key, key, e) != 0) {
        free(e);
        return NULL;
    }
    self->entries[self->entry_count++] = e;
    return e;
}

static void entry_destroy(entry_t *e)
{
    sync_destroy(&e->sync);
    free(e);
}

/* ---- book state --------------------------------------------------------------------------- */

static void publish_state(builder_t *self, entry_t *e)
{
    sync_state_t state = e->sync ? sync_state(e->sync) : SYNC_SYNCING;
    sync_reason_t reason = e->sync ? sync_reason(e->sync) : SYNC_REASON_START;
    if (e->status_sent && state == e->published_state && reason == e->published_reason)
        return;
    if (e->status_sent && e->published_state == SYNC_SYNCED && state != SYNC_SYNCED) {
        e->resyncs++;
        self->counters.resyncs[reason]++;
        log_warn("%s %s: book resyncing: %s", market_name(e->market), e->symbol,
                 sync_reason_name(reason));
    } else if (state == SYNC_SYNCED) {
        log_info("%s %s: book synced at update id %" PRIu64, market_name(e->market), e->symbol,
                 sync_update_id(e->sync));
    }
    e->status_sent = true;
    e->published_state = state;
    e->published_reason = reason;
    if (state != SYNC_SYNCED) {
        e->bbo_sent = false;
        e->depth_sent_id = 0;
        e->ticker_count = 0;
        e->ticker_next = 0; /* the kept tickers are scanned from index 0 */
    }
    publish_status_t st = {
        .state = sync_state_name(state),
        .reason = sync_reason_name(reason),
        .update_id = e->sync ? sync_update_id(e->sync) : 0,
        .resyncs = e->resyncs,
        .run_id = self->cfg.run_id,
        .started_ns = self->cfg.started_ns,
    };
    publish_status(&self->out, market_name(e->market), e->symbol, ++e->seq[CH_STATUS], &st,
                   pub_ns(self));
    emit(self, e, CH_STATUS);
}

static bool level_eq(const book_level_t *a, const book_level_t *b)
{
    return a->price.units == b->price.units && a->qty.units == b->qty.units;
}

/* recv_ns: the collector's receive time of the frame that moved the book. */
static void publish_bbo_if_changed(builder_t *self, entry_t *e, int64_t recv_ns)
{
    const book_t *book = sync_book(e->sync);
    const book_level_t *bid = book_level(book, BOOK_BID, 0);
    const book_level_t *ask = book_level(book, BOOK_ASK, 0);
    if (e->bbo_sent && e->bbo_has_bid == (bid != NULL) && e->bbo_has_ask == (ask != NULL) &&
        (!bid || level_eq(bid, &e->bbo_bid)) && (!ask || level_eq(ask, &e->bbo_ask)))
        return;
    e->bbo_sent = true;
    e->bbo_has_bid = bid != NULL;
    e->bbo_has_ask = ask != NULL;
    if (bid)
        e->bbo_bid = *bid;
    if (ask)
        e->bbo_ask = *ask;
    const sync_applied_t *a = sync_last_applied(e->sync);
    publish_book_id_t id = book_id(e);
    publish_bbo(&self->out, &id, ++e->seq[CH_BBO], book, sync_update_id(e->sync), a->event_ms,
                recv_ns, pub_ns(self));
    emit(self, e, CH_BBO);
}

/* ---- snapshot requests -------------------------------------------------------------------- */

static void request_done(builder_t *self, entry_t *e)
{
    if (e->request_id) {
        e->request_id = 0;
        if (self->inflight[e->market - 1])
            self->inflight[e->market - 1]--;
    }
}

/* A snapshot attempt failed or was useless: try again after the book's backoff. */
static void retry_later(builder_t *self, entry_t *e)
{
    e->attempts++;
    e->next_request_ns = self->now_ns + backoff_ns(self, e);
}

static void maybe_request(builder_t *self, entry_t *e)
{
    if (!e->sync || e->request_id || !sync_wants_snapshot(e->sync) ||
        self->now_ns < e->next_request_ns)
        return;
    unsigned *inflight = &self->inflight[e->market - 1];
    if (*inflight >= self->cfg.snapshot_inflight_max)
        return;
    uint64_t id = ++self->next_request_id;
    unsigned limit = snapshot_limit(e->market, self->cfg.max_levels);
    self->counters.snapshot_requests++;
    if (self->io.request_snapshot &&
        self->io.request_snapshot(self->io.arg, e->market, e->symbol, limit, id) != 0) {
        self->counters.snapshot_request_failures++;
        log_warn("%s %s: cannot send a snapshot request; trying again later",
                 market_name(e->market), e->symbol);
        retry_later(self, e);
        return;
    }
    e->request_id = id;
    e->request_sent_ns = self->now_ns;
    (*inflight)++;
}

/* ---- diff depth --------------------------------------------------------------------------- */

static bool ticker_matches_book(const entry_t *e, const book_ticker_event_t *t)
{
    const book_t *book = sync_book(e->sync);
    const book_level_t *bid = book_level(book, BOOK_BID, 0);
    const book_level_t *ask = book_level(book, BOOK_ASK, 0);
    return bid && ask && bid->price.units == t->bid.value.units &&
           bid->qty.units == t->bid_qty.value.units && ask->price.units == t->ask.value.units &&
           ask->qty.units == t->ask_qty.value.units;
}

static void bbo_mismatch(builder_t *self, entry_t *e, const book_ticker_event_t *t)
{
    self->counters.bbo_mismatches++;
    log_warn("%s %s: top of book at update id %" PRIu64 " differs from bookTicker; resyncing",
             market_name(e->market), e->symbol, t->update_id);
    sync_break(e->sync, SYNC_REASON_BAD_DATA);
    publish_state(self, e);
    request_done(self, e);
}

/* Compares the book with a kept bookTicker of the same update id, if any. false: it broke. */
static bool check_kept_tickers(builder_t *self, entry_t *e)
{
    uint64_t id = sync_update_id(e->sync);
    for (size_t i = 0; i < e->ticker_count; i++) {
        book_ticker_event_t *t = &e->tickers[i];
        if (t->update_id != id)
            continue;
        self->counters.bbo_checks++;
        if (!ticker_matches_book(e, t)) {
            bbo_mismatch(self, e, t);
            return false;
        }
    }
    return true;
}

static void on_depth(builder_t *self, entry_t *e, const depth_event_t *d, int64_t recv_ns)
{
    if (!e->sync) {
        sync_config_t sc = {
            .rules = is_futures(e->market) ? SYNC_RULES_FUTURES : SYNC_RULES_SPOT,
            .max_levels = self->cfg.max_levels,
            .buffer_max_events = self->cfg.buffer_max_events,
            .reorder_window_ns = self->cfg.reorder_window_ms * 1000000,
            .reorder_max = self->cfg.reorder_max_events,
            .snapshot_depth = snapshot_limit(e->market, self->cfg.max_levels),
            .min_levels = self->cfg.min_levels,
        };
        e->sync = sync_new(&sc);
        if (!e->sync) {
            log_error("%s %s: out of memory for a book", market_name(e->market), e->symbol);
            return;
        }
        publish_state(self, e);
    }
    switch (sync_on_depth(e->sync, d, recv_ns)) {
    case SYNC_APPLIED: {
        self->counters.depth_applied++;
        if (self->cfg.bbo_check && !check_kept_tickers(self, e))
            return;
        size_t n;
        const sync_change_t *changes = sync_changes(e->sync, &n);
        publish_book_id_t id = book_id(e);
        publish_book_update(&self->out, &id, ++e->seq[CH_BOOK], sync_last_applied(e->sync), changes,
                            n, pub_ns(self));
        emit(self, e, CH_BOOK);
        publish_bbo_if_changed(self, e, sync_last_applied(e->sync)->recv_ns);
        return;
    }
    case SYNC_BUFFERED:
        self->counters.depth_buffered++;
        maybe_request(self, e);
        return;
    case SYNC_HELD:
        self->counters.depth_held++;
        return;
    case SYNC_STALE:
        self->counters.depth_stale++;
        return;
    case SYNC_BROKEN:
        publish_state(self, e);
        maybe_request(self, e);
        return;
    }
}

/* ---- snapshots ---------------------------------------------------------------------------- */

static void on_snapshot_failed(builder_t *self, entry_t *e, const char *why)
{
    request_done(self, e);
    if (!e->sync || sync_state(e->sync) == SYNC_SYNCED)
        return;
    log_warn("%s %s: snapshot failed: %s", market_name(e->market), e->symbol, why);
    sync_break(e->sync, SYNC_REASON_SNAPSHOT_FAILED);
    publish_state(self, e);
    retry_later(self, e);
}

static void on_snapshot(builder_t *self, const envelope_header_t *h, const char *payload,
                        size_t len)
{
    entry_t *e = entry_get(self, h->market, h->symbol);
    if (!e)
        return;
    if (e->request_id == h->request_id)
        request_done(self, e);
    snapshot_t snap;
    char detail[160];
    parse_err_t err =
        parse_snapshot(self->parser, h->market, payload, len, &snap, detail, sizeof detail);
    if (err != PARSE_OK) {
        self->counters.snapshots_bad++;
        self->counters.parse_errors[err]++;
        /* A late answer to an earlier request must not cancel the one still outstanding. */
        if (!e->request_id)
            on_snapshot_failed(self, e, detail);
        return;
    }
    if (!e->sync) {
        /* A snapshot before any diff event: nothing to check it against yet. */
        self->counters.snapshots_unused++;
        return;
    }
    switch (sync_on_snapshot(e->sync, &snap)) {
    case SYNC_SNAPSHOT_APPLIED: {
        self->counters.snapshots_applied++;
        request_done(self, e);
        e->attempts = 0;
        e->next_request_ns = 0;
        publish_state(self, e);
        publish_book_id_t id = book_id(e);
        sync_applied_t applied = *sync_last_applied(e->sync);
        if (applied.recv_ns == 0) /* no buffered event after it: the snapshot's own time */
            applied.recv_ns = h->recv_ts_ns;
        publish_book_snapshot(&self->out, &id, ++e->seq[CH_BOOK], sync_book(e->sync), &applied,
                              pub_ns(self));
        emit(self, e, CH_BOOK);
        publish_bbo_if_changed(self, e, applied.recv_ns);
        return;
    }
    case SYNC_SNAPSHOT_TOO_OLD:
        self->counters.snapshots_too_old++;
        publish_state(self, e);
        retry_later(self, e);
        maybe_request(self, e);
        return;
    case SYNC_SNAPSHOT_BROKEN:
        self->counters.snapshots_broken++;
        publish_state(self, e);
        retry_later(self, e);
        return;
    case SYNC_SNAPSHOT_UNUSED:
        self->counters.snapshots_unused++;
        return;
    }
}

static void on_snapshot_error(builder_t *self, const envelope_header_t *h, const char *payload,
                              size_t len)
{
    entry_t *e = entry_find(self, h->market, h->symbol);
    self->counters.snapshot_errors++;
    if (!e || e->request_id != h->request_id)
        return;
    char why[200];
    snprintf(why, sizeof why, "HTTP %u: %.*s", h->http_status, (int)(len < 120 ? len : 120),
             payload);
    on_snapshot_failed(self, e, why);
}

/* ---- connections -------------------------------------------------------------------------- */

/* "btcusdt@depth@100ms" → "BTCUSDT" when the stream is a diff-depth stream, else false. */
static bool diff_depth_symbol(const char *stream, char symbol[PARSE_SYMBOL_MAX + 1])
{
    const char *at = strchr(stream, '@');
    if (!at || at == stream || (size_t)(at - stream) > PARSE_SYMBOL_MAX)
        return false;
    if (strncmp(at + 1, "depth", 5) != 0 || (at[6] != '\0' && at[6] != '@'))
        return false;
    size_t n = (size_t)(at - stream);
    for (size_t i = 0; i < n; i++)
        symbol[i] = (char)(stream[i] >= 'a' && stream[i] <= 'z' ? stream[i] - 32 : stream[i]);
    symbol[n] = '\0';
    return true;
}

/* Every diff-depth stream named in streams lost data: its book resyncs for `reason`. */
static void break_streams(builder_t *self, market_t market, const char *const *streams,
                          size_t count, sync_reason_t reason)
{
    for (size_t i = 0; i < count; i++) {
        char symbol[PARSE_SYMBOL_MAX + 1];
        if (!diff_depth_symbol(streams[i], symbol))
            continue;
        entry_t *e = entry_find(self, market, symbol);
        if (!e || !e->sync)
            continue;
        sync_break(e->sync, reason);
        publish_state(self, e);
    }
}

/* Every book of the market resyncs for `reason`. */
static void break_market(builder_t *self, market_t market, sync_reason_t reason)
{
    for (size_t i = 0; i < self->entry_count; i++) {
        entry_t *e = self->entries[i];
        if (e->market != market || !e->sync)
            continue;
        sync_break(e->sync, reason);
        publish_state(self, e);
    }
}

/* CONN_UP remembers the connection's streams; CONN_DOWN and OVERFLOW break the books of the
   streams they name. */
static void on_connection_frame(builder_t *self, const envelope_header_t *h, const char *payload,
                                size_t len)
{
    char err[160];
    envelope_control_t *ctl = envelope_control_parse(h->kind, payload, len, err, sizeof err);
    if (!ctl) {
        self->counters.frames_bad_envelope++;
        log_warn("%s: unreadable %s frame: %s", market_name(h->market), envelope_kind_name(h->kind),
                 err);
        return;
    }
    const char *const *streams = (const char *const *)ctl->streams;
    switch (h->kind) {
    case ENVELOPE_CONN_UP:
        if (conns_set_streams(self->conns, h->market, h->conn_id, streams, ctl->stream_count) != 0)
            log_warn("%s: cannot remember the streams of connection %u", market_name(h->market),
                     h->conn_id);
        break;
    case ENVELOPE_CONN_DOWN:
        break_streams(self, h->market, streams, ctl->stream_count, SYNC_REASON_DISCONNECT);
        conns_forget(self->conns, h->market, h->conn_id);
        break;
    default:
        break_streams(self, h->market, streams, ctl->stream_count, SYNC_REASON_OVERFLOW);
        break;
    }
    envelope_control_destroy(&ctl);
}

/* A new collector process for the market: the old one's connections and queued answers are
   gone, so every book it fed resyncs and every outstanding request is asked again. */
static void on_new_instance(builder_t *self, market_t market)
{
    self->counters.collector_restarts++;
    log_warn("%s: a new collector instance; every book of the market resyncs", market_name(market));
    break_market(self, market, SYNC_REASON_DISCONNECT);
    for (size_t i = 0; i < self->entry_count; i++) {
        entry_t *e = self->entries[i];
        if (e->market == market && e->request_id) {
            request_done(self, e);
            e->next_request_ns = 0;
        }
    }
}

/* Frames of a connection went missing between the collector and here. On a WebSocket
   connection its streams lost events (all the market's books when its streams are unknown); on
   connection 0 a snapshot answer may be lost, so outstanding requests have failed. */
static void on_frames_lost(builder_t *self, const envelope_header_t *h)
{
    self->counters.frame_gaps++;
    log_warn("%s: frames of connection %u were lost before seq %" PRIu64, market_name(h->market),
             h->conn_id, h->seq);
    if (h->conn_id == ENVELOPE_CONN_NONE) {
        for (size_t i = 0; i < self->entry_count; i++) {
            entry_t *e = self->entries[i];
            if (e->market == h->market && e->request_id)
                on_snapshot_failed(self, e, "its answer may have been lost on the way");
        }
        return;
    }
    size_t count;
    const char *const *streams = conns_streams(self->conns, h->market, h->conn_id, &count);
    if (streams)
        break_streams(self, h->market, streams, count, SYNC_REASON_OVERFLOW);
    else
        break_market(self, h->market, SYNC_REASON_OVERFLOW);
}

/* ---- trades, klines, tickers -------------------------------------------------------------- */

static void on_trade(builder_t *self, entry_t *e, const event_t *ev, int64_t recv_ns)
{
    dedup_t *d = ev->kind == EVENT_AGG_TRADE ? &e->agg_trades : &e->trades;
    switch (dedup_check(d, ev->u.trade.id)) {
    case DEDUP_DUPLICATE:
        self->counters.trade_duplicates++;
        return;
    case DEDUP_TOO_OLD:
        self->counters.trades_too_old++;
        log_warn("%s %s: trade id %" PRIu64 " is older than the dedup window; dropped",
                 market_name(e->market), e->symbol, ev->u.trade.id);
        return;
    case DEDUP_NEW:
        break;
    }
    self->counters.trades++;
    publish_trade(&self->out, market_name(e->market), e->symbol, ++e->seq[CH_TRADE], ev->kind,
                  &ev->u.trade, recv_ns, pub_ns(self));
    emit(self, e, CH_TRADE);
}

static void on_kline(builder_t *self, entry_t *e, const kline_event_t *k, int64_t recv_ns)
{
    if (!k->closed && !self->cfg.live_klines)
        return;
    if (k->closed) {
        kline_seen_t *seen = NULL;
        for (size_t i = 0; i < e->kline_count; i++)
            if (strcmp(e->klines[i].interval, k->interval) == 0)
                seen = &e->klines[i];
        if (!seen && e->kline_count < KLINE_INTERVALS) {
            seen = &e->klines[e->kline_count++];
            snprintf(seen->interval, sizeof seen->interval, "%s", k->interval);
            seen->last_closed_open_ms = INT64_MIN;
        }
        if (seen && k->open_ms <= seen->last_closed_open_ms) {
            self->counters.kline_duplicates++;
            return;
        }
        if (seen)
            seen->last_closed_open_ms = k->open_ms;
    }
    self->counters.klines++;
    publish_kline(&self->out, market_name(e->market), e->symbol, ++e->seq[CH_KLINE], k, recv_ns,
                  pub_ns(self));
    emit(self, e, CH_KLINE);
}

static void on_book_ticker(builder_t *self, entry_t *e, const book_ticker_event_t *t)
{
    if (!self->cfg.bbo_check || !e->sync || sync_state(e->sync) != SYNC_SYNCED)
        return;
    uint64_t id = sync_update_id(e->sync);
    if (t->update_id == id) {
        self->counters.bbo_checks++;
        if (!ticker_matches_book(e, t))
            bbo_mismatch(self, e, t);
        return;
    }
    if (t->update_id < id)
        return; /* the book has moved on: nothing to compare with */
    e->tickers[e->ticker_next] = *t;
    e->ticker_next = (e->ticker_next + 1) % TICKERS_KEPT;
    if (e->ticker_count < TICKERS_KEPT)
        e->ticker_count++;
}

/* ---- frames ------------------------------------------------------------------------------- */

static void on_ws_text(builder_t *self, const envelope_header_t *h, const char *payload, size_t len)
{
    event_t ev;
    ev.symbol[0] = '\0';
    char detail[160];
    parse_err_t err =
        parse_frame(self->parser, h->market, payload, len, &ev, detail, sizeof detail);
    if (err != PARSE_OK) {
        self->counters.parse_errors[err]++;
        log_warn("%s: frame dropped (%s): %s", market_name(h->market), parse_err_name(err), detail);
        return;
    }
    if (ev.kind == EVENT_ANSWER) {
        self->counters.answers++;
        return;
    }
    entry_t *e = entry_get(self, h->market, ev.symbol);
    if (!e)
        return;
    switch (ev.kind) {
    case EVENT_DEPTH:
        on_depth(self, e, &ev.u.depth, h->recv_ts_ns);
        break;
    case EVENT_TRADE:
    case EVENT_AGG_TRADE:
        on_trade(self, e, &ev, h->recv_ts_ns);
        break;
    case EVENT_KLINE:
        on_kline(self, e, &ev.u.kline, h->recv_ts_ns);
        break;
    case EVENT_BOOK_TICKER:
        on_book_ticker(self, e, &ev.u.ticker);
        break;
    default:
        self->counters.unused_events++;
        break;
    }
}

void builder_on_frame(builder_t *self, const void *frame, size_t len, int64_t arrival_ns)
{
    self->counters.frames_in++;
    self->now_ns = arrival_ns;
    if (self->cfg.started_ns == 0)
        self->cfg.started_ns = arrival_ns;
    self->published_any = false;
    envelope_header_t h;
    const void *payload;
    size_t plen;
    char err[160];
    if (envelope_decode(frame, len, &h, &payload, &plen, err, sizeof err) != 0) {
        self->counters.frames_bad_envelope++;
        log_warn("frame dropped: %s", err);
        return;
    }
    if ((unsigned)h.kind < sizeof self->counters.frames_by_kind / sizeof(uint64_t))
        self->counters.frames_by_kind[h.kind]++;
    if (self->cfg.raw_tap && self->io.publish_raw) {
        self->io.publish_raw(self->io.arg, self->raw_topics[h.market - 1],
                             ++self->raw_seq[h.market - 1], frame, len);
        self->counters.raw_out++;
        self->published_any = true;
    }
    switch (conns_note(self->conns, &h)) {
    case CONNS_REPEAT:
        self->counters.frames_repeated++;
        log_warn("%s: frame seq %" PRIu64 " of connection %u seen before; dropped",
                 market_name(h.market), h.seq, h.conn_id);
        return;
    case CONNS_NEW_INSTANCE:
        on_new_instance(self, h.market);
        break;
    case CONNS_GAP:
        on_frames_lost(self, &h);
        break;
    case CONNS_IN_ORDER:
        break;
    }
    switch (h.kind) {
    case ENVELOPE_WS_TEXT:
        on_ws_text(self, &h, payload, plen);
        break;
    case ENVELOPE_SNAPSHOT:
        on_snapshot(self, &h, payload, plen);
        break;
    case ENVELOPE_SNAPSHOT_ERROR:
        on_snapshot_error(self, &h, payload, plen);
        break;
    case ENVELOPE_CONN_UP:
    case ENVELOPE_CONN_DOWN:
    case ENVELOPE_OVERFLOW:
        on_connection_frame(self, &h, payload, plen);
        break;
    }
    if (self->published_any && self->io.clock_ns)
        latency_record(&self->latency, self->io.clock_ns(self->io.arg) - arrival_ns);
}

/* ---- timers ------------------------------------------------------------------------------- */

static void tick_entry(builder_t *self, entry_t *e)
{
    if (!e->sync)
        return;
    if (e->request_id &&
        self->now_ns - e->request_sent_ns > self->cfg.snapshot_timeout_ms * 1000000) {
        self->counters.snapshot_timeouts++;
        on_snapshot_failed(self, e, "no answer in time");
    }
    if (sync_expire(e->sync, self->now_ns)) {
        publish_state(self, e);
        maybe_request(self, e);
    }
    maybe_request(self, e);
    if (self->cfg.depth_levels && sync_state(e->sync) == SYNC_SYNCED &&
        self->now_ns >= e->depth_next_ns) {
        e->depth_next_ns = self->now_ns + self->cfg.depth_interval_ms * 1000000;
        uint64_t id = sync_update_id(e->sync);
        if (id != e->depth_sent_id) {
            e->depth_sent_id = id;
            publish_book_id_t bid = book_id(e);
            publish_depth(&self->out, &bid, ++e->seq[CH_DEPTH], sync_book(e->sync),
                          self->cfg.depth_levels, id, pub_ns(self));
            emit(self, e, CH_DEPTH);
        }
    }
}

int64_t builder_tick(builder_t *self, int64_t now_ns)
{
    if (now_ns > self->now_ns)
        self->now_ns = now_ns;
    for (size_t i = 0; i < self->entry_count; i++)
        tick_entry(self, self->entries[i]);
    int64_t next = TICK_MAX_MS;
    if (self->cfg.depth_levels && self->cfg.depth_interval_ms < next)
        next = self->cfg.depth_interval_ms;
    return next;
}

/* ---- lifecycle and views ------------------------------------------------------------------ */

builder_t *builder_new(const builder_config_t *cfg, const builder_io_t *io)
{
    builder_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    self->io = *io;
    if (self->cfg.max_levels == 0)
        self->cfg.max_levels = 1;
    if (self->cfg.snapshot_inflight_max == 0)
        self->cfg.snapshot_inflight_max = 1;
    if (self->cfg.snapshot_retry_base_ms <= 0)
        self->cfg.snapshot_retry_base_ms = 1;
    if (self->cfg.snapshot_retry_max_ms < self->cfg.snapshot_retry_base_ms)
        self->cfg.snapshot_retry_max_ms = self->cfg.snapshot_retry_base_ms;
    snprintf(self->depth_channel, sizeof self->depth_channel, "depth%u", cfg->depth_levels);
    for (int m = 0; m < BUILDER_MARKETS; m++)
        snprintf(self->raw_topics[m], sizeof self->raw_topics[m], "raw.%s",
                 market_name((market_t)(m + 1)));
    /* Levels per side in one message: Binance sends at most 5000 in a snapshot, and diffs with
       thousands; anything beyond this is refused as absurd. */
    self->parser = parse_new(20000);
    self->conns = conns_new();
    self->by_key = zhashx_new();
    if (!self->parser || !self->by_key || !self->conns) {
        builder_destroy(&self);
        return NULL;
    }
    return self;
}

void builder_destroy(builder_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    builder_t *self = *self_p;
    for (size_t i = 0; i < self->entry_count; i++)
        entry_destroy(self->entries[i]);
    free(self->entries);
    zhashx_destroy(&self->by_key);
    parse_destroy(&self->parser);
    conns_destroy(&self->conns);
    jbuf_free(&self->out);
    free(self);
    *self_p = NULL;
}

void builder_retry_snapshots_now(builder_t *self, market_t market)
{
    for (size_t i = 0; i < self->entry_count; i++) {
        entry_t *e = self->entries[i];
        if (e->market == market && !e->request_id)
            e->next_request_ns = 0;
    }
}

const builder_counters_t *builder_counters(const builder_t *self)
{
    return &self->counters;
}

void builder_book_states(const builder_t *self, size_t out[3])
{
    out[0] = out[1] = out[2] = 0;
    for (size_t i = 0; i < self->entry_count; i++) {
        const entry_t *e = self->entries[i];
        if (e->sync)
            out[sync_state(e->sync)]++;
    }
}

size_t builder_book_count(const builder_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->entry_count; i++)
        n += self->entries[i]->sync != NULL;
    return n;
}

latency_t *builder_latency(builder_t *self)
{
    return &self->latency;
}

static void view_of(const entry_t *e, builder_book_view_t *out)
{
    memset(out, 0, sizeof *out);
    out->state = e->sync ? sync_state(e->sync) : SYNC_SYNCING;
    out->reason = e->sync ? sync_reason(e->sync) : SYNC_REASON_START;
    out->book = e->sync ? sync_book(e->sync) : NULL;
    out->update_id = e->sync ? sync_update_id(e->sync) : 0;
    out->book_seq = e->seq[CH_BOOK];
    out->price_places = e->sync ? sync_price_places(e->sync) : 0;
    out->qty_places = e->sync ? sync_qty_places(e->sync) : 0;
    out->resyncs = e->resyncs;
}

int builder_book(const builder_t *self, market_t market, const char *symbol,
                 builder_book_view_t *out)
{
    if (market < MARKET_SPOT || market > MARKET_COINM)
        return -1;
    const entry_t *e = entry_find(self, market, symbol);
    if (!e || !e->sync)
        return -1;
    view_of(e, out);
    return 0;
}

void builder_each_book(const builder_t *self, builder_book_fn *fn, void *arg)
{
    for (size_t i = 0; i < self->entry_count; i++) {
        const entry_t *e = self->entries[i];
        if (!e->sync)
            continue;
        builder_book_view_t v;
        view_of(e, &v);
        fn(arg, e->market, e->symbol, &v);
    }
}
