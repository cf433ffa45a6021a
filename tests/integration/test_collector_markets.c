/*
 * test_collector_markets.c — proves what docs/collector.md says about the futures markets'
 * routes, about giving up and holding back connection attempts, and about exchangeInfo, against
 * bookcast-sim over TLS on loopback:
 *   - USD-M: depth and bookTicker ride a /public/stream connection, aggTrade and kline a
 *     /market/stream one (two connections, never mixed), and every stream delivers on the
 *     connection that holds it;
 *   - COIN-M: depth@100ms, aggTrade and bookTicker of BTCUSD_PERP deliver on one /stream
 *     connection;
 *   - a ws_url nobody listens on, with collector.reconnect_max_attempts=3: the slot is given up
 *     after 3 attempts (log line, connections_failed 1, connect_attempts 3), nothing more is
 *     tried, the process keeps running and exits 0 on SIGTERM;
 *   - collector.connect_attempts_per_5min=2 with 3 connections to open: two connect, the third
 *     waits for the window (log line, connect_attempts_deferred) and does not connect;
 *   - a rest_url nobody listens on: the configured list is subscribed unchecked and delivers,
 *     "exchangeInfo failed" is logged and the read is retried about every 5 s;
 *   - symbols "ALL": exactly the symbols the sim's exchangeInfo lists get streams.
 * Each test starts its own sim, fake bookbuilder (fakebb.h) and collector (collectorproc.h) for
 * the market it tests, and stops them by pid in the teardown, which also runs when it fails.
 * "A closed port" is a loopback socket the test binds and never listens on (held until the
 * teardown, so nobody else can take the port): a connect to it is refused at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "collectorproc.h"
#include "fakebb.h"
#include "simproc.h"
#include "simtest.h"

#include "now.h"

#include <cjson/cJSON.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_UP_MS 10000      /* connections up */
#define WAIT_DELIVER_MS 15000 /* every stream delivered */

/* ---- the rig: sim, fake bookbuilder, collector of any market, an optional closed port -------- */

typedef struct {
    simproc_t *sim;
    fakebb_t *bb;
    collectorproc_t *col;
    int closed_fd; /* bound, never listening; -1 when unused */
} mrig_t;

static mrig_t *mrig_new(void **state)
{
    mrig_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->closed_fd = -1;
    *state = r;
    return r;
}

/* A loopback TCP port that refuses connections for the life of the rig. */
static int mrig_closed_port(mrig_t *r)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    r->closed_fd = fd;
    return ntohs(a.sin_port);
}

/* Starts the sim (sim_args), the fake bookbuilder and a `market` collector pointed at both,
   with the extra assignments `sets` (which come after, and so win over, the sim's URLs). */
static void mrig_start(mrig_t *r, market_t market, const char *const *sim_args,
                       const char *const *sets)
{
    r->sim = simproc_start(sim_args);
    assert_non_null(r->sim);
    r->bb = fakebb_new(true);
    assert_non_null(r->bb);
    collectorproc_opts_t o = {
        .sim = r->sim,
        .market = market,
        .frames = fakebb_frames_endpoint(r->bb),
        .control = fakebb_control_endpoint(r->bb),
        .status = fakebb_status_endpoint(r->bb),
        .sets = sets,
    };
    r->col = collectorproc_start(&o);
    assert_non_null(r->col);
}

static int mrig_stop(void **state)
{
    mrig_t *r = *state;
    if (!r)
        return 0;
    collectorproc_destroy(&r->col);
    if (r->bb)
        fakebb_report(r->bb, 20);
    fakebb_destroy(&r->bb);
    simproc_stop(&r->sim);
    if (r->closed_fd >= 0)
        close(r->closed_fd);
    free(r);
    *state = NULL;
    return 0;
}

/* No malformed frame, no broken sequence. */
static void mrig_assert_clean(mrig_t *r)
{
    if (fakebb_error_count(r->bb) || fakebb_gap_count(r->bb)) {
        fakebb_report(r->bb, 20);
        fail_msg("%zu frame errors and %zu sequence gaps", fakebb_error_count(r->bb),
                 fakebb_gap_count(r->bb));
    }
}

/* ---- helpers --------------------------------------------------------------------------------- */

static bool streams_delivered(fakebb_t *bb, void *names)
{
    for (const char *const *s = names; *s; s++)
        if (fakebb_stream_frames(bb, *s) == 0)
            return false;
    return true;
}

/* Waits until every stream of the NULL-terminated `names` delivered; fails naming the silent. */
static void wait_delivered(mrig_t *r, const char *const *names, int64_t timeout_ms)
{
    if (fakebb_wait(r->bb, timeout_ms, streams_delivered, (void *)names))
        return;
    char silent[1024] = "";
    for (const char *const *s = names; *s; s++)
        if (fakebb_stream_frames(r->bb, *s) == 0)
            snprintf(silent + strlen(silent), sizeof silent - strlen(silent), " %s", *s);
    fail_msg("no frame within %lld ms from:%s", (long long)timeout_ms, silent);
}

/* Waits for `n` CONN_UP frames in all; fails with the count. */
static void wait_conn_ups(mrig_t *r, size_t n, int64_t timeout_ms)
{
    if (!fakebb_wait_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0, n, timeout_ms))
        fail_msg("%zu of %zu connections came up within %lld ms",
                 fakebb_count_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0), n,
                 (long long)timeout_ms);
}

/* The CONN_UP frames received so far, in order, into ups (at most max). Returns how many. */
static size_t conn_ups(mrig_t *r, const fakebb_frame_t **ups, size_t max)
{
    size_t n = 0;
    for (const fakebb_frame_t *f = fakebb_find(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0);
         f && n < max; f = fakebb_find(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, f->index + 1)) {
        assert_non_null(f->ctl);
        assert_non_null(f->ctl->url);
        ups[n++] = f;
    }
    return n;
}

/* Fails unless the CONN_UP `up` names exactly the streams of the NULL-terminated `names`. */
static void assert_up_streams(const fakebb_frame_t *up, const char *const *names)
{
    size_t n = 0;
    for (const char *const *s = names; *s; s++, n++)
        if (!fakebb_ctl_has_stream(up->ctl, *s))
            fail_msg("conn %u (%s) does not hold %s", up->conn_id, up->ctl->url, *s);
    if (up->ctl->stream_count != n) {
        for (size_t i = 0; i < up->ctl->stream_count; i++)
            print_message("conn %u holds %s\n", up->conn_id, up->ctl->streams[i]);
        fail_msg("conn %u (%s) holds %zu streams, expected %zu", up->conn_id, up->ctl->url,
                 up->ctl->stream_count, n);
    }
}

/* Every WS_TEXT frame of a combined stream came on a connection whose CONN_UP names it. */
static void assert_frames_on_their_connections(mrig_t *r, const fakebb_frame_t *const *ups,
                                               size_t up_count)
{
    size_t n = fakebb_count(r->bb), checked = 0;
    for (size_t i = 0; i < n; i++) {
        const fakebb_frame_t *f = fakebb_frame(r->bb, i);
        if (f->kind != ENVELOPE_WS_TEXT || !f->stream[0])
            continue;
        const fakebb_frame_t *up = NULL;
        for (size_t k = 0; k < up_count; k++)
            if (ups[k]->conn_id == f->conn_id)
                up = ups[k];
        if (!up)
            fail_msg("frame %zu (%s) on conn %u, which has no CONN_UP", i, f->stream, f->conn_id);
        if (!fakebb_ctl_has_stream(up->ctl, f->stream))
            fail_msg("frame %zu of %s came on conn %u (%s), which does not hold it", i, f->stream,
                     f->conn_id, up->ctl->url);
        checked++;
    }
    print_message("%zu stream frames, each on its own connection\n", checked);
    assert_true(checked > 0);
}

/* "wss://127.0.0.1:<port><path>" of the sim's `market` listener. */
static const char *sim_ws(mrig_t *r, market_t market, const char *path, char *buf, size_t len)
{
    return simproc_url(r->sim, market, false, path, buf, len);
}

static bool any_status(const cJSON *counters, void *arg)
{
    (void)counters;
    (void)arg;
    return true;
}

/* The connection_list entries of a heartbeat's counters with "state" `state` (NULL: any) and,
   when route is not NULL, "route" `route`. */
static int slots_with(const cJSON *counters, const char *state, const char *route)
{
    int n = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(counters, "connection_list"))
    {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(s, "state");
        const cJSON *rt = cJSON_GetObjectItemCaseSensitive(s, "route");
        if (state && !(cJSON_IsString(st) && strcmp(st->valuestring, state) == 0))
            continue;
        if (route && !(cJSON_IsString(rt) && strcmp(rt->valuestring, route) == 0))
            continue;
        n++;
    }
    return n;
}

/* ---- 1. USD-M routes ------------------------------------------------------------------------- */

static bool usdm_settled(const cJSON *counters, void *arg)
{
    (void)arg;
    return fakebb_counter(counters, "connections_running") == 2;
}

static void usdm_streams_ride_their_routes(void **state)
{
    static const char *const sim_args[] = {"--trade-rate", "5", NULL};
    static const char *const sets[] = {
        "markets.usdm.symbols=BTCUSDT,ETHUSDT",
        "markets.usdm.channels.depth=true",
        "markets.usdm.channels.depth_speed_ms=100",
        "markets.usdm.channels.agg_trade=true",
        "markets.usdm.channels.book_ticker=true",
        "markets.usdm.channels.trade=false",
        "markets.usdm.channels.mark_price=false",
        "markets.usdm.channels.kline_intervals=[\"1m\"]",
        NULL,
    };
    static const char *const public_streams[] = {"btcusdt@depth@100ms", "btcusdt@bookTicker",
                                                 "ethusdt@depth@100ms", "ethusdt@bookTicker", NULL};
    static const char *const market_streams[] = {"btcusdt@aggTrade", "btcusdt@kline_1m",
                                                 "ethusdt@aggTrade", "ethusdt@kline_1m", NULL};
    mrig_t *r = mrig_new(state);
    mrig_start(r, MARKET_USDM, sim_args, sets);

    wait_conn_ups(r, 2, WAIT_UP_MS);
    wait_delivered(r, public_streams, WAIT_DELIVER_MS);
    wait_delivered(r, market_streams, WAIT_DELIVER_MS);
    simtest_sleep_ms(1000); /* room for a third connection, or a drop, to show */

    /* Two connections, one per route, with exactly that route's streams, none gone down. */
    const fakebb_frame_t *ups[8];
    size_t n = conn_ups(r, ups, 8);
    for (size_t i = 0; i < n; i++)
        print_message("conn %u: %s, %zu streams\n", ups[i]->conn_id, ups[i]->ctl->url,
                      ups[i]->ctl->stream_count);
    assert_int_equal(n, 2);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0), 0);
    char public_url[200], market_url[200];
    sim_ws(r, MARKET_USDM, "/public/stream", public_url, sizeof public_url);
    sim_ws(r, MARKET_USDM, "/market/stream", market_url, sizeof market_url);
    const fakebb_frame_t *pub = NULL, *mkt = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ups[i]->ctl->url, public_url) == 0)
            pub = ups[i];
        else if (strcmp(ups[i]->ctl->url, market_url) == 0)
            mkt = ups[i];
    }
    if (!pub || !mkt)
        fail_msg("CONN_UP urls %s and %s; expected %s and %s", ups[0]->ctl->url, ups[1]->ctl->url,
                 public_url, market_url);
    assert_up_streams(pub, public_streams);
    assert_up_streams(mkt, market_streams);

    /* Every frame of a stream came on the connection of its route. */
    assert_frames_on_their_connections(r, ups, n);
    for (const char *const *s = public_streams; *s; s++)
        print_message("%-22s %zu frames\n", *s, fakebb_stream_frames(r->bb, *s));
    for (const char *const *s = market_streams; *s; s++)
        print_message("%-22s %zu frames\n", *s, fakebb_stream_frames(r->bb, *s));

    /* The heartbeat agrees: 8 streams, 2 slots, both running, one per route. */
    cJSON *hb = fakebb_wait_status(r->bb, 3000, usdm_settled, NULL);
    assert_non_null(hb);
    const cJSON *c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "streams"), 8);
    assert_int_equal((int)fakebb_counter(c, "connections"), 2);
    assert_int_equal(slots_with(c, "running", "public"), 1);
    assert_int_equal(slots_with(c, "running", "market"), 1);
    cJSON_Delete(hb);
    assert_true(collectorproc_alive(r->col));
    mrig_assert_clean(r);
}

/* ---- 2. COIN-M ------------------------------------------------------------------------------- */

static void coinm_streams_deliver(void **state)
{
    static const char *const sim_args[] = {"--trade-rate", "5", NULL};
    static const char *const sets[] = {
        "markets.coinm.symbols=BTCUSD_PERP",
        "markets.coinm.channels.depth=true",
        "markets.coinm.channels.depth_speed_ms=100",
        "markets.coinm.channels.agg_trade=true",
        "markets.coinm.channels.book_ticker=true",
        "markets.coinm.channels.trade=false",
        "markets.coinm.channels.mark_price=false",
        "markets.coinm.channels.kline_intervals=[]",
        NULL,
    };
    static const char *const streams[] = {"btcusd_perp@depth@100ms", "btcusd_perp@aggTrade",
                                          "btcusd_perp@bookTicker", NULL};
    mrig_t *r = mrig_new(state);
    mrig_start(r, MARKET_COINM, sim_args, sets);

    wait_conn_ups(r, 1, WAIT_UP_MS);
    wait_delivered(r, streams, WAIT_DELIVER_MS);
    simtest_sleep_ms(1000);

    const fakebb_frame_t *ups[4];
    size_t n = conn_ups(r, ups, 4);
    assert_int_equal(n, 1);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0), 0);
    char url[200];
    sim_ws(r, MARKET_COINM, "/stream", url, sizeof url);
    print_message("conn %u: %s, %zu streams\n", ups[0]->conn_id, ups[0]->ctl->url,
                  ups[0]->ctl->stream_count);
    assert_string_equal(ups[0]->ctl->url, url);
    assert_up_streams(ups[0], streams);
    assert_frames_on_their_connections(r, ups, n);
    for (const char *const *s = streams; *s; s++)
        print_message("%-24s %zu frames\n", *s, fakebb_stream_frames(r->bb, *s));
    assert_true(collectorproc_alive(r->col));
    mrig_assert_clean(r);
}

/* ---- 3. giving up ---------------------------------------------------------------------------- */

static bool has_failed_slot(const cJSON *counters, void *arg)
{
    (void)arg;
    return fakebb_counter(counters, "connections_failed") >= 1;
}

static void failed_after_max_attempts(void **state)
{
    mrig_t *r = mrig_new(state);
    char ws_url[100];
    snprintf(ws_url, sizeof ws_url, "markets.spot.ws_url=wss://127.0.0.1:%d", mrig_closed_port(r));
    const char *const sets[] = {
        ws_url,
        "markets.spot.symbols=BTCUSDT,ETHUSDT",
        "markets.spot.channels.kline_intervals=[]",
        "collector.reconnect_max_attempts=3",
        "collector.reconnect_base_ms=50",
        "collector.reconnect_max_ms=200",
        NULL,
    };
    mrig_start(r, MARKET_SPOT, NULL, sets);

    if (!collectorproc_wait_log(r->col, "giving up after 3 failed attempts", 1, 10000))
        fail_msg("no \"giving up after 3 failed attempts\" line within 10 s (%d lines say "
                 "\"giving up\")",
                 collectorproc_log_count(r->col, "giving up"));
    cJSON *hb = fakebb_wait_status(r->bb, 5000, has_failed_slot, NULL);
    if (!hb) {
        cJSON *last = fakebb_status(r->bb);
        char *text = last ? cJSON_PrintUnformatted(fakebb_counters(last)) : NULL;
        fail_msg("no heartbeat with connections_failed >= 1 within 5 s; the last: %.600s",
                 text ? text : "(none)");
    }
    const cJSON *c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "connections_failed"), 1);
    assert_int_equal((int)fakebb_counter(c, "connect_attempts"), 3);
    assert_int_equal((int)fakebb_counter(c, "connections_running"), 0);
    assert_int_equal(slots_with(c, "failed", NULL), 1);
    cJSON_Delete(hb);

    /* Given up means given up: a second later nothing more was tried. */
    simtest_sleep_ms(1200);
    hb = fakebb_wait_status(r->bb, 3000, any_status, NULL);
    assert_non_null(hb);
    c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "connect_attempts"), 3);
    assert_int_equal((int)fakebb_counter(c, "connections_failed"), 1);
    cJSON_Delete(hb);
    assert_int_equal(collectorproc_log_count(r->col, "giving up"), 1);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0), 0);

    /* …and the process keeps running until told to stop, then stops cleanly. */
    assert_true(collectorproc_alive(r->col));
    int64_t took = 0;
    int status = collectorproc_terminate(r->col, 5000, &took);
    print_message("exit status %d after %lld ms\n", status, (long long)took);
    assert_int_equal(status, 0);
    mrig_assert_clean(r);
}

/* ---- 4. the attempt limiter ------------------------------------------------------------------ */

static bool has_deferred(const cJSON *counters, void *arg)
{
    (void)arg;
    return fakebb_counter(counters, "connect_attempts_deferred") >= 1;
}

static void attempt_limiter_defers_connections_over_the_limit(void **state)
{
    static const char *const sets[] = {
        "markets.spot.symbols=BTCUSDT,ETHUSDT,BNBUSDT",
        "markets.spot.channels.depth=true",
        "markets.spot.channels.trade=true",
        "markets.spot.channels.book_ticker=false",
        "markets.spot.channels.agg_trade=false",
        "markets.spot.channels.kline_intervals=[]",
        "collector.connect_attempts_per_5min=2",
        "collector.max_streams_per_connection=2",
        NULL,
    };
    mrig_t *r = mrig_new(state);
    mrig_start(r, MARKET_SPOT, NULL, sets);

    wait_conn_ups(r, 2, WAIT_UP_MS);
    int64_t second_up = now_monotonic_ms();
    if (!collectorproc_wait_log(r->col, "connection attempts in 5 minutes", 1, 5000))
        fail_msg("no \"connection attempts in 5 minutes\" line within 5 s");
    cJSON *hb = fakebb_wait_status(r->bb, 5000, has_deferred, NULL);
    assert_non_null(hb);
    const cJSON *c = fakebb_counters(hb);
    print_message("connections %d, running %d, attempts %d, deferred %d\n",
                  (int)fakebb_counter(c, "connections"),
                  (int)fakebb_counter(c, "connections_running"),
                  (int)fakebb_counter(c, "connect_attempts"),
                  (int)fakebb_counter(c, "connect_attempts_deferred"));
    assert_true(fakebb_counter(c, "connect_attempts_deferred") >= 1);
    assert_int_equal((int)fakebb_counter(c, "connect_attempts"), 2);
    assert_int_equal((int)fakebb_counter(c, "connections"), 3);
    cJSON_Delete(hb);

    /* The two that connected deliver their four streams… */
    const fakebb_frame_t *ups[4];
    size_t n = conn_ups(r, ups, 4);
    assert_int_equal(n, 2);
    const char *names[5] = {0};
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ups[i]->ctl->stream_count, 2);
        for (size_t j = 0; j < 2; j++)
            names[k++] = ups[i]->ctl->streams[j];
    }
    wait_delivered(r, names, WAIT_DELIVER_MS);

    /* …and the third stays away for the seconds that follow. */
    int64_t left = second_up + 4000 - now_monotonic_ms();
    if (left > 0)
        simtest_sleep_ms(left);
    size_t now_ups = fakebb_count_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0);
    if (now_ups != 2)
        fail_msg("%zu connections came up with connect_attempts_per_5min=2", now_ups);
    hb = fakebb_wait_status(r->bb, 3000, any_status, NULL);
    assert_non_null(hb);
    assert_int_equal((int)fakebb_counter(fakebb_counters(hb), "connect_attempts"), 2);
    assert_int_equal((int)fakebb_counter(fakebb_counters(hb), "connections_running"), 2);
    /* the third slot waits for the window (reconnecting includes starting) */
    assert_int_equal((int)fakebb_counter(fakebb_counters(hb), "connections_reconnecting"), 1);
    assert_int_equal((int)fakebb_counter(fakebb_counters(hb), "connections_failed"), 0);
    cJSON_Delete(hb);
    assert_true(collectorproc_alive(r->col));
    mrig_assert_clean(r);
}

/* ---- 5. exchangeInfo unreachable ------------------------------------------------------------- */

/* One exchangeInfo failure is two log lines: the REST module's ("rest spot: exchangeInfo
   failed …") and the collector's decision ("spot: exchangeInfo failed (status …); symbols cannot
   be checked, retrying in 5000 ms"). The latter, once per attempt, is the one counted. */
#define EXINFO_FAILED "exchangeInfo failed"
#define EXINFO_RETRYING "symbols cannot be checked, retrying"

/* The wall-clock ms of the log lines holding both `a` and `b` (their leading ISO-8601
   timestamp), into out (at most max). Returns how many. */
static size_t log_times_ms(mrig_t *r, const char *a, const char *b, int64_t *out, size_t max)
{
    char path[600];
    snprintf(path, sizeof path, "%s/collector.log", collectorproc_dir(r->col));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char line[17000];
    size_t n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        if (!strstr(line, a) || !strstr(line, b))
            continue;
        struct tm tm = {0};
        int ms = 0;
        if (sscanf(line, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
            fail_msg("a log line without a timestamp: %.200s", line);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        out[n++] = (int64_t)timegm(&tm) * 1000 + ms;
    }
    fclose(f);
    return n;
}

/* Waits until deadline_ms (monotonic) for `n` exchangeInfo failures; returns how many. */
static size_t wait_exinfo_failures(mrig_t *r, size_t n, int64_t deadline_ms, int64_t *at,
                                   size_t max)
{
    for (;;) {
        size_t k = log_times_ms(r, EXINFO_FAILED, EXINFO_RETRYING, at, max);
        if (k >= n || now_monotonic_ms() >= deadline_ms)
            return k;
        simtest_sleep_ms(50);
    }
}

static void exchange_info_failure_subscribes_the_list_unchecked_and_retries(void **state)
{
    mrig_t *r = mrig_new(state);
    char rest_url[100];
    snprintf(rest_url, sizeof rest_url, "markets.spot.rest_url=https://127.0.0.1:%d",
             mrig_closed_port(r));
    const char *const sets[] = {
        rest_url,
        "markets.spot.symbols=BTCUSDT,ETHUSDT",
        "markets.spot.channels.depth=true",
        "markets.spot.channels.trade=true",
        "markets.spot.channels.book_ticker=false",
        "markets.spot.channels.kline_intervals=[]",
        NULL,
    };
    static const char *const streams[] = {"btcusdt@depth@100ms", "btcusdt@trade",
                                          "ethusdt@depth@100ms", "ethusdt@trade", NULL};
    int64_t t0 = now_monotonic_ms();
    mrig_start(r, MARKET_SPOT, NULL, sets);

    /* The list is subscribed without the check, and delivers. */
    int64_t at[8];
    if (wait_exinfo_failures(r, 1, now_monotonic_ms() + 5000, at, 8) < 1)
        fail_msg("no \"" EXINFO_FAILED "\" ... \"" EXINFO_RETRYING "\" line within 5 s");
    wait_conn_ups(r, 1, WAIT_UP_MS);
    wait_delivered(r, streams, WAIT_DELIVER_MS);
    const fakebb_frame_t *ups[4];
    size_t n = conn_ups(r, ups, 4);
    assert_int_equal(n, 1);
    assert_up_streams(ups[0], streams);

    /* The read is retried, about every 5 s: a second failure within 12 s of the start, and not
       a tight loop. */
    size_t k = wait_exinfo_failures(r, 2, t0 + 12000, at, 8);
    if (k < 2)
        fail_msg("%zu exchangeInfo failures logged within 12 s of the start, expected a retry", k);
    print_message("%zu failures, the second %lld ms after the first\n", k,
                  (long long)(at[1] - at[0]));
    assert_true(at[1] - at[0] >= 4000);
    assert_true(at[1] - at[0] <= 7000);

    /* Unchecked means nothing was refused, and the streams keep running meanwhile. */
    cJSON *hb = fakebb_wait_status(r->bb, 3000, any_status, NULL);
    assert_non_null(hb);
    const cJSON *c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "unknown_symbols"), 0);
    assert_int_equal((int)fakebb_counter(c, "streams"), 4);
    assert_int_equal((int)fakebb_counter(c, "connections_running"), 1);
    cJSON_Delete(hb);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0), 0);
    assert_true(collectorproc_alive(r->col));
    mrig_assert_clean(r);
}

/* ---- 6. symbols "ALL" ------------------------------------------------------------------------ */

#define MAX_SYMS 32

typedef struct {
    char v[MAX_SYMS][40];
    size_t n;
} symset_t;

static bool symset_has(const symset_t *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], name) == 0)
            return true;
    return false;
}

static void symset_add(symset_t *s, const char *name)
{
    if (symset_has(s, name))
        return;
    assert_true(s->n < MAX_SYMS);
    snprintf(s->v[s->n++], sizeof s->v[0], "%s", name);
}

/* The symbol of a stream name, upper case ("btcusdt@trade" → "BTCUSDT"). */
static void stream_symbol(const char *stream, char *out, size_t len)
{
    size_t i = 0;
    for (; stream[i] && stream[i] != '@' && i + 1 < len; i++)
        out[i] = (char)toupper((unsigned char)stream[i]);
    out[i] = '\0';
}

static bool streams_seen_at_least(fakebb_t *bb, void *want)
{
    return fakebb_streams_seen(bb) >= *(size_t *)want;
}

static void all_symbols_follow_exchange_info(void **state)
{
    static const char *const sim_args[] = {"--symbols", "7", NULL};
    static const char *const sets[] = {
        "markets.spot.symbols=ALL",
        "markets.spot.channels.depth=true",
        "markets.spot.channels.trade=true",
        "markets.spot.channels.book_ticker=false",
        "markets.spot.channels.agg_trade=false",
        "markets.spot.channels.kline_intervals=[]",
        NULL,
    };
    mrig_t *r = mrig_new(state);
    mrig_start(r, MARKET_SPOT, sim_args, sets);

    /* What the exchange lists. */
    tc_get_result_t res;
    assert_int_equal(simtest_get(r->sim, MARKET_SPOT, "/api/v3/exchangeInfo", &res), 200);
    cJSON *info = cJSON_ParseWithLength(res.body, res.body_len);
    tc_get_result_free(&res);
    assert_non_null(info);
    symset_t listed = {0};
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(info, "symbols"))
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "symbol");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(s, "status");
        assert_true(cJSON_IsString(name) && cJSON_IsString(st));
        if (strcmp(st->valuestring, "TRADING") == 0)
            symset_add(&listed, name->valuestring);
    }
    cJSON_Delete(info);
    assert_int_equal(listed.n, 7);

    /* 7 symbols × depth, trade: 14 streams deliver. */
    size_t want = 14;
    if (!fakebb_wait(r->bb, 20000, streams_seen_at_least, &want))
        fail_msg("%zu of 14 streams delivered within 20 s", fakebb_streams_seen(r->bb));
    simtest_sleep_ms(1000);

    /* The connections name exactly those symbols' streams… */
    const fakebb_frame_t *ups[8];
    size_t n = conn_ups(r, ups, 8);
    assert_true(n >= 1);
    symset_t subscribed = {0};
    size_t streams_total = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < ups[i]->ctl->stream_count; j++) {
            char sym[40];
            stream_symbol(ups[i]->ctl->streams[j], sym, sizeof sym);
            if (!symset_has(&listed, sym))
                fail_msg("conn %u holds %s: %s is not listed", ups[i]->conn_id,
                         ups[i]->ctl->streams[j], sym);
            symset_add(&subscribed, sym);
            streams_total++;
        }
    print_message("%zu connections, %zu streams, %zu symbols\n", n, streams_total, subscribed.n);
    assert_int_equal(subscribed.n, 7);
    assert_int_equal(streams_total, 14);

    /* …and the frames come from exactly those 7. */
    symset_t delivered = {0};
    size_t count = fakebb_count(r->bb);
    for (size_t i = 0; i < count; i++) {
        const fakebb_frame_t *f = fakebb_frame(r->bb, i);
        if (f->kind != ENVELOPE_WS_TEXT || !f->stream[0])
            continue;
        char sym[40];
        stream_symbol(f->stream, sym, sizeof sym);
        if (!symset_has(&listed, sym))
            fail_msg("a frame of %s: %s is not listed", f->stream, sym);
        symset_add(&delivered, sym);
    }
    assert_int_equal(delivered.n, 7);
    assert_int_equal(fakebb_streams_seen(r->bb), 14);

    cJSON *hb = fakebb_wait_status(r->bb, 3000, any_status, NULL);
    assert_non_null(hb);
    assert_int_equal((int)fakebb_counter(fakebb_counters(hb), "streams"), 14);
    assert_int_equal((int)fakebb_counter(fakebb_counters(hb), "unknown_symbols"), 0);
    cJSON_Delete(hb);
    assert_true(collectorproc_alive(r->col));
    mrig_assert_clean(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(usdm_streams_ride_their_routes, mrig_stop),
        cmocka_unit_test_teardown(coinm_streams_deliver, mrig_stop),
        cmocka_unit_test_teardown(failed_after_max_attempts, mrig_stop),
        cmocka_unit_test_teardown(attempt_limiter_defers_connections_over_the_limit, mrig_stop),
        cmocka_unit_test_teardown(exchange_info_failure_subscribes_the_list_unchecked_and_retries,
                                  mrig_stop),
        cmocka_unit_test_teardown(all_symbols_follow_exchange_info, mrig_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
