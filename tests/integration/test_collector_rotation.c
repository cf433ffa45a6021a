/*
 * test_collector_rotation.c — proves that bookcast-collector replaces connections
 * make-before-break (docs/collector.md "Rotation", docs/frames.md "The OVERLAP flag"), against
 * bookcast-sim with a short connection age:
 *   - at collector.rotate_after_s the replacement comes up, subscribes and delivers before the
 *     old connection's CONN_DOWN (reason "rotation…", an empty stream list: its streams go on),
 *     long before the sim's age cut; both connections' frames carry OVERLAP exactly while both
 *     are open, and no depth update is lost or repeated without the flag;
 *   - spot's serverShutdown event makes it rotate at once, before the sim cuts the connection;
 *   - across a rotation of a busy @trade stream (50 taker orders a second), after dropping the
 *     OVERLAP frames whose trade id was already seen, the ids run from first to last with none
 *     missing and none twice, and the flag was set on some frames.
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

static bool same_streams(const envelope_control_t *a, const envelope_control_t *b)
{
    if (a->stream_count != b->stream_count)
        return false;
    for (size_t i = 0; i < a->stream_count; i++)
        if (!fakebb_ctl_has_stream(b, a->streams[i]))
            return false;
    return true;
}

/* ---- the bookbuilder's duplicate rule (docs/frames.md), per stream ------------------------- */

#define STREAMS_MAX 16

typedef struct {
    char name[128];
    uint64_t highest; /* the highest key applied */
    bool seen;
} keyed_t;

typedef struct {
    keyed_t v[STREAMS_MAX];
    size_t n;
    size_t applied, dropped_overlap, flagged;
} merge_t;

static keyed_t *keyed(merge_t *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].name, name) == 0)
            return &m->v[i];
    assert_true(m->n < STREAMS_MAX);
    keyed_t *k = &m->v[m->n++];
    snprintf(k->name, sizeof k->name, "%s", name);
    return k;
}

/* Writes the frames of `stream` among the 60 before frame `at` (and the control frames among
   them) to stderr, for a failure message. */
static void dump_around(fakebb_t *bb, const char *stream, size_t at)
{
    fprintf(stderr, "frames of %s and connection events before frame %zu:\n", stream, at);
    for (size_t i = at > 60 ? at - 60 : 0; i <= at; i++) {
        const fakebb_frame_t *f = fakebb_frame(bb, i);
        bool mine = f->kind == ENVELOPE_WS_TEXT && strcmp(f->stream, stream) == 0;
        if (!mine && f->kind == ENVELOPE_WS_TEXT)
            continue;
        fprintf(stderr, "  frame %zu %s conn %u seq %" PRIu64 "%s recv %" PRId64 " %.110s\n", i,
                envelope_kind_name(f->kind), f->conn_id, f->seq,
                (f->flags & ENVELOPE_FLAG_OVERLAP) ? " OVERLAP" : "", f->recv_ts_ns,
                mine ? f->payload + strlen(stream) + 20 : f->payload);
    }
}

/*
 * Merges every connection's frames in arrival order as a bookbuilder does: a frame flagged
 * OVERLAP whose key was already applied is a duplicate and dropped; any other frame must carry
 * the next id (depth: U = previous u + 1, trade: t = previous t + 1). Fails on a repeated key
 * without the flag, and on a hole.
 */
static void merge_all(fakebb_t *bb, merge_t *m)
{
    size_t n = fakebb_count(bb);
    for (size_t i = 0; i < n; i++) {
        const fakebb_frame_t *f = fakebb_frame(bb, i);
        if (f->kind != ENVELOPE_WS_TEXT || !f->stream[0])
            continue;
        if (f->flags & ENVELOPE_FLAG_OVERLAP)
            m->flagged++;
        cJSON *root = cJSON_ParseWithLength(f->payload, f->payload_len);
        assert_non_null(root);
        const cJSON *d = simtest_data(root, NULL);
        uint64_t first, key;
        bool is_depth = strstr(f->stream, "@depth") != NULL;
        bool ok = is_depth ? simtest_u64(d, "U", &first) && simtest_u64(d, "u", &key)
                           : simtest_u64(d, "t", &key);
        if (!is_depth)
            first = key;
        cJSON_Delete(root);
        if (!ok)
            continue; /* bookTicker and the like: not merged here */
        keyed_t *k = keyed(m, f->stream);
        if (k->seen && key <= k->highest) {
            if (f->flags & ENVELOPE_FLAG_OVERLAP) {
                m->dropped_overlap++;
                continue;
            }
            dump_around(bb, f->stream, i);
            fail_msg("%s: id %" PRIu64 " on conn %u (seq %" PRIu64
                     ", frame %zu) again, after %" PRIu64
                     ", without the OVERLAP flag: a duplicate the bookbuilder cannot drop",
                     f->stream, key, f->conn_id, f->seq, i, k->highest);
        }
        if (k->seen && first != k->highest + 1) {
            dump_around(bb, f->stream, i);
            fail_msg("%s: id %" PRIu64 " on conn %u (frame %zu) follows %" PRIu64 ": %" PRIu64
                     " ids missing",
                     f->stream, first, f->conn_id, i, k->highest, first - k->highest - 1);
        }
        k->highest = key;
        k->seen = true;
        m->applied++;
    }
}

/* ---- tests ---------------------------------------------------------------------------------- */

static bool streams_seen(fakebb_t *bb, void *want)
{
    return fakebb_streams_seen(bb) >= *(size_t *)want;
}

static void rotation_opens_the_replacement_before_closing_the_old(void **state)
{
    static const char *const sim_args[] = {"--max-age-s", "14", "--shutdown-notice-ms", "1000",
                                           NULL};
    static const char *const sets[] = {
        "markets.spot.symbols=BTCUSDT,ETHUSDT",
        "markets.spot.channels.kline_intervals=[]",
        "collector.rotate_after_s=5",
        NULL,
    };
    rig_t *r = rig_start(state, sim_args, sets);
    size_t six = 6;
    assert_true(fakebb_wait(r->bb, 15000, streams_seen, &six));
    assert_true(fakebb_wait_kind(r->bb, ENVELOPE_CONN_DOWN, 1, 0, 1, 15000));
    const fakebb_frame_t *up1 = fakebb_find(r->bb, ENVELOPE_CONN_UP, 1, 0);
    const fakebb_frame_t *down1 = fakebb_find(r->bb, ENVELOPE_CONN_DOWN, 1, 0);
    const fakebb_frame_t *up2 = fakebb_find(r->bb, ENVELOPE_CONN_UP, 2, 0);
    assert_non_null(up2);
    int64_t age_ms = (down1->recv_ts_ns - up1->recv_ts_ns) / 1000000;
    print_message("conn 1 down at age %lld ms: \"%s\" (%zu streams); conn 2 up %lld ms before\n",
                  (long long)age_ms, down1->ctl->reason, down1->ctl->stream_count,
                  (long long)((down1->recv_ts_ns - up2->recv_ts_ns) / 1000000));

    /* Make before break: the replacement came up first, with the same streams, at the
       configured age, and the old one was closed by the collector, not cut by the server. */
    assert_true(up2->index < down1->index);
    assert_true(same_streams(up1->ctl, up2->ctl));
    assert_true((up2->recv_ts_ns - up1->recv_ts_ns) / 1000000 >= 5000);
    assert_true(age_ms < 14000);
    assert_null(strstr(down1->ctl->reason, "server closed"));
    assert_non_null(strstr(down1->ctl->reason, "rotat"));

    /* The replacement had its SUBSCRIBE answered and delivered data before the switch. */
    bool answered = false, data = false;
    for (size_t i = up2->index; i < down1->index; i++) {
        const fakebb_frame_t *f = fakebb_frame(r->bb, i);
        if (f->conn_id != 2 || f->kind != ENVELOPE_WS_TEXT)
            continue;
        answered = answered || strncmp(f->payload, "{\"result\":null", 14) == 0;
        data = data || f->stream[0];
    }
    assert_true(answered);
    assert_true(data);

    /* OVERLAP (docs/frames.md): on both connections' frames while both are open, from the
       replacement's CONN_UP to the old connection's CONN_DOWN, and on no other frame; the old
       connection's CONN_DOWN names no stream, since they all continue on the replacement. */
    assert_int_equal(down1->ctl->stream_count, 0);
    simtest_sleep_ms(1000);
    size_t n = fakebb_count(r->bb), flagged = 0, unflagged_during = 0;
    for (size_t i = 0; i < n; i++) {
        const fakebb_frame_t *f = fakebb_frame(r->bb, i);
        if (f->kind != ENVELOPE_WS_TEXT)
            continue;
        bool overlap = f->flags & ENVELOPE_FLAG_OVERLAP;
        bool during = i > up2->index && i < down1->index;
        if (overlap && !during)
            fail_msg("frame %zu of conn %u is flagged OVERLAP outside the overlap", i,
                     (unsigned)f->conn_id);
        if (during) {
            flagged += overlap;
            unflagged_during += !overlap;
        }
    }
    print_message("conn 2 before conn 1's CONN_DOWN: %zu frames flagged, %zu not\n", flagged,
                  unflagged_during);
    assert_true(flagged > 0);

    /* Merged as the bookbuilder merges, depth loses nothing and repeats nothing unflagged. */
    merge_t m = {0};
    merge_all(r->bb, &m);
    print_message("%zu events applied, %zu overlap duplicates dropped\n", m.applied,
                  m.dropped_overlap);

    cJSON *hb = fakebb_wait_status(r->bb, 3000, NULL, NULL);
    assert_non_null(hb);
    const cJSON *c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "rotations"), 1);
    assert_int_equal((int)fakebb_counter(c, "connect_attempts"), 2);
    const cJSON *slot =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "connection_list"), 0);
    assert_int_equal((int)fakebb_counter(slot, "conn_id"), 2);
    assert_int_equal((int)fakebb_counter(slot, "reconnects.rotation"), 1);
    cJSON_Delete(hb);
    rig_assert_clean(r);

    /* The CONN_DOWN of a rotated connection invalidates no book: its streams go on on the
       replacement, so its list is empty (docs/frames.md, CONN_DOWN). */
    if (down1->ctl->stream_count != 0)
        fail_msg("the CONN_DOWN of rotated conn 1 names %zu streams (\"%s\"…); docs/frames.md: "
                 "\"When the connection was replaced by a rotation and its streams continue on "
                 "the replacement, the list is empty\"",
                 down1->ctl->stream_count, down1->ctl->streams[0]);
}

static bool is_server_shutdown(const fakebb_frame_t *f)
{
    return f->kind == ENVELOPE_WS_TEXT && strstr(f->payload, "\"serverShutdown\"") != NULL;
}

static void server_shutdown_event_rotates_before_the_cut(void **state)
{
    /* serverShutdown 5 s before an 8 s cut: at age 3 s. The collector's own rotation age stays
       at its default (23 h), so only the event can make it rotate. */
    static const char *const sim_args[] = {"--max-age-s", "8", "--shutdown-notice-ms", "5000",
                                           NULL};
    static const char *const sets[] = {
        "markets.spot.symbols=BTCUSDT,ETHUSDT",
        "markets.spot.channels.kline_intervals=[]",
        NULL,
    };
    rig_t *r = rig_start(state, sim_args, sets);
    assert_true(fakebb_wait_kind(r->bb, ENVELOPE_CONN_DOWN, 1, 0, 1, 12000));
    const fakebb_frame_t *up1 = fakebb_find(r->bb, ENVELOPE_CONN_UP, 1, 0);
    const fakebb_frame_t *down1 = fakebb_find(r->bb, ENVELOPE_CONN_DOWN, 1, 0);
    const fakebb_frame_t *up2 = fakebb_find(r->bb, ENVELOPE_CONN_UP, 2, 0);
    int64_t age_ms = (down1->recv_ts_ns - up1->recv_ts_ns) / 1000000;
    print_message("conn 1 down at age %lld ms: \"%s\"\n", (long long)age_ms, down1->ctl->reason);

    /* The event was forwarded like any text message … */
    const fakebb_frame_t *notice = NULL;
    for (size_t i = up1->index; i < down1->index && !notice; i++)
        if (fakebb_frame(r->bb, i)->conn_id == 1 && is_server_shutdown(fakebb_frame(r->bb, i)))
            notice = fakebb_frame(r->bb, i);
    assert_non_null(notice);
    /* … and answered by a rotation: the replacement up after it and before the old one's end,
       which the collector closed itself, well before the 8 s cut. */
    assert_non_null(up2);
    assert_true(notice->index < up2->index);
    assert_true(up2->index < down1->index);
    assert_true(same_streams(up1->ctl, up2->ctl));
    assert_null(strstr(down1->ctl->reason, "server closed"));
    assert_non_null(strstr(down1->ctl->reason, "rotat"));
    assert_true(age_ms < 7000);
    assert_true(collectorproc_log_count(r->col, "serverShutdown: rotating now") >= 1);

    cJSON *hb = fakebb_wait_status(r->bb, 3000, NULL, NULL);
    assert_non_null(hb);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(fakebb_counters(hb), "connection_list");
    assert_int_equal(cJSON_GetArraySize(list), 1);
    assert_true(fakebb_counter(cJSON_GetArrayItem(list, 0), "reconnects.server_shutdown") >= 1);
    cJSON_Delete(hb);
    rig_assert_clean(r);
}

static void rotation_loses_and_duplicates_no_trade_id(void **state)
{
    static const char *const sim_args[] = {"--trade-rate",         "50",   "--max-age-s", "14",
                                           "--shutdown-notice-ms", "1000", NULL};
    static const char *const sets[] = {
        "markets.spot.symbols=BTCUSDT",
        "markets.spot.channels.depth=false",
        "markets.spot.channels.book_ticker=false",
        "markets.spot.channels.trade=true",
        "markets.spot.channels.kline_intervals=[]",
        "collector.rotate_after_s=5",
        NULL,
    };
    rig_t *r = rig_start(state, sim_args, sets);
    assert_true(fakebb_wait_kind(r->bb, ENVELOPE_CONN_DOWN, 1, 0, 1, 15000));
    simtest_sleep_ms(1500); /* trades well past the switch */
    const fakebb_frame_t *down1 = fakebb_find(r->bb, ENVELOPE_CONN_DOWN, 1, 0);
    print_message("conn 1 down: %s\n", down1->ctl->reason);
    assert_non_null(strstr(down1->ctl->reason, "rotat"));
    assert_non_null(fakebb_find(r->bb, ENVELOPE_CONN_UP, 2, 0));

    merge_t m = {0};
    merge_all(r->bb, &m); /* fails on a missing or repeated trade id */
    print_message("%zu trades in order from both connections, %zu flagged, %zu overlap "
                  "duplicates dropped\n",
                  m.applied, m.flagged, m.dropped_overlap);
    assert_int_equal(m.n, 1);
    assert_true(m.applied > 200);
    assert_true(m.flagged > 0);
    rig_assert_clean(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(rotation_opens_the_replacement_before_closing_the_old, rig_stop),
        cmocka_unit_test_teardown(server_shutdown_event_rotates_before_the_cut, rig_stop),
        cmocka_unit_test_teardown(rotation_loses_and_duplicates_no_trade_id, rig_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
