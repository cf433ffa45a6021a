/*
 * test_bookbuilder_builder.c — the bookbuilder's data path (bookbuilder/builder.h), driven
 * in-process with hand-made collector frames.
 *
 * Every frame is a real envelope (common/envelope.h) around a Binance payload as the exchange
 * writes it (binance-protocol.md, docs/sim.md). The io callbacks record what the builder
 * publishes and which snapshots it asks for, and the tests answer those requests with SNAPSHOT
 * and SNAPSHOT_ERROR frames carrying the request's id. Time is the frames' own: each frame is
 * received one millisecond after the previous one, and builder_tick is called with a clock the
 * test moves, so backoffs and timeouts are exact.
 *
 * After every test the recorded messages are checked against the contract of docs/topics.md
 * that holds whatever the test did: each is one JSON object, and every topic's seq runs 1, 2, 3…
 *
 * The spot book used by most tests (sync_spot) is BTCUSDT synced at update id 105:
 *   bids 100.00 x 1.000, 99.00 x 2.000   asks 101.00 x 1.000, 102.00 x 2.000
 * built from the event [101..105] (100.00 x 1.000, 101.00 x 1.000) over the snapshot at 103.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <inttypes.h>

#include "builder.h"
#include "log.h"

#define T0 1700000000000000000LL /* the first frame's time, ns */
#define MS 1000000LL

/* ---- the fixture: a builder and what it did --------------------------------------------- */

typedef struct {
    char *topic;
    char *body;
    size_t len;
} msg_t;

typedef struct {
    market_t market;
    char symbol[PARSE_SYMBOL_MAX + 1];
    unsigned limit;
    uint64_t id;
    int64_t at_ns;
} req_t;

#define MAX_REQS 256

typedef struct {
    builder_config_t cfg;
    builder_t *b;
    char *spot_symbols[1];
    char *usdm_symbols[1];
    msg_t *msgs;
    size_t n, cap;
    req_t reqs[MAX_REQS];
    size_t nreq;
    int request_rc;     /* what request_snapshot answers */
    uint64_t raw_count; /* frames seen on publish_raw */
    uint64_t raw_last_seq;
    uint64_t conn_seq[4][16]; /* [market][conn]: each collector numbers its own frames */
    uint64_t restarts[4];     /* [market]: bumps the market's collector instance */
    int64_t now;              /* the time of the last frame or tick */
    int64_t arrival_lag;      /* arrival_ns - recv_ts_ns of the frames sent */
} fx_t;

static char SPOT_BTC[] = "BTCUSDT";
static char USDM_BTC[] = "BTCUSDT";

static void on_publish(void *arg, const char *topic, const char *body, size_t len)
{
    fx_t *f = arg;
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->msgs = realloc(f->msgs, f->cap * sizeof *f->msgs);
        assert_non_null(f->msgs);
    }
    msg_t *m = &f->msgs[f->n++];
    m->topic = strdup(topic);
    m->body = malloc(len + 1);
    assert_non_null(m->topic);
    assert_non_null(m->body);
    memcpy(m->body, body, len);
    m->body[len] = '\0';
    m->len = len;
}

static void on_publish_raw(void *arg, const char *topic, uint64_t seq, const void *frame,
                           size_t len)
{
    fx_t *f = arg;
    (void)frame;
    (void)len;
    assert_string_equal(topic, "raw.spot");
    assert_int_equal(seq, f->raw_last_seq + 1);
    f->raw_last_seq = seq;
    f->raw_count++;
}

static int on_request_snapshot(void *arg, market_t market, const char *symbol, unsigned limit,
                               uint64_t request_id)
{
    fx_t *f = arg;
    assert_true(f->nreq < MAX_REQS);
    req_t *r = &f->reqs[f->nreq++];
    r->market = market;
    snprintf(r->symbol, sizeof r->symbol, "%s", symbol);
    r->limit = limit;
    r->id = request_id;
    r->at_ns = f->now;
    return f->request_rc;
}

static void default_config(fx_t *f)
{
    f->spot_symbols[0] = SPOT_BTC;
    f->usdm_symbols[0] = USDM_BTC;
    f->cfg = (builder_config_t){
        .markets =
            {
                {.enabled = true, .symbols = f->spot_symbols, .symbol_count = 1},
                {.enabled = true, .symbols = f->usdm_symbols, .symbol_count = 1},
                {.enabled = false},
            },
        .max_levels = 100,
        .buffer_max_events = 1000,
        .depth_levels = 0,
        .depth_interval_ms = 100,
        .snapshot_timeout_ms = 10000,
        .snapshot_retry_base_ms = 1000,
        .snapshot_retry_max_ms = 8000,
        .snapshot_inflight_max = 4,
        .max_books = 100,
    };
}

/* Creates the builder from f->cfg; tests change f->cfg first when they need to. */
static void start(fx_t *f)
{
    builder_io_t io = {
        .publish = on_publish,
        .publish_raw = on_publish_raw,
        .request_snapshot = on_request_snapshot,
        .clock_ns = NULL,
        .arg = f,
    };
    f->b = builder_new(&f->cfg, &io);
    assert_non_null(f->b);
}

static void clear_messages(fx_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->msgs[i].topic);
        free(f->msgs[i].body);
    }
    f->n = 0;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->now = T0;
    default_config(f);
    *state = f;
    return 0;
}

/* What every run must satisfy: each body one JSON object, each topic's seq 1, 2, 3, … */
static void check_topic_sequences(const fx_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        cJSON *root = cJSON_ParseWithLength(f->msgs[i].body, f->msgs[i].len);
        if (!root || !cJSON_IsObject(root)) {
            print_error("message %zu on %s is not a JSON object: %s\n", i, f->msgs[i].topic,
                        f->msgs[i].body);
            fail();
        }
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
        assert_true(cJSON_IsNumber(seq));
        uint64_t before = 0;
        for (size_t j = 0; j < i; j++)
            before += strcmp(f->msgs[j].topic, f->msgs[i].topic) == 0;
        if ((uint64_t)seq->valuedouble != before + 1) {
            print_error("message %zu on %s has seq %.0f, expected %" PRIu64 "\n", i,
                        f->msgs[i].topic, seq->valuedouble, before + 1);
            fail();
        }
        cJSON_Delete(root);
    }
}

static int teardown(void **state)
{
    fx_t *f = *state;
    check_topic_sequences(f);
    builder_destroy(&f->b);
    assert_null(f->b);
    clear_messages(f);
    free(f->msgs);
    free(f);
    return 0;
}

/* ---- frames --------------------------------------------------------------------------------- */

static void send_encoded(fx_t *f, const envelope_header_t *h, const char *payload, size_t plen)
{
    size_t size = envelope_encoded_size(h, plen);
    assert_true(size > 0);
    char *buf = malloc(size);
    assert_non_null(buf);
    char err[160];
    size_t n = envelope_encode(h, payload, plen, buf, size, err, sizeof err);
    if (n == 0) {
        print_error("%s\n", err);
        fail();
    }
    builder_on_frame(f->b, buf, n, h->recv_ts_ns + f->arrival_lag);
    free(buf);
}

/* One frame of `kind`, received 1 ms after the previous one. */
static void send_frame(fx_t *f, envelope_kind_t kind, market_t m, uint32_t conn, uint8_t flags,
                       const char *symbol, uint64_t request_id, uint16_t status,
                       const char *payload)
{
    f->now += MS;
    envelope_header_t h;
    envelope_header_init(&h, kind, m);
    h.flags = flags;
    h.instance_id = 0x5f3a9c0e12d4b871ULL + (uint64_t)m + 16 * f->restarts[m]; /* per market */
    h.conn_id = conn;
    assert_true(conn < 16);
    h.seq = kind == ENVELOPE_CONN_UP ? (f->conn_seq[m][conn] = 1) : ++f->conn_seq[m][conn];
    h.recv_ts_ns = f->now;
    if (symbol)
        snprintf(h.symbol, sizeof h.symbol, "%s", symbol);
    h.request_id = request_id;
    h.http_status = status;
    send_encoded(f, &h, payload, strlen(payload));
}

static void ws(fx_t *f, market_t m, uint32_t conn, uint8_t flags, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void ws(fx_t *f, market_t m, uint32_t conn, uint8_t flags, const char *fmt, ...)
{
    char payload[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(payload, sizeof payload, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof payload);
    send_frame(f, ENVELOPE_WS_TEXT, m, conn, flags, NULL, 0, 0, payload);
}

static bool is_futures(market_t m)
{
    return m != MARKET_SPOT;
}

static void lower(char *out, const char *symbol)
{
    size_t i = 0;
    for (; symbol[i]; i++)
        out[i] = (char)(symbol[i] >= 'A' && symbol[i] <= 'Z' ? symbol[i] + 32 : symbol[i]);
    out[i] = '\0';
}

/* A diff depth event [U..u] of symbol; futures events chain on pu. E is derived from u. */
static void depth_on(fx_t *f, market_t m, uint32_t conn, uint8_t flags, const char *symbol,
                     uint64_t U, uint64_t u, uint64_t pu, const char *bids, const char *asks)
{
    char s[PARSE_SYMBOL_MAX + 1];
    lower(s, symbol);
    int64_t E = 1700000000000LL + (int64_t)u;
    if (is_futures(m))
        ws(f, m, conn, flags,
           "{\"stream\":\"%s@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":%" PRId64
           ",\"T\":%" PRId64 ",\"s\":\"%s\",\"U\":%" PRIu64 ",\"u\":%" PRIu64 ",\"pu\":%" PRIu64
           ",\"b\":%s,\"a\":%s}}",
           s, E, E - 1, symbol, U, u, pu, bids, asks);
    else
        ws(f, m, conn, flags,
           "{\"stream\":\"%s@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":%" PRId64
           ",\"s\":\"%s\",\"U\":%" PRIu64 ",\"u\":%" PRIu64 ",\"b\":%s,\"a\":%s}}",
           s, E, symbol, U, u, bids, asks);
}

static void spot_depth(fx_t *f, uint64_t U, uint64_t u, const char *bids, const char *asks)
{
    depth_on(f, MARKET_SPOT, 1, 0, "BTCUSDT", U, u, 0, bids, asks);
}

static void usdm_depth(fx_t *f, uint64_t U, uint64_t u, uint64_t pu, const char *bids,
                       const char *asks)
{
    depth_on(f, MARKET_USDM, 1, 0, "BTCUSDT", U, u, pu, bids, asks);
}

static void snapshot_of(fx_t *f, market_t m, const char *symbol, uint64_t request_id,
                        uint64_t last_update_id, const char *bids, const char *asks)
{
    char payload[4096];
    if (is_futures(m))
        snprintf(payload, sizeof payload,
                 "{\"lastUpdateId\":%" PRIu64 ",\"E\":1700000000999,\"T\":1700000000998,"
                 "\"bids\":%s,\"asks\":%s}",
                 last_update_id, bids, asks);
    else
        snprintf(payload, sizeof payload, "{\"lastUpdateId\":%" PRIu64 ",\"bids\":%s,\"asks\":%s}",
                 last_update_id, bids, asks);
    send_frame(f, ENVELOPE_SNAPSHOT, m, ENVELOPE_CONN_NONE, 0, symbol, request_id, 200, payload);
}

static void snapshot_error(fx_t *f, market_t m, const char *symbol, uint64_t request_id)
{
    send_frame(f, ENVELOPE_SNAPSHOT_ERROR, m, ENVELOPE_CONN_NONE, 0, symbol, request_id, 503,
               "<html>Service Unavailable</html>");
}

static void trade_on(fx_t *f, uint32_t conn, uint8_t flags, uint64_t id)
{
    ws(f, MARKET_SPOT, conn, flags,
       "{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1700000000100,\"s\":"
       "\"BTCUSDT\",\"t\":%" PRIu64 ",\"p\":\"100.00\",\"q\":\"0.500\",\"T\":1700000000099,"
       "\"m\":true,\"M\":true}}",
       id);
}

static void agg_trade_on(fx_t *f, uint32_t conn, uint8_t flags, uint64_t id)
{
    ws(f, MARKET_USDM, conn, flags,
       "{\"stream\":\"btcusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"E\":1700000000100,\"a\":"
       "%" PRIu64 ",\"s\":\"BTCUSDT\",\"p\":\"100.00\",\"q\":\"0.500\",\"f\":%" PRIu64
       ",\"l\":%" PRIu64 ",\"T\":1700000000099,\"m\":false}}",
       id, id * 10, id * 10 + 2);
}

static void kline_on(fx_t *f, int64_t open_ms, bool closed, const char *close)
{
    ws(f, MARKET_USDM, 1, 0,
       "{\"stream\":\"btcusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":%" PRId64
       ",\"s\":\"BTCUSDT\",\"k\":{\"t\":%" PRId64 ",\"T\":%" PRId64
       ",\"s\":\"BTCUSDT\",\"i\":\"1m\",\"f\":100,\"L\":200,\"o\":\"100.00\",\"c\":\"%s\","
       "\"h\":\"101.00\",\"l\":\"99.00\",\"v\":\"3.000\",\"n\":101,\"x\":%s,\"q\":\"300.00\","
       "\"V\":\"1.000\",\"Q\":\"100.00\",\"B\":\"0\"}}}",
       open_ms + 60000, open_ms, open_ms + 59999, close, closed ? "true" : "false");
}

static void book_ticker(fx_t *f, uint64_t u, const char *bid, const char *bid_qty, const char *ask,
                        const char *ask_qty)
{
    ws(f, MARKET_SPOT, 1, 0,
       "{\"stream\":\"btcusdt@bookTicker\",\"data\":{\"u\":%" PRIu64 ",\"s\":\"BTCUSDT\",\"b\":"
       "\"%s\",\"B\":\"%s\",\"a\":\"%s\",\"A\":\"%s\"}}",
       u, bid, bid_qty, ask, ask_qty);
}

static void control(fx_t *f, envelope_kind_t kind, market_t m, uint32_t conn, const char *json)
{
    send_frame(f, kind, m, conn, 0, NULL, 0, 0, json);
}

static void tick_at(fx_t *f, int64_t now)
{
    f->now = now;
    builder_tick(f->b, now);
}

/* ---- what was published ---------------------------------------------------------------------- */

static size_t count_on(const fx_t *f, const char *topic)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        n += strcmp(f->msgs[i].topic, topic) == 0;
    return n;
}

/* The k-th message (from 0) on topic. */
static const char *nth_on(const fx_t *f, const char *topic, size_t k)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->msgs[i].topic, topic) == 0 && k-- == 0)
            return f->msgs[i].body;
    print_error("no message %zu on %s\n", k, topic);
    fail();
    return NULL;
}

static const char *last_on(const fx_t *f, const char *topic)
{
    size_t n = count_on(f, topic);
    assert_true(n > 0);
    return nth_on(f, topic, n - 1);
}

/* Messages on topics other than status.*: what a broken or unknown book must never send. */
static size_t data_messages(const fx_t *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        n += strncmp(f->msgs[i].topic, "status.", 7) != 0;
    return n;
}

static void assert_field_str(const char *body, const char *key, const char *want)
{
    cJSON *root = cJSON_Parse(body);
    assert_non_null(root);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!cJSON_IsString(it) || strcmp(it->valuestring, want) != 0) {
        print_error("%s: want \"%s\" = \"%s\"\n", body, key, want);
        fail();
    }
    cJSON_Delete(root);
}

/* Integers up to 2^53 (the tests' ids and times are below it, or compared as text). */
static double field_num(const char *body, const char *key)
{
    cJSON *root = cJSON_Parse(body);
    assert_non_null(root);
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!cJSON_IsNumber(it)) {
        print_error("%s: no number \"%s\"\n", body, key);
        fail();
    }
    double v = it->valuedouble;
    cJSON_Delete(root);
    return v;
}

/* The body contains this exact text (a key with its value, a level array). */
static void assert_contains(const char *body, const char *text)
{
    if (!strstr(body, text)) {
        print_error("%s\ndoes not contain %s\n", body, text);
        fail();
    }
}

static void assert_status(const char *body, const char *state, const char *reason)
{
    assert_field_str(body, "state", state);
    assert_field_str(body, "reason", reason);
}

static void assert_book_state(const fx_t *f, market_t m, const char *symbol, sync_state_t state,
                              sync_reason_t reason)
{
    builder_book_view_t v;
    assert_int_equal(builder_book(f->b, m, symbol, &v), 0);
    assert_int_equal(v.state, state);
    assert_int_equal(v.reason, reason);
}

static const req_t *last_request(const fx_t *f)
{
    assert_true(f->nreq > 0);
    return &f->reqs[f->nreq - 1];
}

static const builder_counters_t *counters(const fx_t *f)
{
    return builder_counters(f->b);
}

/* ---- books used by many tests ------------------------------------------------------------------
 */

#define L1(p, q) "[[\"" p "\",\"" q "\"]]"
#define L2(p1, q1, p2, q2) "[[\"" p1 "\",\"" q1 "\"],[\"" p2 "\",\"" q2 "\"]]"
#define NO_LEVELS "[]"

/* Spot BTCUSDT synced at 105 (see the top of the file). */
static void sync_spot(fx_t *f)
{
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    const req_t *r = last_request(f);
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", r->id, 103, L2("100.00", "3.000", "99.00", "2.000"),
                L2("101.00", "3.000", "102.00", "2.000"));
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
}

/* USD-M BTCUSDT synced at 210: the event [200..210] brackets the snapshot at 205. */
static void sync_usdm(fx_t *f)
{
    usdm_depth(f, 200, 210, 199, L1("100.00", "1.000"), L1("101.00", "1.000"));
    const req_t *r = last_request(f);
    snapshot_of(f, MARKET_USDM, "BTCUSDT", r->id, 205, L2("100.00", "3.000", "99.00", "2.000"),
                L2("101.00", "3.000", "102.00", "2.000"));
    assert_book_state(f, MARKET_USDM, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
}

/* Ticks every millisecond from now until a new snapshot request goes out (at most max_ms);
   returns how long that took. */
static int64_t ms_until_next_request(fx_t *f, int64_t max_ms)
{
    size_t before = f->nreq;
    int64_t from = f->now;
    for (int64_t t = 1; t <= max_ms; t++) {
        tick_at(f, from + t * MS);
        if (f->nreq > before)
            return t;
    }
    return -1;
}

/* ---- status and the first sync ------------------------------------------------------------- */

static void first_event_publishes_syncing_start_and_snapshot_publishes_synced_start(void **state)
{
    fx_t *f = *state;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    assert_int_equal(count_on(f, "status.spot.BTCUSDT"), 1);
    assert_status(nth_on(f, "status.spot.BTCUSDT", 0), "syncing", "start");
    assert_int_equal(field_num(nth_on(f, "status.spot.BTCUSDT", 0), "update_id"), 0);
    assert_int_equal(data_messages(f), 0);

    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 103,
                L2("100.00", "3.000", "99.00", "2.000"), L2("101.00", "3.000", "102.00", "2.000"));
    assert_int_equal(count_on(f, "status.spot.BTCUSDT"), 2);
    const char *synced = nth_on(f, "status.spot.BTCUSDT", 1);
    assert_status(synced, "synced", "start");
    assert_int_equal(field_num(synced, "update_id"), 105);
    assert_int_equal(field_num(synced, "resyncs"), 0);
    assert_field_str(synced, "run_id", "0000000000000000");
    /* A replay's start time is its first frame's. */
    assert_contains(synced, "\"started_ns\":1700000000001000000,");
    assert_int_equal(counters(f)->snapshots_applied, 1);
}

static void status_carries_the_configured_run_id(void **state)
{
    fx_t *f = *state;
    f->cfg.run_id = 0x8d0f3c21a7b94e12ULL;
    f->cfg.started_ns = 1234;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    const char *st = nth_on(f, "status.spot.BTCUSDT", 0);
    assert_field_str(st, "run_id", "8d0f3c21a7b94e12");
    assert_contains(st, "\"started_ns\":1234,");
}

static void after_sync_the_book_is_a_snapshot_then_updates(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    assert_int_equal(count_on(f, "book.spot.BTCUSDT"), 1);
    const char *snap = nth_on(f, "book.spot.BTCUSDT", 0);
    assert_field_str(snap, "type", "snapshot");
    assert_contains(snap, "\"bids\":[[\"100.00\",\"1.000\"],[\"99.00\",\"2.000\"]],"
                          "\"asks\":[[\"101.00\",\"1.000\"],[\"102.00\",\"2.000\"]]}");

    spot_depth(f, 106, 107, L1("99.50", "4.000"), L1("102.00", "0.000"));
    spot_depth(f, 108, 108, NO_LEVELS, L1("101.50", "0.100"));
    assert_int_equal(count_on(f, "book.spot.BTCUSDT"), 3);
    const char *u1 = nth_on(f, "book.spot.BTCUSDT", 1);
    assert_field_str(u1, "type", "update");
    assert_contains(u1, "\"first_id\":106,\"last_id\":107,");
    assert_contains(u1, "\"bids\":[[\"99.50\",\"4.000\"]],\"asks\":[[\"102.00\",\"0.000\"]]}");
    const char *u2 = nth_on(f, "book.spot.BTCUSDT", 2);
    assert_contains(u2, "\"first_id\":108,\"last_id\":108,");
    assert_contains(u2, "\"bids\":[],\"asks\":[[\"101.50\",\"0.100\"]]}");
    assert_int_equal(counters(f)->depth_applied, 2);
}

static void book_snapshot_last_id_is_the_books_update_id(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    /* The REST snapshot was at 103; the buffered event [101..105] brought the book to 105. */
    const char *snap = nth_on(f, "book.spot.BTCUSDT", 0);
    assert_contains(snap, "\"last_id\":105,");
    assert_contains(snap, "\"event_ms\":1700000000105,");
    builder_book_view_t v;
    assert_int_equal(builder_book(f->b, MARKET_SPOT, "BTCUSDT", &v), 0);
    assert_int_equal(v.update_id, 105);
    assert_int_equal(v.book_seq, 1);
}

static void futures_book_messages_carry_txn_ms(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_usdm(f);
    assert_contains(nth_on(f, "book.usdm.BTCUSDT", 0), "\"txn_ms\":");
    usdm_depth(f, 211, 215, 210, L1("100.00", "2.000"), NO_LEVELS);
    const char *u = nth_on(f, "book.usdm.BTCUSDT", 1);
    assert_contains(u, "\"event_ms\":1700000000215,\"txn_ms\":1700000000214,");
    /* Spot has no T: no txn_ms key at all. */
    sync_spot(f);
    assert_null(strstr(nth_on(f, "book.spot.BTCUSDT", 0), "txn_ms"));
}

static void bbo_after_a_snapshot_carries_the_collectors_receive_time(void **state)
{
    fx_t *f = *state;
    /* The bookbuilder gets each frame 5 ms after the collector stamped it. */
    f->arrival_lag = 5 * MS;
    start(f);
    spot_depth(f, 101, 103, L1("100.00", "1.000"), L1("101.00", "1.000"));
    /* The snapshot covers the whole buffer: the book is the snapshot's alone. */
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 103, L1("100.00", "3.000"),
                L1("101.00", "3.000"));
    char want[64];
    snprintf(want, sizeof want, "\"recv_ns\":%" PRId64 ",", f->now);
    assert_contains(nth_on(f, "book.spot.BTCUSDT", 0), want);
    assert_contains(nth_on(f, "bbo.spot.BTCUSDT", 0), want);
}

/* ---- snapshot requests ------------------------------------------------------------------------
 */

static void
spot_snapshot_is_requested_on_the_first_buffered_event_with_limit_max_levels(void **state)
{
    fx_t *f = *state;
    start(f);
    assert_int_equal(f->nreq, 0);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    assert_int_equal(f->nreq, 1);
    assert_int_equal(f->reqs[0].market, MARKET_SPOT);
    assert_string_equal(f->reqs[0].symbol, "BTCUSDT");
    assert_int_equal(f->reqs[0].limit, 100);
    assert_true(f->reqs[0].id >= 1);
    /* More events while it is outstanding ask for nothing more. */
    spot_depth(f, 106, 107, L1("100.00", "2.000"), NO_LEVELS);
    tick_at(f, f->now + 100 * MS);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(counters(f)->snapshot_requests, 1);
}

static void spot_snapshot_limit_is_capped_at_5000(void **state)
{
    fx_t *f = *state;
    f->cfg.max_levels = 6000;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    assert_int_equal(f->nreq, 1);
    assert_int_equal(f->reqs[0].limit, 5000);
}

static void futures_snapshot_limit_is_the_next_accepted_limit(void **state)
{
    fx_t *f = *state;
    static const struct {
        size_t max_levels;
        unsigned limit;
    } cases[] = {{1, 5},     {5, 5},     {6, 10},     {10, 10},     {11, 20},
                 {20, 20},   {21, 50},   {50, 50},    {51, 100},    {100, 100},
                 {101, 500}, {500, 500}, {501, 1000}, {1000, 1000}, {5000, 1000}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f->cfg.max_levels = cases[i].max_levels;
        start(f);
        f->nreq = 0;
        usdm_depth(f, 200, 210, 199, L1("100.00", "1.000"), L1("101.00", "1.000"));
        assert_int_equal(f->nreq, 1);
        assert_int_equal(f->reqs[0].market, MARKET_USDM);
        if (f->reqs[0].limit != cases[i].limit) {
            print_error("max_levels %zu: limit %u, expected %u\n", cases[i].max_levels,
                        f->reqs[0].limit, cases[i].limit);
            fail();
        }
        builder_destroy(&f->b);
        clear_messages(f);
    }
    start(f); /* for the teardown */
}

static void at_most_snapshot_inflight_max_requests_are_outstanding_per_market(void **state)
{
    fx_t *f = *state;
    f->cfg.markets[0].all_symbols = true;
    f->cfg.snapshot_inflight_max = 2;
    start(f);
    depth_on(f, MARKET_SPOT, 1, 0, "AAAUSDT", 11, 12, 0, L1("1.00", "1"), NO_LEVELS);
    depth_on(f, MARKET_SPOT, 1, 0, "BBBUSDT", 11, 12, 0, L1("1.00", "1"), NO_LEVELS);
    depth_on(f, MARKET_SPOT, 1, 0, "CCCUSDT", 11, 12, 0, L1("1.00", "1"), NO_LEVELS);
    assert_int_equal(f->nreq, 2);
    assert_string_equal(f->reqs[0].symbol, "AAAUSDT");
    assert_string_equal(f->reqs[1].symbol, "BBBUSDT");
    /* Another market has its own budget. */
    usdm_depth(f, 200, 210, 199, L1("100.00", "1.000"), NO_LEVELS);
    assert_int_equal(f->nreq, 3);
    assert_int_equal(f->reqs[2].market, MARKET_USDM);
    /* Waiting does not let CCC past the limit. */
    tick_at(f, f->now + 500 * MS);
    depth_on(f, MARKET_SPOT, 1, 0, "CCCUSDT", 13, 13, 0, L1("1.00", "2"), NO_LEVELS);
    assert_int_equal(f->nreq, 3);
    /* An answer frees a slot; the next tick fills it. */
    snapshot_of(f, MARKET_SPOT, "AAAUSDT", f->reqs[0].id, 11, L1("1.00", "5"), NO_LEVELS);
    assert_book_state(f, MARKET_SPOT, "AAAUSDT", SYNC_SYNCED, SYNC_REASON_START);
    tick_at(f, f->now + MS);
    assert_int_equal(f->nreq, 4);
    assert_string_equal(f->reqs[3].symbol, "CCCUSDT");
    assert_int_equal(f->reqs[3].market, MARKET_SPOT);
}

static void snapshot_error_keeps_the_book_syncing_with_reason_snapshot_failed(void **state)
{
    fx_t *f = *state;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    snapshot_error(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id);
    assert_int_equal(count_on(f, "status.spot.BTCUSDT"), 2);
    assert_status(nth_on(f, "status.spot.BTCUSDT", 1), "syncing", "snapshot_failed");
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCING, SYNC_REASON_SNAPSHOT_FAILED);
    assert_int_equal(counters(f)->snapshot_errors, 1);
    assert_int_equal(data_messages(f), 0);
}

static void snapshot_error_for_another_request_is_ignored(void **state)
{
    fx_t *f = *state;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    uint64_t id = last_request(f)->id;
    snapshot_error(f, MARKET_SPOT, "BTCUSDT", id + 7);
    assert_int_equal(count_on(f, "status.spot.BTCUSDT"), 1);
    /* The real request is still awaited: its answer syncs the book. */
    tick_at(f, f->now + 2000 * MS);
    assert_int_equal(f->nreq, 1);
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", id, 103, L1("100.00", "3.000"), L1("101.00", "3.000"));
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
}

static void failed_snapshot_is_retried_after_the_backoff(void **state)
{
    fx_t *f = *state;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    uint64_t first = last_request(f)->id;
    snapshot_error(f, MARKET_SPOT, "BTCUSDT", first);
    /* base 1000 ms, plus a jitter of at most a quarter */
    int64_t waited = ms_until_next_request(f, 2000);
    assert_true(waited >= 1000 && waited <= 1250);
    assert_int_not_equal(last_request(f)->id, first);
    assert_int_equal(last_request(f)->limit, 100);
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 103, L1("100.00", "3.000"),
                L1("101.00", "3.000"));
    /* Synced again, with the reason of the last break. */
    assert_status(last_on(f, "status.spot.BTCUSDT"), "synced", "snapshot_failed");
}

static void backoff_doubles_up_to_the_cap(void **state)
{
    fx_t *f = *state;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    static const int64_t base_ms[] = {1000, 2000, 4000, 8000, 8000, 8000};
    for (size_t i = 0; i < sizeof base_ms / sizeof base_ms[0]; i++) {
        snapshot_error(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id);
        int64_t waited = ms_until_next_request(f, 20000);
        if (waited < base_ms[i] || waited > base_ms[i] + base_ms[i] / 4) {
            print_error("failure %zu: retried after %" PRId64 " ms, expected %" PRId64 "..%" PRId64
                        "\n",
                        i + 1, waited, base_ms[i], base_ms[i] + base_ms[i] / 4);
            fail();
        }
    }
    /* A sync resets the backoff. */
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 103, L1("100.00", "3.000"),
                L1("101.00", "3.000"));
    control(f, ENVELOPE_CONN_DOWN, MARKET_SPOT, 1,
            "{\"streams\":[\"btcusdt@depth@100ms\"],\"reason\":\"network error\"}");
    spot_depth(f, 120, 121, L1("100.00", "1.000"), NO_LEVELS);
    snapshot_error(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id);
    int64_t waited = ms_until_next_request(f, 20000);
    assert_true(waited >= 1000 && waited <= 1250);
}

/* The delays of n failures in a row of BTCUSDT. */
static void failure_delays(int64_t *out, size_t n)
{
    fx_t *f;
    setup((void **)&f);
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    for (size_t i = 0; i < n; i++) {
        snapshot_error(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id);
        out[i] = ms_until_next_request(f, 20000);
    }
    teardown((void **)&f);
}

static void backoff_jitter_is_the_same_in_every_run(void **state)
{
    (void)state;
    int64_t a[5], b[5];
    failure_delays(a, 5);
    failure_delays(b, 5);
    assert_memory_equal(a, b, sizeof a);
}

static void unanswered_request_times_out_and_is_retried(void **state)
{
    fx_t *f = *state;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    int64_t sent = last_request(f)->at_ns;
    uint64_t first = last_request(f)->id;
    tick_at(f, sent + 10000 * MS);
    assert_int_equal(counters(f)->snapshot_timeouts, 0);
    assert_int_equal(count_on(f, "status.spot.BTCUSDT"), 1);
    tick_at(f, sent + 10001 * MS);
    assert_int_equal(counters(f)->snapshot_timeouts, 1);
    assert_status(last_on(f, "status.spot.BTCUSDT"), "syncing", "snapshot_failed");
    assert_int_equal(f->nreq, 1);
    int64_t waited = ms_until_next_request(f, 2000);
    assert_true(waited >= 1000 && waited <= 1250);
    assert_int_not_equal(last_request(f)->id, first);
    /* The late answer to the first request is not mistaken for a failure of the second. */
    snapshot_error(f, MARKET_SPOT, "BTCUSDT", first);
    assert_int_equal(counters(f)->snapshot_timeouts, 1);
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 103, L1("100.00", "3.000"),
                L1("101.00", "3.000"));
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_SNAPSHOT_FAILED);
}

static void request_that_cannot_be_sent_is_retried_later(void **state)
{
    fx_t *f = *state;
    f->request_rc = -1;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    assert_int_equal(f->nreq, 1);
    assert_int_equal(counters(f)->snapshot_request_failures, 1);
    f->request_rc = 0;
    int64_t waited = ms_until_next_request(f, 2000);
    assert_true(waited >= 1000 && waited <= 1250);
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 103, L1("100.00", "3.000"),
                L1("101.00", "3.000"));
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
}

static void snapshot_older_than_the_buffer_is_retried(void **state)
{
    fx_t *f = *state;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 50, L1("100.00", "3.000"),
                L1("101.00", "3.000"));
    assert_int_equal(counters(f)->snapshots_too_old, 1);
    assert_status(last_on(f, "status.spot.BTCUSDT"), "syncing", "snapshot_stale");
    assert_int_equal(data_messages(f), 0);
    int64_t waited = ms_until_next_request(f, 2000);
    assert_true(waited >= 1000 && waited <= 1250);
    assert_int_equal(f->nreq, 2);
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 103, L1("100.00", "3.000"),
                L1("101.00", "3.000"));
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_SNAPSHOT_STALE);
}

static void malformed_snapshot_fails_the_request(void **state)
{
    fx_t *f = *state;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    send_frame(f, ENVELOPE_SNAPSHOT, MARKET_SPOT, ENVELOPE_CONN_NONE, 0, "BTCUSDT",
               last_request(f)->id, 200, "{\"lastUpdateId\":\"x\"");
    assert_int_equal(counters(f)->snapshots_bad, 1);
    assert_status(last_on(f, "status.spot.BTCUSDT"), "syncing", "snapshot_failed");
    int64_t waited = ms_until_next_request(f, 2000);
    assert_true(waited >= 1000 && waited <= 1250);
}

static void late_malformed_answer_to_an_old_request_leaves_the_outstanding_one(void **state)
{
    fx_t *f = *state;
    f->cfg.markets[0].all_symbols = true;
    f->cfg.snapshot_inflight_max = 1;
    start(f);
    depth_on(f, MARKET_SPOT, 1, 0, "AAAUSDT", 11, 12, 0, L1("1.00", "1"), NO_LEVELS);
    uint64_t old = last_request(f)->id;
    tick_at(f, last_request(f)->at_ns + 10001 * MS);
    assert_int_equal(counters(f)->snapshot_timeouts, 1);
    assert_true(ms_until_next_request(f, 2000) > 0);
    uint64_t current = last_request(f)->id;
    /* Another book waits for the one slot. */
    depth_on(f, MARKET_SPOT, 1, 0, "BBBUSDT", 11, 12, 0, L1("1.00", "1"), NO_LEVELS);
    assert_int_equal(f->nreq, 2);
    /* The first request's answer arrives after all, and is unreadable. */
    send_frame(f, ENVELOPE_SNAPSHOT, MARKET_SPOT, ENVELOPE_CONN_NONE, 0, "AAAUSDT", old, 200,
               "<html>");
    assert_int_equal(counters(f)->snapshots_bad, 1);
    /* The second request is still outstanding: its slot is not given to BBBUSDT. */
    tick_at(f, f->now + MS);
    assert_int_equal(f->nreq, 2);
    snapshot_of(f, MARKET_SPOT, "AAAUSDT", current, 11, L1("1.00", "5"), NO_LEVELS);
    assert_book_state(f, MARKET_SPOT, "AAAUSDT", SYNC_SYNCED, SYNC_REASON_SNAPSHOT_FAILED);
    tick_at(f, f->now + MS);
    assert_int_equal(f->nreq, 3);
    assert_string_equal(last_request(f)->symbol, "BBBUSDT");
}

static void gap_resyncs_with_reason_gap_and_asks_for_a_snapshot_at_once(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    size_t book_before = count_on(f, "book.spot.BTCUSDT");
    spot_depth(f, 110, 111, L1("100.00", "2.000"), NO_LEVELS);
    assert_status(last_on(f, "status.spot.BTCUSDT"), "resyncing", "gap");
    assert_int_equal(count_on(f, "book.spot.BTCUSDT"), book_before);
    assert_int_equal(f->nreq, 2);
    /* The event that showed the gap starts the new buffer. */
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 109, L1("100.00", "3.000"),
                L1("101.00", "3.000"));
    assert_status(last_on(f, "status.spot.BTCUSDT"), "synced", "gap");
    assert_contains(last_on(f, "book.spot.BTCUSDT"), "\"bids\":[[\"100.00\",\"2.000\"]]");
}

static void futures_pu_mismatch_resyncs_with_reason_gap(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_usdm(f);
    usdm_depth(f, 215, 220, 214, L1("100.00", "2.000"), NO_LEVELS);
    assert_status(last_on(f, "status.usdm.BTCUSDT"), "resyncing", "gap");
    assert_int_equal(counters(f)->resyncs[SYNC_REASON_GAP], 1);
}

static void events_out_of_order_within_the_reorder_window_are_applied_in_order(void **state)
{
    fx_t *f = *state;
    f->cfg.reorder_window_ms = 50;
    f->cfg.reorder_max_events = 8;
    start(f);
    sync_spot(f);
    size_t book_before = count_on(f, "book.spot.BTCUSDT");
    spot_depth(f, 107, 108, L1("99.50", "1.000"), NO_LEVELS);
    assert_int_equal(counters(f)->depth_held, 1);
    assert_int_equal(count_on(f, "book.spot.BTCUSDT"), book_before);
    spot_depth(f, 106, 106, L1("100.00", "2.000"), NO_LEVELS);
    /* One message for both, in update id order. */
    assert_int_equal(count_on(f, "book.spot.BTCUSDT"), book_before + 1);
    const char *u = last_on(f, "book.spot.BTCUSDT");
    assert_contains(u, "\"first_id\":106,\"last_id\":108,");
    assert_contains(u, "\"bids\":[[\"100.00\",\"2.000\"],[\"99.50\",\"1.000\"]]");
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
}

static void event_held_past_the_reorder_window_is_a_gap_at_the_next_tick(void **state)
{
    fx_t *f = *state;
    f->cfg.reorder_window_ms = 50;
    f->cfg.reorder_max_events = 8;
    start(f);
    sync_spot(f);
    spot_depth(f, 107, 108, L1("99.50", "1.000"), NO_LEVELS);
    int64_t held_at = f->now;
    tick_at(f, held_at + 50 * MS);
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
    tick_at(f, held_at + 51 * MS);
    assert_status(last_on(f, "status.spot.BTCUSDT"), "resyncing", "gap");
    /* The held event is kept for the next snapshot, which is asked for at once. */
    assert_int_equal(f->nreq, 2);
}

/* ---- trades and klines ------------------------------------------------------------------------
 */

static void same_trade_from_two_overlapping_connections_is_published_once(void **state)
{
    fx_t *f = *state;
    start(f);
    /* The replacement (2) is ahead for trade 500, behind for 501. */
    trade_on(f, 2, ENVELOPE_FLAG_OVERLAP, 500);
    trade_on(f, 1, ENVELOPE_FLAG_OVERLAP, 500);
    trade_on(f, 1, ENVELOPE_FLAG_OVERLAP, 501);
    trade_on(f, 2, ENVELOPE_FLAG_OVERLAP, 501);
    assert_int_equal(count_on(f, "trade.spot.BTCUSDT"), 2);
    assert_contains(nth_on(f, "trade.spot.BTCUSDT", 0), "\"type\":\"trade\",\"id\":500,");
    assert_contains(nth_on(f, "trade.spot.BTCUSDT", 1), "\"type\":\"trade\",\"id\":501,");
    assert_contains(nth_on(f, "trade.spot.BTCUSDT", 0), "\"taker_side\":\"sell\"");
    assert_int_equal(counters(f)->trades, 2);
    assert_int_equal(counters(f)->trade_duplicates, 2);
    /* Trades need no book. */
    assert_int_equal(builder_book_count(f->b), 0);
}

static void trade_missed_by_one_connection_is_delivered_by_the_other(void **state)
{
    fx_t *f = *state;
    start(f);
    trade_on(f, 1, ENVELOPE_FLAG_OVERLAP, 500);
    trade_on(f, 1, ENVELOPE_FLAG_OVERLAP, 502);
    trade_on(f, 2, ENVELOPE_FLAG_OVERLAP, 500);
    trade_on(f, 2, ENVELOPE_FLAG_OVERLAP, 501);
    trade_on(f, 2, ENVELOPE_FLAG_OVERLAP, 502);
    assert_int_equal(count_on(f, "trade.spot.BTCUSDT"), 3);
    assert_contains(nth_on(f, "trade.spot.BTCUSDT", 2), "\"id\":501,");
}

static void same_agg_trade_twice_is_published_once(void **state)
{
    fx_t *f = *state;
    start(f);
    agg_trade_on(f, 1, ENVELOPE_FLAG_OVERLAP, 77);
    agg_trade_on(f, 2, ENVELOPE_FLAG_OVERLAP, 77);
    agg_trade_on(f, 2, 0, 78);
    assert_int_equal(count_on(f, "trade.usdm.BTCUSDT"), 2);
    const char *t = nth_on(f, "trade.usdm.BTCUSDT", 0);
    assert_contains(t, "\"type\":\"agg_trade\",\"id\":77,\"first_trade_id\":770,"
                       "\"last_trade_id\":772,");
    assert_contains(t, "\"taker_side\":\"buy\"");
    assert_int_equal(counters(f)->trade_duplicates, 1);
}

static void trade_older_than_the_dedup_window_is_dropped(void **state)
{
    fx_t *f = *state;
    start(f);
    trade_on(f, 1, 0, 100000);
    trade_on(f, 1, 0, 100000 - 5000);
    assert_int_equal(count_on(f, "trade.spot.BTCUSDT"), 1);
    assert_int_equal(counters(f)->trades_too_old, 1);
}

static void closed_kline_is_published_once(void **state)
{
    fx_t *f = *state;
    start(f);
    kline_on(f, 1700000040000, true, "100.50");
    kline_on(f, 1700000040000, true, "100.50");
    assert_int_equal(count_on(f, "kline.usdm.BTCUSDT"), 1);
    assert_contains(nth_on(f, "kline.usdm.BTCUSDT", 0), "\"closed\":true");
    assert_int_equal(counters(f)->kline_duplicates, 1);
    /* The next candle is news. */
    kline_on(f, 1700000100000, true, "100.70");
    assert_int_equal(count_on(f, "kline.usdm.BTCUSDT"), 2);
}

static void open_kline_is_not_published_without_live_klines(void **state)
{
    fx_t *f = *state;
    start(f);
    kline_on(f, 1700000040000, false, "100.10");
    kline_on(f, 1700000040000, false, "100.20");
    assert_int_equal(count_on(f, "kline.usdm.BTCUSDT"), 0);
    kline_on(f, 1700000040000, true, "100.50");
    assert_int_equal(count_on(f, "kline.usdm.BTCUSDT"), 1);
}

static void open_kline_is_published_with_live_klines(void **state)
{
    fx_t *f = *state;
    f->cfg.live_klines = true;
    start(f);
    kline_on(f, 1700000040000, false, "100.10");
    kline_on(f, 1700000040000, false, "100.20");
    kline_on(f, 1700000040000, true, "100.50");
    kline_on(f, 1700000040000, true, "100.50");
    assert_int_equal(count_on(f, "kline.usdm.BTCUSDT"), 3);
    assert_contains(nth_on(f, "kline.usdm.BTCUSDT", 1), "\"close\":\"100.20\"");
    assert_contains(nth_on(f, "kline.usdm.BTCUSDT", 1), "\"closed\":false");
    assert_contains(nth_on(f, "kline.usdm.BTCUSDT", 2), "\"closed\":true");
}

/* ---- connections ------------------------------------------------------------------------------
 */

/* docs/frames.md: a gap in a connection's seq means frames were lost on the way; the books of
   the streams that connection carries resync, the others are untouched. */
static void frames_lost_on_a_connection_resync_the_books_of_its_streams(void **state)
{
    fx_t *f = *state;
    start(f);
    control(f, ENVELOPE_CONN_UP, MARKET_SPOT, 1,
            "{\"url\":\"wss://x\",\"streams\":[\"btcusdt@depth@100ms\"]}");
    sync_spot(f);
    sync_usdm(f);
    f->conn_seq[MARKET_SPOT][1] += 3; /* three frames of spot connection 1 never arrive */
    spot_depth(f, 106, 107, L1("100.00", "4.000"), NO_LEVELS);
    assert_status(last_on(f, "status.spot.BTCUSDT"), "resyncing", "overflow");
    assert_book_state(f, MARKET_USDM, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
    assert_int_equal(counters(f)->frame_gaps, 1);
}

/* A frame gap on a connection whose CONN_UP was not seen: every book of the market resyncs. */
static void frames_lost_on_an_unknown_connection_resync_the_market(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    f->conn_seq[MARKET_SPOT][1] += 1;
    spot_depth(f, 106, 107, L1("100.00", "4.000"), NO_LEVELS);
    assert_status(last_on(f, "status.spot.BTCUSDT"), "resyncing", "overflow");
}

/* A gap on connection 0 may have swallowed a snapshot answer: outstanding requests fail and are
   asked again after the backoff. */
static void frames_lost_on_connection_zero_fail_the_outstanding_requests(void **state)
{
    fx_t *f = *state;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), NO_LEVELS);
    assert_int_equal(f->nreq, 1);
    control(f, ENVELOPE_OVERFLOW, MARKET_SPOT, ENVELOPE_CONN_NONE,
            "{\"streams\":[\"ethusdt@trade\"],\"frames_dropped\":1}");
    f->conn_seq[MARKET_SPOT][ENVELOPE_CONN_NONE] += 1;
    control(f, ENVELOPE_OVERFLOW, MARKET_SPOT, ENVELOPE_CONN_NONE,
            "{\"streams\":[\"ethusdt@trade\"],\"frames_dropped\":1}");
    assert_status(last_on(f, "status.spot.BTCUSDT"), "syncing", "snapshot_failed");
    assert_int_equal(counters(f)->frame_gaps, 1);
    assert_true(ms_until_next_request(f, 60000) > 0);
    assert_int_equal(f->nreq, 2);
}

/* A new instance_id for a market: its collector restarted, so every book it fed resyncs and
   outstanding requests (queued in the dead process) are asked again; other markets go on. */
static void a_new_collector_instance_resyncs_every_book_of_its_market(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    sync_usdm(f);
    f->restarts[MARKET_SPOT]++;
    control(f, ENVELOPE_CONN_UP, MARKET_SPOT, 1,
            "{\"url\":\"wss://x\",\"streams\":[\"btcusdt@depth@100ms\"]}");
    assert_status(last_on(f, "status.spot.BTCUSDT"), "resyncing", "disconnect");
    assert_book_state(f, MARKET_USDM, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
    assert_int_equal(counters(f)->collector_restarts, 1);
    /* The new instance's first event asks for a snapshot at once. */
    size_t before = f->nreq;
    spot_depth(f, 300, 301, L1("100.00", "1.000"), NO_LEVELS);
    assert_int_equal(f->nreq, before + 1);
}

/* A frame whose (connection, seq) was already seen is dropped and counted. */
static void a_frame_seen_twice_is_dropped(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    size_t books = count_on(f, "book.spot.BTCUSDT");
    f->conn_seq[MARKET_SPOT][1] -= 1; /* the next frame repeats the last seq */
    spot_depth(f, 106, 107, L1("100.00", "4.000"), NO_LEVELS);
    assert_int_equal(count_on(f, "book.spot.BTCUSDT"), books);
    assert_int_equal(counters(f)->frames_repeated, 1);
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
}

static void conn_down_naming_the_depth_stream_resyncs_with_reason_disconnect(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    size_t book_before = count_on(f, "book.spot.BTCUSDT");
    size_t bbo_before = count_on(f, "bbo.spot.BTCUSDT");
    control(f, ENVELOPE_CONN_DOWN, MARKET_SPOT, 1,
            "{\"streams\":[\"btcusdt@trade\",\"btcusdt@depth@100ms\"],\"reason\":\"server "
            "closed: 1008 Too many requests\"}");
    const char *st = last_on(f, "status.spot.BTCUSDT");
    assert_status(st, "resyncing", "disconnect");
    assert_int_equal(field_num(st, "resyncs"), 1);
    assert_int_equal(field_num(st, "update_id"), 0);
    assert_int_equal(counters(f)->resyncs[SYNC_REASON_DISCONNECT], 1);
    /* The new connection's events are buffered: no book message until the book is rebuilt. */
    spot_depth(f, 130, 131, L1("98.00", "1.000"), NO_LEVELS);
    spot_depth(f, 132, 132, L1("100.00", "9.000"), NO_LEVELS);
    tick_at(f, f->now + 100 * MS);
    assert_int_equal(count_on(f, "book.spot.BTCUSDT"), book_before);
    assert_int_equal(count_on(f, "bbo.spot.BTCUSDT"), bbo_before);
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 130,
                L2("100.00", "1.000", "99.00", "2.000"), L1("101.00", "1.000"));
    assert_status(last_on(f, "status.spot.BTCUSDT"), "synced", "disconnect");
    assert_int_equal(count_on(f, "book.spot.BTCUSDT"), book_before + 1);
    const char *snap = last_on(f, "book.spot.BTCUSDT");
    assert_field_str(snap, "type", "snapshot");
    assert_contains(snap, "\"bids\":[[\"100.00\",\"9.000\"],[\"99.00\",\"2.000\"],[\"98.00\","
                          "\"1.000\"]]");
    /* The bbo is sent again after the resync even though the top did not move. */
    assert_int_equal(count_on(f, "bbo.spot.BTCUSDT"), bbo_before + 1);
}

static void conn_down_while_syncing_changes_the_reason(void **state)
{
    fx_t *f = *state;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    control(f, ENVELOPE_CONN_DOWN, MARKET_SPOT, 1,
            "{\"streams\":[\"btcusdt@depth\"],\"reason\":\"network error\"}");
    assert_status(last_on(f, "status.spot.BTCUSDT"), "syncing", "disconnect");
    /* The buffered event was lost with the connection: the snapshot it asked for is
       checked against the new connection's events only. */
    spot_depth(f, 110, 111, L1("100.00", "2.000"), NO_LEVELS);
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 109, L1("100.00", "3.000"),
                L1("101.00", "3.000"));
    assert_status(last_on(f, "status.spot.BTCUSDT"), "synced", "disconnect");
}

static void overflow_naming_the_depth_stream_resyncs_with_reason_overflow(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    size_t book_before = count_on(f, "book.spot.BTCUSDT");
    control(f, ENVELOPE_OVERFLOW, MARKET_SPOT, ENVELOPE_CONN_NONE,
            "{\"streams\":[\"btcusdt@depth@100ms\",\"solusdt@trade\"],\"frames_dropped\":1375}");
    assert_status(last_on(f, "status.spot.BTCUSDT"), "resyncing", "overflow");
    assert_int_equal(counters(f)->resyncs[SYNC_REASON_OVERFLOW], 1);
    spot_depth(f, 200, 201, L1("100.00", "5.000"), NO_LEVELS);
    assert_int_equal(count_on(f, "book.spot.BTCUSDT"), book_before);
}

static void conn_down_of_a_rotation_changes_nothing(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    control(f, ENVELOPE_CONN_UP, MARKET_SPOT, 2,
            "{\"url\":\"wss://stream.binance.com/stream?streams=btcusdt@depth@100ms\","
            "\"streams\":[\"btcusdt@depth@100ms\"]}");
    depth_on(f, MARKET_SPOT, 1, ENVELOPE_FLAG_OVERLAP, "BTCUSDT", 106, 106, 0,
             L1("100.00", "2.000"), NO_LEVELS);
    depth_on(f, MARKET_SPOT, 2, ENVELOPE_FLAG_OVERLAP, "BTCUSDT", 106, 106, 0,
             L1("100.00", "2.000"), NO_LEVELS);
    size_t status_before = count_on(f, "status.spot.BTCUSDT");
    control(f, ENVELOPE_CONN_DOWN, MARKET_SPOT, 1,
            "{\"streams\":[],\"reason\":\"rotation: replaced by connection 2\"}");
    assert_int_equal(count_on(f, "status.spot.BTCUSDT"), status_before);
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
    depth_on(f, MARKET_SPOT, 2, 0, "BTCUSDT", 107, 107, 0, L1("100.00", "3.000"), NO_LEVELS);
    /* snapshot, 106 once, 107 */
    assert_int_equal(count_on(f, "book.spot.BTCUSDT"), 3);
}

static void conn_down_naming_other_streams_leaves_the_book_synced(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    size_t status_before = count_on(f, "status.spot.BTCUSDT");
    control(f, ENVELOPE_CONN_DOWN, MARKET_SPOT, 3,
            "{\"streams\":[\"btcusdt@trade\",\"btcusdt@depth20@100ms\",\"btcusdt@bookTicker\","
            "\"ethusdt@depth@100ms\",\"btcusdtx@depth\"],\"reason\":\"idle\"}");
    assert_int_equal(count_on(f, "status.spot.BTCUSDT"), status_before);
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
}

static void conn_down_of_another_market_leaves_the_book_synced(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    control(f, ENVELOPE_CONN_DOWN, MARKET_USDM, 1,
            "{\"streams\":[\"btcusdt@depth@100ms\"],\"reason\":\"idle\"}");
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
}

/* ---- bookTicker check -------------------------------------------------------------------------
 */

static void bookticker_with_the_books_id_and_another_top_resyncs_with_reason_bad_data(void **state)
{
    fx_t *f = *state;
    f->cfg.bbo_check = true;
    start(f);
    sync_spot(f);
    book_ticker(f, 105, "100.00", "1.000", "101.00", "1.500");
    assert_int_equal(counters(f)->bbo_checks, 1);
    assert_int_equal(counters(f)->bbo_mismatches, 1);
    assert_status(last_on(f, "status.spot.BTCUSDT"), "resyncing", "bad_data");
    assert_int_equal(counters(f)->resyncs[SYNC_REASON_BAD_DATA], 1);
}

static void bookticker_matching_the_book_is_counted_as_checked(void **state)
{
    fx_t *f = *state;
    f->cfg.bbo_check = true;
    start(f);
    sync_spot(f);
    size_t status_before = count_on(f, "status.spot.BTCUSDT");
    book_ticker(f, 105, "100.00", "1.000", "101.00", "1.000");
    assert_int_equal(counters(f)->bbo_checks, 1);
    assert_int_equal(counters(f)->bbo_mismatches, 0);
    assert_int_equal(count_on(f, "status.spot.BTCUSDT"), status_before);
    /* An older ticker has nothing to be compared with. */
    book_ticker(f, 104, "1.00", "1.000", "2.00", "1.000");
    assert_int_equal(counters(f)->bbo_checks, 1);
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
}

static void bookticker_is_not_checked_without_bbo_check(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    book_ticker(f, 105, "100.00", "1.000", "101.00", "1.500");
    assert_int_equal(counters(f)->bbo_checks, 0);
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
}

static void bookticker_ahead_of_the_book_is_checked_once_its_event_is_applied(void **state)
{
    fx_t *f = *state;
    f->cfg.bbo_check = true;
    start(f);
    sync_spot(f);
    book_ticker(f, 107, "100.00", "4.000", "101.00", "1.000");
    assert_int_equal(counters(f)->bbo_checks, 0);
    spot_depth(f, 106, 107, L1("100.00", "4.000"), NO_LEVELS);
    assert_int_equal(counters(f)->bbo_checks, 1);
    assert_int_equal(counters(f)->bbo_mismatches, 0);
    /* A ticker for 108 that disagrees breaks the book when 108 is applied, and the event's
       update is not published. */
    book_ticker(f, 108, "100.00", "4.000", "101.00", "1.000");
    size_t book_before = count_on(f, "book.spot.BTCUSDT");
    spot_depth(f, 108, 108, L1("100.50", "0.100"), NO_LEVELS);
    assert_int_equal(counters(f)->bbo_mismatches, 1);
    assert_status(last_on(f, "status.spot.BTCUSDT"), "resyncing", "bad_data");
    assert_int_equal(count_on(f, "book.spot.BTCUSDT"), book_before);
}

static void bookticker_kept_across_a_resync_is_still_checked(void **state)
{
    fx_t *f = *state;
    f->cfg.bbo_check = true;
    start(f);
    sync_spot(f);
    /* One ticker ahead of the book is kept, then the book resyncs. */
    book_ticker(f, 110, "100.00", "1.000", "101.00", "1.000");
    control(f, ENVELOPE_CONN_DOWN, MARKET_SPOT, 1,
            "{\"streams\":[\"btcusdt@depth@100ms\"],\"reason\":\"network error\"}");
    spot_depth(f, 301, 305, L1("100.00", "1.000"), NO_LEVELS);
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 303, L1("100.00", "1.000"),
                L1("101.00", "1.000"));
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_DISCONNECT);
    /* After the resync a ticker for 306 that disagrees with the book at 306 must be found. */
    book_ticker(f, 306, "100.00", "7.000", "101.00", "1.000");
    spot_depth(f, 306, 306, L1("99.00", "1.000"), NO_LEVELS);
    assert_int_equal(counters(f)->bbo_mismatches, 1);
    assert_status(last_on(f, "status.spot.BTCUSDT"), "resyncing", "bad_data");
}

/* ---- which books exist ------------------------------------------------------------------------
 */

static void unknown_symbol_is_dropped_and_counted_without_a_book(void **state)
{
    fx_t *f = *state;
    start(f);
    depth_on(f, MARKET_SPOT, 1, 0, "ETHUSDT", 11, 12, 0, L1("1.00", "1"), NO_LEVELS);
    depth_on(f, MARKET_SPOT, 1, 0, "ETHUSDT", 13, 14, 0, L1("1.00", "2"), NO_LEVELS);
    assert_int_equal(counters(f)->unknown_symbols, 2);
    assert_int_equal(builder_book_count(f->b), 0);
    builder_book_view_t v;
    assert_int_equal(builder_book(f->b, MARKET_SPOT, "ETHUSDT", &v), -1);
    assert_int_equal(f->n, 0);
    assert_int_equal(f->nreq, 0);
    /* A disabled market follows nothing. */
    depth_on(f, MARKET_COINM, 1, 0, "BTCUSD_PERP", 11, 12, 10, L1("1.00", "1"), NO_LEVELS);
    assert_int_equal(counters(f)->unknown_symbols, 3);
    assert_int_equal(builder_book_count(f->b), 0);
}

static void max_books_reached_refuses_new_books(void **state)
{
    fx_t *f = *state;
    f->cfg.markets[0].all_symbols = true;
    f->cfg.max_books = 2;
    start(f);
    depth_on(f, MARKET_SPOT, 1, 0, "AAAUSDT", 11, 12, 0, L1("1.00", "1"), NO_LEVELS);
    depth_on(f, MARKET_SPOT, 1, 0, "BBBUSDT", 11, 12, 0, L1("1.00", "1"), NO_LEVELS);
    depth_on(f, MARKET_SPOT, 1, 0, "CCCUSDT", 11, 12, 0, L1("1.00", "1"), NO_LEVELS);
    assert_int_equal(builder_book_count(f->b), 2);
    assert_int_equal(counters(f)->books_refused, 1);
    builder_book_view_t v;
    assert_int_equal(builder_book(f->b, MARKET_SPOT, "CCCUSDT", &v), -1);
    assert_int_equal(count_on(f, "status.spot.CCCUSDT"), 0);
    /* The books already there go on. */
    depth_on(f, MARKET_SPOT, 1, 0, "AAAUSDT", 13, 13, 0, L1("1.00", "2"), NO_LEVELS);
    assert_int_equal(counters(f)->books_refused, 1);
}

/* ---- malformed input ------------------------------------------------------------------------ */

static void malformed_frames_are_counted_by_reason_and_never_published(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    size_t before = f->n;

    /* Not an envelope at all, and one cut short. */
    static const char junk[] = "hello, this is not a frame of any kind at all............";
    builder_on_frame(f->b, junk, sizeof junk - 1, f->now);
    builder_on_frame(f->b, "BK", 2, f->now);
    builder_on_frame(f->b, NULL, 0, f->now);
    assert_int_equal(counters(f)->frames_bad_envelope, 3);

    ws(f, MARKET_SPOT, 1, 0, "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{");
    ws(f, MARKET_SPOT, 1, 0, "not json at all");
    assert_int_equal(counters(f)->parse_errors[PARSE_ERR_JSON], 2);

    ws(f, MARKET_SPOT, 1, 0,
       "{\"stream\":\"btcusdt@depth@300ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1,\"s\":"
       "\"BTCUSDT\",\"U\":106,\"u\":106,\"b\":[],\"a\":[]}}");
    assert_int_equal(counters(f)->parse_errors[PARSE_ERR_UNKNOWN_STREAM], 1);

    ws(f, MARKET_SPOT, 1, 0,
       "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1,\"s\":"
       "\"BTCUSDT\",\"U\":\"106\",\"u\":106,\"b\":[],\"a\":[]}}");
    ws(f, MARKET_SPOT, 1, 0,
       "{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1,\"s\":\"BTCUSDT\","
       "\"t\":1,\"p\":100.5,\"q\":\"1\",\"T\":1,\"m\":true}}");
    assert_int_equal(counters(f)->parse_errors[PARSE_ERR_WRONG_TYPE], 2);

    ws(f, MARKET_SPOT, 1, 0, "[1,2,3]");
    assert_int_equal(counters(f)->parse_errors[PARSE_ERR_SHAPE], 1);

    /* A control payload that breaks the rules. */
    control(f, ENVELOPE_CONN_DOWN, MARKET_SPOT, 1, "{\"streams\":\"btcusdt@depth\"}");
    assert_int_equal(counters(f)->frames_bad_envelope, 4);

    /* A subscription answer is no event. */
    ws(f, MARKET_SPOT, 1, 0, "{\"result\":null,\"id\":1}");
    assert_int_equal(counters(f)->answers, 1);

    assert_int_equal(f->n, before);
    assert_book_state(f, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_START);
    /* The book goes on with the next good event. */
    spot_depth(f, 106, 106, L1("100.00", "2.000"), NO_LEVELS);
    assert_int_equal(count_on(f, "book.spot.BTCUSDT"), 2);
}

static void frames_are_counted_by_kind(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    trade_on(f, 1, 0, 1);
    control(f, ENVELOPE_CONN_UP, MARKET_SPOT, 2,
            "{\"url\":\"wss://stream.binance.com/stream\",\"streams\":[]}");
    const builder_counters_t *c = counters(f);
    assert_int_equal(c->frames_by_kind[ENVELOPE_WS_TEXT], 2);
    assert_int_equal(c->frames_by_kind[ENVELOPE_SNAPSHOT], 1);
    assert_int_equal(c->frames_by_kind[ENVELOPE_CONN_UP], 1);
    assert_int_equal(c->frames_in, 4);
}

/* ---- depth<N>, bbo and crossed books -------------------------------------------------------- */

static void depth_n_is_published_at_the_interval_only_when_the_book_changed(void **state)
{
    fx_t *f = *state;
    f->cfg.depth_levels = 1;
    f->cfg.depth_interval_ms = 100;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), L1("101.00", "1.000"));
    /* Not while syncing. */
    tick_at(f, f->now + 100 * MS);
    tick_at(f, f->now + 100 * MS);
    assert_int_equal(count_on(f, "depth1.spot.BTCUSDT"), 0);

    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 103,
                L2("100.00", "3.000", "99.00", "2.000"), L2("101.00", "3.000", "102.00", "2.000"));
    int64_t t = f->now;
    tick_at(f, t);
    assert_int_equal(count_on(f, "depth1.spot.BTCUSDT"), 1);
    const char *d = nth_on(f, "depth1.spot.BTCUSDT", 0);
    assert_contains(d, "\"update_id\":105,");
    assert_contains(d, "\"bids\":[[\"100.00\",\"1.000\"]],\"asks\":[[\"101.00\",\"1.000\"]]}");

    /* Unchanged: nothing at the next interval. */
    tick_at(f, t + 100 * MS);
    tick_at(f, t + 200 * MS);
    assert_int_equal(count_on(f, "depth1.spot.BTCUSDT"), 1);

    /* Changed: published at the next interval, not before. */
    f->now = t + 210 * MS;
    spot_depth(f, 106, 106, L1("100.00", "5.000"), NO_LEVELS);
    tick_at(f, t + 250 * MS);
    assert_int_equal(count_on(f, "depth1.spot.BTCUSDT"), 1);
    tick_at(f, t + 300 * MS);
    assert_int_equal(count_on(f, "depth1.spot.BTCUSDT"), 2);
    assert_contains(nth_on(f, "depth1.spot.BTCUSDT", 1), "\"update_id\":106,");
    assert_contains(nth_on(f, "depth1.spot.BTCUSDT", 1), "\"bids\":[[\"100.00\",\"5.000\"]]");

    /* Not while resyncing, even after a change. */
    control(f, ENVELOPE_CONN_DOWN, MARKET_SPOT, 1,
            "{\"streams\":[\"btcusdt@depth@100ms\"],\"reason\":\"network error\"}");
    spot_depth(f, 400, 401, L1("100.00", "1.000"), NO_LEVELS);
    tick_at(f, t + 400 * MS);
    tick_at(f, t + 500 * MS);
    assert_int_equal(count_on(f, "depth1.spot.BTCUSDT"), 2);
}

static void depth_n_is_off_with_zero_levels(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    for (int i = 1; i <= 5; i++)
        tick_at(f, f->now + 100 * MS);
    for (size_t i = 0; i < f->n; i++)
        assert_true(strncmp(f->msgs[i].topic, "depth", 5) != 0);
}

static void crossed_diff_is_never_published_and_resyncs_with_reason_crossed(void **state)
{
    fx_t *f = *state;
    f->cfg.depth_levels = 5;
    start(f);
    sync_spot(f);
    tick_at(f, f->now + MS);
    size_t book_before = count_on(f, "book.spot.BTCUSDT");
    size_t bbo_before = count_on(f, "bbo.spot.BTCUSDT");
    size_t depth_before = count_on(f, "depth5.spot.BTCUSDT");
    /* A bid at 101.50 is above the best ask 101.00. */
    spot_depth(f, 106, 106, L1("101.50", "1.000"), NO_LEVELS);
    assert_status(last_on(f, "status.spot.BTCUSDT"), "resyncing", "crossed");
    assert_int_equal(counters(f)->resyncs[SYNC_REASON_CROSSED], 1);
    tick_at(f, f->now + 200 * MS);
    assert_int_equal(count_on(f, "book.spot.BTCUSDT"), book_before);
    assert_int_equal(count_on(f, "bbo.spot.BTCUSDT"), bbo_before);
    assert_int_equal(count_on(f, "depth5.spot.BTCUSDT"), depth_before);
    for (size_t i = 0; i < f->n; i++)
        assert_null(strstr(f->msgs[i].body, "101.50"));
}

static void crossed_snapshot_is_never_published(void **state)
{
    fx_t *f = *state;
    start(f);
    spot_depth(f, 101, 105, L1("100.00", "1.000"), NO_LEVELS);
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 103, L1("102.00", "3.000"),
                L1("101.00", "3.000"));
    assert_int_equal(data_messages(f), 0);
    assert_int_equal(counters(f)->snapshots_broken, 1);
    const char *st = last_on(f, "status.spot.BTCUSDT");
    assert_field_str(st, "reason", "crossed");
    assert_null(strstr(st, "\"state\":\"synced\""));
    assert_int_equal(field_num(st, "resyncs"), 0);
}

static void bbo_is_published_only_when_the_top_changes(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    assert_int_equal(count_on(f, "bbo.spot.BTCUSDT"), 1);
    const char *first = nth_on(f, "bbo.spot.BTCUSDT", 0);
    assert_contains(first, "\"update_id\":105,\"bid\":\"100.00\",\"bid_qty\":\"1.000\",\"ask\":"
                           "\"101.00\",\"ask_qty\":\"1.000\",");
    /* Below the top on both sides: no bbo. */
    spot_depth(f, 106, 106, L1("99.00", "7.000"), L1("102.00", "7.000"));
    assert_int_equal(count_on(f, "bbo.spot.BTCUSDT"), 1);
    /* The best bid's quantity. */
    spot_depth(f, 107, 107, L1("100.00", "1.500"), NO_LEVELS);
    assert_int_equal(count_on(f, "bbo.spot.BTCUSDT"), 2);
    assert_contains(nth_on(f, "bbo.spot.BTCUSDT", 1), "\"update_id\":107,\"bid\":\"100.00\","
                                                      "\"bid_qty\":\"1.500\",");
    /* A better ask. */
    spot_depth(f, 108, 108, NO_LEVELS, L1("100.50", "0.200"));
    assert_int_equal(count_on(f, "bbo.spot.BTCUSDT"), 3);
    assert_contains(nth_on(f, "bbo.spot.BTCUSDT", 2), "\"ask\":\"100.50\",\"ask_qty\":\"0.200\"");
    /* The same quantity written again changes nothing. */
    spot_depth(f, 109, 109, L1("100.00", "1.500"), NO_LEVELS);
    assert_int_equal(count_on(f, "bbo.spot.BTCUSDT"), 3);
    /* The best ask removed: the next one is the top. */
    spot_depth(f, 110, 110, NO_LEVELS, L1("100.50", "0"));
    assert_int_equal(count_on(f, "bbo.spot.BTCUSDT"), 4);
    assert_contains(nth_on(f, "bbo.spot.BTCUSDT", 3), "\"ask\":\"101.00\",\"ask_qty\":\"1.000\"");
}

static void bbo_of_an_emptied_side_is_null(void **state)
{
    fx_t *f = *state;
    start(f);
    sync_spot(f);
    spot_depth(f, 106, 106, NO_LEVELS, L2("101.00", "0", "102.00", "0"));
    assert_contains(last_on(f, "bbo.spot.BTCUSDT"), "\"ask\":null,\"ask_qty\":null");
}

/* ---- raw tap -------------------------------------------------------------------------------- */

static void raw_tap_republishes_every_frame_of_the_market(void **state)
{
    fx_t *f = *state;
    f->cfg.raw_tap = true;
    start(f);
    sync_spot(f);
    trade_on(f, 1, 0, 1);
    ws(f, MARKET_SPOT, 1, 0, "not json");
    assert_int_equal(f->raw_count, 4);
    assert_int_equal(counters(f)->raw_out, 4);
}

/* ---- determinism ------------------------------------------------------------------------------
 */

/* A run touching every path: sync, updates, trades, a disconnect, a failed snapshot, ticks. */
static void scripted_run(fx_t *f)
{
    f->cfg.depth_levels = 2;
    f->cfg.bbo_check = true;
    f->cfg.live_klines = true;
    start(f);
    sync_spot(f);
    sync_usdm(f);
    for (uint64_t i = 0; i < 20; i++) {
        char bid[32], ask[32];
        snprintf(bid, sizeof bid, "[[\"%" PRIu64 ".00\",\"%" PRIu64 ".000\"]]", 90 + i % 7, i + 1);
        snprintf(ask, sizeof ask, "[[\"%" PRIu64 ".00\",\"%" PRIu64 ".000\"]]", 102 + i % 7, i + 1);
        spot_depth(f, 106 + i, 106 + i, bid, NO_LEVELS);
        trade_on(f, 1 + i % 2, ENVELOPE_FLAG_OVERLAP, 1000 + i / 2);
        usdm_depth(f, 211 + 3 * i, 213 + 3 * i, 210 + 3 * i, NO_LEVELS, ask);
        agg_trade_on(f, 1, 0, 50 + i);
        if (i % 5 == 0)
            tick_at(f, f->now + 100 * MS);
    }
    kline_on(f, 1700000040000, false, "100.10");
    kline_on(f, 1700000040000, true, "100.50");
    control(f, ENVELOPE_CONN_DOWN, MARKET_SPOT, 1,
            "{\"streams\":[\"btcusdt@depth@100ms\"],\"reason\":\"network error\"}");
    spot_depth(f, 500, 501, L1("100.00", "1.000"), NO_LEVELS);
    snapshot_error(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id);
    ms_until_next_request(f, 2000);
    spot_depth(f, 502, 502, L1("100.00", "2.000"), NO_LEVELS);
    snapshot_of(f, MARKET_SPOT, "BTCUSDT", last_request(f)->id, 501, L1("100.00", "1.000"),
                L1("101.00", "1.000"));
    tick_at(f, f->now + 100 * MS);
}

static void replaying_the_same_frames_twice_gives_identical_bytes(void **state)
{
    (void)state;
    fx_t *a, *b;
    setup((void **)&a);
    setup((void **)&b);
    scripted_run(a);
    scripted_run(b);
    assert_true(a->n > 50);
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_string_equal(a->msgs[i].topic, b->msgs[i].topic);
        assert_int_equal(a->msgs[i].len, b->msgs[i].len);
        assert_memory_equal(a->msgs[i].body, b->msgs[i].body, a->msgs[i].len);
    }
    assert_int_equal(a->nreq, b->nreq);
    for (size_t i = 0; i < a->nreq; i++) {
        assert_int_equal(a->reqs[i].id, b->reqs[i].id);
        assert_int_equal(a->reqs[i].at_ns, b->reqs[i].at_ns);
    }
    assert_book_state(a, MARKET_SPOT, "BTCUSDT", SYNC_SYNCED, SYNC_REASON_SNAPSHOT_FAILED);
    teardown((void **)&a);
    teardown((void **)&b);
}

static void every_topic_seq_runs_from_one_without_gaps(void **state)
{
    fx_t *f = *state;
    scripted_run(f);
    /* check_topic_sequences (run by the teardown too) over a run with every kind of message */
    check_topic_sequences(f);
    static const char *const topics[] = {
        "book.spot.BTCUSDT", "bbo.spot.BTCUSDT",   "status.spot.BTCUSDT", "trade.spot.BTCUSDT",
        "book.usdm.BTCUSDT", "trade.usdm.BTCUSDT", "kline.usdm.BTCUSDT",  "depth2.spot.BTCUSDT"};
    for (size_t i = 0; i < sizeof topics / sizeof topics[0]; i++)
        assert_true(count_on(f, topics[i]) >= 2);
    /* The snapshot service's seq is that of the last book message. */
    builder_book_view_t v;
    assert_int_equal(builder_book(f->b, MARKET_SPOT, "BTCUSDT", &v), 0);
    assert_int_equal(v.book_seq, count_on(f, "book.spot.BTCUSDT"));
}

int main(void)
{
    log_options_t lo;
    log_options_default(&lo);
    lo.to_stderr = 0; /* the tests provoke every warning on purpose */
    log_open("test_bookbuilder_builder", &lo);

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(first_event_publishes_syncing_start_and_snapshot_publishes_synced_start),
        T(status_carries_the_configured_run_id),
        T(after_sync_the_book_is_a_snapshot_then_updates),
        T(book_snapshot_last_id_is_the_books_update_id),
        T(futures_book_messages_carry_txn_ms),
        T(bbo_after_a_snapshot_carries_the_collectors_receive_time),
        T(spot_snapshot_is_requested_on_the_first_buffered_event_with_limit_max_levels),
        T(spot_snapshot_limit_is_capped_at_5000),
        T(futures_snapshot_limit_is_the_next_accepted_limit),
        T(at_most_snapshot_inflight_max_requests_are_outstanding_per_market),
        T(snapshot_error_keeps_the_book_syncing_with_reason_snapshot_failed),
        T(snapshot_error_for_another_request_is_ignored),
        T(failed_snapshot_is_retried_after_the_backoff),
        T(backoff_doubles_up_to_the_cap),
        cmocka_unit_test(backoff_jitter_is_the_same_in_every_run),
        T(unanswered_request_times_out_and_is_retried),
        T(request_that_cannot_be_sent_is_retried_later),
        T(snapshot_older_than_the_buffer_is_retried),
        T(malformed_snapshot_fails_the_request),
        T(late_malformed_answer_to_an_old_request_leaves_the_outstanding_one),
        T(gap_resyncs_with_reason_gap_and_asks_for_a_snapshot_at_once),
        T(futures_pu_mismatch_resyncs_with_reason_gap),
        T(events_out_of_order_within_the_reorder_window_are_applied_in_order),
        T(event_held_past_the_reorder_window_is_a_gap_at_the_next_tick),
        T(same_trade_from_two_overlapping_connections_is_published_once),
        T(trade_missed_by_one_connection_is_delivered_by_the_other),
        T(same_agg_trade_twice_is_published_once),
        T(trade_older_than_the_dedup_window_is_dropped),
        T(closed_kline_is_published_once),
        T(open_kline_is_not_published_without_live_klines),
        T(open_kline_is_published_with_live_klines),
        T(frames_lost_on_a_connection_resync_the_books_of_its_streams),
        T(frames_lost_on_an_unknown_connection_resync_the_market),
        T(frames_lost_on_connection_zero_fail_the_outstanding_requests),
        T(a_new_collector_instance_resyncs_every_book_of_its_market),
        T(a_frame_seen_twice_is_dropped),
        T(conn_down_naming_the_depth_stream_resyncs_with_reason_disconnect),
        T(conn_down_while_syncing_changes_the_reason),
        T(overflow_naming_the_depth_stream_resyncs_with_reason_overflow),
        T(conn_down_of_a_rotation_changes_nothing),
        T(conn_down_naming_other_streams_leaves_the_book_synced),
        T(conn_down_of_another_market_leaves_the_book_synced),
        T(bookticker_with_the_books_id_and_another_top_resyncs_with_reason_bad_data),
        T(bookticker_matching_the_book_is_counted_as_checked),
        T(bookticker_is_not_checked_without_bbo_check),
        T(bookticker_ahead_of_the_book_is_checked_once_its_event_is_applied),
        T(bookticker_kept_across_a_resync_is_still_checked),
        T(unknown_symbol_is_dropped_and_counted_without_a_book),
        T(max_books_reached_refuses_new_books),
        T(malformed_frames_are_counted_by_reason_and_never_published),
        T(frames_are_counted_by_kind),
        T(depth_n_is_published_at_the_interval_only_when_the_book_changed),
        T(depth_n_is_off_with_zero_levels),
        T(crossed_diff_is_never_published_and_resyncs_with_reason_crossed),
        T(crossed_snapshot_is_never_published),
        T(bbo_is_published_only_when_the_top_changes),
        T(bbo_of_an_emptied_side_is_null),
        T(raw_tap_republishes_every_frame_of_the_market),
        cmocka_unit_test(replaying_the_same_frames_twice_gives_identical_bytes),
        T(every_topic_seq_runs_from_one_without_gaps),
    };
#undef T
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    log_close();
    return failed;
}
