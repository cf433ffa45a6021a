/*
 * test_collector_delivery.c — proves that bookcast-collector delivers, and stops, as
 * docs/collector.md and docs/frames.md say, against bookcast-sim over TLS on loopback:
 *   - 600 streams (200 symbols × depth, trade, bookTicker) packed into 3 connections of at most
 *     200 arrive complete and in order: every stream delivers, every WS_TEXT payload is the JSON
 *     the sim sent, seq runs without a gap on every connection, and each stream's own ids
 *     (depth U/u, trade t) run without a hole, so no frame was lost between sim and bookbuilder;
 *   - a configured symbol the exchange does not list is reported at start (log line, status
 *     counter unknown_symbols) and the others run;
 *   - SIGTERM closes every connection (CONN_DOWN frames arrive, naming their streams) and the
 *     process exits 0 within 2 s.
 * Each test starts its own sim, fake bookbuilder (fakebb.h) and collector (collectorproc.h), and
 * stops them by pid in the teardown, which also runs when the test fails.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPOT MARKET_SPOT

/* No malformed frame, no broken sequence, no lost frame on the way. */

/* ---- a small map from a stream name to the last id seen on it ------------------------------ */

typedef struct {
    char name[96];
    uint64_t last;
    bool used;
} idslot_t;

typedef struct {
    idslot_t *v;
    size_t cap;
} idmap_t;

static idslot_t *idmap_get(idmap_t *m, const char *name)
{
    if (!m->v) {
        m->cap = 4096;
        m->v = calloc(m->cap, sizeof *m->v);
        assert_non_null(m->v);
    }
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (size_t i = h & (m->cap - 1), n = 0; n < m->cap; i = (i + 1) & (m->cap - 1), n++) {
        if (!m->v[i].name[0]) {
            snprintf(m->v[i].name, sizeof m->v[i].name, "%s", name);
            return &m->v[i];
        }
        if (strcmp(m->v[i].name, name) == 0)
            return &m->v[i];
    }
    fail_msg("idmap full");
    return NULL;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static bool all_streams_seen(fakebb_t *bb, void *want)
{
    return fakebb_streams_seen(bb) >= *(size_t *)want;
}

static void frames_of_600_streams_arrive_complete_and_in_order(void **state)
{
    static const char *const sim_args[] = {"--symbols", "200", "--book-rate", "10", NULL};
    static const char *const sets[] = {
        "markets.spot.symbols=ALL",
        "markets.spot.channels.depth=true",
        "markets.spot.channels.depth_speed_ms=100",
        "markets.spot.channels.trade=true",
        "markets.spot.channels.book_ticker=true",
        "markets.spot.channels.agg_trade=false",
        "markets.spot.channels.kline_intervals=[]",
        "collector.max_streams_per_connection=200",
        NULL,
    };
    rig_t *r = rig_start(state, sim_args, sets);
    size_t want = 600;
    bool all = fakebb_wait(r->bb, 60000, all_streams_seen, &want);
    if (!all)
        fail_msg("only %zu of 600 streams delivered within 60 s", fakebb_streams_seen(r->bb));
    simtest_sleep_ms(2000); /* more events per stream for the id checks */
    assert_true(collectorproc_alive(r->col));

    /* Three connections, never more than 200 streams each, together the 600, none replaced. */
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0), 3);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0), 0);
    idmap_t owner = {0};
    size_t streams_total = 0;
    for (const fakebb_frame_t *f = fakebb_find(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0); f;
         f = fakebb_find(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, f->index + 1)) {
        assert_non_null(f->ctl);
        assert_true(f->ctl->stream_count <= 200);
        for (size_t i = 0; i < f->ctl->stream_count; i++) {
            idslot_t *s = idmap_get(&owner, f->ctl->streams[i]);
            if (s->used)
                fail_msg("stream %s on two connections", f->ctl->streams[i]);
            s->used = true;
            s->last = f->conn_id;
            streams_total++;
        }
    }
    assert_int_equal(streams_total, 600);

    /* Every payload is JSON; every stream event came on the connection that holds its stream;
       depth U/u and trade ids run on without a hole per stream. */
    idmap_t last = {0};
    size_t n = fakebb_count(r->bb), texts = 0, depth_events = 0, trade_events = 0;
    for (size_t i = 0; i < n; i++) {
        const fakebb_frame_t *f = fakebb_frame(r->bb, i);
        assert_int_equal(f->flags, 0);
        if (f->kind != ENVELOPE_WS_TEXT)
            continue;
        texts++;
        cJSON *root = cJSON_ParseWithLength(f->payload, f->payload_len);
        if (!root)
            fail_msg("frame %zu (conn %u seq %" PRIu64 ") is not JSON: %.200s", i, f->conn_id,
                     f->seq, f->payload);
        const char *stream = NULL;
        const cJSON *d = simtest_data(root, &stream);
        if (stream) {
            idslot_t *o = idmap_get(&owner, stream);
            if (!o->used || o->last != f->conn_id)
                fail_msg("frame %zu of %s came on conn %u, which does not hold it", i, stream,
                         f->conn_id);
            uint64_t U, u, t;
            idslot_t *s = idmap_get(&last, stream);
            if (strstr(stream, "@depth") && simtest_u64(d, "U", &U) && simtest_u64(d, "u", &u)) {
                if (s->used && U != s->last + 1)
                    fail_msg("%s: U %" PRIu64 " after u %" PRIu64 ": a depth event is missing",
                             stream, U, s->last);
                s->last = u;
                s->used = true;
                depth_events++;
            } else if (strstr(stream, "@trade") && simtest_u64(d, "t", &t)) {
                if (s->used && t != s->last + 1)
                    fail_msg("%s: trade %" PRIu64 " after %" PRIu64 ": a trade is missing", stream,
                             t, s->last);
                s->last = t;
                s->used = true;
                trade_events++;
            }
        }
        cJSON_Delete(root);
    }
    print_message("%zu WS_TEXT frames, %zu depth events, %zu trades\n", texts, depth_events,
                  trade_events);
    assert_true(depth_events > 1000);
    assert_true(trade_events > 200);
    free(owner.v);
    free(last.v);
    rig_assert_clean(r);
}

static bool status_has_unknown(const cJSON *counters, void *arg)
{
    (void)arg;
    return fakebb_counter(counters, "unknown_symbols") >= 0 &&
           fakebb_counter(counters, "streams") > 0;
}

static void unknown_configured_symbol_is_reported_and_the_others_run(void **state)
{
    static const char *const sets[] = {
        "markets.spot.symbols=BTCUSDT,NOPEUSDT,ETHUSDT",
        "markets.spot.channels.kline_intervals=[]",
        NULL,
    };
    rig_t *r = rig_start(state, NULL, sets);
    assert_true(collectorproc_wait_log(r->col, "symbol NOPEUSDT is not a trading symbol", 1, 5000));
    cJSON *hb = fakebb_wait_status(r->bb, 5000, status_has_unknown, NULL);
    assert_non_null(hb);
    const cJSON *c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "unknown_symbols"), 1);
    assert_int_equal((int)fakebb_counter(c, "streams"), 6); /* 2 symbols × depth, trade, ticker */
    cJSON_Delete(hb);

    /* The others run: every stream of BTCUSDT and ETHUSDT delivers, nothing names NOPEUSDT. */
    static const char *const streams[] = {"btcusdt@depth@100ms", "btcusdt@trade",
                                          "btcusdt@bookTicker",  "ethusdt@depth@100ms",
                                          "ethusdt@trade",       "ethusdt@bookTicker"};
    size_t want = 6;
    assert_true(fakebb_wait(r->bb, 15000, all_streams_seen, &want));
    for (size_t i = 0; i < 6; i++)
        assert_true(fakebb_stream_frames(r->bb, streams[i]) > 0);
    const fakebb_frame_t *up = fakebb_find(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0);
    assert_non_null(up);
    assert_int_equal(up->ctl->stream_count, 6);
    for (size_t i = 0; i < up->ctl->stream_count; i++)
        assert_null(strstr(up->ctl->streams[i], "nope"));
    assert_true(collectorproc_alive(r->col));
    rig_assert_clean(r);
}

static bool two_streams_each_conn(fakebb_t *bb, void *arg)
{
    (void)arg;
    return fakebb_streams_seen(bb) >= 6;
}

static void sigterm_closes_connections_and_exits_0_within_2_s(void **state)
{
    static const char *const sets[] = {
        "markets.spot.symbols=BTCUSDT,ETHUSDT,BNBUSDT",
        "markets.spot.channels.kline_intervals=[]",
        "collector.max_streams_per_connection=2",
        NULL,
    };
    rig_t *r = rig_start(state, NULL, sets);
    /* 9 streams in 5 connections; wait until data flows on them. */
    assert_true(fakebb_wait(r->bb, 15000, two_streams_each_conn, NULL));
    size_t ups = fakebb_count_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0);
    assert_int_equal(ups, 5);

    int64_t took = 0;
    int status = collectorproc_terminate(r->col, 5000, &took);
    print_message("exit status %d after %lld ms\n", status, (long long)took);

    /* Every connection's CONN_DOWN arrived, last on its connection, naming its streams. */
    if (!fakebb_wait_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0, ups, 2000))
        fail_msg("%zu of %zu CONN_DOWN frames arrived; the collector ended with %d (-1: by a "
                 "signal) after %lld ms",
                 fakebb_count_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0), ups, status,
                 (long long)took);
    for (const fakebb_frame_t *up = fakebb_find(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0); up;
         up = fakebb_find(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, up->index + 1)) {
        const fakebb_frame_t *down = fakebb_find(r->bb, ENVELOPE_CONN_DOWN, up->conn_id, 0);
        assert_non_null(down);
        assert_non_null(down->ctl);
        assert_non_null(strstr(down->ctl->reason, "collector stopping"));
        assert_int_equal(down->ctl->stream_count, up->ctl->stream_count);
        for (size_t i = 0; i < up->ctl->stream_count; i++)
            assert_true(fakebb_ctl_has_stream(down->ctl, up->ctl->streams[i]));
        assert_null(fakebb_find(r->bb, 0, up->conn_id, down->index + 1));
    }
    rig_assert_clean(r);
    /* …and the process ended cleanly, in time, with nothing left behind. */
    assert_int_equal(collectorproc_log_count(r->col, "frames could not be handed"), 0);
    assert_true(collectorproc_log_count(r->col, "collector stopped") == 1);
    assert_int_equal(status, 0);
    assert_true(took < 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(frames_of_600_streams_arrive_complete_and_in_order, rig_stop),
        cmocka_unit_test_teardown(unknown_configured_symbol_is_reported_and_the_others_run,
                                  rig_stop),
        cmocka_unit_test_teardown(sigterm_closes_connections_and_exits_0_within_2_s, rig_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
