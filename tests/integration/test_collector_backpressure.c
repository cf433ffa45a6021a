/*
 * test_collector_backpressure.c — proves the collector's queue towards the bookbuilder
 * (docs/collector.md, "Back-pressure and overflow"), against bookcast-sim, with a fake
 * bookbuilder that binds its PULL socket only after the collector has been running a while:
 *   - within the bound (the default 64 MiB), a collector started before its bookbuilder loses
 *     nothing: every connection's frames arrive from seq 1 (CONN_UP) without a gap, including
 *     those received while nobody was there, and no OVERFLOW is sent;
 *   - past the bound (collector.queue_max_bytes=65536), data frames are dropped and reported:
 *     once the bookbuilder is there, an OVERFLOW frame names the streams that lost data and
 *     counts the frames dropped (the holes in seq, each after the OVERFLOW), CONN_UP frames
 *     were kept, and data flows again on every stream with no further loss.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPOT MARKET_SPOT
#define ABSENT_MS 3000 /* how long the bookbuilder stays away */

typedef struct {
    simproc_t *sim;
    fakebb_t *bb;
    collectorproc_t *col;
} rig_t;

/* Sim, a fake bookbuilder with its frame socket not bound yet, and the collector. */
static rig_t *rig_start(void **state, const char *const *sets)
{
    rig_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    *state = r;
    r->sim = simproc_start(NULL);
    assert_non_null(r->sim);
    r->bb = fakebb_new(false);
    assert_non_null(r->bb);
    collectorproc_opts_t o = {
        .sim = r->sim,
        .market = SPOT,
        .frames = fakebb_frames_endpoint(r->bb),
        .control = fakebb_control_endpoint(r->bb),
        .status = fakebb_status_endpoint(r->bb),
        .sets = sets,
    };
    r->col = collectorproc_start(&o);
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

static bool streams_seen(fakebb_t *bb, void *want)
{
    return fakebb_streams_seen(bb) >= *(size_t *)want;
}

/* The streams of every CONN_UP so far, as one list (the caller frees the array only). */
static size_t all_streams(fakebb_t *bb, const char **out, size_t max)
{
    size_t n = 0;
    for (const fakebb_frame_t *up = fakebb_find(bb, ENVELOPE_CONN_UP, UINT32_MAX, 0); up;
         up = fakebb_find(bb, ENVELOPE_CONN_UP, UINT32_MAX, up->index + 1))
        for (size_t i = 0; i < up->ctl->stream_count && n < max; i++)
            out[n++] = up->ctl->streams[i];
    return n;
}

static void collector_started_before_the_bookbuilder_loses_nothing_within_its_bound(void **state)
{
    static const char *const sets[] = {"markets.spot.symbols=BTCUSDT,ETHUSDT",
                                       "markets.spot.channels.kline_intervals=[]", NULL};
    rig_t *r = rig_start(state, sets);
    simtest_sleep_ms(ABSENT_MS);

    /* It has been receiving, and holding everything. */
    cJSON *hb = fakebb_wait_status(r->bb, 3000, NULL, NULL);
    assert_non_null(hb);
    const cJSON *c = fakebb_counters(hb);
    double held = fakebb_counter(c, "queue_frames");
    print_message("before the bookbuilder: ws_frames %.0f, queue_frames %.0f, frames_sent %.0f\n",
                  fakebb_counter(c, "ws_frames"), held, fakebb_counter(c, "frames_sent"));
    assert_true(held >= 20);
    assert_int_equal((int)fakebb_counter(c, "frames_sent"), 0);
    assert_int_equal((int)fakebb_counter(c, "frames_dropped"), 0);
    cJSON_Delete(hb);

    int64_t bound_ns = now_realtime_ns();
    assert_int_equal(fakebb_bind_frames(r->bb), 0);
    size_t six = 6;
    assert_true(fakebb_wait(r->bb, 10000, streams_seen, &six));
    simtest_sleep_ms(1000);

    /* From CONN_UP seq 1 on, no hole (the fake bookbuilder checks every frame), and a good part
       of it received before anyone was there to take it. */
    const fakebb_frame_t *first = fakebb_frame(r->bb, 0);
    assert_int_equal(first->kind, ENVELOPE_CONN_UP);
    assert_int_equal(first->seq, 1);
    size_t n = fakebb_count(r->bb), early = 0;
    for (size_t i = 0; i < n; i++)
        early += fakebb_frame(r->bb, i)->recv_ts_ns < bound_ns;
    print_message("%zu frames, %zu of them received before the bookbuilder bound\n", n, early);
    assert_true((double)early >= held);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_OVERFLOW, UINT32_MAX, 0), 0);
    if (fakebb_error_count(r->bb) || fakebb_gap_count(r->bb)) {
        fakebb_report(r->bb, 20);
        fail_msg("frames lost or out of order");
    }
}

static void queue_past_its_bound_sends_overflow_and_data_flows_again(void **state)
{
    static const char *const sets[] = {"markets.spot.symbols=ALL",
                                       "markets.spot.channels.kline_intervals=[]",
                                       "collector.queue_max_bytes=65536", NULL};
    rig_t *r = rig_start(state, sets);
    simtest_sleep_ms(ABSENT_MS);
    cJSON *hb = fakebb_wait_status(r->bb, 3000, NULL, NULL);
    assert_non_null(hb);
    const cJSON *c = fakebb_counters(hb);
    print_message("before the bookbuilder: queue_bytes %.0f, frames_dropped %.0f\n",
                  fakebb_counter(c, "queue_bytes"), fakebb_counter(c, "frames_dropped"));
    assert_true(fakebb_counter(c, "frames_dropped") > 0);
    assert_true(fakebb_counter(c, "queue_bytes") <= 65536 + 4096); /* + control frames */
    cJSON_Delete(hb);

    assert_int_equal(fakebb_bind_frames(r->bb), 0);
    assert_true(fakebb_wait_kind(r->bb, ENVELOPE_OVERFLOW, UINT32_MAX, 0, 1, 10000));
    const fakebb_frame_t *of = fakebb_find(r->bb, ENVELOPE_OVERFLOW, UINT32_MAX, 0);
    assert_non_null(of->ctl);
    print_message("OVERFLOW (frame %zu): %zu streams, %" PRIu64 " frames dropped\n", of->index,
                  of->ctl->stream_count, of->ctl->frames_dropped);

    /* It names streams the collector holds, every stream that lost data … */
    const char *streams[64];
    size_t stream_count = all_streams(r->bb, streams, 64);
    assert_int_equal(stream_count, 30);
    assert_true(of->ctl->stream_count > 0);
    for (size_t i = 0; i < of->ctl->stream_count; i++) {
        bool held = false;
        for (size_t k = 0; k < stream_count && !held; k++)
            held = strcmp(of->ctl->streams[i], streams[k]) == 0;
        if (!held)
            fail_msg("OVERFLOW names %s, which no connection holds", of->ctl->streams[i]);
    }

    /* … data flows again on every stream … */
    for (size_t k = 0; k < stream_count; k++) {
        int64_t deadline = now_monotonic_ms() + 10000;
        while (fakebb_stream_last(r->bb, streams[k]) == SIZE_MAX ||
               fakebb_stream_last(r->bb, streams[k]) < of->index) {
            if (now_monotonic_ms() > deadline)
                fail_msg("%s delivers nothing after the OVERFLOW", streams[k]);
            simtest_sleep_ms(20);
        }
    }
    simtest_sleep_ms(1000);

    /* … and the holes are exactly the frames it counted, each announced before it. CONN_UP
       frames were never dropped (the fake bookbuilder would have said so). */
    assert_int_equal(fakebb_error_count(r->bb), 0);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_OVERFLOW, UINT32_MAX, 0), 1);
    uint64_t missing = 0;
    for (size_t i = 0; i < fakebb_gap_count(r->bb); i++) {
        fakebb_gap_t g;
        assert_true(fakebb_gap(r->bb, i, &g));
        if (!g.overflow_announced || g.frame_index < of->index)
            fail_msg("conn %u: seq %" PRIu64 " expected, %" PRIu64 " came (frame %zu), not "
                     "after the OVERFLOW",
                     g.conn_id, g.expected, g.got, g.frame_index);
        missing += g.got - g.expected;
    }
    print_message("%zu gaps, %" PRIu64 " frames missing from the sequences\n",
                  fakebb_gap_count(r->bb), missing);
    assert_true(missing > 0);
    hb = fakebb_wait_status(r->bb, 3000, NULL, NULL);
    assert_non_null(hb);
    c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "overflow_frames"), 1);
    assert_int_equal((uint64_t)fakebb_counter(c, "frames_dropped"), of->ctl->frames_dropped);
    cJSON_Delete(hb);
    assert_int_equal(of->ctl->frames_dropped, missing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(
            collector_started_before_the_bookbuilder_loses_nothing_within_its_bound, rig_stop),
        cmocka_unit_test_teardown(queue_past_its_bound_sends_overflow_and_data_flows_again,
                                  rig_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
