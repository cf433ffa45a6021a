/*
 * test_collector_subscribe.c — proves that streams can be added and removed without a restart
 * (docs/collector.md, "Snapshots and the control bus" and "Reload and shutdown"), on the live
 * connection, against bookcast-sim:
 *   - subscribe.spot {"symbols":["ETHUSDT"]} on the control bus: ETHUSDT's streams (the
 *     market's configured channels) deliver on the connection already open; unsubscribe.spot
 *     with the same body: once the sim has answered the UNSUBSCRIBE, no ETHUSDT frame follows
 *     while BTCUSDT goes on;
 *   - SIGHUP after the --config file's symbol list changed from BTCUSDT, ETHUSDT to BTCUSDT,
 *     SOLUSDT: SOLUSDT's streams deliver, ETHUSDT's stop before the first SOLUSDT frame, no
 *     connection is replaced, the reload is counted;
 *   - SIGHUP with a file that does not validate: refused with a log line, counted, the running
 *     configuration stays and keeps delivering.
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

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPOT MARKET_SPOT

typedef struct {
    simproc_t *sim;
    fakebb_t *bb;
    collectorproc_t *col;
    char config[600]; /* the --config file, when the test uses one */
} rig_t;

/* Starts sim, fake bookbuilder and collector; with `config_json` the collector gets a --config
   file holding it (in its own directory) besides the --set options. */
static rig_t *rig_start(void **state, const char *const *sets, const char *config_json)
{
    rig_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    *state = r;
    r->sim = simproc_start(NULL);
    assert_non_null(r->sim);
    r->bb = fakebb_new(true);
    assert_non_null(r->bb);
    collectorproc_opts_t o = {
        .sim = r->sim,
        .market = SPOT,
        .frames = fakebb_frames_endpoint(r->bb),
        .control = fakebb_control_endpoint(r->bb),
        .status = fakebb_status_endpoint(r->bb),
        .sets = sets,
    };
    char *dir = collectorproc_make_dir();
    assert_non_null(dir);
    if (config_json) {
        snprintf(r->config, sizeof r->config, "%s/collector.json", dir);
        FILE *f = fopen(r->config, "w");
        assert_non_null(f);
        fputs(config_json, f);
        assert_int_equal(fclose(f), 0);
        o.config_file = r->config;
    }
    r->col = collectorproc_start_in(&o, dir);
    assert_non_null(r->col);
    return r;
}

static int rig_stop(void **state)
{
    rig_t *r = *state;
    if (!r)
        return 0;
    collectorproc_destroy(&r->col);
    if (r->bb)
        fakebb_report(r->bb, 20);
    fakebb_destroy(&r->bb);
    simproc_stop(&r->sim);
    free(r);
    *state = NULL;
    return 0;
}

static void assert_clean(rig_t *r)
{
    if (fakebb_error_count(r->bb) || fakebb_gap_count(r->bb)) {
        fakebb_report(r->bb, 20);
        fail_msg("%zu frame errors and %zu sequence gaps", fakebb_error_count(r->bb),
                 fakebb_gap_count(r->bb));
    }
}

/* Rewrites the --config file (a new file renamed over the old, as an editor saves). */
static void rewrite_config(rig_t *r, const char *json)
{
    char tmp[620];
    snprintf(tmp, sizeof tmp, "%s.new", r->config);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(json, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, r->config), 0);
}

static const char *const btc[] = {"btcusdt@depth@100ms", "btcusdt@trade", "btcusdt@bookTicker",
                                  NULL};
static const char *const eth[] = {"ethusdt@depth@100ms", "ethusdt@trade", "ethusdt@bookTicker",
                                  NULL};
static const char *const sol[] = {"solusdt@depth@100ms", "solusdt@trade", "solusdt@bookTicker",
                                  NULL};

typedef struct {
    const char *const *streams;
    size_t after; /* frames at or after this index count */
} deliver_t;

/* Every one of the streams delivered a frame at index >= after. */
static bool all_deliver(fakebb_t *bb, void *arg)
{
    deliver_t *d = arg;
    for (size_t i = 0; d->streams[i]; i++) {
        size_t last = fakebb_stream_last(bb, d->streams[i]);
        if (last == SIZE_MAX || last < d->after)
            return false;
    }
    return true;
}

static void wait_deliver(rig_t *r, const char *const *streams, size_t after)
{
    deliver_t d = {streams, after};
    if (!fakebb_wait(r->bb, 15000, all_deliver, &d))
        fail_msg("not every stream of %s… delivered after frame %zu", streams[0], after);
}

/* The index of the first frame of any of the streams, or SIZE_MAX. */
static size_t first_frame_of(fakebb_t *bb, const char *const *streams)
{
    size_t n = fakebb_count(bb);
    for (size_t i = 0; i < n; i++) {
        const fakebb_frame_t *f = fakebb_frame(bb, i);
        for (size_t k = 0; f->stream[0] && streams[k]; k++)
            if (strcmp(f->stream, streams[k]) == 0)
                return i;
    }
    return SIZE_MAX;
}

/* The latest frame of any of the streams, or SIZE_MAX for none. */
static size_t last_frame_of(fakebb_t *bb, const char *const *streams)
{
    size_t last = SIZE_MAX;
    for (size_t k = 0; streams[k]; k++) {
        size_t i = fakebb_stream_last(bb, streams[k]);
        if (i != SIZE_MAX && (last == SIZE_MAX || i > last))
            last = i;
    }
    return last;
}

/* The sim's answer to one of our (UN)SUBSCRIBE messages: {"result":null,"id":N}. */
static bool is_answer(const fakebb_frame_t *f)
{
    return f->kind == ENVELOPE_WS_TEXT && strncmp(f->payload, "{\"result\":null", 14) == 0;
}

/* The index of the last answer on conn_id at or after `from`, or SIZE_MAX. */
static size_t last_answer(fakebb_t *bb, uint32_t conn_id, size_t from)
{
    size_t n = fakebb_count(bb), last = SIZE_MAX;
    for (size_t i = from; i < n; i++)
        if (fakebb_frame(bb, i)->conn_id == conn_id && is_answer(fakebb_frame(bb, i)))
            last = i;
    return last;
}

/* Waits until at least one answer on conn_id came after `from` and then none for quiet_ms (the
   collector may split a change into several messages, paced a third of a second apart).
   Returns the index of the last answer, or SIZE_MAX at the timeout. */
static size_t wait_answers_settle(fakebb_t *bb, uint32_t conn_id, size_t from, int64_t quiet_ms,
                                  int64_t timeout_ms)
{
    int64_t deadline = now_monotonic_ms() + timeout_ms;
    size_t last = SIZE_MAX;
    int64_t last_change = now_monotonic_ms();
    while (now_monotonic_ms() < deadline) {
        size_t now_last = last_answer(bb, conn_id, from);
        if (now_last != last) {
            last = now_last;
            last_change = now_monotonic_ms();
        } else if (last != SIZE_MAX && now_monotonic_ms() - last_change >= quiet_ms) {
            return last;
        }
        simtest_sleep_ms(50);
    }
    return SIZE_MAX;
}

static bool streams_counter_is(const cJSON *counters, void *want)
{
    return fakebb_counter(counters, "streams") == (double)*(int *)want;
}

static void control_subscribe_and_unsubscribe_change_streams_on_the_live_connection(void **state)
{
    static const char *const sets[] = {"markets.spot.symbols=BTCUSDT",
                                       "markets.spot.channels.kline_intervals=[]", NULL};
    rig_t *r = rig_start(state, sets, NULL);
    wait_deliver(r, btc, 0);

    size_t mark = fakebb_count(r->bb);
    assert_int_equal(fakebb_publish(r->bb, "subscribe.spot", "{\"symbols\":[\"ETHUSDT\"]}", 5000),
                     0);
    wait_deliver(r, eth, mark);
    /* On the connection that was open: no new one, ETHUSDT's frames on conn 1. */
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0), 1);
    for (size_t k = 0; eth[k]; k++)
        assert_int_equal(fakebb_frame(r->bb, fakebb_stream_last(r->bb, eth[k]))->conn_id, 1);
    int six = 6;
    cJSON *hb = fakebb_wait_status(r->bb, 3000, streams_counter_is, &six);
    assert_non_null(hb);
    cJSON_Delete(hb);

    size_t sub_answers = 0;
    for (size_t i = mark; i < fakebb_count(r->bb); i++)
        sub_answers += fakebb_frame(r->bb, i)->conn_id == 1 && is_answer(fakebb_frame(r->bb, i));
    print_message("ETHUSDT's 3 streams were subscribed with %zu SUBSCRIBE messages\n", sub_answers);

    mark = fakebb_count(r->bb);
    assert_int_equal(fakebb_publish(r->bb, "unsubscribe.spot", "{\"symbols\":[\"ETHUSDT\"]}", 5000),
                     0);
    /* Once the sim has answered the UNSUBSCRIBE, ETHUSDT is over on conn 1. */
    size_t answer = wait_answers_settle(r->bb, 1, mark, 1500, 10000);
    assert_true(answer != SIZE_MAX);
    simtest_sleep_ms(1500);
    size_t eth_last = last_frame_of(r->bb, eth);
    print_message("UNSUBSCRIBE answered at frame %zu; ETHUSDT's last frame %zu; %zu frames in "
                  "all\n",
                  answer, eth_last, fakebb_count(r->bb));
    if (eth_last > answer)
        fail_msg("ETHUSDT frame %zu after the UNSUBSCRIBE answer (frame %zu)", eth_last, answer);
    wait_deliver(r, btc, answer); /* the others go on */
    int three = 3;
    hb = fakebb_wait_status(r->bb, 3000, streams_counter_is, &three);
    assert_non_null(hb);
    const cJSON *c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "control_messages"), 2);
    assert_int_equal((int)fakebb_counter(c, "control_errors"), 0);
    assert_int_equal((int)fakebb_counter(c, "connections"), 1);
    cJSON_Delete(hb);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0), 1);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0), 0);
    assert_clean(r);
}

#define CONFIG(symbols)                                                                            \
    "{\"markets\":{\"spot\":{\"symbols\":" symbols ",\"channels\":{\"kline_intervals\":[]}}}}"

static bool reloaded(const cJSON *counters, void *arg)
{
    (void)arg;
    return fakebb_counter(counters, "reloads") >= 1 ||
           fakebb_counter(counters, "reload_errors") >= 1;
}

static void sighup_reload_subscribes_new_and_unsubscribes_removed_symbols(void **state)
{
    rig_t *r = rig_start(state, NULL, CONFIG("[\"BTCUSDT\",\"ETHUSDT\"]"));
    wait_deliver(r, btc, 0);
    wait_deliver(r, eth, 0);

    rewrite_config(r, CONFIG("[\"BTCUSDT\",\"SOLUSDT\"]"));
    size_t mark = fakebb_count(r->bb);
    assert_int_equal(collectorproc_signal(r->col, SIGHUP), 0);
    assert_true(collectorproc_wait_log(r->col, "SIGHUP: configuration reloaded", 1, 5000));
    wait_deliver(r, sol, mark);
    simtest_sleep_ms(1500);

    /* ETHUSDT was unsubscribed before SOLUSDT was subscribed, on the same connection: none of
       its frames comes after SOLUSDT's first. BTCUSDT never stopped. */
    size_t sol_first = first_frame_of(r->bb, sol);
    size_t eth_last = last_frame_of(r->bb, eth);
    print_message("ETHUSDT's last frame %zu, SOLUSDT's first %zu\n", eth_last, sol_first);
    assert_true(eth_last < sol_first);
    wait_deliver(r, btc, sol_first);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0), 1);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0), 0);
    cJSON *hb = fakebb_wait_status(r->bb, 3000, reloaded, NULL);
    assert_non_null(hb);
    const cJSON *c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "reloads"), 1);
    assert_int_equal((int)fakebb_counter(c, "reload_errors"), 0);
    assert_int_equal((int)fakebb_counter(c, "streams"), 6);
    cJSON_Delete(hb);
    assert_clean(r);
}

static void sighup_with_an_invalid_config_keeps_the_running_one(void **state)
{
    rig_t *r = rig_start(state, NULL, CONFIG("[\"BTCUSDT\"]"));
    wait_deliver(r, btc, 0);
    rewrite_config(r, "{\"markets\":{\"spot\":{\"symbols\":[\"BTCUSDT\"],\"no_such_key\":1}}}");
    assert_int_equal(collectorproc_signal(r->col, SIGHUP), 0);
    assert_true(collectorproc_wait_log(r->col, "SIGHUP: the configuration is invalid", 1, 5000));
    cJSON *hb = fakebb_wait_status(r->bb, 3000, reloaded, NULL);
    assert_non_null(hb);
    const cJSON *c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "reload_errors"), 1);
    assert_int_equal((int)fakebb_counter(c, "reloads"), 0);
    assert_int_equal((int)fakebb_counter(c, "streams"), 3);
    cJSON_Delete(hb);
    wait_deliver(r, btc, fakebb_count(r->bb));
    assert_true(collectorproc_alive(r->col));
    assert_clean(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(
            control_subscribe_and_unsubscribe_change_streams_on_the_live_connection, rig_stop),
        cmocka_unit_test_teardown(sighup_reload_subscribes_new_and_unsubscribes_removed_symbols,
                                  rig_stop),
        cmocka_unit_test_teardown(sighup_with_an_invalid_config_keeps_the_running_one, rig_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
