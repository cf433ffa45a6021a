/*
 * test_collector_rest.c — the collector's REST module (collector/rest.c) against the real
 * bookcast-sim over TLS on loopback: depth snapshots and exchangeInfo arrive whole, the weight
 * budget paces requests so that none earns a 429, the sim's snapshot faults (429, 418, 503,
 * slow) are reported with their status and honoured, and every way a request can fail without an
 * answer (refused connection, TLS, timeout, oversized body, invalid limit, shutdown) is reported
 * once with status 0 and a reason.
 *
 * Answers the sim never gives (a connection closed mid-body or before answering, a chunked
 * body, a body ended by the close, a streamed body over the bound, a 429 without Retry-After)
 * come from a bare one-shot HTTP server on a thread.
 *
 * Each test starts its own sim (fresh weight counts; the sim counts weight per address and per
 * calendar minute, as Binance does), runs the collector's own net loop until the expected
 * results came or a guard timer fires, and stops the sim by pid in the teardown, which runs
 * even when the test fails. Tests that count weight keep clear of the end of a minute
 * (simtest_avoid_minute_boundary), so a window never rolls in the middle of one.
 *
 * Two ctest entries run this program: integration.collector_rest (every test but one, ~20 s,
 * up to ~30 s when it has to wait out the end of a minute)
 * and integration.collector_rest_minute (`--minute`: a storm of 50 requests paced across a real
 * minute boundary, up to ~75 s, since the sim's windows are the wall clock's minutes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "exinfo.h"
#include "net.h"
#include "rest.h"
#include "simproc.h"
#include "simtest.h"
#include "weight.h"

#include "now.h"

#include <cjson/cJSON.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#define RESULTS_MAX 64
#define RUN_TIMEOUT_MS 15000 /* a guard: no test waits this long for something that works */

typedef struct {
    char symbol[40];
    uint64_t request_id;
    int status;
    char *body;
    size_t body_len;
    int64_t used_weight;
    int64_t recv_ts_ns;
    int64_t at_mono_ms; /* when the callback ran */
} got_t;

typedef struct {
    simproc_t *sim;
    net_t *net;
    rest_t *rest[2];
    got_t got[RESULTS_MAX];
    size_t n;
    size_t want; /* the loop stops once n reaches it */
    net_timer_t guard;
    bool guard_fired;
    /* exchangeInfo */
    bool info_done;
    int info_status;
    char *info_body;
    size_t info_len;
    char ca_dir[64]; /* a second, unrelated CA (the TLS test) */
} harness_t;

/* ---- the harness ------------------------------------------------------------------------- */

static void on_done(void *arg, const rest_result_t *r)
{
    harness_t *h = arg;
    assert_true(h->n < RESULTS_MAX);
    got_t *g = &h->got[h->n++];
    snprintf(g->symbol, sizeof g->symbol, "%s", r->symbol);
    g->request_id = r->request_id;
    g->status = r->http_status;
    g->body = malloc(r->body_len + 1);
    assert_non_null(g->body);
    memcpy(g->body, r->body, r->body_len);
    g->body[r->body_len] = '\0';
    assert_int_equal(r->body[r->body_len], '\0'); /* the body is NUL-terminated */
    g->body_len = r->body_len;
    g->used_weight = r->used_weight;
    g->recv_ts_ns = r->recv_ts_ns;
    g->at_mono_ms = now_monotonic_ms();
    if (h->net && h->n >= h->want)
        net_stop(h->net);
}

static void on_info(void *arg, int status, const char *body, size_t len)
{
    harness_t *h = arg;
    h->info_done = true;
    h->info_status = status;
    h->info_body = malloc(len + 1);
    assert_non_null(h->info_body);
    memcpy(h->info_body, body, len);
    h->info_body[len] = '\0';
    h->info_len = len;
    net_stop(h->net);
}

static void on_guard(net_timer_t *timer)
{
    harness_t *h = lws_container_of(timer, harness_t, guard);
    h->guard_fired = true;
    net_stop(h->net);
}

/* Runs the loop until `want` results in all, or timeout_ms. True when they came. */
static bool run_until(harness_t *h, size_t want, int64_t timeout_ms)
{
    h->want = want;
    if (h->n >= want)
        return true;
    h->guard_fired = false;
    net_timer_schedule(h->net, &h->guard, on_guard, timeout_ms);
    assert_int_equal(net_run(h->net), 0);
    net_timer_cancel(&h->guard);
    return h->n >= want;
}

/* Runs the loop for ms, whatever happens. */
static void run_for(harness_t *h, int64_t ms)
{
    run_until(h, SIZE_MAX, ms);
}

static bool run_until_info(harness_t *h, int64_t timeout_ms)
{
    h->want = SIZE_MAX;
    h->guard_fired = false;
    net_timer_schedule(h->net, &h->guard, on_guard, timeout_ms);
    while (!h->info_done && !h->guard_fired)
        assert_int_equal(net_run(h->net), 0);
    net_timer_cancel(&h->guard);
    return h->info_done;
}

static int setup(void **state)
{
    harness_t *h = calloc(1, sizeof *h);
    if (!h)
        return -1;
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    harness_t *h = *state;
    for (int i = 0; i < 2; i++)
        rest_destroy(&h->rest[i]); /* before the net: it may still report */
    net_destroy(&h->net);
    if (h->sim && simproc_stop(&h->sim) != 0)
        fprintf(stderr, "bookcast-sim did not exit cleanly\n");
    for (size_t i = 0; i < h->n; i++)
        free(h->got[i].body);
    free(h->info_body);
    if (h->ca_dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", h->ca_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", h->ca_dir);
    }
    free(h);
    return 0;
}

/* Starts a sim with `extra` arguments (NULL-terminated, may be NULL). */
static void start_sim_only(harness_t *h, const char *const *extra)
{
    h->sim = simproc_start(extra);
    assert_non_null(h->sim);
}

/* The collector's net, trusting the sim. Created after the test's own GETs to the sim (faults,
   weight spent by "another program"): those run in a libwebsockets context of their own, and
   libwebsockets 4.1 keeps its OpenSSL ex_data indexes in globals that each new context
   replaces, so a context created while ours lives makes ours leak its SSL_CTX at destroy. */
static void open_net(harness_t *h)
{
    h->net = net_new(simproc_ca(h->sim));
    assert_non_null(h->net);
}

/* A sim and the net, for tests that need nothing else first. */
static void start_sim(harness_t *h, const char *const *extra)
{
    start_sim_only(h, extra);
    open_net(h);
}

static const char *rest_url(harness_t *h, market_t market, char *buf, size_t len)
{
    return simproc_url(h->sim, market, true, "", buf, len);
}

/* rest[i] for `market` on the sim with a budget of `limit` per minute at share_pct. */
static rest_t *add_rest(harness_t *h, int i, market_t market, unsigned limit, unsigned share_pct)
{
    char url[128];
    weight_policy_t policy = {.limit_per_min = limit, .share_pct = share_pct};
    h->rest[i] =
        rest_new(h->net, market, rest_url(h, market, url, sizeof url), &policy, on_done, h);
    assert_non_null(h->rest[i]);
    return h->rest[i];
}

static void request(rest_t *rest, const char *symbol, unsigned limit, uint64_t id)
{
    assert_int_equal(rest_request_depth(rest, symbol, limit, id), 0);
}

static void fault(harness_t *h, market_t market, const char *query)
{
    assert_int_equal(simtest_fault(h->sim, market, query), 200);
}

static int64_t minute_start_ms(int64_t wall_ms)
{
    return wall_ms - wall_ms % 60000;
}

/* The number of levels on one side of a depth body, -1 if it does not parse. */
static int depth_levels(const char *body, const char *side, uint64_t *last_update_id)
{
    cJSON *root = cJSON_Parse(body);
    const cJSON *levels = cJSON_GetObjectItemCaseSensitive(root, side);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "lastUpdateId");
    int n = cJSON_IsArray(levels) && cJSON_IsNumber(id) ? cJSON_GetArraySize(levels) : -1;
    if (last_update_id && cJSON_IsNumber(id))
        *last_update_id = (uint64_t)id->valuedouble;
    cJSON_Delete(root);
    return n;
}

/* ---- pure parts: no sim -------------------------------------------------------------------- */

static void depth_weights_follow_binance(void **state)
{
    (void)state;
    assert_int_equal(rest_depth_weight(MARKET_SPOT, 1), 5);
    assert_int_equal(rest_depth_weight(MARKET_SPOT, 100), 5);
    assert_int_equal(rest_depth_weight(MARKET_SPOT, 101), 25);
    assert_int_equal(rest_depth_weight(MARKET_SPOT, 500), 25);
    assert_int_equal(rest_depth_weight(MARKET_SPOT, 501), 50);
    assert_int_equal(rest_depth_weight(MARKET_SPOT, 1000), 50);
    assert_int_equal(rest_depth_weight(MARKET_SPOT, 1001), 250);
    assert_int_equal(rest_depth_weight(MARKET_SPOT, 5000), 250);
    assert_int_equal(rest_depth_weight(MARKET_SPOT, 0), 0);
    assert_int_equal(rest_depth_weight(MARKET_SPOT, 5001), 0);
    static const unsigned limits[] = {5, 10, 20, 50, 100, 500, 1000};
    static const unsigned weights[] = {2, 2, 2, 2, 5, 10, 20};
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(rest_depth_weight(MARKET_USDM, limits[i]), weights[i]);
        assert_int_equal(rest_depth_weight(MARKET_COINM, limits[i]), weights[i]);
    }
    assert_int_equal(rest_depth_weight(MARKET_USDM, 200), 0);
    assert_int_equal(rest_depth_weight(MARKET_COINM, 5000), 0);
    assert_int_equal(rest_exchange_info_weight(MARKET_SPOT), 20);
    assert_int_equal(rest_exchange_info_weight(MARKET_USDM), 1);
    assert_int_equal(rest_exchange_info_weight(MARKET_COINM), 1);
    assert_int_equal(REST_TIMEOUT_MS_DEFAULT, 10000);
}

static void bad_urls_and_policies_are_refused_by_rest_new(void **state)
{
    harness_t *h = *state;
    h->net = net_new(NULL);
    assert_non_null(h->net);
    weight_policy_t ok = {.limit_per_min = 6000, .share_pct = 80};
    weight_policy_t no_share = {.limit_per_min = 6000, .share_pct = 0};
    assert_null(rest_new(h->net, MARKET_SPOT, "wss://api.binance.com", &ok, on_done, h));
    assert_null(rest_new(h->net, MARKET_SPOT, "api.binance.com", &ok, on_done, h));
    assert_null(rest_new(h->net, MARKET_SPOT, "https://:443", &ok, on_done, h));
    assert_null(rest_new(h->net, MARKET_SPOT, "https://api.binance.com", &no_share, on_done, h));
    assert_null(rest_new(h->net, (market_t)9, "https://api.binance.com", &ok, on_done, h));
    assert_null(rest_new(h->net, MARKET_SPOT, "https://api.binance.com", &ok, NULL, h));
    h->rest[0] = rest_new(h->net, MARKET_SPOT, "https://api.binance.com/prefix", &ok, on_done, h);
    assert_non_null(h->rest[0]);
}

static void invalid_limit_is_refused_at_once(void **state)
{
    harness_t *h = *state;
    h->net = net_new(NULL);
    weight_policy_t policy = {.limit_per_min = 2400, .share_pct = 40};
    h->rest[0] = rest_new(h->net, MARKET_SPOT, "https://127.0.0.1:9", &policy, on_done, h);
    h->rest[1] = rest_new(h->net, MARKET_USDM, "https://127.0.0.1:9", &policy, on_done, h);
    assert_int_equal(rest_request_depth(h->rest[0], "BTCUSDT", 0, 1), 0);
    assert_int_equal(h->n, 1); /* reported before the call returned */
    assert_int_equal(rest_request_depth(h->rest[0], "BTCUSDT", 5001, 2), 0);
    assert_int_equal(rest_request_depth(h->rest[1], "BTCUSDT", 200, 3), 0);
    assert_int_equal(h->n, 3);
    assert_int_equal(h->got[0].status, 0);
    assert_int_equal(h->got[0].request_id, 1);
    assert_string_equal(h->got[0].symbol, "BTCUSDT");
    assert_string_equal(h->got[0].body, "limit 0 is not a spot depth limit (1..5000)");
    assert_string_equal(h->got[1].body, "limit 5001 is not a spot depth limit (1..5000)");
    assert_string_equal(h->got[2].body,
                        "limit 200 is not a usdm depth limit (5, 10, 20, 50, 100, 500, 1000)");
    assert_int_equal(h->got[2].used_weight, -1);
    rest_stats_t st;
    rest_stats(h->rest[0], &st);
    assert_int_equal(st.refused, 2);
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.sent, 0);
}

static void symbol_a_frame_cannot_carry_is_not_accepted(void **state)
{
    harness_t *h = *state;
    h->net = net_new(NULL);
    weight_policy_t policy = {.limit_per_min = 6000, .share_pct = 80};
    h->rest[0] = rest_new(h->net, MARKET_SPOT, "https://127.0.0.1:9", &policy, on_done, h);
    assert_int_equal(rest_request_depth(h->rest[0], "btcusdt", 100, 1), -1);
    assert_int_equal(rest_request_depth(h->rest[0], "", 100, 2), -1);
    assert_int_equal(rest_request_depth(h->rest[0], "BTC&limit=5000", 100, 3), -1);
    assert_int_equal(rest_request_depth(h->rest[0], NULL, 100, 4), -1);
    assert_int_equal(h->n, 0); /* not accepted: nothing is reported */
}

static void weight_above_the_whole_budget_is_refused_unsent(void **state)
{
    harness_t *h = *state;
    h->net = net_new(NULL);
    weight_policy_t policy = {.limit_per_min = 200, .share_pct = 100};
    h->rest[0] = rest_new(h->net, MARKET_SPOT, "https://127.0.0.1:9", &policy, on_done, h);
    request(h->rest[0], "BTCUSDT", 5000, 1); /* weight 250 */
    assert_true(run_until(h, 1, 2000));
    assert_int_equal(h->got[0].status, 0);
    assert_string_equal(h->got[0].body,
                        "weight 250 is above the whole budget of 200 per minute (100% of 200)");
    rest_stats_t st;
    rest_stats(h->rest[0], &st);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.sent, 0);
}

static void destroy_reports_queued_requests_as_collector_stopping(void **state)
{
    harness_t *h = *state;
    h->net = net_new(NULL);
    weight_policy_t policy = {.limit_per_min = 6000, .share_pct = 80};
    h->rest[0] = rest_new(h->net, MARKET_SPOT, "https://127.0.0.1:9", &policy, on_done, h);
    request(h->rest[0], "BTCUSDT", 100, 1);
    request(h->rest[0], "ETHUSDT", 100, 2);
    request(h->rest[0], "BNBUSDT", 100, 3);
    rest_destroy(&h->rest[0]);
    assert_null(h->rest[0]);
    assert_int_equal(h->n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(h->got[i].request_id, i + 1);
        assert_int_equal(h->got[i].status, 0);
        assert_string_equal(h->got[i].body, "collector stopping");
    }
}

/* ---- against the sim ----------------------------------------------------------------------- */

static void depth_snapshot_arrives_whole_with_status_200(void **state)
{
    harness_t *h = *state;
    start_sim(h, NULL);
    rest_t *rest = add_rest(h, 0, MARKET_SPOT, 6000, 80);
    int64_t before_ns = now_realtime_ns();
    request(rest, "BTCUSDT", 100, 7);
    assert_true(run_until(h, 1, RUN_TIMEOUT_MS));
    got_t *g = &h->got[0];
    assert_int_equal(g->status, 200);
    assert_string_equal(g->symbol, "BTCUSDT");
    assert_int_equal(g->request_id, 7);
    assert_int_equal(strlen(g->body), g->body_len);
    uint64_t id = 0;
    assert_int_equal(depth_levels(g->body, "bids", &id), 100);
    assert_int_equal(depth_levels(g->body, "asks", NULL), 100);
    assert_true(id > 0);
    assert_true(g->recv_ts_ns >= before_ns && g->recv_ts_ns <= now_realtime_ns());
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.answered_2xx, 1);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(st.queued, 0);
}

static void futures_snapshots_come_from_fapi_and_dapi(void **state)
{
    harness_t *h = *state;
    start_sim(h, NULL);
    add_rest(h, 0, MARKET_USDM, 2400, 40);
    add_rest(h, 1, MARKET_COINM, 2400, 40);
    request(h->rest[0], "ETHUSDT", 1000, 1);
    request(h->rest[1], "BTCUSD_PERP", 50, 2);
    assert_true(run_until(h, 2, RUN_TIMEOUT_MS));
    for (size_t i = 0; i < 2; i++) {
        got_t *g = &h->got[i];
        assert_int_equal(g->status, 200);
        if (g->request_id == 1) {
            assert_string_equal(g->symbol, "ETHUSDT");
            assert_true(depth_levels(g->body, "bids", NULL) > 50);
        } else {
            assert_string_equal(g->symbol, "BTCUSD_PERP");
            assert_int_equal(depth_levels(g->body, "bids", NULL), 50);
            assert_non_null(strstr(g->body, "\"pair\":\"BTCUSD\"")); /* the COIN-M shape */
        }
    }
}

static void weights_are_charged_as_the_header_says(void **state)
{
    harness_t *h = *state;
    start_sim(h, NULL);
    simtest_avoid_minute_boundary(10);
    rest_t *rest = add_rest(h, 0, MARKET_SPOT, 6000, 80);
    request(rest, "BTCUSDT", 100, 1);  /* 5 */
    request(rest, "BTCUSDT", 500, 2);  /* 25 */
    request(rest, "BTCUSDT", 1000, 3); /* 50 */
    request(rest, "BTCUSDT", 5000, 4); /* 250 */
    assert_true(run_until(h, 4, RUN_TIMEOUT_MS));
    static const int64_t used[] = {5, 30, 80, 330};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(h->got[i].status, 200);
        assert_int_equal(h->got[i].request_id, i + 1);
        assert_int_equal(h->got[i].used_weight, used[i]);
    }
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_int_equal(st.weight_used, 330);
    assert_int_equal(st.weight_budget, 4800);
}

static void usdm_and_coinm_share_one_weight_budget(void **state)
{
    harness_t *h = *state;
    start_sim(h, NULL);
    simtest_avoid_minute_boundary(10);
    add_rest(h, 0, MARKET_USDM, 2400, 40);
    add_rest(h, 1, MARKET_COINM, 2400, 40);
    request(h->rest[0], "BTCUSDT", 5, 1);    /* 2 */
    request(h->rest[0], "BTCUSDT", 100, 2);  /* 5 */
    request(h->rest[0], "BTCUSDT", 500, 3);  /* 10 */
    request(h->rest[0], "BTCUSDT", 1000, 4); /* 20 */
    assert_true(run_until(h, 4, RUN_TIMEOUT_MS));
    static const int64_t used[] = {2, 7, 17, 37};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(h->got[i].used_weight, used[i]);
    request(h->rest[1], "BTCUSD_PERP", 500, 5); /* 10 more on the shared budget */
    assert_true(run_until(h, 5, RUN_TIMEOUT_MS));
    assert_int_equal(h->got[4].status, 200);
    assert_int_equal(h->got[4].used_weight, 47);
    rest_stats_t st;
    rest_stats(h->rest[1], &st);
    assert_int_equal(st.weight_used, 47); /* COIN-M's budget learnt USD-M's spending */
}

static void storm_within_the_budget_is_served_in_order_without_429(void **state)
{
    harness_t *h = *state;
    const char *args[] = {"--weight-limit-spot", "300", NULL};
    start_sim(h, args);
    simtest_avoid_minute_boundary(10);
    rest_t *rest = add_rest(h, 0, MARKET_SPOT, 300, 100);
    static const char *const symbols[] = {"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT"};
    for (uint64_t i = 1; i <= 50; i++)
        request(rest, symbols[i % 5], 100, i);
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_int_equal(st.queued, 50);
    int64_t start_ms = now_monotonic_ms();
    assert_true(run_until(h, 50, 30000));
    fprintf(stderr, "50 snapshots in %" PRId64 " ms\n", now_monotonic_ms() - start_ms);
    for (size_t i = 0; i < 50; i++) {
        assert_int_equal(h->got[i].request_id, i + 1); /* in order */
        assert_string_equal(h->got[i].symbol, symbols[(i + 1) % 5]);
        assert_int_equal(h->got[i].status, 200);
        assert_int_equal(h->got[i].used_weight, (int64_t)(i + 1) * 5);
    }
    rest_stats(rest, &st);
    assert_int_equal(st.sent, 50);
    assert_int_equal(st.rate_limited, 0);
    assert_int_equal(st.throttled_waits, 0);
}

static void request_beyond_the_budget_waits_for_the_next_minute(void **state)
{
    harness_t *h = *state;
    const char *args[] = {"--weight-limit-spot", "30", NULL};
    start_sim(h, args);
    simtest_avoid_minute_boundary(10);
    rest_t *rest = add_rest(h, 0, MARKET_SPOT, 30, 100);
    for (uint64_t i = 1; i <= 7; i++)
        request(rest, "BTCUSDT", 100, i); /* 7 x 5 against a budget of 30 */
    assert_true(run_until(h, 6, RUN_TIMEOUT_MS));
    run_for(h, 300); /* the 7th gets its turn, and is held back */
    int64_t now_ms = now_realtime_ns() / 1000000;
    assert_int_equal(h->n, 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(h->got[i].status, 200);
    assert_int_equal(h->got[5].used_weight, 30);
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_int_equal(st.queued, 1);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(st.sent, 6);
    assert_int_equal(st.throttled_waits, 1);
    assert_int_equal(st.weight_used, 30);
    assert_int_equal(st.next_attempt_ms,
                     minute_start_ms(now_ms) + WEIGHT_WINDOW_MS + WEIGHT_WINDOW_MARGIN_MS);
    assert_int_equal(st.rate_limited, 0);
    /* Shutting down while it waits reports it. */
    rest_destroy(&h->rest[0]);
    assert_int_equal(h->n, 7);
    assert_int_equal(h->got[6].request_id, 7);
    assert_string_equal(h->got[6].body, "collector stopping");
}

static void exchange_weight_reported_by_the_header_holds_requests_back(void **state)
{
    harness_t *h = *state;
    const char *args[] = {"--weight-limit-spot", "30", NULL};
    start_sim_only(h, args);
    simtest_avoid_minute_boundary(10);
    /* Another program on this address spends 20 of the 30. */
    for (int i = 0; i < 4; i++) {
        tc_get_result_t r;
        assert_int_equal(
            simtest_get(h->sim, MARKET_SPOT, "/api/v3/depth?symbol=BTCUSDT&limit=5", &r), 200);
        tc_get_result_free(&r);
    }
    open_net(h);
    rest_t *rest = add_rest(h, 0, MARKET_SPOT, 30, 100);
    for (uint64_t i = 1; i <= 3; i++)
        request(rest, "BTCUSDT", 100, i);
    assert_true(run_until(h, 2, RUN_TIMEOUT_MS));
    run_for(h, 300);
    assert_int_equal(h->n, 2); /* by its own count 3 would fit; the exchange's says 2 */
    assert_int_equal(h->got[0].used_weight, 25);
    assert_int_equal(h->got[1].used_weight, 30);
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_int_equal(st.queued, 1);
    assert_int_equal(st.throttled_waits, 1);
    assert_int_equal(st.rate_limited, 0);
}

static void rate_limited_429_is_reported_and_blocks_the_queue_for_retry_after(void **state)
{
    harness_t *h = *state;
    start_sim_only(h, NULL);
    fault(h, MARKET_SPOT, "name=snapshot_429");
    open_net(h);
    rest_t *rest = add_rest(h, 0, MARKET_SPOT, 6000, 80);
    request(rest, "BTCUSDT", 100, 1);
    request(rest, "ETHUSDT", 100, 2);
    assert_true(run_until(h, 1, RUN_TIMEOUT_MS));
    assert_int_equal(h->got[0].status, 429);
    assert_int_equal(h->got[0].request_id, 1);
    assert_non_null(strstr(h->got[0].body, "-1003"));
    assert_true(h->got[0].used_weight >= 5);
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_int_equal(st.rate_limited, 1);
    assert_int_equal(st.answered_4xx, 1);
    assert_false(st.banned);
    int64_t now_ms = now_realtime_ns() / 1000000;
    assert_in_range(st.blocked_until_ms, now_ms + 4000, now_ms + 5000); /* Retry-After: 5 */
    assert_true(run_until(h, 2, RUN_TIMEOUT_MS));
    assert_int_equal(h->got[1].status, 200);
    assert_int_equal(h->got[1].request_id, 2);
    assert_true(h->got[1].at_mono_ms - h->got[0].at_mono_ms >= 4900);
    rest_stats(rest, &st);
    assert_int_equal(st.blocked_waits, 1);
    assert_int_equal(st.blocked_until_ms, 0);
}

static void ban_418_stops_every_request_until_it_ends(void **state)
{
    harness_t *h = *state;
    start_sim_only(h, NULL);
    fault(h, MARKET_USDM, "name=snapshot_418");
    open_net(h);
    rest_t *rest = add_rest(h, 0, MARKET_USDM, 2400, 40);
    request(rest, "BTCUSDT", 1000, 1);
    assert_int_equal(rest_request_exchange_info(rest, on_info, h), 0);
    assert_true(run_until(h, 1, RUN_TIMEOUT_MS));
    int64_t banned_at_ms = h->got[0].at_mono_ms;
    assert_int_equal(h->got[0].status, 418);
    assert_non_null(strstr(h->got[0].body, "banned"));
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_true(st.banned);
    assert_int_equal(st.bans, 1);
    assert_true(st.blocked_until_ms > 0);
    /* exchangeInfo is held back too, then goes. */
    assert_true(run_until_info(h, RUN_TIMEOUT_MS));
    assert_int_equal(h->info_status, 200);
    assert_true(now_monotonic_ms() - banned_at_ms >= 4900);
    rest_stats(rest, &st);
    assert_false(st.banned);
    assert_int_equal(st.blocked_waits, 1);
}

static void server_error_503_is_reported_with_its_body(void **state)
{
    harness_t *h = *state;
    start_sim_only(h, NULL);
    fault(h, MARKET_COINM, "name=snapshot_5xx");
    open_net(h);
    rest_t *rest = add_rest(h, 0, MARKET_COINM, 2400, 40);
    request(rest, "BTCUSD_PERP", 100, 1);
    request(rest, "BTCUSD_PERP", 100, 2);
    assert_true(run_until(h, 2, RUN_TIMEOUT_MS));
    assert_int_equal(h->got[0].status, 503);
    assert_non_null(strstr(h->got[0].body, "503 Service Unavailable"));
    assert_int_equal(h->got[1].status, 200); /* no block after a 5xx */
    assert_true(h->got[1].at_mono_ms - h->got[0].at_mono_ms < 2000);
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_int_equal(st.answered_5xx, 1);
    assert_int_equal(st.answered_2xx, 1);
}

static void slow_snapshot_beyond_the_timeout_fails_with_status_0(void **state)
{
    harness_t *h = *state;
    start_sim_only(h, NULL);
    fault(h, MARKET_SPOT, "name=snapshot_slow&ms=3000");
    open_net(h);
    rest_t *rest = add_rest(h, 0, MARKET_SPOT, 6000, 80);
    rest_set_timeout_ms(rest, 1000);
    int64_t start_ms = now_monotonic_ms();
    request(rest, "BTCUSDT", 100, 1);
    request(rest, "ETHUSDT", 100, 2);
    assert_true(run_until(h, 2, RUN_TIMEOUT_MS));
    assert_int_equal(h->got[0].status, 0);
    assert_string_equal(h->got[0].body, "timeout after 1000 ms");
    assert_in_range(h->got[0].at_mono_ms - start_ms, 950, 2500);
    assert_int_equal(h->got[1].status, 200); /* the queue went on at once */
    assert_true(h->got[1].at_mono_ms - h->got[0].at_mono_ms < 1500);
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_int_equal(st.timeouts, 1);
    assert_int_equal(st.answered_2xx, 1);
}

static void unknown_symbol_is_answered_400_by_the_exchange(void **state)
{
    harness_t *h = *state;
    start_sim(h, NULL);
    rest_t *rest = add_rest(h, 0, MARKET_SPOT, 6000, 80);
    request(rest, "NOPEUSDT", 100, 9);
    assert_true(run_until(h, 1, RUN_TIMEOUT_MS));
    assert_int_equal(h->got[0].status, 400);
    assert_string_equal(h->got[0].symbol, "NOPEUSDT");
    assert_non_null(strstr(h->got[0].body, "-1121"));
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_int_equal(st.answered_4xx, 1);
}

static void body_over_the_bound_is_cut_off(void **state)
{
    harness_t *h = *state;
    start_sim(h, NULL);
    rest_t *rest = add_rest(h, 0, MARKET_SPOT, 6000, 80);
    rest_set_body_max_bytes(rest, 1024);
    request(rest, "BTCUSDT", 100, 1);
    request(rest, "BTCUSDT", 1, 2); /* small enough */
    assert_true(run_until(h, 2, RUN_TIMEOUT_MS));
    assert_int_equal(h->got[0].status, 0);
    assert_string_equal(h->got[0].body, "body over 1 KiB");
    assert_int_equal(h->got[1].status, 200);
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_int_equal(st.failed, 1);
}

static void exchange_info_is_parsed_for_all_three_markets(void **state)
{
    harness_t *h = *state;
    start_sim(h, NULL);
    static const market_t markets[] = {MARKET_SPOT, MARKET_USDM, MARKET_COINM};
    static const char *const first[] = {"BTCUSDT", "BTCUSDT", "BTCUSD_PERP"};
    static const unsigned limits[] = {6000, 2400, 2400};
    for (size_t m = 0; m < 3; m++) {
        char url[128];
        weight_policy_t policy = {.limit_per_min = limits[m], .share_pct = 40};
        rest_t *rest = rest_new(h->net, markets[m], rest_url(h, markets[m], url, sizeof url),
                                &policy, on_done, h);
        assert_non_null(rest);
        h->rest[0] = rest;
        h->info_done = false;
        free(h->info_body);
        h->info_body = NULL;
        assert_int_equal(rest_request_exchange_info(rest, on_info, h), 0);
        assert_true(run_until_info(h, RUN_TIMEOUT_MS));
        assert_int_equal(h->info_status, 200);
        exinfo_t info;
        char error[256] = "";
        assert_int_equal(
            exinfo_parse(markets[m], h->info_body, h->info_len, &info, error, sizeof error), 0);
        assert_int_equal(info.symbol_count, 10); /* the sim's default --symbols */
        assert_string_equal(info.symbols[0], first[m]);
        assert_int_equal(info.weight_limit_per_min, limits[m]);
        assert_true(exinfo_has(&info, first[m]));
        exinfo_free(&info);
        rest_stats_t st;
        rest_stats(rest, &st);
        assert_int_equal(st.answered_2xx, 1);
        rest_destroy(&h->rest[0]);
    }
}

static void connection_refused_is_status_0_with_a_reason(void **state)
{
    harness_t *h = *state;
    h->net = net_new(NULL);
    /* A port nobody listens on: bind one, note it, close it. */
    int port = 0;
    {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        socklen_t len = sizeof a;
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        port = ntohs(a.sin_port);
        close(fd);
    }
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%d", port);
    weight_policy_t policy = {.limit_per_min = 6000, .share_pct = 80};
    h->rest[0] = rest_new(h->net, MARKET_SPOT, url, &policy, on_done, h);
    request(h->rest[0], "BTCUSDT", 100, 1);
    assert_true(run_until(h, 1, RUN_TIMEOUT_MS));
    assert_int_equal(h->got[0].status, 0);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "connect to 127.0.0.1:%d: ", port);
    assert_memory_equal(h->got[0].body, prefix, strlen(prefix));
    assert_true(h->got[0].body_len > strlen(prefix)); /* libwebsockets said why */
    assert_null(strchr(h->got[0].body, '\n'));
    fprintf(stderr, "connection refused reads: %s\n", h->got[0].body);
    rest_stats_t st;
    rest_stats(h->rest[0], &st);
    assert_int_equal(st.failed, 1);
}

static void tls_failure_is_status_0_with_a_reason(void **state)
{
    harness_t *h = *state;
    h->sim = simproc_start(NULL);
    assert_non_null(h->sim);
    /* The collector trusts another CA than the one that signed the sim's certificate. */
    snprintf(h->ca_dir, sizeof h->ca_dir, "/tmp/bookcast-restca.XXXXXX");
    assert_non_null(mkdtemp(h->ca_dir));
    char cmd[256], ca[128];
    snprintf(cmd, sizeof cmd, "'%s/sim/make-certs.sh' '%s' >/dev/null", BOOKCAST_SOURCE_DIR,
             h->ca_dir);
    assert_int_equal(system(cmd), 0);
    snprintf(ca, sizeof ca, "%s/ca.pem", h->ca_dir);
    h->net = net_new(ca);
    assert_non_null(h->net);
    rest_t *rest = add_rest(h, 0, MARKET_SPOT, 6000, 80);
    request(rest, "BTCUSDT", 100, 1);
    request(rest, "ETHUSDT", 100, 2);
    assert_true(run_until(h, 2, RUN_TIMEOUT_MS));
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(h->got[i].status, 0);
        assert_non_null(strstr(h->got[i].body, "connect to 127.0.0.1:"));
        assert_non_null(strstr(h->got[i].body, "(certificate not trusted: "));
        assert_null(strchr(h->got[i].body, '\n'));
    }
    fprintf(stderr, "TLS failure reads: %s\n", h->got[0].body);
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_int_equal(st.failed, 2);
}

/* ---- against a bare HTTP server: answers the sim never gives ------------------------------ */

/* A one-connection plain-HTTP server on a thread: it reads the request, writes `response` and
   closes, so a test can end an answer anywhere. */
typedef struct {
    int listen_fd;
    int port;
    const char *response;
    size_t response_len;
    pthread_t thread;
} bare_server_t;

static void *bare_server_run(void *arg)
{
    bare_server_t *b = arg;
    int fd = accept(b->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    char request[4096];
    size_t got = 0;
    while (got < sizeof request - 1) {
        ssize_t n = read(fd, request + got, sizeof request - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        request[got] = '\0';
        if (strstr(request, "\r\n\r\n"))
            break;
    }
    for (size_t off = 0; off < b->response_len;) {
        ssize_t n = write(fd, b->response + off, b->response_len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    close(fd);
    return NULL;
}

static void bare_server_start(bare_server_t *b, const char *response, size_t len)
{
    b->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(b->listen_fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(b->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(b->listen_fd, (struct sockaddr *)&a, &alen), 0);
    b->port = ntohs(a.sin_port);
    assert_int_equal(listen(b->listen_fd, 4), 0);
    b->response = response;
    b->response_len = len;
    assert_int_equal(pthread_create(&b->thread, NULL, bare_server_run, b), 0);
}

static void bare_server_stop(bare_server_t *b)
{
    pthread_join(b->thread, NULL);
    close(b->listen_fd);
}

/* One depth request against a bare server answering `response`; the result in h->got[0]. */
static void depth_from_bare_server(harness_t *h, const char *response, size_t body_max_bytes)
{
    bare_server_t b;
    bare_server_start(&b, response, strlen(response));
    h->net = net_new(NULL);
    assert_non_null(h->net);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", b.port);
    weight_policy_t policy = {.limit_per_min = 6000, .share_pct = 80};
    h->rest[0] = rest_new(h->net, MARKET_SPOT, url, &policy, on_done, h);
    assert_non_null(h->rest[0]);
    if (body_max_bytes)
        rest_set_body_max_bytes(h->rest[0], body_max_bytes);
    request(h->rest[0], "BTCUSDT", 100, 1);
    bool done = run_until(h, 1, RUN_TIMEOUT_MS);
    bare_server_stop(&b);
    assert_true(done);
    fprintf(stderr, "bare server answer gave %d: %s\n", h->got[0].status, h->got[0].body);
}

static void connection_closed_mid_body_is_status_0(void **state)
{
    harness_t *h = *state;
    depth_from_bare_server(h,
                           "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           "Content-Length: 1000\r\n\r\n{\"lastUpdateId\":1,",
                           0);
    assert_int_equal(h->got[0].status, 0);
    assert_non_null(
        strstr(h->got[0].body, "closed the connection after 18 body bytes of HTTP 200"));
    rest_stats_t st;
    rest_stats(h->rest[0], &st);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.answered_2xx, 0);
}

static void connection_closed_before_answering_is_status_0(void **state)
{
    harness_t *h = *state;
    depth_from_bare_server(h, "", 0);
    assert_int_equal(h->got[0].status, 0);
    assert_non_null(strstr(h->got[0].body, "127.0.0.1:"));
    assert_null(strchr(h->got[0].body, '\n'));
}

static void chunked_body_is_reassembled(void **state)
{
    harness_t *h = *state;
    depth_from_bare_server(h,
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                           "X-MBX-USED-WEIGHT-1M: 42\r\n\r\n"
                           "10\r\n{\"lastUpdateId\":\r\n"
                           "16\r\n7,\"bids\":[],\"asks\":[]}\r\n"
                           "0\r\n\r\n",
                           0);
    assert_int_equal(h->got[0].status, 200);
    assert_string_equal(h->got[0].body, "{\"lastUpdateId\":7,\"bids\":[],\"asks\":[]}");
    assert_int_equal(h->got[0].used_weight, 42);
}

static void body_ended_by_close_without_length_is_whole(void **state)
{
    harness_t *h = *state;
    depth_from_bare_server(h, "HTTP/1.1 200 OK\r\n\r\n{\"lastUpdateId\":9,\"bids\":[],\"asks\":[]}",
                           0);
    assert_int_equal(h->got[0].status, 200);
    assert_string_equal(h->got[0].body, "{\"lastUpdateId\":9,\"bids\":[],\"asks\":[]}");
    assert_int_equal(h->got[0].used_weight, -1); /* no header */
}

static void streamed_body_over_the_bound_is_cut_off(void **state)
{
    harness_t *h = *state;
    /* No Content-Length: the bound is found while reading. */
    static char response[8192];
    int n = snprintf(response, sizeof response, "HTTP/1.1 200 OK\r\n\r\n");
    memset(response + n, 'x', 3000);
    response[n + 3000] = '\0';
    depth_from_bare_server(h, response, 1024);
    assert_int_equal(h->got[0].status, 0);
    assert_string_equal(h->got[0].body, "body over 1 KiB");
}

static void retry_after_missing_on_429_blocks_for_the_default_60_s(void **state)
{
    harness_t *h = *state;
    depth_from_bare_server(h,
                           "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 13\r\n\r\n"
                           "{\"code\":-1003",
                           0);
    assert_int_equal(h->got[0].status, 429);
    rest_stats_t st;
    rest_stats(h->rest[0], &st);
    int64_t now_ms = now_realtime_ns() / 1000000;
    assert_in_range(st.blocked_until_ms, now_ms + 59000, now_ms + 60000);
    assert_int_equal(st.rate_limited, 1);
}

static void destroy_reports_the_request_in_flight_first(void **state)
{
    harness_t *h = *state;
    start_sim_only(h, NULL);
    fault(h, MARKET_SPOT, "name=snapshot_slow&ms=5000");
    open_net(h);
    rest_t *rest = add_rest(h, 0, MARKET_SPOT, 6000, 80);
    request(rest, "BTCUSDT", 100, 1);
    request(rest, "ETHUSDT", 100, 2);
    run_for(h, 500);
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_int_equal(st.in_flight, 1);
    assert_int_equal(st.queued, 1);
    rest_destroy(&h->rest[0]);
    assert_int_equal(h->n, 2);
    assert_int_equal(h->got[0].request_id, 1);
    assert_string_equal(h->got[0].body, "collector stopping");
    assert_int_equal(h->got[1].request_id, 2);
    assert_string_equal(h->got[1].body, "collector stopping");
    run_for(h, 200); /* the abandoned connection closes; nothing more is reported */
    assert_int_equal(h->n, 2);
}

/* ---- across a minute (integration.collector_rest_minute) ----------------------------------- */

static void storm_beyond_the_budget_is_paced_across_the_minute_without_429(void **state)
{
    harness_t *h = *state;
    /* The sim's limit is exactly our budget: one request too many in a minute is a 429. */
    const char *args[] = {"--weight-limit-spot", "150", NULL};
    start_sim(h, args);
    simtest_avoid_minute_boundary(10);
    rest_t *rest = add_rest(h, 0, MARKET_SPOT, 150, 100);
    int64_t first_minute_ms = minute_start_ms(now_realtime_ns() / 1000000);
    for (uint64_t i = 1; i <= 50; i++)
        request(rest, "BTCUSDT", 100, i); /* 250 weight: 30 fit this minute, 20 the next */
    assert_true(run_until(h, 50, 75000));
    for (size_t i = 0; i < 50; i++) {
        assert_int_equal(h->got[i].request_id, i + 1);
        assert_int_equal(h->got[i].status, 200);
    }
    assert_int_equal(h->got[29].used_weight, 150);
    assert_true(h->got[29].recv_ts_ns / 1000000 < first_minute_ms + WEIGHT_WINDOW_MS);
    assert_int_equal(h->got[30].used_weight, 5); /* a new minute */
    assert_true(h->got[30].recv_ts_ns / 1000000 >=
                first_minute_ms + WEIGHT_WINDOW_MS + WEIGHT_WINDOW_MARGIN_MS);
    assert_int_equal(h->got[49].used_weight, 100);
    rest_stats_t st;
    rest_stats(rest, &st);
    assert_int_equal(st.rate_limited, 0);
    assert_int_equal(st.bans, 0);
    assert_int_equal(st.throttled_waits, 1);
    assert_int_equal(st.sent, 50);
}

/* ---- main ---------------------------------------------------------------------------------- */

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(int argc, char **argv)
{
    const struct CMUnitTest fast[] = {
        cmocka_unit_test(depth_weights_follow_binance),
        T(bad_urls_and_policies_are_refused_by_rest_new),
        T(invalid_limit_is_refused_at_once),
        T(symbol_a_frame_cannot_carry_is_not_accepted),
        T(weight_above_the_whole_budget_is_refused_unsent),
        T(destroy_reports_queued_requests_as_collector_stopping),
        T(depth_snapshot_arrives_whole_with_status_200),
        T(futures_snapshots_come_from_fapi_and_dapi),
        T(weights_are_charged_as_the_header_says),
        T(usdm_and_coinm_share_one_weight_budget),
        T(storm_within_the_budget_is_served_in_order_without_429),
        T(request_beyond_the_budget_waits_for_the_next_minute),
        T(exchange_weight_reported_by_the_header_holds_requests_back),
        T(rate_limited_429_is_reported_and_blocks_the_queue_for_retry_after),
        T(ban_418_stops_every_request_until_it_ends),
        T(server_error_503_is_reported_with_its_body),
        T(slow_snapshot_beyond_the_timeout_fails_with_status_0),
        T(unknown_symbol_is_answered_400_by_the_exchange),
        T(body_over_the_bound_is_cut_off),
        T(exchange_info_is_parsed_for_all_three_markets),
        T(connection_refused_is_status_0_with_a_reason),
        T(tls_failure_is_status_0_with_a_reason),
        T(connection_closed_mid_body_is_status_0),
        T(connection_closed_before_answering_is_status_0),
        T(chunked_body_is_reassembled),
        T(body_ended_by_close_without_length_is_whole),
        T(streamed_body_over_the_bound_is_cut_off),
        T(retry_after_missing_on_429_blocks_for_the_default_60_s),
        T(destroy_reports_the_request_in_flight_first),
    };
    const struct CMUnitTest minute[] = {
        T(storm_beyond_the_budget_is_paced_across_the_minute_without_429),
    };
    if (argc > 1 && strcmp(argv[1], "--minute") == 0)
        return cmocka_run_group_tests_name("rest across a minute", minute, NULL, NULL);
    return cmocka_run_group_tests_name("rest", fast, NULL, NULL);
}
