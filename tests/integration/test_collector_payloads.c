/*
 * test_collector_payloads.c — proves that what the exchange sends is forwarded untouched, and
 * that no payload, however broken or large, is fatal (docs/collector.md; docs/frames.md,
 * WS_TEXT):
 *   - the sim's malformed (not JSON), truncated (a frame cut in half), wrong_types (a depth
 *     event with JSON types Binance never sends) and oversized (3 MB) frames each arrive as one
 *     WS_TEXT frame whose payload is exactly what the sim wrote; they are counted (ws_frames,
 *     ws_bytes), nothing is dropped or fails to encode, and the connection and the process go on;
 *   - a message over the 16 MiB a frame can carry (the sim sends 20 MB) is dropped, logged and
 *     reported with an OVERFLOW frame naming every stream of its connection; the connection
 *     stays up and data flows again after the OVERFLOW.
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
#define OVERSIZED_BYTES 3000000
#define OVER_LIMIT_BYTES 20000000

static const char *const btc_sets[] = {"markets.spot.symbols=BTCUSDT",
                                       "markets.spot.channels.kline_intervals=[]", NULL};

static bool streams_seen(fakebb_t *bb, void *want)
{
    return fakebb_streams_seen(bb) >= *(size_t *)want;
}

typedef bool (*frame_test_fn)(const fakebb_frame_t *f);

typedef struct {
    size_t next;
    frame_test_fn test;
    const fakebb_frame_t *found;
} search_t;

static bool search(fakebb_t *bb, void *arg)
{
    search_t *s = arg;
    size_t n = fakebb_count(bb);
    for (; s->next < n && !s->found; s->next++) {
        const fakebb_frame_t *f = fakebb_frame(bb, s->next);
        if (f->kind == ENVELOPE_WS_TEXT && s->test(f))
            s->found = f;
    }
    return s->found != NULL;
}

/* Fires `fault` and returns the first WS_TEXT frame after it that `test` accepts. */
static const fakebb_frame_t *fault_and_find(rig_t *r, const char *fault, frame_test_fn test)
{
    search_t s = {fakebb_count(r->bb), test, NULL};
    assert_int_equal(simtest_fault(r->sim, SPOT, fault), 200);
    if (!fakebb_wait(r->bb, 10000, search, &s))
        fail_msg("no frame of fault %s arrived", fault);
    return s.found;
}

static bool parses(const fakebb_frame_t *f)
{
    cJSON *root = cJSON_ParseWithLength(f->payload, f->payload_len);
    cJSON_Delete(root);
    return root != NULL;
}

/* The payload the sim writes for `data` injected on a combined connection (server.c). */
static char *wrapped(const fakebb_frame_t *f, const char *data)
{
    size_t cap = strlen(f->stream) + strlen(data) + 32;
    char *text = malloc(cap);
    assert_non_null(text);
    snprintf(text, cap, "{\"stream\":\"%s\",\"data\":%s}", f->stream, data);
    return text;
}

static void assert_payload_is(const fakebb_frame_t *f, const char *data)
{
    char *want = wrapped(f, data);
    assert_int_equal(f->payload_len, strlen(want));
    assert_memory_equal(f->payload, want, f->payload_len);
    free(want);
}

static const char malformed[] = "{\"e\":\"depthUpdate\",\"E\":17,\"s\":";
static const char wrong_types[] = "{\"e\":\"depthUpdate\",\"E\":\"1700000000000\",\"s\":7,"
                                  "\"U\":\"x\",\"u\":-1,\"pu\":null,\"b\":{\"p\":1},"
                                  "\"a\":\"none\"}";

static bool is_malformed(const fakebb_frame_t *f)
{
    return strstr(f->payload, malformed) != NULL;
}

static bool is_truncated(const fakebb_frame_t *f)
{
    return f->stream[0] && !parses(f) && !is_malformed(f);
}

static bool is_wrong_types(const fakebb_frame_t *f)
{
    return strstr(f->payload, "\"U\":\"x\"") != NULL;
}

static bool is_oversized(const fakebb_frame_t *f)
{
    return f->payload_len >= OVERSIZED_BYTES;
}

static bool up_to_date(const cJSON *counters, void *min_frames)
{
    return fakebb_counter(counters, "ws_frames") >= (double)*(size_t *)min_frames;
}

static void malformed_truncated_wrong_types_and_oversized_are_forwarded_untouched(void **state)
{
    rig_t *r = rig_start(state, NULL, btc_sets);
    size_t three = 3;
    assert_true(fakebb_wait(r->bb, 15000, streams_seen, &three));

    const fakebb_frame_t *f = fault_and_find(r, "name=malformed", is_malformed);
    assert_false(parses(f));
    assert_payload_is(f, malformed);

    f = fault_and_find(r, "name=truncated", is_truncated);
    print_message("truncated frame: %zu bytes, %.60s…\n", f->payload_len, f->payload);
    assert_false(parses(f));

    f = fault_and_find(r, "name=wrong_types", is_wrong_types);
    assert_true(parses(f));
    assert_payload_is(f, wrong_types);

    char fault[64];
    snprintf(fault, sizeof fault, "name=oversized&bytes=%d", OVERSIZED_BYTES);
    f = fault_and_find(r, fault, is_oversized);
    assert_true(parses(f));
    static const char head[] = "{\"e\":\"depthUpdate\",\"pad\":\"";
    char *data = malloc(OVERSIZED_BYTES + 1);
    assert_non_null(data);
    size_t pad = OVERSIZED_BYTES - (sizeof head - 1) - 2;
    memcpy(data, head, sizeof head - 1);
    memset(data + sizeof head - 1, 'x', pad);
    memcpy(data + sizeof head - 1 + pad, "\"}", 3);
    assert_payload_is(f, data);
    free(data);
    size_t oversized_index = f->index;

    /* Nothing fatal: the connection delivers on every stream afterwards, is never closed, and
       the collector counted what it received without dropping or failing anything. */
    simtest_sleep_ms(1500);
    static const char *const streams[] = {"btcusdt@depth@100ms", "btcusdt@trade",
                                          "btcusdt@bookTicker"};
    for (size_t i = 0; i < 3; i++) {
        size_t last = fakebb_stream_last(r->bb, streams[i]);
        assert_true(last != SIZE_MAX && last > oversized_index);
    }
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0), 0);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0), 1);
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_OVERFLOW, UINT32_MAX, 0), 0);
    size_t texts = fakebb_count_kind(r->bb, ENVELOPE_WS_TEXT, UINT32_MAX, 0);
    cJSON *hb = fakebb_wait_status(r->bb, 5000, up_to_date, &texts);
    assert_non_null(hb);
    const cJSON *c = fakebb_counters(hb);
    assert_true(fakebb_counter(c, "ws_bytes") >= OVERSIZED_BYTES);
    assert_int_equal((int)fakebb_counter(c, "encode_errors"), 0);
    assert_int_equal((int)fakebb_counter(c, "frames_dropped"), 0);
    assert_int_equal((int)fakebb_counter(c, "overflow_frames"), 0);
    assert_int_equal((int)fakebb_counter(c, "reconnects"), 0);
    cJSON_Delete(hb);
    assert_true(collectorproc_alive(r->col));
    if (fakebb_error_count(r->bb) || fakebb_gap_count(r->bb)) {
        fakebb_report(r->bb, 20);
        fail_msg("frame errors or sequence gaps");
    }
}

static void message_over_16_mib_is_dropped_logged_and_reported_as_overflow(void **state)
{
    rig_t *r = rig_start(state, NULL, btc_sets);
    size_t three = 3;
    assert_true(fakebb_wait(r->bb, 15000, streams_seen, &three));
    const fakebb_frame_t *up = fakebb_find(r->bb, ENVELOPE_CONN_UP, UINT32_MAX, 0);
    size_t from = fakebb_count(r->bb);
    char fault[64];
    snprintf(fault, sizeof fault, "name=oversized&bytes=%d", OVER_LIMIT_BYTES);
    assert_int_equal(simtest_fault(r->sim, SPOT, fault), 200);

    /* Reported: one OVERFLOW naming every stream of the connection … */
    assert_true(fakebb_wait_kind(r->bb, ENVELOPE_OVERFLOW, UINT32_MAX, from, 1, 15000));
    const fakebb_frame_t *of = fakebb_find(r->bb, ENVELOPE_OVERFLOW, UINT32_MAX, from);
    assert_non_null(of->ctl);
    print_message("OVERFLOW: %zu streams, %" PRIu64 " frames dropped\n", of->ctl->stream_count,
                  of->ctl->frames_dropped);
    assert_int_equal(of->conn_id, 0);
    assert_true(of->ctl->frames_dropped >= 1);
    assert_int_equal(of->ctl->stream_count, up->ctl->stream_count);
    for (size_t i = 0; i < up->ctl->stream_count; i++)
        assert_true(fakebb_ctl_has_stream(of->ctl, up->ctl->streams[i]));
    /* … and logged. */
    assert_true(collectorproc_wait_log(r->col, "dropped a message over 16777216 bytes", 1, 3000));

    /* Never forwarded; not fatal: the same connection delivers again after the OVERFLOW. */
    for (size_t i = 0; i < fakebb_count(r->bb); i++)
        assert_true(fakebb_frame(r->bb, i)->payload_len <= ENVELOPE_MAX_PAYLOAD);
    assert_true(fakebb_wait_kind(r->bb, ENVELOPE_WS_TEXT, up->conn_id, of->index, 10, 10000));
    assert_int_equal(fakebb_count_kind(r->bb, ENVELOPE_CONN_DOWN, UINT32_MAX, 0), 0);
    assert_true(collectorproc_alive(r->col));
    cJSON *hb = fakebb_wait_status(r->bb, 3000, NULL, NULL);
    assert_non_null(hb);
    assert_int_equal((int)fakebb_counter(fakebb_counters(hb), "overflow_frames"), 1);
    assert_true(fakebb_counter(fakebb_counters(hb), "frames_dropped") >= 1);
    cJSON_Delete(hb);

    /* Frames dropped with it (until the OVERFLOW went out) leave a hole in seq, announced by
       the OVERFLOW before it. */
    assert_int_equal(fakebb_error_count(r->bb), 0);
    uint64_t missing = 0;
    for (size_t i = 0; i < fakebb_gap_count(r->bb); i++) {
        fakebb_gap_t g;
        assert_true(fakebb_gap(r->bb, i, &g));
        if (!g.overflow_announced)
            fail_msg("conn %u: seq %" PRIu64 " expected, %" PRIu64 " came, no OVERFLOW before",
                     g.conn_id, g.expected, g.got);
        missing += g.got - g.expected;
    }
    /* frames_dropped counts frames (docs/frames.md): the oversized message, which never became
       a frame and has no seq, plus the frames missing from the sequence. */
    if (of->ctl->frames_dropped != missing + 1)
        fail_msg("OVERFLOW says %" PRIu64 " frames dropped; the sequence misses %" PRIu64
                 " frames, plus the one oversized message makes %" PRIu64
                 " (the connection holds %zu streams)",
                 of->ctl->frames_dropped, missing, missing + 1, up->ctl->stream_count);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(
            malformed_truncated_wrong_types_and_oversized_are_forwarded_untouched, rig_stop),
        cmocka_unit_test_teardown(message_over_16_mib_is_dropped_logged_and_reported_as_overflow,
                                  rig_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
