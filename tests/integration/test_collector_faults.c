/*
 * test_collector_faults.c — proves that each connection fault of bookcast-sim ends in a
 * reconnect with correct CONN_DOWN/CONN_UP frames and no storm (docs/collector.md, "Connection
 * states"):
 *   - drop (the socket dies without a close frame): reason "connection lost", counted as lost;
 *   - stall (the connection stays up, nothing arrives): closed as stale after stale_after_s;
 *   - ignore_pongs (the server closes at its pong deadline): counted as server_closed;
 *   - rotation_storm (every connection closed at once with 1001): one new connection per lost
 *     one, the status counter connect_attempts grows by exactly that;
 *   - message-rate breach (sim --msg-rate-limit 1 while the collector sends several SUBSCRIBE
 *     messages): closed with 1008 "Too many requests", the collector slows its pace and
 *     eventually stays up with every stream subscribed.
 * For each: the CONN_DOWN names the lost connection's streams and a reason, the replacement's
 * CONN_UP names the same streams, data flows on it, nothing else reconnects in the seconds that
 * follow, and every connection's frames stay in sequence (the fake bookbuilder checks seq).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "collectorrig.h"
#include "collectorproc.h"
#include "fakebb.h"
#include "simproc.h"
#include "simtest.h"

#include "now.h"

#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPOT MARKET_SPOT
#define SETTLE_MS 3000 /* after a recovery: long enough for a second reconnect to show */

/* Two symbols × depth, trade, bookTicker: 6 streams on one connection. */
#define BASIC_SETS                                                                                 \
    "markets.spot.symbols=BTCUSDT,ETHUSDT", "markets.spot.channels.kline_intervals=[]"

static bool streams_seen(fakebb_t *bb, void *want)
{
    return fakebb_streams_seen(bb) >= *(size_t *)want;
}

/* Waits until `n` streams have delivered. */
static void wait_streams(rig_t *r, size_t n)
{
    if (!fakebb_wait(r->bb, 15000, streams_seen, &n))
        fail_msg("only %zu of %zu streams delivered", fakebb_streams_seen(r->bb), n);
}

/* True when every stream named by `up` (a CONN_UP) delivered a frame after it. */
static bool all_deliver_after(fakebb_t *bb, const fakebb_frame_t *up)
{
    for (size_t i = 0; i < up->ctl->stream_count; i++) {
        size_t last = fakebb_stream_last(bb, up->ctl->streams[i]);
        if (last == SIZE_MAX || last < up->index)
            return false;
    }
    return true;
}

static bool up_delivers(fakebb_t *bb, void *up)
{
    return all_deliver_after(bb, up);
}

static bool same_streams(const envelope_control_t *a, const envelope_control_t *b)
{
    if (a->stream_count != b->stream_count)
        return false;
    for (size_t i = 0; i < a->stream_count; i++)
        if (!fakebb_ctl_has_stream(b, a->streams[i]))
            return false;
    return true;
}

/* The connection_list entry holding conn_id in a heartbeat's counters, or NULL. */
static const cJSON *slot_of(const cJSON *counters, uint32_t conn_id)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(counters, "connection_list");
    const cJSON *s;
    cJSON_ArrayForEach(s, list)
    {
        if (fakebb_counter(s, "conn_id") == (double)conn_id)
            return s;
    }
    return NULL;
}

/*
 * What every single-connection fault must end in: connection `old_id` goes down with a reason
 * holding `reason`, one replacement comes up with the same streams after the backoff, every
 * stream delivers on it, and for SETTLE_MS nothing else happens; the heartbeat counts one
 * reconnect of kind `counter` and two connection attempts in all.
 */
static void assert_one_reconnect(rig_t *r, uint32_t old_id, size_t from, const char *reason,
                                 const char *counter, int64_t down_timeout_ms)
{
    const fakebb_frame_t *up = fakebb_find(r->bb, ENVELOPE_CONN_UP, old_id, 0);
    assert_non_null(up);
    if (!fakebb_wait_kind(r->bb, ENVELOPE_CONN_DOWN, old_id, from, 1, down_timeout_ms))
        fail_msg("no CONN_DOWN for conn %u within %lld ms", old_id, (long long)down_timeout_ms);
    const fakebb_frame_t *down = fakebb_find(r->bb, ENVELOPE_CONN_DOWN, old_id, from);
    assert_non_null(down->ctl);
    print_message("conn %u down: %s\n", old_id, down->ctl->reason);
    if (!strstr(down->ctl->reason, reason))
        fail_msg("CONN_DOWN reason \"%s\", expected one with \"%s\"", down->ctl->reason, reason);
    assert_true(same_streams(up->ctl, down->ctl)); /* the streams this drop interrupted */

    assert_true(fakebb_wait_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, down->index, 1, 10000));
    const fakebb_frame_t *next = fakebb_find(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, down->index);
    assert_true(next->conn_id > old_id);
    assert_true(same_streams(up->ctl, next->ctl));
    int64_t after_ms = (next->recv_ts_ns - down->recv_ts_ns) / 1000000;
    print_message("conn %u up %lld ms after the CONN_DOWN\n", next->conn_id, (long long)after_ms);
    assert_true(after_ms >= 300); /* reconnect_base_ms 500 - 20 % jitter, less some slack */
    assert_true(fakebb_wait(r->bb, 10000, up_delivers, (void *)next));

    /* No storm: nothing more goes down or comes up while it settles. */
    simtest_sleep_ms(SETTLE_MS);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0), 2);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0), 1);
    cJSON *hb = fakebb_wait_status(r->bb, 3000, NULL, NULL);
    assert_non_null(hb);
    const cJSON *c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "connect_attempts"), 2);
    assert_int_equal((int)fakebb_counter(c, "reconnects"), 1);
    assert_int_equal((int)fakebb_counter(c, "connections_running"), 1);
    const cJSON *slot = slot_of(c, next->conn_id);
    assert_non_null(slot);
    char path[64];
    snprintf(path, sizeof path, "reconnects.%s", counter);
    assert_int_equal((int)fakebb_counter(slot, path), 1);
    cJSON_Delete(hb);
    assert_true(collectorproc_alive(r->col));
    rig_assert_clean(r);
}

static void drop_ends_in_one_reconnect(void **state)
{
    static const char *const sets[] = {BASIC_SETS, NULL};
    rig_t *r = rig_start(state, NULL, sets);
    wait_streams(r, 6);
    size_t from = fakebb_count(r->bb);
    assert_int_equal(simtest_fault(r->sim, SPOT, "name=drop"), 200);
    assert_one_reconnect(r, 1, from, "connection lost", "lost", 10000);
}

static void stall_makes_the_connection_stale_and_it_is_replaced(void **state)
{
    static const char *const sets[] = {BASIC_SETS, "collector.stale_after_s=2", NULL};
    rig_t *r = rig_start(state, NULL, sets);
    wait_streams(r, 6);
    size_t from = fakebb_count(r->bb);
    /* Every symbol silent for 4 s: stale after 2 s (checked once a second), and the stall is
       over before the replacement could be stale in its turn. */
    assert_int_equal(simtest_fault(r->sim, SPOT, "name=stall&ms=4000"), 200);
    assert_one_reconnect(r, 1, from, "stale: no message for", "stale", 6000);
}

static void missing_pongs_end_in_one_reconnect(void **state)
{
    static const char *const sim_args[] = {"--ping-interval-ms", "300", "--pong-timeout-ms", "1000",
                                           NULL};
    static const char *const sets[] = {BASIC_SETS, NULL};
    rig_t *r = rig_start(state, sim_args, sets);
    wait_streams(r, 6);
    /* The collector answers the sim's pings: the connection outlives several deadlines. */
    simtest_sleep_ms(2500);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0), 0);
    size_t from = fakebb_count(r->bb);
    assert_int_equal(simtest_fault(r->sim, SPOT, "name=ignore_pongs"), 200);
    assert_one_reconnect(r, 1, from, "server closed: 1008", "server_closed", 5000);
}

static void rotation_storm_reconnects_each_connection_once(void **state)
{
    static const char *const sets[] = {
        "markets.spot.symbols=BTCUSDT,ETHUSDT,BNBUSDT",
        "markets.spot.channels.trade=false",
        "markets.spot.channels.kline_intervals=[]",
        "collector.max_streams_per_connection=2",
        NULL,
    };
    rig_t *r = rig_start(state, NULL, sets);
    wait_streams(r, 6);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0), 3);
    size_t from = fakebb_count(r->bb);
    assert_int_equal(simtest_fault(r->sim, SPOT, "name=rotation_storm"), 200);

    /* Three connections lost, each with its CONN_DOWN … */
    assert_true(fakebb_wait_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, from, 3, 10000));
    for (uint32_t id = 1; id <= 3; id++) {
        const fakebb_frame_t *down = fakebb_find(r->bb, ENVELOPE_CONN_DOWN, id, from);
        assert_non_null(down);
        print_message("conn %u down: %s\n", id, down->ctl->reason);
        assert_non_null(strstr(down->ctl->reason, "server closed: 1001"));
        assert_int_equal(down->ctl->stream_count, 2);
    }
    /* … three replacements, together holding the six streams, each delivering … */
    assert_true(fakebb_wait_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, from, 3, 10000));
    size_t streams = 0;
    for (const fakebb_frame_t *up = fakebb_find(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, from); up;
         up = fakebb_find(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, up->index + 1)) {
        assert_true(up->conn_id > 3);
        streams += up->ctl->stream_count;
        assert_true(fakebb_wait(r->bb, 10000, up_delivers, (void *)up));
    }
    assert_int_equal(streams, 6);

    /* … and not one attempt more: one new connection per lost one. */
    simtest_sleep_ms(SETTLE_MS);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0), 6);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0), 3);
    cJSON *hb = fakebb_wait_status(r->bb, 3000, NULL, NULL);
    assert_non_null(hb);
    const cJSON *c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "connect_attempts"), 6);
    assert_int_equal((int)fakebb_counter(c, "connect_attempts_deferred"), 0);
    assert_int_equal((int)fakebb_counter(c, "reconnects"), 3);
    assert_int_equal((int)fakebb_counter(c, "connections_running"), 3);
    cJSON_Delete(hb);
    rig_assert_clean(r);
}

/* The sim's answer to one of our SUBSCRIBE messages: {"result":null,"id":N}. */
static bool is_answer(const fakebb_frame_t *f)
{
    return f->kind == ENVELOPE_WS_TEXT && strncmp(f->payload, "{\"result\"", 9) == 0;
}

typedef struct {
    const fakebb_frame_t *up; /* the connection that survives */
} survivor_t;

/* A connection that is up, has delivered every stream and has not gone down. */
static bool a_survivor(fakebb_t *bb, void *arg)
{
    survivor_t *s = arg;
    const fakebb_frame_t *last_up = NULL;
    for (const fakebb_frame_t *up = fakebb_find(bb, ENVELOPE_CONN_UP, UINT32_MAX, 0); up;
         up = fakebb_find(bb, ENVELOPE_CONN_UP, UINT32_MAX, up->index + 1))
        last_up = up;
    if (!last_up || fakebb_find(bb, ENVELOPE_CONN_DOWN, last_up->conn_id, last_up->index))
        return false;
    s->up = last_up;
    return all_deliver_after(bb, last_up);
}

static void message_rate_breach_slows_the_collector_until_it_stays_up(void **state)
{
    /* 60 symbols × 3 channels = 180 streams on one connection: two SUBSCRIBE messages (100
       streams each at most), sent faster than the sim's 1 message a second allows. */
    static const char *const sim_args[] = {"--symbols", "60", "--msg-rate-limit", "1", NULL};
    static const char *const sets[] = {
        "markets.spot.symbols=ALL",
        "markets.spot.channels.kline_intervals=[]",
        NULL,
    };
    rig_t *r = rig_start(state, sim_args, sets);

    /* Closed for it at least once … */
    assert_true(fakebb_wait_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0, 1, 10000));
    const fakebb_frame_t *down = fakebb_find(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0);
    print_message("conn %u down: %s\n", down->conn_id, down->ctl->reason);
    assert_non_null(strstr(down->ctl->reason, "1008"));
    assert_non_null(strstr(down->ctl->reason, "Too many requests"));
    assert_true(collectorproc_wait_log(r->col, "closed for sending too fast", 1, 3000));

    /* … then slower, until a connection stays: every stream delivers on it, and it is still up
       five seconds later. */
    survivor_t s = {0};
    assert_true(fakebb_wait(r->bb, 30000, a_survivor, &s));
    assert_int_equal(s.up->ctl->stream_count, 180);
    simtest_sleep_ms(5000);
    assert_null(fakebb_find(r->bb, ENVELOPE_CONN_DOWN, s.up->conn_id, 0));

    /* Its SUBSCRIBE messages went out at least a second apart (the sim's limit), which their
       answers show. */
    const fakebb_frame_t *answers[2] = {0};
    size_t k = 0, n = fakebb_count(r->bb);
    for (size_t i = s.up->index; i < n && k < 2; i++) {
        const fakebb_frame_t *f = fakebb_frame(r->bb, i);
        if (f->conn_id == s.up->conn_id && is_answer(f))
            answers[k++] = f;
    }
    assert_int_equal(k, 2);
    int64_t apart_ms = (answers[1]->recv_ts_ns - answers[0]->recv_ts_ns) / 1000000;
    size_t conns = fakebb_count_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0);
    print_message("%zu connections until one stayed (conn %u); its SUBSCRIBE answers %lld ms "
                  "apart\n",
                  conns, s.up->conn_id, (long long)apart_ms);
    assert_true(apart_ms >= 1000);
    assert_true(conns <= 5); /* halving the pace twice is enough for 1 message a second */
    cJSON *hb = fakebb_wait_status(r->bb, 3000, NULL, NULL);
    assert_non_null(hb);
    assert_int_equal((int)fakebb_counter(fakebb_counters(hb), "streams"), 180);
    assert_int_equal((int)fakebb_counter(fakebb_counters(hb), "connect_attempts"), (int)conns);
    cJSON_Delete(hb);
    rig_assert_clean(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(drop_ends_in_one_reconnect, rig_stop),
        cmocka_unit_test_teardown(stall_makes_the_connection_stale_and_it_is_replaced, rig_stop),
        cmocka_unit_test_teardown(missing_pongs_end_in_one_reconnect, rig_stop),
        cmocka_unit_test_teardown(rotation_storm_reconnects_each_connection_once, rig_stop),
        cmocka_unit_test_teardown(message_rate_breach_slows_the_collector_until_it_stays_up,
                                  rig_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
