/*
 * test_sim_protocol.c — proves, from outside, that a running bookcast-sim speaks Binance's public
 * market-data protocol as docs/sim.md and ../shared/binance-protocol.md describe it: every
 * stream's keys in wire order with their JSON types and decimals on the symbol's exchangeInfo
 * grid (spot, USD-M, COIN-M), the combined {"stream","data"} wrapper against raw frames, the
 * control requests and their nested errors, every limit (message rate, streams per connection,
 * connection attempts, connection age with spot's serverShutdown, REST weight with 429 and 418),
 * ping/pong eviction, USD-M /public and /market routing, and byte-identical runs for one seed.
 *
 * Everything goes through real TLS connections to the real process (simproc.h), with the
 * independent test client (session.h over tc_ws/tc_http; rawws.h where lws hides frames). One
 * sim serves every test whose options agree; the limit, ping, age and determinism tests need
 * other options and get their own sims. Silence ("never delivers") is only asserted next to a
 * positive control on the same sim and in the same session, so a dead stream cannot pass for a
 * silent one.
 *
 * Key orders are those of Binance's wire as captured (tests/data/binance-samples, sim/render.c's
 * table), which differ from the documentation in places (futures aggTrade "a" before "s", USD-M
 * bookTicker ending "T","E", markPrice "p","P","i"); the fields added since 2025 ("st", USD-M
 * "ps", "nq", markPrice "ap") are where docs/sim.md's default (current) format puts them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "decimal.h"
#include "rawws.h"
#include "session.h"
#include "simproc.h"
#include "simtest.h"

#include "now.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DUMP_PAYLOAD 400

/* Fails the test with `events` dumped to stderr when cond is false. */
#define CHECK(events, cond, ...)                                                                   \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            simtest_dump((events), DUMP_PAYLOAD);                                                  \
            fail_msg(__VA_ARGS__);                                                                 \
        }                                                                                          \
    } while (0)

/* ---- the symbols' grids, from exchangeInfo -------------------------------------------------- */

typedef struct {
    market_t market;
    char name[40];
    char pair[40];
    dec_t tick, step;
    unsigned price_places, qty_places; /* digits after the point in stream strings */
} grid_t;

#define GRIDS_MAX 64

typedef struct {
    simproc_t *sim;
    grid_t grids[GRIDS_MAX];
    size_t grid_count;
    bool captured;
    tc_evlist_t capture; /* the stream-shape capture, made by the first test that needs it */
    tc_evlist_t events;  /* the current test's events, freed after it even when it fails */
} group_t;

/* The current test's (empty) event list. */
static tc_evlist_t *events(void *state)
{
    group_t *g = state;
    tc_evlist_free(&g->events);
    return &g->events;
}

static int free_events(void **state)
{
    group_t *g = *state;
    tc_evlist_free(&g->events);
    return 0;
}

static bool parse_dec(const char *text, dec_t *out)
{
    return text != NULL && dec_parse(text, strlen(text), 0, out) == DEC_OK;
}

static unsigned places_of(const char *text)
{
    const char *dot = strchr(text, '.');
    return dot ? (unsigned)strlen(dot + 1) : 0;
}

static const char *json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int load_grids(group_t *g, market_t market, const char *path)
{
    tc_get_result_t r;
    int status = simtest_get(g->sim, market, path, &r);
    cJSON *root = status == 200 ? cJSON_ParseWithLength(r.body, r.body_len) : NULL;
    tc_get_result_free(&r);
    if (root == NULL) {
        fprintf(stderr, "exchangeInfo of %s: status %d\n", market_name(market), status);
        return -1;
    }
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(root, "symbols"))
    {
        if (g->grid_count == GRIDS_MAX)
            break;
        grid_t *gr = &g->grids[g->grid_count];
        memset(gr, 0, sizeof *gr);
        gr->market = market;
        const char *name = json_str(s, "symbol"), *pair = json_str(s, "pair");
        snprintf(gr->name, sizeof gr->name, "%s", name ? name : "");
        snprintf(gr->pair, sizeof gr->pair, "%s", pair ? pair : gr->name);
        const cJSON *f;
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(s, "filters"))
        {
            const char *type = json_str(f, "filterType");
            if (type && strcmp(type, "PRICE_FILTER") == 0)
                parse_dec(json_str(f, "tickSize"), &gr->tick);
            else if (type && strcmp(type, "LOT_SIZE") == 0)
                parse_dec(json_str(f, "stepSize"), &gr->step);
        }
        uint64_t pp = 8, qp = 8;
        if (market == MARKET_SPOT) {
            simtest_u64(s, "quotePrecision", &pp);
            simtest_u64(s, "baseAssetPrecision", &qp);
        } else {
            simtest_u64(s, "pricePrecision", &pp);
            simtest_u64(s, "quantityPrecision", &qp);
        }
        gr->price_places = (unsigned)pp;
        gr->qty_places = (unsigned)qp;
        if (gr->name[0] && gr->tick.units > 0 && gr->step.units > 0)
            g->grid_count++;
    }
    cJSON_Delete(root);
    return 0;
}

static const grid_t *find_grid(const group_t *g, market_t market, const char *name)
{
    for (size_t i = 0; i < g->grid_count; i++)
        if (g->grids[i].market == market && strcasecmp(g->grids[i].name, name) == 0)
            return &g->grids[i];
    return NULL;
}

/* ---- group fixtures -------------------------------------------------------------------------- */

static int start_group(void **state, const char *const *args, bool grids)
{
    group_t *g = calloc(1, sizeof *g);
    if (g == NULL)
        return -1;
    g->sim = simproc_start(args);
    if (g->sim == NULL) {
        free(g);
        return -1;
    }
    if (grids && (load_grids(g, MARKET_SPOT, "/api/v3/exchangeInfo") != 0 ||
                  load_grids(g, MARKET_USDM, "/fapi/v1/exchangeInfo") != 0 ||
                  load_grids(g, MARKET_COINM, "/dapi/v1/exchangeInfo") != 0)) {
        simproc_stop(&g->sim);
        free(g);
        return -1;
    }
    *state = g;
    return 0;
}

/* Stops the sim; a sim that does not exit cleanly (0) fails the group (sanitizer reports
   included). */
static int stop_group(void **state)
{
    group_t *g = *state;
    if (g == NULL)
        return 0;
    tc_evlist_free(&g->capture);
    tc_evlist_free(&g->events);
    int rc = simproc_stop(&g->sim);
    free(g);
    *state = NULL;
    if (rc != 0)
        fprintf(stderr, "bookcast-sim exited with %d\n", rc);
    return rc == 0 ? 0 : -1;
}

/* The main sim: default limits and pings; more trades so trade streams fill quickly. */
static int main_setup(void **state)
{
    static const char *const args[] = {"--trade-rate", "10", NULL};
    return start_group(state, args, true);
}

static int limits_setup(void **state)
{
    static const char *const args[] = {
        "--conn-limit", "3", "--weight-limit-spot", "60", "--weight-limit-futures", "30", NULL};
    return start_group(state, args, false);
}

static int ping_setup(void **state)
{
    static const char *const args[] = {"--ping-interval-ms", "200", "--pong-timeout-ms", "800",
                                       NULL};
    return start_group(state, args, false);
}

static const char *url(const group_t *g, market_t market, const char *path, char *buf, size_t len)
{
    return simtest_ws_url(g->sim, market, path, buf, len);
}

/* ---- frames by stream -------------------------------------------------------------------- */

/* Text events of connection `conn` that are data frames of `stream` (combined connections), as
   parsed JSON (caller deletes each) into out; returns how many (at most max). */
static size_t frames_of(const tc_evlist_t *ev, int conn, const char *stream, cJSON **out,
                        size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < ev->n && n < max; i++) {
        const tc_event_t *e = &ev->v[i];
        if (e->kind != TC_EV_TEXT || e->conn != conn)
            continue;
        cJSON *root = simtest_json(e);
        const char *s = NULL;
        simtest_data(root, &s);
        if (s != NULL && strcmp(s, stream) == 0)
            out[n++] = root;
        else
            cJSON_Delete(root);
    }
    return n;
}

/* Data frames of `stream` on combined connection `conn`, from event index `from` on. */
static size_t count_stream_from(const tc_evlist_t *ev, int conn, const char *stream, size_t from)
{
    size_t n = 0;
    char needle[160];
    int len = snprintf(needle, sizeof needle, "{\"stream\":\"%s\",", stream);
    for (size_t i = from; i < ev->n; i++)
        if (ev->v[i].kind == TC_EV_TEXT && ev->v[i].conn == conn &&
            strncmp(ev->v[i].data, needle, (size_t)len) == 0)
            n++;
    return n;
}

static size_t count_stream(const tc_evlist_t *ev, int conn, const char *stream)
{
    return count_stream_from(ev, conn, stream, 0);
}

/* Raw (unwrapped) text events of `conn` whose "e" is `kind` (NULL: any object with "e"). */
static size_t count_kind(const tc_evlist_t *ev, int conn, const char *kind)
{
    size_t n = 0;
    for (size_t i = 0; i < ev->n; i++) {
        if (ev->v[i].kind != TC_EV_TEXT || ev->v[i].conn != conn)
            continue;
        cJSON *root = simtest_json(&ev->v[i]);
        const char *e = json_str(simtest_data(root, NULL), "e");
        if (e != NULL && (kind == NULL || strcmp(e, kind) == 0))
            n++;
        cJSON_Delete(root);
    }
    return n;
}

/* The control responses (objects with "id" and "result" or "error") of `conn`, in order. */
static size_t responses(const tc_evlist_t *ev, int conn, const tc_event_t **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < ev->n && n < max; i++) {
        const tc_event_t *e = &ev->v[i];
        if (e->kind != TC_EV_TEXT || e->conn != conn)
            continue;
        cJSON *root = simtest_json(e);
        if (cJSON_HasObjectItem(root, "id") &&
            (cJSON_HasObjectItem(root, "result") || cJSON_HasObjectItem(root, "error")))
            out[n++] = e;
        cJSON_Delete(root);
    }
    return n;
}

/* Stops once connection `conn` has `count` control responses. */
typedef struct {
    int conn;
    size_t count;
} want_responses_t;

static bool until_responses(const tc_evlist_t *ev, void *arg)
{
    const want_responses_t *w = arg;
    const tc_event_t *r[8];
    return responses(ev, w->conn, r, 8) >= w->count;
}

/* ---- the stream-shape capture ------------------------------------------------------------- */

/* One connection per market family, every stream kind, two symbols with different grids. */
#define CAP_SPOT 0
#define CAP_USDM_PUBLIC 1
#define CAP_USDM_MARKET 2
#define CAP_COINM 3

static const char *const CAP_PATHS[4] = {
    "/stream?streams=btcusdt@depth@100ms/btcusdt@depth5@100ms/btcusdt@trade/btcusdt@aggTrade/"
    "btcusdt@bookTicker/btcusdt@kline_1s/xrpusdt@depth@100ms/xrpusdt@trade/xrpusdt@bookTicker/"
    "xrpusdt@depth10@100ms",
    "/public/stream?streams=btcusdt@depth@100ms/btcusdt@depth5@100ms/btcusdt@trade/"
    "btcusdt@bookTicker/dogeusdt@depth@100ms/dogeusdt@bookTicker/dogeusdt@trade",
    "/market/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m/btcusdt@markPrice@1s/"
    "btcusdt_251226@markPrice@1s/dogeusdt@aggTrade/dogeusdt@kline_1m",
    "/stream?streams=btcusd_perp@depth@100ms/btcusd_perp@depth5@100ms/btcusd_perp@aggTrade/"
    "btcusd_perp@bookTicker/btcusd_perp@kline_1m/btcusd_perp@markPrice@1s/"
    "btcusd_251226@markPrice@1s/btcusd_perp@trade/xrpusd_perp@depth@100ms/xrpusd_perp@aggTrade",
};
static const market_t CAP_MARKETS[4] = {MARKET_SPOT, MARKET_USDM, MARKET_USDM, MARKET_COINM};

/* Streams the capture waits for (two frames each). */
static const struct {
    int conn;
    const char *stream;
} CAP_WANT[] = {
    {CAP_SPOT, "btcusdt@depth@100ms"},
    {CAP_SPOT, "btcusdt@depth5@100ms"},
    {CAP_SPOT, "btcusdt@trade"},
    {CAP_SPOT, "btcusdt@aggTrade"},
    {CAP_SPOT, "btcusdt@bookTicker"},
    {CAP_SPOT, "btcusdt@kline_1s"},
    {CAP_SPOT, "xrpusdt@depth@100ms"},
    {CAP_SPOT, "xrpusdt@trade"},
    {CAP_USDM_PUBLIC, "btcusdt@depth@100ms"},
    {CAP_USDM_PUBLIC, "btcusdt@depth5@100ms"},
    {CAP_USDM_PUBLIC, "btcusdt@trade"},
    {CAP_USDM_PUBLIC, "btcusdt@bookTicker"},
    {CAP_USDM_PUBLIC, "dogeusdt@depth@100ms"},
    {CAP_USDM_MARKET, "btcusdt@aggTrade"},
    {CAP_USDM_MARKET, "btcusdt@kline_1m"},
    {CAP_USDM_MARKET, "btcusdt@markPrice@1s"},
    {CAP_USDM_MARKET, "btcusdt_251226@markPrice@1s"},
    {CAP_USDM_MARKET, "dogeusdt@aggTrade"},
    {CAP_COINM, "btcusd_perp@depth@100ms"},
    {CAP_COINM, "btcusd_perp@depth5@100ms"},
    {CAP_COINM, "btcusd_perp@aggTrade"},
    {CAP_COINM, "btcusd_perp@bookTicker"},
    {CAP_COINM, "btcusd_perp@kline_1m"},
    {CAP_COINM, "btcusd_perp@markPrice@1s"},
    {CAP_COINM, "btcusd_251226@markPrice@1s"},
};
#define CAP_WANT_COUNT (sizeof CAP_WANT / sizeof CAP_WANT[0])
#define CAP_FRAMES 2
#define CAP_TIMEOUT_MS 10000

static bool capture_complete(const tc_evlist_t *ev, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < CAP_WANT_COUNT; i++)
        if (count_stream(ev, CAP_WANT[i].conn, CAP_WANT[i].stream) < CAP_FRAMES)
            return false;
    return true;
}

static const tc_evlist_t *capture(group_t *g)
{
    if (g->captured)
        return &g->capture;
    char urls[4][1024];
    const char *list[4];
    for (int i = 0; i < 4; i++)
        list[i] = url(g, CAP_MARKETS[i], CAP_PATHS[i], urls[i], sizeof urls[i]);
    tc_session_opts_t o = {
        .urls = list, .connections = 4, .all_at_once = true, .ca_file = simproc_ca(g->sim)};
    tc_session_t *s = tc_session_start(&o, &g->capture);
    assert_non_null(s);
    tc_session_run_until(s, CAP_TIMEOUT_MS, capture_complete, NULL);
    tc_session_end(&s);
    g->captured = true;
    for (size_t i = 0; i < CAP_WANT_COUNT; i++) {
        size_t n = count_stream(&g->capture, CAP_WANT[i].conn, CAP_WANT[i].stream);
        if (n < CAP_FRAMES)
            fprintf(stderr, "capture: only %zu frames of %s in %d ms\n", n, CAP_WANT[i].stream,
                    CAP_TIMEOUT_MS);
    }
    return &g->capture;
}

/* ---- field specifications ------------------------------------------------------------------ */

typedef enum {
    F_LIT,       /* a string equal to `lit` */
    F_INT_LIT,   /* an integer whose decimal text is `lit` */
    F_SYMBOL,    /* the symbol's exchangeInfo name */
    F_PAIR,      /* the symbol's exchangeInfo pair */
    F_ID,        /* an integer >= 0 */
    F_ID_OR_NEG, /* an integer >= -1 (kline f/L without trades) */
    F_TIME,      /* an integer ms timestamp after 2020 */
    F_TIME_OR_0, /* a timestamp, or 0 (delivery contracts' markPrice T) */
    F_BOOL,
    F_PRICE,   /* a decimal string on the tick grid, price decimals, > 0 */
    F_QTY,     /* a decimal string on the step grid, quantity decimals, >= 0 */
    F_DEC,     /* a decimal string >= 0 (dec_parse) */
    F_FUNDING, /* a decimal string, may be negative; "" for a delivery contract */
    F_LEVELS,  /* [[price, qty], …] */
    F_KLINE,   /* the kline object */
} ftype_t;

typedef struct {
    const char *key;
    ftype_t type;
    const char *lit;
} field_t;

#define FIELDS(a) a, sizeof a / sizeof a[0]

static const field_t SPOT_DEPTH[] = {
    {"e", F_LIT, "depthUpdate"},
    {"E", F_TIME, 0},
    {"s", F_SYMBOL, 0},
    {"U", F_ID, 0},
    {"u", F_ID, 0},
    {"b", F_LEVELS, 0},
    {"a", F_LEVELS, 0},
};
static const field_t SPOT_PARTIAL[] = {
    {"lastUpdateId", F_ID, 0}, {"bids", F_LEVELS, 0}, {"asks", F_LEVELS, 0}};
static const field_t SPOT_TRADE[] = {
    {"e", F_LIT, "trade"}, {"E", F_TIME, 0},  {"s", F_SYMBOL, 0},
    {"t", F_ID, 0},        {"p", F_PRICE, 0}, {"q", F_QTY, 0},
    {"T", F_TIME, 0},      {"m", F_BOOL, 0},  {"M", F_BOOL, 0},
};
static const field_t SPOT_AGG[] = {
    {"e", F_LIT, "aggTrade"}, {"E", F_TIME, 0}, {"s", F_SYMBOL, 0}, {"a", F_ID, 0},
    {"p", F_PRICE, 0},        {"q", F_QTY, 0},  {"f", F_ID, 0},     {"l", F_ID, 0},
    {"T", F_TIME, 0},         {"m", F_BOOL, 0}, {"M", F_BOOL, 0},
};
static const field_t SPOT_BOOK_TICKER[] = {
    {"u", F_ID, 0},  {"s", F_SYMBOL, 0}, {"b", F_PRICE, 0},
    {"B", F_QTY, 0}, {"a", F_PRICE, 0},  {"A", F_QTY, 0},
};
static const field_t KLINE[] = {
    {"e", F_LIT, "kline"}, {"E", F_TIME, 0}, {"s", F_SYMBOL, 0}, {"k", F_KLINE, 0}};
static const field_t KLINE_K[] = {
    {"t", F_TIME, 0},      {"T", F_TIME, 0},
    {"s", F_SYMBOL, 0},    {"i", F_LIT, 0 /* interval */},
    {"f", F_ID_OR_NEG, 0}, {"L", F_ID_OR_NEG, 0},
    {"o", F_PRICE, 0},     {"c", F_PRICE, 0},
    {"h", F_PRICE, 0},     {"l", F_PRICE, 0},
    {"v", F_QTY, 0},       {"n", F_ID, 0},
    {"x", F_BOOL, 0},      {"q", F_DEC, 0},
    {"V", F_QTY, 0},       {"Q", F_DEC, 0},
    {"B", F_LIT, "0"},
};
static const field_t USDM_DEPTH[] = {
    {"e", F_LIT, "depthUpdate"}, {"E", F_TIME, 0},   {"T", F_TIME, 0},       {"s", F_SYMBOL, 0},
    {"ps", F_PAIR, 0},           {"U", F_ID, 0},     {"u", F_ID, 0},         {"pu", F_ID, 0},
    {"b", F_LEVELS, 0},          {"a", F_LEVELS, 0}, {"st", F_INT_LIT, "1"},
};
static const field_t COINM_DEPTH[] = {
    {"e", F_LIT, "depthUpdate"}, {"E", F_TIME, 0},   {"T", F_TIME, 0},       {"s", F_SYMBOL, 0},
    {"ps", F_PAIR, 0},           {"U", F_ID, 0},     {"u", F_ID, 0},         {"pu", F_ID, 0},
    {"b", F_LEVELS, 0},          {"a", F_LEVELS, 0}, {"st", F_INT_LIT, "2"},
};
static const field_t USDM_BOOK_TICKER[] = {
    {"e", F_LIT, "bookTicker"}, {"u", F_ID, 0},   {"s", F_SYMBOL, 0},     {"ps", F_PAIR, 0},
    {"b", F_PRICE, 0},          {"B", F_QTY, 0},  {"a", F_PRICE, 0},      {"A", F_QTY, 0},
    {"T", F_TIME, 0},           {"E", F_TIME, 0}, {"st", F_INT_LIT, "1"},
};
static const field_t COINM_BOOK_TICKER[] = {
    {"u", F_ID, 0},         {"e", F_LIT, "bookTicker"},
    {"s", F_SYMBOL, 0},     {"ps", F_PAIR, 0},
    {"b", F_PRICE, 0},      {"B", F_QTY, 0},
    {"a", F_PRICE, 0},      {"A", F_QTY, 0},
    {"T", F_TIME, 0},       {"E", F_TIME, 0},
    {"st", F_INT_LIT, "2"},
};
static const field_t USDM_TRADE[] = {
    {"e", F_LIT, "trade"}, {"E", F_TIME, 0},       {"T", F_TIME, 0}, {"s", F_SYMBOL, 0},
    {"t", F_ID, 0},        {"p", F_PRICE, 0},      {"q", F_QTY, 0},  {"X", F_LIT, "MARKET"},
    {"m", F_BOOL, 0},      {"st", F_INT_LIT, "1"},
};
static const field_t COINM_TRADE[] = {
    {"e", F_LIT, "trade"}, {"E", F_TIME, 0},       {"T", F_TIME, 0}, {"s", F_SYMBOL, 0},
    {"t", F_ID, 0},        {"p", F_PRICE, 0},      {"q", F_QTY, 0},  {"X", F_LIT, "MARKET"},
    {"m", F_BOOL, 0},      {"st", F_INT_LIT, "2"},
};
static const field_t USDM_AGG[] = {
    {"e", F_LIT, "aggTrade"}, {"E", F_TIME, 0}, {"a", F_ID, 0},   {"s", F_SYMBOL, 0},
    {"p", F_PRICE, 0},        {"q", F_QTY, 0},  {"nq", F_QTY, 0}, {"f", F_ID, 0},
    {"l", F_ID, 0},           {"T", F_TIME, 0}, {"m", F_BOOL, 0}, {"st", F_INT_LIT, "1"},
};
static const field_t COINM_AGG[] = {
    {"e", F_LIT, "aggTrade"}, {"E", F_TIME, 0}, {"a", F_ID, 0},         {"s", F_SYMBOL, 0},
    {"p", F_PRICE, 0},        {"q", F_QTY, 0},  {"f", F_ID, 0},         {"l", F_ID, 0},
    {"T", F_TIME, 0},         {"m", F_BOOL, 0}, {"st", F_INT_LIT, "2"},
};
static const field_t USDM_MARK[] = {
    {"e", F_LIT, "markPriceUpdate"},
    {"E", F_TIME, 0},
    {"s", F_SYMBOL, 0},
    {"p", F_DEC, 0},
    {"ap", F_DEC, 0},
    {"P", F_DEC, 0},
    {"i", F_DEC, 0},
    {"r", F_FUNDING, 0},
    {"T", F_TIME_OR_0, 0},
    {"st", F_INT_LIT, "1"},
};
static const field_t COINM_MARK[] = {
    {"e", F_LIT, "markPriceUpdate"},
    {"E", F_TIME, 0},
    {"s", F_SYMBOL, 0},
    {"p", F_DEC, 0},
    {"P", F_DEC, 0},
    {"i", F_DEC, 0},
    {"r", F_FUNDING, 0},
    {"T", F_TIME_OR_0, 0},
    {"st", F_INT_LIT, "2"},
};

/* What a frame is checked against. */
typedef struct {
    const group_t *g;
    market_t market;
    const grid_t *grid;   /* the frame's symbol */
    const char *interval; /* klines: the stream's interval */
    char why[512];
} ctx_t;

static bool whyf(ctx_t *c, const char *key, const char *fmt, const char *arg)
{
    char what[300];
    snprintf(what, sizeof what, fmt, arg ? arg : "");
    snprintf(c->why, sizeof c->why, "\"%s\": %s", key, what);
    return false;
}

static bool is_integer(const cJSON *v, double min)
{
    return cJSON_IsNumber(v) && v->valuedouble >= min && v->valuedouble < 9007199254740992.0 &&
           (double)(int64_t)v->valuedouble == v->valuedouble;
}

static bool check_decimal(ctx_t *c, const char *key, const cJSON *v, dec_t grid, unsigned places,
                          bool positive)
{
    if (!cJSON_IsString(v))
        return whyf(c, key, "not a string", NULL);
    dec_t d;
    dec_err_t err = dec_parse(v->valuestring, strlen(v->valuestring), 0, &d);
    if (err != DEC_OK)
        return whyf(c, key, "dec_parse refuses it: %s", dec_strerror(err));
    if (places_of(v->valuestring) != places) {
        char want[64];
        snprintf(want, sizeof want, "%%s has not %u decimals", places);
        return whyf(c, key, want, v->valuestring);
    }
    if (positive && d.units <= 0)
        return whyf(c, key, "%s is not positive", v->valuestring);
    if (grid.units > 0 && d.units % grid.units != 0)
        return whyf(c, key, "%s is off the symbol's grid", v->valuestring);
    return true;
}

static bool check_fields(ctx_t *c, const cJSON *obj, const field_t *spec, size_t n);

static bool check_levels(ctx_t *c, const char *key, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return whyf(c, key, "not an array", NULL);
    const cJSON *level;
    cJSON_ArrayForEach(level, v)
    {
        if (!cJSON_IsArray(level) || cJSON_GetArraySize(level) != 2)
            return whyf(c, key, "a level is not [price, qty]", NULL);
        if (!check_decimal(c, key, cJSON_GetArrayItem(level, 0), c->grid->tick,
                           c->grid->price_places, true) ||
            !check_decimal(c, key, cJSON_GetArrayItem(level, 1), c->grid->step, c->grid->qty_places,
                           false))
            return false;
    }
    return true;
}

static bool check_value(ctx_t *c, const field_t *f, const cJSON *v)
{
    switch (f->type) {
    case F_LIT: {
        const char *want = f->lit ? f->lit : c->interval;
        if (!cJSON_IsString(v) || strcmp(v->valuestring, want) != 0)
            return whyf(c, f->key, "is not the string \"%s\"", want);
        return true;
    }
    case F_INT_LIT:
        if (!is_integer(v, 0) || (int64_t)v->valuedouble != atoll(f->lit))
            return whyf(c, f->key, "is not the integer %s", f->lit);
        return true;
    case F_SYMBOL:
        if (!cJSON_IsString(v) || strcmp(v->valuestring, c->grid->name) != 0)
            return whyf(c, f->key, "is not the symbol %s", c->grid->name);
        return true;
    case F_PAIR:
        if (!cJSON_IsString(v) || strcmp(v->valuestring, c->grid->pair) != 0)
            return whyf(c, f->key, "is not the pair %s", c->grid->pair);
        return true;
    case F_ID:
        return is_integer(v, 0) ? true : whyf(c, f->key, "is not an integer >= 0", NULL);
    case F_ID_OR_NEG:
        return is_integer(v, -1) ? true : whyf(c, f->key, "is not an integer >= -1", NULL);
    case F_TIME:
        return is_integer(v, 1.5e12) ? true : whyf(c, f->key, "is not a ms timestamp", NULL);
    case F_TIME_OR_0:
        return is_integer(v, 0) && (v->valuedouble == 0 || v->valuedouble > 1.5e12)
                   ? true
                   : whyf(c, f->key, "is neither 0 nor a ms timestamp", NULL);
    case F_BOOL:
        return cJSON_IsBool(v) ? true : whyf(c, f->key, "is not a boolean", NULL);
    case F_PRICE:
        return check_decimal(c, f->key, v, c->grid->tick, c->grid->price_places, true);
    case F_QTY:
        return check_decimal(c, f->key, v, c->grid->step, c->grid->qty_places, false);
    case F_DEC: {
        dec_t d;
        if (!cJSON_IsString(v) || !parse_dec(v->valuestring, &d))
            return whyf(c, f->key, "is not a decimal string", NULL);
        return true;
    }
    case F_FUNDING: {
        dec_t d;
        if (!cJSON_IsString(v))
            return whyf(c, f->key, "is not a string", NULL);
        if (v->valuestring[0] == '\0' ||
            dec_parse(v->valuestring, strlen(v->valuestring), DEC_ALLOW_NEGATIVE, &d) == DEC_OK)
            return true;
        return whyf(c, f->key, "%s is neither \"\" nor a decimal", v->valuestring);
    }
    case F_LEVELS:
        return check_levels(c, f->key, v);
    case F_KLINE:
        if (!cJSON_IsObject(v))
            return whyf(c, f->key, "is not an object", NULL);
        return check_fields(c, v, KLINE_K, sizeof KLINE_K / sizeof KLINE_K[0]);
    }
    return whyf(c, f->key, "unknown field type", NULL);
}

/* The object's keys are exactly spec's, in order, each of its type. */
static bool check_fields(ctx_t *c, const cJSON *obj, const field_t *spec, size_t n)
{
    if (!cJSON_IsObject(obj))
        return whyf(c, "(payload)", "not an object", NULL);
    const cJSON *v = obj->child;
    for (size_t i = 0; i < n; i++, v = v->next) {
        if (v == NULL)
            return whyf(c, spec[i].key, "missing (the payload ends before it)", NULL);
        if (v->string == NULL || strcmp(v->string, spec[i].key) != 0)
            return whyf(c, spec[i].key, "expected here, found \"%s\"", v->string);
        if (!check_value(c, &spec[i], v))
            return false;
    }
    if (v != NULL)
        return whyf(c, v->string ? v->string : "?", "unexpected key after the last one", NULL);
    return true;
}

/* Checks every captured frame of `stream` on capture connection `conn` against spec, with the
   symbol taken from the stream name. Returns the frames checked (asserts at least `min`). */
static size_t check_stream(group_t *g, int conn, const char *stream, const field_t *spec, size_t n,
                           size_t min)
{
    const tc_evlist_t *ev = capture(g);
    market_t market = CAP_MARKETS[conn];
    char symbol[40];
    snprintf(symbol, sizeof symbol, "%.*s", (int)strcspn(stream, "@"), stream);
    const grid_t *grid = find_grid(g, market, symbol);
    if (grid == NULL)
        fail_msg("%s %s is not in exchangeInfo", market_name(market), symbol);
    const char *kl = strstr(stream, "@kline_");
    ctx_t c = {.g = g, .market = market, .grid = grid, .interval = kl ? kl + 7 : ""};
    cJSON *frames[64];
    size_t count = frames_of(ev, conn, stream, frames, 64);
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        const cJSON *data = simtest_data(frames[i], NULL);
        if (ok && !check_fields(&c, data, spec, n)) {
            char *text = cJSON_PrintUnformatted(frames[i]);
            fprintf(stderr, "%s frame %zu: %s\n  %s\n", stream, i, c.why, text ? text : "");
            free(text);
            ok = false;
        }
        cJSON_Delete(frames[i]);
    }
    if (!ok)
        fail_msg("%s %s: %s", market_name(market), stream, c.why);
    if (count < min)
        fail_msg("%s %s: %zu frames in the capture, expected at least %zu", market_name(market),
                 stream, count, min);
    return count;
}

/* Consecutive diff events of one stream chain: spot U == prev u + 1; futures pu == prev u. */
static void check_chain(group_t *g, int conn, const char *stream, bool futures)
{
    cJSON *frames[64];
    size_t count = frames_of(capture(g), conn, stream, frames, 64);
    uint64_t prev_u = 0;
    char why[200] = "";
    for (size_t i = 0; i < count; i++) {
        const cJSON *d = simtest_data(frames[i], NULL);
        uint64_t U = 0, u = 0, pu = 0;
        simtest_u64(d, "U", &U);
        simtest_u64(d, "u", &u);
        simtest_u64(d, "pu", &pu);
        if (!why[0] && U > u)
            snprintf(why, sizeof why, "frame %zu: U %" PRIu64 " > u %" PRIu64, i, U, u);
        if (!why[0] && i > 0 && !futures && U != prev_u + 1)
            snprintf(why, sizeof why, "frame %zu: U %" PRIu64 " after u %" PRIu64, i, U, prev_u);
        if (!why[0] && i > 0 && futures && (pu != prev_u || U <= prev_u))
            snprintf(why, sizeof why, "frame %zu: pu %" PRIu64 " U %" PRIu64 " after u %" PRIu64, i,
                     pu, U, prev_u);
        prev_u = u;
        cJSON_Delete(frames[i]);
    }
    if (why[0])
        fail_msg("%s: %s", stream, why);
}

/* Partial depth: `levels` per side, bids falling, asks rising, none empty. */
static void check_partial_book(group_t *g, int conn, const char *stream, const char *bids_key,
                               const char *asks_key, int levels)
{
    cJSON *frames[64];
    size_t count = frames_of(capture(g), conn, stream, frames, 64);
    char why[200] = "";
    for (size_t i = 0; i < count; i++) {
        const cJSON *d = simtest_data(frames[i], NULL);
        for (int side = 0; side < 2 && !why[0]; side++) {
            const cJSON *arr = cJSON_GetObjectItemCaseSensitive(d, side ? asks_key : bids_key);
            if (cJSON_GetArraySize(arr) != levels) {
                snprintf(why, sizeof why, "frame %zu: %d levels on %s, expected %d", i,
                         cJSON_GetArraySize(arr), side ? "asks" : "bids", levels);
                break;
            }
            dec_t prev = {0};
            for (int k = 0; k < levels && !why[0]; k++) {
                const cJSON *lv = cJSON_GetArrayItem(arr, k);
                dec_t p, q;
                if (!parse_dec(cJSON_GetArrayItem(lv, 0)->valuestring, &p) ||
                    !parse_dec(cJSON_GetArrayItem(lv, 1)->valuestring, &q) || q.units == 0)
                    snprintf(why, sizeof why, "frame %zu: level %d unreadable or empty", i, k);
                else if (k > 0 && (side ? dec_cmp(p, prev) <= 0 : dec_cmp(p, prev) >= 0))
                    snprintf(why, sizeof why, "frame %zu: %s not best first at level %d", i,
                             side ? "asks" : "bids", k);
                prev = p;
            }
        }
        cJSON_Delete(frames[i]);
    }
    if (why[0])
        fail_msg("%s: %s", stream, why);
}

/* ---- stream shapes: spot ----------------------------------------------------------------------
 */

static void spot_depth_diff_has_binance_fields_types_and_grid(void **state)
{
    check_stream(*state, CAP_SPOT, "btcusdt@depth@100ms", FIELDS(SPOT_DEPTH), CAP_FRAMES);
    check_stream(*state, CAP_SPOT, "xrpusdt@depth@100ms", FIELDS(SPOT_DEPTH), CAP_FRAMES);
}

static void spot_depth_diff_update_ids_are_contiguous(void **state)
{
    check_chain(*state, CAP_SPOT, "btcusdt@depth@100ms", false);
    check_chain(*state, CAP_SPOT, "xrpusdt@depth@100ms", false);
}

static void spot_partial_depth_is_last_update_id_bids_asks(void **state)
{
    check_stream(*state, CAP_SPOT, "btcusdt@depth5@100ms", FIELDS(SPOT_PARTIAL), CAP_FRAMES);
    check_partial_book(*state, CAP_SPOT, "btcusdt@depth5@100ms", "bids", "asks", 5);
    check_stream(*state, CAP_SPOT, "xrpusdt@depth10@100ms", FIELDS(SPOT_PARTIAL), 1);
    check_partial_book(*state, CAP_SPOT, "xrpusdt@depth10@100ms", "bids", "asks", 10);
}

static void spot_trade_has_binance_fields_types_and_grid(void **state)
{
    check_stream(*state, CAP_SPOT, "btcusdt@trade", FIELDS(SPOT_TRADE), CAP_FRAMES);
    check_stream(*state, CAP_SPOT, "xrpusdt@trade", FIELDS(SPOT_TRADE), CAP_FRAMES);
}

static void spot_agg_trade_has_binance_fields_types_and_grid(void **state)
{
    check_stream(*state, CAP_SPOT, "btcusdt@aggTrade", FIELDS(SPOT_AGG), CAP_FRAMES);
}

static void spot_book_ticker_has_binance_fields_types_and_grid(void **state)
{
    check_stream(*state, CAP_SPOT, "btcusdt@bookTicker", FIELDS(SPOT_BOOK_TICKER), CAP_FRAMES);
    check_stream(*state, CAP_SPOT, "xrpusdt@bookTicker", FIELDS(SPOT_BOOK_TICKER), 1);
}

static void spot_kline_has_binance_fields_types_and_grid(void **state)
{
    check_stream(*state, CAP_SPOT, "btcusdt@kline_1s", FIELDS(KLINE), CAP_FRAMES);
}

/* ---- stream shapes: USD-M ---------------------------------------------------------------------
 */

static void usdm_depth_diff_has_binance_fields_types_and_grid(void **state)
{
    check_stream(*state, CAP_USDM_PUBLIC, "btcusdt@depth@100ms", FIELDS(USDM_DEPTH), CAP_FRAMES);
    check_stream(*state, CAP_USDM_PUBLIC, "dogeusdt@depth@100ms", FIELDS(USDM_DEPTH), CAP_FRAMES);
}

static void usdm_depth_diff_chains_on_pu(void **state)
{
    check_chain(*state, CAP_USDM_PUBLIC, "btcusdt@depth@100ms", true);
    check_chain(*state, CAP_USDM_PUBLIC, "dogeusdt@depth@100ms", true);
}

static void usdm_partial_depth_has_the_diff_shape(void **state)
{
    check_stream(*state, CAP_USDM_PUBLIC, "btcusdt@depth5@100ms", FIELDS(USDM_DEPTH), CAP_FRAMES);
    check_partial_book(*state, CAP_USDM_PUBLIC, "btcusdt@depth5@100ms", "b", "a", 5);
}

static void usdm_trade_is_served_on_public_with_its_fields(void **state)
{
    check_stream(*state, CAP_USDM_PUBLIC, "btcusdt@trade", FIELDS(USDM_TRADE), CAP_FRAMES);
}

static void usdm_agg_trade_has_binance_fields_types_and_grid(void **state)
{
    check_stream(*state, CAP_USDM_MARKET, "btcusdt@aggTrade", FIELDS(USDM_AGG), CAP_FRAMES);
    check_stream(*state, CAP_USDM_MARKET, "dogeusdt@aggTrade", FIELDS(USDM_AGG), CAP_FRAMES);
}

static void usdm_book_ticker_has_binance_fields_types_and_grid(void **state)
{
    check_stream(*state, CAP_USDM_PUBLIC, "btcusdt@bookTicker", FIELDS(USDM_BOOK_TICKER),
                 CAP_FRAMES);
    check_stream(*state, CAP_USDM_PUBLIC, "dogeusdt@bookTicker", FIELDS(USDM_BOOK_TICKER), 1);
}

static void usdm_kline_has_binance_fields_types_and_grid(void **state)
{
    check_stream(*state, CAP_USDM_MARKET, "btcusdt@kline_1m", FIELDS(KLINE), CAP_FRAMES);
}

/* Perpetual: a funding rate and the next funding time; delivery: "r":"" and "T":0. */
static void check_funding(group_t *g, int conn, const char *stream, bool perpetual)
{
    cJSON *frames[64];
    size_t count = frames_of(capture(g), conn, stream, frames, 64);
    char why[200] = "";
    for (size_t i = 0; i < count; i++) {
        const cJSON *d = simtest_data(frames[i], NULL);
        const char *r = json_str(d, "r");
        uint64_t t = 1;
        simtest_u64(d, "T", &t);
        if (!why[0] && perpetual && (r == NULL || !r[0] || t == 0))
            snprintf(why, sizeof why, "frame %zu: a perpetual without funding", i);
        if (!why[0] && !perpetual && (r == NULL || r[0] || t != 0))
            snprintf(why, sizeof why, "frame %zu: a delivery contract with funding", i);
        cJSON_Delete(frames[i]);
    }
    if (why[0])
        fail_msg("%s: %s", stream, why);
}

static void usdm_mark_price_has_binance_fields_and_types(void **state)
{
    check_stream(*state, CAP_USDM_MARKET, "btcusdt@markPrice@1s", FIELDS(USDM_MARK), CAP_FRAMES);
    check_funding(*state, CAP_USDM_MARKET, "btcusdt@markPrice@1s", true);
    check_stream(*state, CAP_USDM_MARKET, "btcusdt_251226@markPrice@1s", FIELDS(USDM_MARK),
                 CAP_FRAMES);
    check_funding(*state, CAP_USDM_MARKET, "btcusdt_251226@markPrice@1s", false);
}

/* ---- stream shapes: COIN-M --------------------------------------------------------------------
 */

static void coinm_depth_diff_has_binance_fields_types_and_grid(void **state)
{
    check_stream(*state, CAP_COINM, "btcusd_perp@depth@100ms", FIELDS(COINM_DEPTH), CAP_FRAMES);
    check_stream(*state, CAP_COINM, "xrpusd_perp@depth@100ms", FIELDS(COINM_DEPTH), 1);
}

static void coinm_depth_diff_chains_on_pu(void **state)
{
    check_chain(*state, CAP_COINM, "btcusd_perp@depth@100ms", true);
}

static void coinm_partial_depth_has_the_diff_shape(void **state)
{
    check_stream(*state, CAP_COINM, "btcusd_perp@depth5@100ms", FIELDS(COINM_DEPTH), CAP_FRAMES);
    check_partial_book(*state, CAP_COINM, "btcusd_perp@depth5@100ms", "b", "a", 5);
}

static void coinm_agg_trade_has_binance_fields_types_and_grid(void **state)
{
    check_stream(*state, CAP_COINM, "btcusd_perp@aggTrade", FIELDS(COINM_AGG), CAP_FRAMES);
}

static void coinm_book_ticker_has_binance_fields_types_and_grid(void **state)
{
    check_stream(*state, CAP_COINM, "btcusd_perp@bookTicker", FIELDS(COINM_BOOK_TICKER),
                 CAP_FRAMES);
}

static void coinm_kline_has_binance_fields_types_and_grid(void **state)
{
    check_stream(*state, CAP_COINM, "btcusd_perp@kline_1m", FIELDS(KLINE), CAP_FRAMES);
}

static void coinm_mark_price_has_binance_fields_and_types(void **state)
{
    check_stream(*state, CAP_COINM, "btcusd_perp@markPrice@1s", FIELDS(COINM_MARK), CAP_FRAMES);
    check_funding(*state, CAP_COINM, "btcusd_perp@markPrice@1s", true);
    check_stream(*state, CAP_COINM, "btcusd_251226@markPrice@1s", FIELDS(COINM_MARK), CAP_FRAMES);
    check_funding(*state, CAP_COINM, "btcusd_251226@markPrice@1s", false);
}

/* COIN-M @trade is served although no stream list names it: the real COIN-M capture
   (binance-real-data/cm_ethusd_perp_20240808) is made of such frames. */
static void coinm_trade_has_binance_fields_and_types(void **state)
{
    check_stream(*state, CAP_COINM, "btcusd_perp@trade", FIELDS(COINM_TRADE), CAP_FRAMES);
}

/* ---- combined and raw ------------------------------------------------------------------------ */

static void combined_frames_are_stream_then_data(void **state)
{
    const tc_evlist_t *ev = capture(*state);
    size_t checked = 0;
    for (size_t i = 0; i < ev->n; i++) {
        const tc_event_t *e = &ev->v[i];
        if (e->kind != TC_EV_TEXT)
            continue;
        cJSON *root = simtest_json(e);
        const cJSON *k1 = root ? root->child : NULL;
        const cJSON *k2 = k1 ? k1->next : NULL;
        bool ok = k1 && k2 && !k2->next && strcmp(k1->string, "stream") == 0 &&
                  cJSON_IsString(k1) && strcmp(k2->string, "data") == 0 && cJSON_IsObject(k2) &&
                  strstr(CAP_PATHS[e->conn], k1->valuestring) != NULL;
        cJSON_Delete(root);
        if (!ok)
            fail_msg("connection %d: not a {\"stream\",\"data\"} frame of a subscribed stream: "
                     "%.300s",
                     e->conn, e->data);
        checked++;
    }
    assert_true(checked > 0);
}

static void raw_frames_are_the_bare_payload(void **state)
{
    group_t *g = *state;
    char u[256];
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {
        .url = url(g, MARKET_SPOT, "/ws/btcusdt@bookTicker/btcusdt@trade", u, sizeof u),
        .ca_file = simproc_ca(g->sim),
        .duration_ms = 5000,
        .max_texts = 20};
    tc_session_run(&o, ev);
    CHECK(ev, tc_evlist_count(ev, TC_EV_TEXT, 0) == 20, "expected 20 frames");
    size_t trades = 0;
    for (size_t i = 0; i < ev->n; i++) {
        if (ev->v[i].kind != TC_EV_TEXT)
            continue;
        cJSON *root = simtest_json(&ev->v[i]);
        bool wrapped = cJSON_HasObjectItem(root, "stream") || cJSON_HasObjectItem(root, "data");
        const char *first = root && root->child ? root->child->string : "";
        trades += strcmp(first, "e") == 0;
        bool bare = !wrapped && (strcmp(first, "e") == 0 || strcmp(first, "u") == 0);
        cJSON_Delete(root);
        CHECK(ev, bare, "frame %zu is not a bare payload", i);
    }
    CHECK(ev, trades > 0, "no trade frame among the bare ones");
    tc_evlist_free(ev);
}

static void set_property_combined_wraps_the_frames_of_a_raw_connection(void **state)
{
    group_t *g = *state;
    char u[256];
    tc_evlist_t *ev = events(*state);
    const char *sends[] = {
        "{\"method\":\"GET_PROPERTY\",\"params\":[\"combined\"],\"id\":1}",
        "{\"method\":\"SET_PROPERTY\",\"params\":[\"combined\",true],\"id\":2}",
        "{\"method\":\"GET_PROPERTY\",\"params\":[\"combined\"],\"id\":3}",
        "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@bookTicker\"],\"id\":4}"};
    tc_session_opts_t o = {.url = url(g, MARKET_SPOT, "/ws", u, sizeof u),
                           .ca_file = simproc_ca(g->sim),
                           .sends = sends,
                           .send_count = 4,
                           .duration_ms = 5000,
                           .max_texts = 8};
    tc_session_run(&o, ev);
    const tc_event_t *r[8];
    size_t n = responses(ev, 0, r, 8);
    CHECK(ev, n == 4, "expected 4 responses, got %zu", n);
    CHECK(ev, strcmp(r[0]->data, "{\"result\":false,\"id\":1}") == 0, "GET_PROPERTY on /ws");
    CHECK(ev, strcmp(r[1]->data, "{\"result\":null,\"id\":2}") == 0, "SET_PROPERTY answer");
    CHECK(ev, strcmp(r[2]->data, "{\"result\":true,\"id\":3}") == 0, "GET_PROPERTY after SET");
    CHECK(ev, count_stream(ev, 0, "btcusdt@bookTicker") == 4,
          "the 4 data frames after SET_PROPERTY combined=true must be wrapped");
    tc_evlist_free(ev);
}

static void get_property_combined_is_true_on_stream(void **state)
{
    group_t *g = *state;
    char u[256];
    tc_evlist_t *ev = events(*state);
    const char *sends[] = {"{\"method\":\"GET_PROPERTY\",\"params\":[\"combined\"],\"id\":9}"};
    tc_session_opts_t o = {.url = url(g, MARKET_COINM, "/stream", u, sizeof u),
                           .ca_file = simproc_ca(g->sim),
                           .sends = sends,
                           .send_count = 1,
                           .duration_ms = 5000,
                           .max_texts = 1};
    tc_session_run(&o, ev);
    const tc_event_t *t = tc_evlist_find(ev, TC_EV_TEXT, 0, 0);
    CHECK(ev, t && strcmp(t->data, "{\"result\":true,\"id\":9}") == 0, "GET_PROPERTY on /stream");
    tc_evlist_free(ev);
}

/* ---- control requests ---------------------------------------------------------------------- */

/* Sends `sends` on a fresh connection to market/path and collects until `texts` texts arrived
   (0: no limit) or duration_ms passed. */
static void ask(group_t *g, market_t market, const char *path, const char *const *sends,
                size_t count, size_t texts, int64_t duration_ms, tc_evlist_t *ev)
{
    char u[512];
    tc_session_opts_t o = {.url = url(g, market, path, u, sizeof u),
                           .ca_file = simproc_ca(g->sim),
                           .sends = sends,
                           .send_count = count,
                           .duration_ms = duration_ms,
                           .max_texts = texts};
    tc_session_run(&o, ev);
}

static void subscribe_answers_result_null_and_delivers(void **state)
{
    tc_evlist_t *ev = events(*state);
    const char *sends[] = {"{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@trade\"],\"id\":1}"};
    ask(*state, MARKET_SPOT, "/ws", sends, 1, 3, 5000, ev);
    const tc_event_t *first = tc_evlist_find(ev, TC_EV_TEXT, 0, 0);
    CHECK(ev, first && strcmp(first->data, "{\"result\":null,\"id\":1}") == 0,
          "the first text must be the response {\"result\":null,\"id\":1}");
    CHECK(ev, count_kind(ev, 0, "trade") == 2, "two trades must follow the response");
    tc_evlist_free(ev);
}

static void unsubscribe_answers_result_null_and_stops_the_stream(void **state)
{
    group_t *g = *state;
    char u[256];
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {
        .url = url(g, MARKET_SPOT, "/ws/btcusdt@bookTicker/btcusdt@depth@100ms", u, sizeof u),
        .ca_file = simproc_ca(g->sim)};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    simtest_want_t want = {.conn = 0, .texts = 3};
    tc_session_run_until(s, 5000, simtest_until_texts, &want);
    tc_session_send(s, 0,
                    "{\"method\":\"UNSUBSCRIBE\",\"params\":[\"btcusdt@bookTicker\"],\"id\":7}");
    tc_session_run_until(s, 1500, NULL, NULL);
    tc_session_end(&s);
    const tc_event_t *r[4];
    CHECK(ev, responses(ev, 0, r, 4) == 1 && strcmp(r[0]->data, "{\"result\":null,\"id\":7}") == 0,
          "UNSUBSCRIBE must answer {\"result\":null,\"id\":7}");
    size_t at = (size_t)(r[0] - ev->v), tickers_after = 0, depth_after = 0;
    for (size_t i = at + 1; i < ev->n; i++) {
        if (ev->v[i].kind != TC_EV_TEXT)
            continue;
        tickers_after += strncmp(ev->v[i].data, "{\"u\":", 5) == 0;
        depth_after += strncmp(ev->v[i].data, "{\"e\":\"depthUpdate\"", 18) == 0;
    }
    CHECK(ev, tickers_after == 0, "%zu bookTicker frames after the UNSUBSCRIBE response",
          tickers_after);
    CHECK(ev, depth_after > 0, "the depth stream (still subscribed) stopped too");
    tc_evlist_free(ev);
}

static void list_subscriptions_returns_the_streams_in_subscription_order(void **state)
{
    tc_evlist_t *ev = events(*state);
    const char *sends[] = {
        "{\"method\":\"SUBSCRIBE\",\"params\":[\"bnbusdt@aggTrade\",\"ethusdt@trade\"],\"id\":2}",
        "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":3}"};
    group_t *g = *state;
    char u[256];
    tc_session_opts_t o = {
        .url = url(g, MARKET_SPOT, "/stream?streams=btcusdt@kline_1h/ethusdt@trade", u, sizeof u),
        .ca_file = simproc_ca(g->sim),
        .sends = sends,
        .send_count = 2,
        .duration_ms = 3000};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    want_responses_t both = {0, 2};
    tc_session_run_until(s, 3000, until_responses, &both);
    tc_session_end(&s);
    const tc_event_t *r[4];
    CHECK(ev, responses(ev, 0, r, 4) == 2, "expected two responses");
    CHECK(ev, strcmp(r[0]->data, "{\"result\":null,\"id\":2}") == 0, "SUBSCRIBE response");
    CHECK(ev,
          strcmp(r[1]->data, "{\"result\":[\"btcusdt@kline_1h\",\"ethusdt@trade\","
                             "\"bnbusdt@aggTrade\"],\"id\":3}") == 0,
          "LIST_SUBSCRIPTIONS must list URL streams then new ones, a repeat once");
    tc_evlist_free(ev);
}

static void request_id_is_echoed_in_its_json_type(void **state)
{
    tc_evlist_t *ev = events(*state);
    const char *sends[] = {"{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":\"abc123\"}",
                           "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":null}",
                           "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":9007199254740993}"};
    ask(*state, MARKET_USDM, "/public/ws", sends, 3, 3, 5000, ev);
    const tc_event_t *r[4];
    CHECK(ev, responses(ev, 0, r, 4) == 3, "expected three responses");
    CHECK(ev, strcmp(r[0]->data, "{\"result\":[],\"id\":\"abc123\"}") == 0, "string id");
    CHECK(ev, strcmp(r[1]->data, "{\"result\":[],\"id\":null}") == 0, "null id");
    CHECK(ev, strcmp(r[2]->data, "{\"result\":[],\"id\":9007199254740993}") == 0,
          "a 64-bit id beyond 2^53 must come back exactly");
    tc_evlist_free(ev);
}

/* Binance's errors arrive nested: {"error":{"code":C,"msg":"…"},"id":…}. */
static void check_error(const tc_evlist_t *ev, const char *text, int code, const char *msg_prefix,
                        const char *id_json)
{
    cJSON *root = cJSON_Parse(text);
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(error, "code");
    const char *msg = json_str(error, "msg");
    char *id = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(root, "id"));
    bool ok = root && root->child && strcmp(root->child->string, "error") == 0 &&
              cJSON_IsObject(error) && error->child && strcmp(error->child->string, "code") == 0 &&
              is_integer(c, 0) && (int)c->valuedouble == code && msg &&
              strncmp(msg, msg_prefix, strlen(msg_prefix)) == 0 && id && strcmp(id, id_json) == 0 &&
              !cJSON_HasObjectItem(root, "result");
    free(id);
    cJSON_Delete(root);
    CHECK(ev, ok, "expected {\"error\":{\"code\":%d,\"msg\":\"%s…\"},\"id\":%s}, got %s", code,
          msg_prefix, id_json, text);
}

static const char *first_text(const tc_evlist_t *ev, int conn)
{
    const tc_event_t *t = tc_evlist_find(ev, TC_EV_TEXT, conn, 0);
    return t ? t->data : "(no text)";
}

static void unknown_method_is_error_code_2(void **state)
{
    tc_evlist_t *ev = events(*state);
    const char *sends[] = {"{\"method\":\"FOO\",\"id\":4}"};
    ask(*state, MARKET_SPOT, "/ws", sends, 1, 1, 5000, ev);
    check_error(ev, first_text(ev, 0), 2, "Invalid request: unknown variant `FOO`", "null");
    tc_evlist_free(ev);
}

static void invalid_json_is_error_code_3(void **state)
{
    tc_evlist_t *ev = events(*state);
    const char *sends[] = {"{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@trade\""};
    ask(*state, MARKET_COINM, "/ws", sends, 1, 1, 5000, ev);
    check_error(ev, first_text(ev, 0), 3, "Invalid JSON: ", "null");
    tc_evlist_free(ev);
}

static void unknown_property_is_error_code_0(void **state)
{
    tc_evlist_t *ev = events(*state);
    const char *sends[] = {"{\"method\":\"GET_PROPERTY\",\"params\":[\"compressed\"],\"id\":5}"};
    ask(*state, MARKET_USDM, "/market/ws", sends, 1, 1, 5000, ev);
    check_error(ev, first_text(ev, 0), 0, "Unknown property", "5");
    tc_evlist_free(ev);
}

static void non_boolean_property_value_is_error_code_1(void **state)
{
    tc_evlist_t *ev = events(*state);
    const char *sends[] = {
        "{\"method\":\"SET_PROPERTY\",\"params\":[\"combined\",\"yes\"],\"id\":6}"};
    ask(*state, MARKET_SPOT, "/ws", sends, 1, 1, 5000, ev);
    check_error(ev, first_text(ev, 0), 1, "Invalid value type: expected Boolean", "6");
    tc_evlist_free(ev);
}

static void missing_id_is_error_code_2(void **state)
{
    tc_evlist_t *ev = events(*state);
    const char *sends[] = {"{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@trade\"]}"};
    ask(*state, MARKET_SPOT, "/ws", sends, 1, 1, 5000, ev);
    check_error(ev, first_text(ev, 0), 2, "Invalid request: request ID must be an unsigned integer",
                "null");
    tc_evlist_free(ev);
}

/* docs/sim.md: a malformed name is refused with code 2 "invalid stream" and the connection
   closed. */
static void invalid_stream_name_is_refused_and_the_connection_closed(void **state)
{
    tc_evlist_t *ev = events(*state);
    const char *sends[] = {"{\"method\":\"SUBSCRIBE\",\"params\":[\"@@@lixo###\"],\"id\":8}"};
    ask(*state, MARKET_SPOT, "/ws/btcusdt@depth@100ms", sends, 1, 0, 2000, ev);
    const tc_event_t *r[2];
    CHECK(ev, responses(ev, 0, r, 2) == 1, "expected one response");
    CHECK(ev,
          strcmp(r[0]->data,
                 "{\"error\":{\"code\":2,\"msg\":\"Invalid request: invalid stream\"},\"id\":8}") ==
              0,
          "the error must be nested, code 2, id echoed");
    CHECK(ev, tc_evlist_count(ev, TC_EV_CLOSED, 0) == 1,
          "docs/sim.md: the connection is closed after an invalid stream; it stayed open for "
          "2 s (%zu more frames)",
          tc_evlist_count(ev, TC_EV_TEXT, 0) - 1);
    tc_evlist_free(ev);
}

/* Well-formed names that deliver nothing: an upper-case symbol, a speed spot lacks, an unknown
   kind, an unknown symbol — next to btcusdt@trade, which delivers. */
static void well_formed_unknown_streams_are_acknowledged_and_silent(void **state)
{
    tc_evlist_t *ev = events(*state);
    const char *sends[] = {
        "{\"method\":\"SUBSCRIBE\",\"params\":[\"BTCUSDT@trade\",\"btcusdt@depth@250ms\","
        "\"btcusdt@naoExisteStream\",\"zzzusdt@trade\",\"btcusdt@trade\"],\"id\":11}"};
    ask(*state, MARKET_SPOT, "/stream", sends, 1, 6, 8000, ev);
    const tc_event_t *first = tc_evlist_find(ev, TC_EV_TEXT, 0, 0);
    CHECK(ev, first && strcmp(first->data, "{\"result\":null,\"id\":11}") == 0,
          "the SUBSCRIBE must be acknowledged with result null");
    CHECK(ev, count_stream(ev, 0, "btcusdt@trade") == 5, "the control stream must deliver");
    static const char *const silent[] = {"BTCUSDT@trade", "btcusdt@depth@250ms",
                                         "btcusdt@naoExisteStream", "zzzusdt@trade"};
    for (size_t i = 0; i < 4; i++)
        CHECK(ev, count_stream(ev, 0, silent[i]) == 0, "%s delivered", silent[i]);
    tc_evlist_free(ev);
}

/* ---- limits -----------------------------------------------------------------------------------
 */

/* Sends `count` LIST_SUBSCRIPTIONS at once; returns the events. */
static void burst(group_t *g, market_t market, const char *path, int count, tc_evlist_t *ev)
{
    static char texts[16][64];
    const char *sends[16];
    for (int i = 0; i < count; i++) {
        snprintf(texts[i], sizeof texts[i], "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":%d}", i + 1);
        sends[i] = texts[i];
    }
    /* A refusal closes at once (the session then ends); an accepted burst is watched 1.2 s. */
    ask(g, market, path, sends, (size_t)count, 0, 1200, ev);
}

static void check_rate_close(const tc_evlist_t *ev, int allowed)
{
    const tc_event_t *r[16];
    size_t n = responses(ev, 0, r, 16);
    CHECK(ev, n == (size_t)allowed, "expected %d answers before the close, got %zu", allowed, n);
    for (size_t i = 0; i < n; i++) {
        char want[64];
        snprintf(want, sizeof want, "{\"result\":[],\"id\":%zu}", i + 1);
        CHECK(ev, strcmp(r[i]->data, want) == 0, "answer %zu", i + 1);
    }
    const tc_event_t *c = tc_evlist_find(ev, TC_EV_PEER_CLOSE, 0, 0);
    CHECK(ev, c != NULL, "no close frame after %d + 1 messages in a second", allowed);
    CHECK(ev, c->code == 1008 && strcmp(c->data, "Too many requests") == 0,
          "expected close 1008 \"Too many requests\", got %d \"%s\"", c->code, c->data);
}

static void check_rate_allowed(const tc_evlist_t *ev, int count)
{
    const tc_event_t *r[16];
    CHECK(ev, responses(ev, 0, r, 16) == (size_t)count, "expected %d answers", count);
    CHECK(ev,
          tc_evlist_count(ev, TC_EV_PEER_CLOSE, 0) == 0 &&
              tc_evlist_count(ev, TC_EV_CLOSED, 0) == 0,
          "%d messages in a second must not close the connection", count);
}

static void spot_sixth_message_in_a_second_closes_1008_too_many_requests(void **state)
{
    tc_evlist_t *ev = events(*state);
    burst(*state, MARKET_SPOT, "/ws", 6, ev);
    check_rate_close(ev, 5);
    tc_evlist_free(ev);
}

static void spot_five_messages_in_a_second_are_served(void **state)
{
    tc_evlist_t *ev = events(*state);
    burst(*state, MARKET_SPOT, "/ws", 5, ev);
    check_rate_allowed(ev, 5);
    tc_evlist_free(ev);
}

static void usdm_eleventh_message_in_a_second_closes_1008_too_many_requests(void **state)
{
    tc_evlist_t *ev = events(*state);
    burst(*state, MARKET_USDM, "/public/ws", 11, ev);
    check_rate_close(ev, 10);
    tc_evlist_free(ev);
}

static void coinm_eleventh_message_in_a_second_closes_1008_too_many_requests(void **state)
{
    tc_evlist_t *ev = events(*state);
    burst(*state, MARKET_COINM, "/ws", 11, ev);
    check_rate_close(ev, 10);
    tc_evlist_free(ev);
}

static void futures_ten_messages_in_a_second_are_served(void **state)
{
    tc_evlist_t *ev = events(*state);
    burst(*state, MARKET_USDM, "/market/ws", 10, ev);
    check_rate_allowed(ev, 10);
    tc_evlist_free(ev);
    burst(*state, MARKET_COINM, "/stream", 10, ev);
    check_rate_allowed(ev, 10);
    tc_evlist_free(ev);
}

/* 1024 streams of symbols that do not exist (acknowledged, silent: no data to wade through). */
static char *subscribe_many(int first, int count, int id)
{
    size_t cap = (size_t)count * 32 + 128;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t len = (size_t)snprintf(text, cap, "{\"method\":\"SUBSCRIBE\",\"params\":[");
    for (int i = 0; i < count; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s\"zz%05dusdt@aggTrade\"", i ? "," : "",
                                first + i);
    snprintf(text + len, cap - len, "],\"id\":%d}", id);
    return text;
}

static void subscribe_beyond_1024_streams_is_refused_and_the_connection_stays(void **state)
{
    char *all = subscribe_many(0, 1024, 1);
    char *one_more = subscribe_many(1024, 1, 2);
    const char *sends[] = {all, one_more, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":3}"};
    tc_evlist_t *ev = events(*state);
    ask(*state, MARKET_SPOT, "/ws", sends, 3, 0, 2500, ev);
    free(all);
    free(one_more);
    const tc_event_t *r[4];
    CHECK(ev, responses(ev, 0, r, 4) == 3, "expected three answers");
    CHECK(ev, strcmp(r[0]->data, "{\"result\":null,\"id\":1}") == 0,
          "1024 streams must be accepted");
    check_error(ev, r[1]->data, 2, "Invalid request: ", "2");
    cJSON *list = cJSON_Parse(r[2]->data);
    int held = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list, "result"));
    cJSON_Delete(list);
    CHECK(ev, held == 1024, "LIST_SUBSCRIPTIONS holds %d streams after the refusal", held);
    CHECK(ev, tc_evlist_count(ev, TC_EV_CLOSED, 0) == 0, "the connection must stay open");
    tc_evlist_free(ev);
}

/* ---- connection attempts (--conn-limit 3) ---------------------------------------------------- */

static void fourth_connection_attempt_in_five_minutes_gets_429_with_retry_after(void **state)
{
    group_t *g = *state;
    simtest_avoid_connrate_boundary(5);
    char u[256];
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {.url = url(g, MARKET_SPOT, "/ws/btcusdt@trade", u, sizeof u),
                           .ca_file = simproc_ca(g->sim),
                           .connections = 4,
                           .duration_ms = 5000};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    tc_session_run_until(s, 5000, NULL, NULL);
    /* Every attempt has an outcome once four are opened or failed. */
    tc_session_end(&s);
    CHECK(ev, tc_evlist_count(ev, TC_EV_OPEN, -1) == 3, "the first three attempts must open");
    for (int i = 0; i < 3; i++)
        CHECK(ev, tc_evlist_find(ev, TC_EV_OPEN, i, 0) != NULL, "attempt %d must open", i + 1);
    const tc_event_t *err = tc_evlist_find(ev, TC_EV_ERROR, 3, 0);
    CHECK(ev, err != NULL && err->code == 429, "the fourth attempt must get HTTP 429");
    /* The refusal's headers, which lws does not report. */
    rawws_answer_t a;
    rawws_t *raw = rawws_open("127.0.0.1", simproc_port(g->sim, MARKET_SPOT), "/ws/btcusdt@trade",
                              simproc_ca(g->sim), 5000, &a);
    rawws_close(&raw);
    if (a.status != 429)
        fail_msg("a fifth attempt got %d (%s), expected 429", a.status, a.error);
    long retry = atol(a.retry_after);
    if (retry < 1 || retry > 300)
        fail_msg("Retry-After \"%s\" is not 1..300 seconds", a.retry_after);
    tc_evlist_free(ev);
}

/* ---- REST weights ---------------------------------------------------------------------------- */

/* GETs path; returns the status, the used weight (X-MBX-USED-WEIGHT-1M) into *used. */
static int rest(group_t *g, market_t market, const char *path, unsigned *used,
                tc_get_result_t *keep)
{
    tc_get_result_t r;
    int status = simtest_get(g->sim, market, path, &r);
    if (!r.header_present[TC_HDR_USED_WEIGHT_1M])
        fail_msg("%s %s: no X-MBX-USED-WEIGHT-1M (status %d)", market_name(market), path, status);
    if (!r.header_present[TC_HDR_USED_WEIGHT] ||
        strcmp(r.header[TC_HDR_USED_WEIGHT], r.header[TC_HDR_USED_WEIGHT_1M]) != 0)
        fail_msg("%s %s: X-MBX-USED-WEIGHT must repeat the 1-minute value", market_name(market),
                 path);
    *used = (unsigned)atol(r.header[TC_HDR_USED_WEIGHT_1M]);
    if (keep != NULL)
        *keep = r;
    else
        tc_get_result_free(&r);
    return status;
}

/* The weight one request adds to the budget (the request itself answered 200). */
static unsigned weight_of(group_t *g, market_t market, const char *path, int want_status)
{
    unsigned before, after;
    char ping[32];
    snprintf(ping, sizeof ping, "%s/ping",
             market == MARKET_SPOT   ? "/api/v3"
             : market == MARKET_USDM ? "/fapi/v1"
                                     : "/dapi/v1");
    rest(g, market, ping, &before, NULL);
    int status = rest(g, market, path, &after, NULL);
    if (status != want_status)
        fail_msg("%s %s answered %d, expected %d", market_name(market), path, status, want_status);
    return after - before;
}

static void spot_depth_weight_follows_binance_limit_bands(void **state)
{
    static const struct {
        const char *query;
        unsigned weight;
    } bands[] = {
        {"", 5},
        {"&limit=1", 5},
        {"&limit=100", 5},
        {"&limit=101", 25},
        {"&limit=500", 25},
        {"&limit=501", 50},
        {"&limit=1000", 50},
        {"&limit=1001", 250},
        {"&limit=5000", 250},
    };
    simtest_avoid_minute_boundary(3);
    for (size_t i = 0; i < sizeof bands / sizeof bands[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/api/v3/depth?symbol=BTCUSDT%s", bands[i].query);
        unsigned w = weight_of(*state, MARKET_SPOT, path, 200);
        if (w != bands[i].weight)
            fail_msg("%s weighs %u, expected %u", path, w, bands[i].weight);
    }
}

static void spot_depth_above_5000_is_served_as_5000_and_weighs_250(void **state)
{
    group_t *g = *state;
    simtest_avoid_minute_boundary(3);
    unsigned w = weight_of(g, MARKET_SPOT, "/api/v3/depth?symbol=BTCUSDT&limit=6000", 200);
    if (w != 250)
        fail_msg("limit=6000 weighs %u, expected 250", w);
    tc_get_result_t r5000, r6000;
    unsigned used;
    rest(g, MARKET_SPOT, "/api/v3/depth?symbol=BTCUSDT&limit=5000", &used, &r5000);
    rest(g, MARKET_SPOT, "/api/v3/depth?symbol=BTCUSDT&limit=6000", &used, &r6000);
    cJSON *a = cJSON_Parse(r5000.body), *b = cJSON_Parse(r6000.body);
    int bids = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "bids"));
    int asks = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "asks"));
    int bids5000 = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "bids"));
    cJSON_Delete(a);
    cJSON_Delete(b);
    tc_get_result_free(&r5000);
    tc_get_result_free(&r6000);
    if (bids < 1 || bids > 5000 || asks < 1 || asks > 5000)
        fail_msg("limit=6000 returned %d bids and %d asks; at most 5000 a side", bids, asks);
    /* The book moves between the two requests, by a few levels at most. */
    if (abs(bids - bids5000) > 50)
        fail_msg("limit=6000 returned %d bids, limit=5000 %d", bids, bids5000);
}

static void spot_depth_returns_limit_levels_best_first_on_the_grid(void **state)
{
    group_t *g = *state;
    const grid_t *grid = find_grid(g, MARKET_SPOT, "BTCUSDT");
    assert_non_null(grid);
    static const struct {
        const char *query;
        int levels;
    } cases[] = {{"&limit=5", 5}, {"", 100}};
    for (size_t k = 0; k < 2; k++) {
        char path[128];
        snprintf(path, sizeof path, "/api/v3/depth?symbol=BTCUSDT%s", cases[k].query);
        tc_get_result_t r;
        unsigned used;
        assert_int_equal(rest(g, MARKET_SPOT, path, &used, &r), 200);
        cJSON *root = cJSON_Parse(r.body);
        ctx_t c = {.g = g, .market = MARKET_SPOT, .grid = grid};
        bool ok = check_fields(&c, root, FIELDS(SPOT_PARTIAL));
        int nb = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "bids"));
        int na = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "asks"));
        cJSON_Delete(root);
        tc_get_result_free(&r);
        if (!ok)
            fail_msg("%s: %s", path, c.why);
        if (nb != cases[k].levels || na != cases[k].levels)
            fail_msg("%s: %d bids, %d asks; expected %d each", path, nb, na, cases[k].levels);
    }
}

static void futures_depth_weight_follows_binance_limits(void **state)
{
    static const struct {
        const char *query;
        unsigned weight;
    } limits[] = {{"", 10},         {"&limit=5", 2},   {"&limit=10", 2},   {"&limit=20", 2},
                  {"&limit=50", 2}, {"&limit=100", 5}, {"&limit=500", 10}, {"&limit=1000", 20}};
    simtest_avoid_minute_boundary(3);
    for (int m = 0; m < 2; m++) {
        market_t market = m ? MARKET_COINM : MARKET_USDM;
        for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
            char path[128];
            snprintf(path, sizeof path, "%s/depth?symbol=%s%s", m ? "/dapi/v1" : "/fapi/v1",
                     m ? "BTCUSD_PERP" : "BTCUSDT", limits[i].query);
            unsigned w = weight_of(*state, market, path, 200);
            if (w != limits[i].weight)
                fail_msg("%s weighs %u, expected %u", path, w, limits[i].weight);
        }
    }
}

static void futures_depth_limit_7_is_refused_with_400(void **state)
{
    group_t *g = *state;
    static const char *const paths[] = {"/fapi/v1/depth?symbol=BTCUSDT&limit=7",
                                        "/dapi/v1/depth?symbol=BTCUSD_PERP&limit=7"};
    for (int m = 0; m < 2; m++) {
        tc_get_result_t r;
        unsigned used;
        int status = rest(g, m ? MARKET_COINM : MARKET_USDM, paths[m], &used, &r);
        cJSON *root = cJSON_Parse(r.body);
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
        bool shaped = cJSON_IsNumber(code) && code->valuedouble < 0 && json_str(root, "msg");
        cJSON_Delete(root);
        if (status != 400 || !shaped)
            fail_msg("%s answered %d %s; expected 400 {\"code\":<negative>,\"msg\":…}", paths[m],
                     status, r.body);
        tc_get_result_free(&r);
    }
}

static void exchange_info_weighs_20_on_spot_and_1_on_futures(void **state)
{
    simtest_avoid_minute_boundary(3);
    unsigned w = weight_of(*state, MARKET_SPOT, "/api/v3/exchangeInfo", 200);
    if (w != 20)
        fail_msg("spot exchangeInfo weighs %u, expected 20", w);
    w = weight_of(*state, MARKET_USDM, "/fapi/v1/exchangeInfo", 200);
    if (w != 1)
        fail_msg("USD-M exchangeInfo weighs %u, expected 1", w);
    w = weight_of(*state, MARKET_COINM, "/dapi/v1/exchangeInfo", 200);
    if (w != 1)
        fail_msg("COIN-M exchangeInfo weighs %u, expected 1", w);
}

/* USD-M and COIN-M draw on one budget (since 2026-06-30): a USD-M request shows in the next
   COIN-M answer's used weight. */
static void usdm_and_coinm_share_one_weight_budget(void **state)
{
    group_t *g = *state;
    simtest_avoid_minute_boundary(3);
    unsigned before, after_usdm, after_coinm;
    rest(g, MARKET_COINM, "/dapi/v1/ping", &before, NULL);
    rest(g, MARKET_USDM, "/fapi/v1/depth?symbol=BTCUSDT&limit=1000", &after_usdm, NULL);
    rest(g, MARKET_COINM, "/dapi/v1/time", &after_coinm, NULL);
    if (after_usdm != before + 20 || after_coinm != after_usdm + 1)
        fail_msg("used weight COIN-M %u, then USD-M %u (+20 expected), then COIN-M %u (+1 "
                 "expected)",
                 before, after_usdm, after_coinm);
}

/* REST snapshot bodies per market: spot lastUpdateId bids asks; USD-M adds E T; COIN-M adds
   E T symbol pair. */
static void depth_snapshot_fields_follow_each_market(void **state)
{
    group_t *g = *state;
    static const struct {
        market_t market;
        const char *path;
        const char *keys;
    } cases[] = {
        {MARKET_SPOT, "/api/v3/depth?symbol=BTCUSDT&limit=5", "lastUpdateId,bids,asks"},
        {MARKET_USDM, "/fapi/v1/depth?symbol=BTCUSDT&limit=5", "lastUpdateId,E,T,bids,asks"},
        {MARKET_COINM, "/dapi/v1/depth?symbol=BTCUSD_PERP&limit=5",
         "lastUpdateId,E,T,symbol,pair,bids,asks"},
    };
    for (size_t i = 0; i < 3; i++) {
        tc_get_result_t r;
        unsigned used;
        assert_int_equal(rest(g, cases[i].market, cases[i].path, &used, &r), 200);
        cJSON *root = cJSON_Parse(r.body);
        char keys[200] = "";
        for (const cJSON *k = root ? root->child : NULL; k; k = k->next)
            snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s", keys[0] ? "," : "",
                     k->string);
        const char *type = r.header[TC_HDR_CONTENT_TYPE];
        bool json = strncmp(type, "application/json", 16) == 0;
        cJSON_Delete(root);
        tc_get_result_free(&r);
        if (strcmp(keys, cases[i].keys) != 0)
            fail_msg("%s: keys %s, expected %s", cases[i].path, keys, cases[i].keys);
        if (!json)
            fail_msg("%s: content type \"%s\"", cases[i].path, type);
    }
}

/* ---- REST budget exhaustion (--weight-limit-spot 60, --weight-limit-futures 30) -------------- */

static void spot_requests_past_the_minute_budget_get_429_then_418(void **state)
{
    group_t *g = *state;
    simtest_avoid_minute_boundary(5);
    /* exchangeInfo weighs 20: three fit in 60, the fourth does not. */
    unsigned used = 0;
    for (int i = 1; i <= 3; i++) {
        int status = rest(g, MARKET_SPOT, "/api/v3/exchangeInfo", &used, NULL);
        if (status != 200 || used != (unsigned)(20 * i))
            fail_msg("request %d: %d with used weight %u", i, status, used);
    }
    tc_get_result_t r;
    int status = rest(g, MARKET_SPOT, "/api/v3/exchangeInfo", &used, &r);
    cJSON *body = cJSON_Parse(r.body);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(body, "code");
    bool is_1003 = cJSON_IsNumber(code) && code->valuedouble == -1003;
    cJSON_Delete(body);
    long retry = r.header_present[TC_HDR_RETRY_AFTER] ? atol(r.header[TC_HDR_RETRY_AFTER]) : -1;
    tc_get_result_free(&r);
    if (status != 429 || !is_1003 || retry < 1 || retry > 60)
        fail_msg("past the budget: status %d, -1003 %s, Retry-After %ld; expected 429, -1003, "
                 "1..60 s",
                 status, is_1003 ? "yes" : "no", retry);
    /* Keeping on during the Retry-After gets an IP ban: 418, Retry-After to the ban's end (the
       first ban lasts 2 minutes). */
    status = rest(g, MARKET_SPOT, "/api/v3/ping", &used, &r);
    retry = r.header_present[TC_HDR_RETRY_AFTER] ? atol(r.header[TC_HDR_RETRY_AFTER]) : -1;
    tc_get_result_free(&r);
    if (status != 418 || retry < 100 || retry > 120)
        fail_msg("during the Retry-After: status %d, Retry-After %ld; expected 418, ~120 s", status,
                 retry);
    status = rest(g, MARKET_SPOT, "/api/v3/time", &used, NULL);
    if (status != 418)
        fail_msg("during the ban: status %d, expected 418", status);
}

static void coinm_is_refused_once_usdm_spent_the_shared_budget(void **state)
{
    group_t *g = *state;
    simtest_avoid_minute_boundary(5);
    unsigned used;
    int status = rest(g, MARKET_USDM, "/fapi/v1/depth?symbol=BTCUSDT&limit=1000", &used, NULL);
    if (status != 200 || used != 20)
        fail_msg("USD-M depth limit=1000: %d, used %u; expected 200, 20", status, used);
    tc_get_result_t r;
    status = rest(g, MARKET_COINM, "/dapi/v1/depth?symbol=BTCUSD_PERP&limit=1000", &used, &r);
    bool retry = r.header_present[TC_HDR_RETRY_AFTER];
    tc_get_result_free(&r);
    if (status != 429 || !retry)
        fail_msg("COIN-M depth past the shared 30: %d (Retry-After %s); expected 429 with one",
                 status, retry ? "present" : "absent");
}

/* ---- USD-M routing -----------------------------------------------------------------------------
 */

typedef struct {
    int conn;
    const char *streams[4];
    size_t frames;
    size_t from; /* count only events at this index or later */
} want_streams_t;

static bool until_streams(const tc_evlist_t *ev, void *arg)
{
    const want_streams_t *w = arg;
    for (size_t i = 0; i < 4 && w->streams[i]; i++)
        if (count_stream_from(ev, w->conn, w->streams[i], w->from) < w->frames)
            return false;
    return true;
}

static void usdm_public_delivers_depth_and_book_ticker(void **state)
{
    group_t *g = *state;
    char u[256];
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {.url =
                               url(g, MARKET_USDM,
                                   "/public/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker/"
                                   "btcusdt@depth20@100ms",
                                   u, sizeof u),
                           .ca_file = simproc_ca(g->sim)};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    want_streams_t w = {
        0, {"btcusdt@depth@100ms", "btcusdt@bookTicker", "btcusdt@depth20@100ms"}, 2, 0};
    tc_stop_t why = tc_session_run_until(s, 5000, until_streams, &w);
    tc_session_end(&s);
    CHECK(ev, why == TC_STOP_UNTIL, "/public must deliver depth, partial depth and bookTicker");
    tc_evlist_free(ev);
}

static void usdm_market_delivers_agg_trade_kline_and_mark_price(void **state)
{
    group_t *g = *state;
    char u[256];
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {.url = url(g, MARKET_USDM,
                                      "/market/stream?streams=btcusdt@aggTrade/btcusdt@kline_1m/"
                                      "btcusdt@markPrice@1s",
                                      u, sizeof u),
                           .ca_file = simproc_ca(g->sim)};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    want_streams_t w = {0, {"btcusdt@aggTrade", "btcusdt@kline_1m", "btcusdt@markPrice@1s"}, 1, 0};
    tc_stop_t why = tc_session_run_until(s, 5000, until_streams, &w);
    tc_session_end(&s);
    CHECK(ev, why == TC_STOP_UNTIL, "/market must deliver aggTrade, kline and markPrice");
    tc_evlist_free(ev);
}

/* After the acknowledgement (event index `from`): the control stream on connection 1 and the
   positive stream on connection 0 have each delivered enough to make the silence meaningful. */
typedef struct {
    size_t from;
    const char *control;
    const char *positive;
} silence_window_t;

static bool until_silence_observed(const tc_evlist_t *ev, void *arg)
{
    const silence_window_t *w = arg;
    return count_stream_from(ev, 1, w->control, w->from) >= 5 &&
           (w->positive == NULL || count_stream_from(ev, 0, w->positive, w->from) >= 5);
}

/* Connection 0 (on `path`) subscribes a stream with `subscribe`; connection 1 (on
   `control_path`) proves that stream flows. Once connection 0 has its acknowledgement,
   connection 1 must deliver five frames of it, and connection 0 five of its `positive` stream
   (may be NULL), while connection 0 delivers nothing of the subscribed one. */
static void check_acked_but_silent(group_t *g, const char *path, const char *subscribe,
                                   const char *control_path, const char *control_stream,
                                   const char *positive)
{
    char u0[256], u1[256];
    const char *urls[2] = {url(g, MARKET_USDM, path, u0, sizeof u0),
                           url(g, MARKET_USDM, control_path, u1, sizeof u1)};
    const char *sends[1] = {subscribe};
    tc_evlist_t *ev = events(g);
    tc_session_opts_t o = {.urls = urls,
                           .connections = 2,
                           .all_at_once = true,
                           .ca_file = simproc_ca(g->sim),
                           .sends = sends,
                           .send_count = 1};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    /* Connection 1 sends the same SUBSCRIBE: a no-op there (already subscribed by its URL). */
    want_responses_t acked = {0, 1};
    tc_stop_t why = tc_session_run_until(s, 5000, until_responses, &acked);
    silence_window_t w = {ev->n, control_stream, positive};
    if (why == TC_STOP_UNTIL)
        why = tc_session_run_until(s, 8000, until_silence_observed, &w);
    tc_session_end(&s);
    const tc_event_t *r[2];
    CHECK(ev, responses(ev, 0, r, 2) == 1 && strstr(r[0]->data, "{\"result\":null,") == r[0]->data,
          "%s must acknowledge the SUBSCRIBE with result null", path);
    CHECK(ev, why == TC_STOP_UNTIL, "the control %s or the positive %s did not deliver",
          control_stream, positive ? positive : "(none)");
    CHECK(ev, count_stream(ev, 0, control_stream) == 0,
          "%s delivered %s, which it must never deliver", path, control_stream);
    tc_evlist_free(ev);
}

static void usdm_public_acknowledges_agg_trade_and_never_delivers_it(void **state)
{
    check_acked_but_silent(*state, "/public/stream?streams=btcusdt@depth@100ms",
                           "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@aggTrade\"],\"id\":1}",
                           "/market/stream?streams=btcusdt@aggTrade", "btcusdt@aggTrade",
                           "btcusdt@depth@100ms");
}

static void usdm_unrouted_ws_acknowledges_market_streams_and_never_delivers_them(void **state)
{
    /* The unrouted combined path; the raw /ws has its own test. */
    check_acked_but_silent(*state, "/stream?streams=btcusdt@depth@100ms",
                           "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@aggTrade\"],\"id\":1}",
                           "/market/stream?streams=btcusdt@aggTrade", "btcusdt@aggTrade",
                           "btcusdt@depth@100ms");
    check_acked_but_silent(*state, "/stream?streams=btcusdt@bookTicker",
                           "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@kline_1m\"],\"id\":1}",
                           "/market/stream?streams=btcusdt@kline_1m", "btcusdt@kline_1m",
                           "btcusdt@bookTicker");
}

static void usdm_unrouted_raw_ws_acknowledges_mark_price_and_never_delivers_it(void **state)
{
    group_t *g = *state;
    char u0[256], u1[256];
    const char *urls[2] = {url(g, MARKET_USDM, "/ws/btcusdt@bookTicker", u0, sizeof u0),
                           url(g, MARKET_USDM, "/market/ws/btcusdt@markPrice@1s", u1, sizeof u1)};
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {
        .urls = urls, .connections = 2, .all_at_once = true, .ca_file = simproc_ca(g->sim)};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    tc_session_send(s, 0,
                    "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@markPrice@1s\"],\"id\":2}");
    want_responses_t acked = {0, 1};
    tc_stop_t why = tc_session_run_until(s, 5000, until_responses, &acked);
    size_t from = ev->n;
    size_t marks_after = 0;
    for (int i = 0; why == TC_STOP_UNTIL && i < 600 && marks_after < 3; i++) {
        tc_session_run_until(s, 10, NULL, NULL);
        marks_after = 0;
        for (size_t k = from; k < ev->n; k++)
            marks_after += ev->v[k].kind == TC_EV_TEXT && ev->v[k].conn == 1;
    }
    tc_session_end(&s);
    CHECK(ev, why == TC_STOP_UNTIL, "no acknowledgement on /ws");
    CHECK(ev, marks_after >= 3, "the /market control did not deliver markPrice");
    const tc_event_t *r[2];
    CHECK(ev, responses(ev, 0, r, 2) == 1 && strcmp(r[0]->data, "{\"result\":null,\"id\":2}") == 0,
          "/ws must acknowledge the markPrice SUBSCRIBE");
    CHECK(ev, count_kind(ev, 0, "markPriceUpdate") == 0, "/ws delivered markPrice");
    CHECK(ev, count_kind(ev, 1, "markPriceUpdate") >= 3, "/market did not deliver markPrice");
    tc_evlist_free(ev);
}

static void usdm_market_acknowledges_depth_and_never_delivers_it(void **state)
{
    check_acked_but_silent(
        *state, "/market/stream?streams=btcusdt@aggTrade",
        "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@depth@100ms\"],\"id\":1}",
        "/public/stream?streams=btcusdt@depth@100ms", "btcusdt@depth@100ms", "btcusdt@aggTrade");
}

/* ---- ping / pong (--ping-interval-ms 200 --pong-timeout-ms 800) --------------------------- */

/* Futures only: on spot every pong counts against 5 messages a second, and pings every 200 ms
   put an answering client exactly at that limit (Binance's own spot ping is every 20 s). */
static void futures_client_answering_pings_stays_connected_for_3s(void **state)
{
    group_t *g = *state;
    char u0[256], u1[256];
    const char *urls[2] = {url(g, MARKET_USDM, "/public/ws/btcusdt@depth@100ms", u0, sizeof u0),
                           url(g, MARKET_COINM, "/ws/btcusd_perp@depth@100ms", u1, sizeof u1)};
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {.urls = urls,
                           .connections = 2,
                           .all_at_once = true,
                           .ca_file = simproc_ca(g->sim),
                           .duration_ms = 3000};
    tc_session_run(&o, ev);
    CHECK(ev, tc_evlist_count(ev, TC_EV_OPEN, -1) == 2, "both connections must open");
    CHECK(ev,
          tc_evlist_count(ev, TC_EV_PEER_CLOSE, -1) == 0 &&
              tc_evlist_count(ev, TC_EV_CLOSED, -1) == 0,
          "a client that answers pings must not be closed (pong deadline 800 ms, 3 s run)");
    for (int c = 0; c < 2; c++) {
        const tc_event_t *last = NULL;
        for (size_t i = 0; i < ev->n; i++)
            if (ev->v[i].kind == TC_EV_TEXT && ev->v[i].conn == c)
                last = &ev->v[i];
        CHECK(ev, last != NULL && last->t_ms >= 2500, "connection %d stopped receiving", c);
    }
    tc_evlist_free(ev);
}

static void ignore_pongs_gets_the_connection_closed_at_the_pong_deadline(void **state)
{
    group_t *g = *state;
    char u0[256], u1[256], fault[256];
    const char *urls[2] = {url(g, MARKET_USDM, "/public/ws/btcusdt@depth@100ms", u0, sizeof u0),
                           url(g, MARKET_COINM, "/ws/btcusd_perp@depth@100ms", u1, sizeof u1)};
    tc_timed_get_t gets[1] = {
        {500, simtest_http_url(g->sim, MARKET_USDM, "/_sim/fault?name=ignore_pongs", fault,
                               sizeof fault)}};
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {.urls = urls,
                           .connections = 2,
                           .all_at_once = true,
                           .ca_file = simproc_ca(g->sim),
                           .duration_ms = 3500,
                           .gets = gets,
                           .get_count = 1};
    tc_session_run(&o, ev);
    const tc_event_t *answer = tc_evlist_find(ev, TC_EV_HTTP, 0, 0);
    CHECK(ev, answer && answer->code == 200, "the fault was not accepted");
    const tc_event_t *close = tc_evlist_find(ev, TC_EV_PEER_CLOSE, 0, 0);
    CHECK(ev, close != NULL, "the USD-M connection, whose pongs are ignored, got no close frame");
    int64_t after = close->t_ms - answer->t_ms;
    /* The last counted pong came at most one ping interval before the fault; the deadline is
       800 ms after it. */
    CHECK(ev, after >= 500 && after <= 2500,
          "closed %" PRId64 " ms after the fault; the pong deadline is 800 ms after the last pong",
          after);
    CHECK(ev,
          tc_evlist_count(ev, TC_EV_PEER_CLOSE, 1) == 0 &&
              tc_evlist_count(ev, TC_EV_CLOSED, 1) == 0,
          "the COIN-M connection (not faulted) must stay open");
    tc_evlist_free(ev);
}

/* ---- connection age (--max-age-s 2 --shutdown-notice-ms 1000) -------------------------------- */

static int age_setup(void **state)
{
    static const char *const args[] = {"--max-age-s", "2", "--shutdown-notice-ms", "1000", NULL};
    return start_group(state, args, false);
}

/* docs/sim.md: connections are cut at --max-age-s (Binance's 24 h), and spot announces it with
   serverShutdown --shutdown-notice-ms before; futures have no such event. */
static void connections_are_cut_at_max_age_and_spot_announces_server_shutdown(void **state)
{
    group_t *g = *state;
    char u[3][256];
    const char *urls[3] = {url(g, MARKET_SPOT, "/ws/btcusdt@depth", u[0], sizeof u[0]),
                           url(g, MARKET_SPOT, "/stream?streams=btcusdt@depth", u[1], sizeof u[1]),
                           url(g, MARKET_USDM, "/public/ws/btcusdt@depth", u[2], sizeof u[2])};
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {.urls = urls,
                           .connections = 3,
                           .all_at_once = true,
                           .ca_file = simproc_ca(g->sim),
                           .duration_ms = 5000};
    tc_session_run(&o, ev);
    for (int c = 0; c < 3; c++) {
        const tc_event_t *open = tc_evlist_find(ev, TC_EV_OPEN, c, 0);
        const tc_event_t *close = tc_evlist_find(ev, TC_EV_PEER_CLOSE, c, 0);
        CHECK(ev, open != NULL && close != NULL, "connection %d: no open or no close frame", c);
        int64_t age = close->t_ms - open->t_ms;
        CHECK(ev, age >= 1900 && age <= 3500, "connection %d cut at %" PRId64 " ms, not at 2 s", c,
              age);
        const tc_event_t *notice = NULL;
        for (size_t i = 0; i < ev->n; i++)
            if (ev->v[i].kind == TC_EV_TEXT && ev->v[i].conn == c &&
                strstr(ev->v[i].data, "serverShutdown") != NULL)
                notice = &ev->v[i];
        if (c == 2) {
            CHECK(ev, notice == NULL, "USD-M sent serverShutdown, a spot-only event");
            continue;
        }
        CHECK(ev, notice != NULL, "spot connection %d got no serverShutdown", c);
        int64_t at = notice->t_ms - open->t_ms;
        CHECK(ev, at >= 900 && notice->t_ms <= close->t_ms,
              "serverShutdown came %" PRId64 " ms after the open; expected 1 s before the cut", at);
        cJSON *root = simtest_json(notice);
        const char *stream = NULL;
        const cJSON *d = simtest_data(root, &stream);
        bool shaped = d && d->child && strcmp(d->child->string, "e") == 0 &&
                      strcmp(json_str(d, "e") ? json_str(d, "e") : "", "serverShutdown") == 0 &&
                      d->child->next && strcmp(d->child->next->string, "E") == 0 &&
                      is_integer(d->child->next, 1.5e12) && !d->child->next->next;
        bool wrapped_right =
            c == 1 ? stream != NULL && strcmp(stream, "!serverShutdown") == 0 : stream == NULL;
        cJSON_Delete(root);
        CHECK(ev, shaped && wrapped_right,
              "connection %d: expected %s{\"e\":\"serverShutdown\",\"E\":<ms>}", c,
              c == 1 ? "the combined !serverShutdown wrapper around " : "");
    }
}

/* ---- determinism ------------------------------------------------------------------------------
 */

#define DET_FRAMES 300
#define DET_PATH                                                                                   \
    "/stream?streams=btcusdt@depth@100ms/btcusdt@trade/ethusdt@aggTrade/btcusdt@bookTicker/"       \
    "xrpusdt@depth@100ms"

typedef struct {
    char *frames[DET_FRAMES];
    size_t lens[DET_FRAMES];
    size_t count;
} det_run_t;

static void det_free(det_run_t *r)
{
    for (size_t i = 0; i < r->count; i++)
        free(r->frames[i]);
    r->count = 0;
}

/* The first DET_FRAMES frames of a fresh sim in load mode with `seed`. */
static int det_capture(const char *seed, det_run_t *out)
{
    const char *const args[] = {"--seed", seed, "--epoch-ms", "1780000000000", "--load", NULL};
    simproc_t *sim = simproc_start(args);
    if (sim == NULL)
        return -1;
    char u[512];
    tc_evlist_t ev = {0};
    tc_session_opts_t o = {.url = simtest_ws_url(sim, MARKET_SPOT, DET_PATH, u, sizeof u),
                           .ca_file = simproc_ca(sim),
                           .duration_ms = 20000,
                           .max_texts = DET_FRAMES};
    tc_session_run(&o, &ev);
    out->count = 0;
    for (size_t i = 0; i < ev.n && out->count < DET_FRAMES; i++) {
        if (ev.v[i].kind != TC_EV_TEXT)
            continue;
        out->frames[out->count] = ev.v[i].data;
        out->lens[out->count++] = ev.v[i].len;
        ev.v[i].data = NULL;
    }
    tc_evlist_free(&ev);
    int rc = simproc_stop(&sim);
    return rc == 0 ? 0 : -1;
}

static int det_setup(void **state)
{
    det_run_t *first = calloc(1, sizeof *first);
    if (first == NULL || det_capture("7", first) != 0 || first->count != DET_FRAMES) {
        fprintf(stderr, "determinism: the reference run gave %zu frames\n",
                first ? first->count : 0);
        if (first != NULL)
            det_free(first);
        free(first);
        return -1;
    }
    *state = first;
    return 0;
}

static int det_teardown(void **state)
{
    det_free(*state);
    free(*state);
    return 0;
}

/* Index of the first differing frame, or -1 when both runs are byte-identical. */
static long first_difference(const det_run_t *a, const det_run_t *b)
{
    if (a->count != b->count)
        return (long)(a->count < b->count ? a->count : b->count);
    for (size_t i = 0; i < a->count; i++)
        if (a->lens[i] != b->lens[i] || memcmp(a->frames[i], b->frames[i], a->lens[i]) != 0)
            return (long)i;
    return -1;
}

static void same_seed_epoch_and_load_give_byte_identical_frames(void **state)
{
    const det_run_t *first = *state;
    det_run_t again = {0};
    assert_int_equal(det_capture("7", &again), 0);
    long at = first_difference(first, &again);
    if (at >= 0) {
        fprintf(stderr, "run 1 frame %ld: %.300s\nrun 2 frame %ld: %.300s\n", at,
                (size_t)at < first->count ? first->frames[at] : "(none)", at,
                (size_t)at < again.count ? again.frames[at] : "(none)");
        det_free(&again);
        fail_msg("runs with one seed differ at frame %ld of %d", at, DET_FRAMES);
    }
    det_free(&again);
}

static void different_seed_gives_different_frames(void **state)
{
    const det_run_t *first = *state;
    det_run_t other = {0};
    assert_int_equal(det_capture("8", &other), 0);
    assert_int_equal(other.count, DET_FRAMES);
    long at = first_difference(first, &other);
    det_free(&other);
    if (at < 0)
        fail_msg("seeds 7 and 8 gave the same %d frames", DET_FRAMES);
}

/* ---- main ---------------------------------------------------------------------------------------
 */

#define T(f) cmocka_unit_test_teardown(f, free_events)

int main(void)
{
    const struct CMUnitTest main_tests[] = {
        T(spot_depth_diff_has_binance_fields_types_and_grid),
        T(spot_depth_diff_update_ids_are_contiguous),
        T(spot_partial_depth_is_last_update_id_bids_asks),
        T(spot_trade_has_binance_fields_types_and_grid),
        T(spot_agg_trade_has_binance_fields_types_and_grid),
        T(spot_book_ticker_has_binance_fields_types_and_grid),
        T(spot_kline_has_binance_fields_types_and_grid),
        T(usdm_depth_diff_has_binance_fields_types_and_grid),
        T(usdm_depth_diff_chains_on_pu),
        T(usdm_partial_depth_has_the_diff_shape),
        T(usdm_trade_is_served_on_public_with_its_fields),
        T(usdm_agg_trade_has_binance_fields_types_and_grid),
        T(usdm_book_ticker_has_binance_fields_types_and_grid),
        T(usdm_kline_has_binance_fields_types_and_grid),
        T(usdm_mark_price_has_binance_fields_and_types),
        T(coinm_depth_diff_has_binance_fields_types_and_grid),
        T(coinm_depth_diff_chains_on_pu),
        T(coinm_partial_depth_has_the_diff_shape),
        T(coinm_agg_trade_has_binance_fields_types_and_grid),
        T(coinm_book_ticker_has_binance_fields_types_and_grid),
        T(coinm_kline_has_binance_fields_types_and_grid),
        T(coinm_mark_price_has_binance_fields_and_types),
        T(coinm_trade_has_binance_fields_and_types),
        T(combined_frames_are_stream_then_data),
        T(raw_frames_are_the_bare_payload),
        T(set_property_combined_wraps_the_frames_of_a_raw_connection),
        T(get_property_combined_is_true_on_stream),
        T(subscribe_answers_result_null_and_delivers),
        T(unsubscribe_answers_result_null_and_stops_the_stream),
        T(list_subscriptions_returns_the_streams_in_subscription_order),
        T(request_id_is_echoed_in_its_json_type),
        T(unknown_method_is_error_code_2),
        T(invalid_json_is_error_code_3),
        T(unknown_property_is_error_code_0),
        T(non_boolean_property_value_is_error_code_1),
        T(missing_id_is_error_code_2),
        T(invalid_stream_name_is_refused_and_the_connection_closed),
        T(well_formed_unknown_streams_are_acknowledged_and_silent),
        T(spot_sixth_message_in_a_second_closes_1008_too_many_requests),
        T(spot_five_messages_in_a_second_are_served),
        T(usdm_eleventh_message_in_a_second_closes_1008_too_many_requests),
        T(coinm_eleventh_message_in_a_second_closes_1008_too_many_requests),
        T(futures_ten_messages_in_a_second_are_served),
        T(subscribe_beyond_1024_streams_is_refused_and_the_connection_stays),
        T(spot_depth_weight_follows_binance_limit_bands),
        T(spot_depth_above_5000_is_served_as_5000_and_weighs_250),
        T(spot_depth_returns_limit_levels_best_first_on_the_grid),
        T(futures_depth_weight_follows_binance_limits),
        T(futures_depth_limit_7_is_refused_with_400),
        T(exchange_info_weighs_20_on_spot_and_1_on_futures),
        T(usdm_and_coinm_share_one_weight_budget),
        T(depth_snapshot_fields_follow_each_market),
        T(usdm_public_delivers_depth_and_book_ticker),
        T(usdm_market_delivers_agg_trade_kline_and_mark_price),
        T(usdm_public_acknowledges_agg_trade_and_never_delivers_it),
        T(usdm_unrouted_ws_acknowledges_market_streams_and_never_delivers_them),
        T(usdm_unrouted_raw_ws_acknowledges_mark_price_and_never_delivers_it),
        T(usdm_market_acknowledges_depth_and_never_delivers_it),
    };
    const struct CMUnitTest limits_tests[] = {
        T(fourth_connection_attempt_in_five_minutes_gets_429_with_retry_after),
        T(spot_requests_past_the_minute_budget_get_429_then_418),
        T(coinm_is_refused_once_usdm_spent_the_shared_budget),
    };
    const struct CMUnitTest ping_tests[] = {
        T(futures_client_answering_pings_stays_connected_for_3s),
        T(ignore_pongs_gets_the_connection_closed_at_the_pong_deadline),
    };
    const struct CMUnitTest age_tests[] = {
        T(connections_are_cut_at_max_age_and_spot_announces_server_shutdown),
    };
    const struct CMUnitTest determinism_tests[] = {
        cmocka_unit_test(same_seed_epoch_and_load_give_byte_identical_frames),
        cmocka_unit_test(different_seed_gives_different_frames),
    };
    /* CMOCKA_TEST_FILTER=pattern runs only the matching tests (the sims still start). */
    if (getenv("CMOCKA_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("CMOCKA_TEST_FILTER"));
    int failed = 0;
    failed += cmocka_run_group_tests_name("protocol", main_tests, main_setup, stop_group);
    failed += cmocka_run_group_tests_name("limits", limits_tests, limits_setup, stop_group);
    failed += cmocka_run_group_tests_name("ping", ping_tests, ping_setup, stop_group);
    failed += cmocka_run_group_tests_name("age", age_tests, age_setup, stop_group);
    failed +=
        cmocka_run_group_tests_name("determinism", determinism_tests, det_setup, det_teardown);
    return failed ? 1 : 0;
}
