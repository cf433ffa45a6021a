/*
 * test_collector_snapshots.c — proves that bookcast-collector serves depth snapshot requests
 * from the control bus as docs/collector.md ("Snapshots and the control bus") says, against
 * bookcast-sim:
 *   - a storm of 40 requests (limit 100, weight 5 each) with a budget of 120 a minute, 20 of it
 *     spent on exchangeInfo at start, gets 20 SNAPSHOT answers at once and holds the other 20
 *     back (rest.queued, rest.throttled_waits), never a 429; on SIGTERM the 20 held back come
 *     back as SNAPSHOT_ERROR "collector stopping", each request answered exactly once;
 *   - the sim's snapshot_429 comes back as SNAPSHOT_ERROR 429 with the exchange's body, and the
 *     next request waits out Retry-After (5 s) before it goes;
 *   - the same for snapshot_418, counted as a ban.
 * The budget is counted in wall-clock minutes (as Binance counts), so the storm keeps clear of
 * a minute's end (simtest_avoid_minute_boundary) and ends before the next minute could free it.
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
#define STORM 40
#define FIT 20 /* (120 - 20 for exchangeInfo) / 5 */
#define PUBLISH_TIMEOUT_MS 5000

/* exchangeInfo is the first REST request; the tests count weight from after it. */
static rig_t *rig_start_ready(void **state, const char *const *sim_args, const char *const *sets)
{
    rig_t *r = rig_start(state, sim_args, sets);
    assert_true(collectorproc_wait_log(r->col, "exchangeInfo lists", 1, 5000));
    return r;
}

static void request(rig_t *r, const char *symbol, unsigned limit, uint64_t id)
{
    char body[160];
    snprintf(body, sizeof body, "{\"symbol\":\"%s\",\"limit\":%u,\"request_id\":%" PRIu64 "}",
             symbol, limit, id);
    assert_int_equal(fakebb_publish(r->bb, "snapshot.spot", body, PUBLISH_TIMEOUT_MS), 0);
}

/* SNAPSHOT and SNAPSHOT_ERROR frames from index `from` on. */
static size_t answers(fakebb_t *bb, size_t from)
{
    return fakebb_count_kind(bb, ENVELOPE_SNAPSHOT, UINT32_MAX, from) +
           fakebb_count_kind(bb, ENVELOPE_SNAPSHOT_ERROR, UINT32_MAX, from);
}

typedef struct {
    size_t from, want;
} answers_t;

static bool enough_answers(fakebb_t *bb, void *arg)
{
    answers_t *a = arg;
    return answers(bb, a->from) >= a->want;
}

/* The answer to request `id` (SNAPSHOT or SNAPSHOT_ERROR) from index `from` on, or NULL. */
static const fakebb_frame_t *answer_to(fakebb_t *bb, uint64_t id, size_t from)
{
    size_t n = fakebb_count(bb);
    for (size_t i = from; i < n; i++) {
        const fakebb_frame_t *f = fakebb_frame(bb, i);
        if ((f->kind == ENVELOPE_SNAPSHOT || f->kind == ENVELOPE_SNAPSHOT_ERROR) &&
            f->request_id == id)
            return f;
    }
    return NULL;
}

/* A SNAPSHOT of BTCUSDT with `levels` bids and asks. */
static void assert_snapshot(const fakebb_frame_t *f, int levels)
{
    assert_int_equal(f->kind, ENVELOPE_SNAPSHOT);
    assert_int_equal(f->http_status, 200);
    assert_int_equal(f->conn_id, 0);
    assert_string_equal(f->symbol, "BTCUSDT");
    cJSON *root = cJSON_ParseWithLength(f->payload, f->payload_len);
    assert_non_null(root);
    uint64_t last;
    assert_true(simtest_u64(root, "lastUpdateId", &last));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "bids")), levels);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "asks")), levels);
    cJSON_Delete(root);
}

static bool rest_holds_the_rest(const cJSON *counters, void *arg)
{
    (void)arg;
    return fakebb_counter(counters, "rest.queued") >= STORM - FIT &&
           fakebb_counter(counters, "rest.throttled_waits") >= 1;
}

static void snapshot_storm_stays_under_the_weight_share(void **state)
{
    /* The whole test fits in one wall-clock minute. */
    simtest_avoid_minute_boundary(20);
    static const char *const sets[] = {
        "markets.spot.symbols=BTCUSDT",
        "markets.spot.channels.kline_intervals=[]",
        "markets.spot.rest_weight_limit=120",
        "markets.spot.rest_weight_share_pct=100",
        NULL,
    };
    rig_t *r = rig_start_ready(state, NULL, sets);
    size_t from = fakebb_count(r->bb);
    int64_t t0 = now_monotonic_ms();
    for (uint64_t id = 1; id <= STORM; id++)
        request(r, "BTCUSDT", 100, id);

    /* The 20 that fit come at once, in order, all of them snapshots. */
    answers_t a = {from, FIT};
    assert_true(fakebb_wait(r->bb, 10000, enough_answers, &a));
    int64_t fast_ms = now_monotonic_ms() - t0;
    for (uint64_t id = 1; id <= FIT; id++) {
        const fakebb_frame_t *f = answer_to(r->bb, id, from);
        assert_non_null(f);
        assert_snapshot(f, 100);
    }

    /* The rest wait for the next minute's budget. */
    cJSON *hb = fakebb_wait_status(r->bb, 5000, rest_holds_the_rest, NULL);
    if (!hb) {
        cJSON *last = fakebb_status(r->bb);
        char *text = last ? cJSON_PrintUnformatted(fakebb_counters(last)) : NULL;
        fail_msg("no heartbeat showed %d requests held back: %.600s", STORM - FIT,
                 text ? text : "(none)");
    }
    const cJSON *c = fakebb_counters(hb);
    print_message("%d answers in %lld ms; then rest: queued %.0f, throttled_waits %.0f, "
                  "weight_used %.0f of %.0f\n",
                  FIT, (long long)fast_ms, fakebb_counter(c, "rest.queued"),
                  fakebb_counter(c, "rest.throttled_waits"), fakebb_counter(c, "rest.weight_used"),
                  fakebb_counter(c, "rest.weight_budget"));
    assert_int_equal((int)fakebb_counter(c, "rest.queued"), STORM - FIT);
    assert_int_equal((int)fakebb_counter(c, "rest.weight_budget"), 120);
    assert_true(fakebb_counter(c, "rest.weight_used") <= 120);
    assert_int_equal((int)fakebb_counter(c, "rest.rate_limited"), 0);
    assert_int_equal((int)fakebb_counter(c, "rest.answered_4xx"), 0);
    assert_int_equal((int)fakebb_counter(c, "snapshot_requests"), STORM);
    cJSON_Delete(hb);
    assert_int_equal(answers(r->bb, from), FIT);

    /* Stopping answers each request still held: SNAPSHOT_ERROR, status 0, "collector
       stopping". Every request has exactly one answer. */
    assert_int_equal(collectorproc_terminate(r->col, 5000, NULL), 0);
    a.want = STORM;
    assert_true(fakebb_wait(r->bb, 3000, enough_answers, &a));
    assert_int_equal(answers(r->bb, from), STORM);
    for (uint64_t id = FIT + 1; id <= STORM; id++) {
        const fakebb_frame_t *f = answer_to(r->bb, id, from);
        assert_non_null(f);
        assert_int_equal(f->kind, ENVELOPE_SNAPSHOT_ERROR);
        assert_int_equal(f->http_status, 0);
        assert_string_equal(f->payload, "collector stopping");
        assert_null(answer_to(r->bb, id, f->index + 1));
    }
    rig_assert_clean(r);
}

static bool rest_blocked(const cJSON *counters, void *arg)
{
    (void)arg;
    return fakebb_counter(counters, "rest.blocked_until_ms") > 0 &&
           fakebb_counter(counters, "rest.queued") >= 1;
}

/* The fault `fault` makes request 1 fail with `status`; request 2, asked for at once, goes only
   after the Retry-After of 5 s, and is answered. Returns the last heartbeat (caller deletes). */
static cJSON *refusal_holds_the_next_request(rig_t *r, const char *fault, int status)
{
    assert_int_equal(simtest_fault(r->sim, SPOT, fault), 200);
    size_t from = fakebb_count(r->bb);
    request(r, "BTCUSDT", 100, 1);
    answers_t a = {from, 1};
    assert_true(fakebb_wait(r->bb, 10000, enough_answers, &a));
    const fakebb_frame_t *refused = answer_to(r->bb, 1, from);
    assert_non_null(refused);
    print_message("request 1: %s %d %s\n", envelope_kind_name(refused->kind), refused->http_status,
                  refused->payload);
    assert_int_equal(refused->kind, ENVELOPE_SNAPSHOT_ERROR);
    assert_int_equal(refused->http_status, status);
    assert_string_equal(refused->symbol, "BTCUSDT");
    assert_non_null(strstr(refused->payload, "-1003")); /* the exchange's body, as received */

    request(r, "BTCUSDT", 100, 2);
    cJSON *blocked = fakebb_wait_status(r->bb, 3000, rest_blocked, NULL);
    assert_non_null(blocked); /* held back, not sent */
    cJSON_Delete(blocked);
    a.want = 2;
    assert_true(fakebb_wait(r->bb, 15000, enough_answers, &a));
    const fakebb_frame_t *next = answer_to(r->bb, 2, from);
    assert_non_null(next);
    int64_t held_ms = (next->recv_ts_ns - refused->recv_ts_ns) / 1000000;
    print_message("request 2 answered %lld ms after the refusal\n", (long long)held_ms);
    assert_snapshot(next, 100);
    assert_true(held_ms >= 4900); /* Retry-After: 5 */
    assert_true(held_ms < 9000);
    cJSON *hb = fakebb_wait_status(r->bb, 3000, NULL, NULL);
    assert_non_null(hb);
    return hb;
}

static void snapshot_429_is_reported_and_retry_after_honoured(void **state)
{
    static const char *const sets[] = {"markets.spot.symbols=BTCUSDT",
                                       "markets.spot.channels.kline_intervals=[]", NULL};
    rig_t *r = rig_start_ready(state, NULL, sets);
    cJSON *hb = refusal_holds_the_next_request(r, "name=snapshot_429", 429);
    const cJSON *c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "rest.rate_limited"), 1);
    assert_int_equal((int)fakebb_counter(c, "rest.bans"), 0);
    assert_int_equal((int)fakebb_counter(c, "snapshot_errors"), 1);
    assert_int_equal((int)fakebb_counter(c, "snapshot_answers"), 1);
    cJSON_Delete(hb);
    rig_assert_clean(r);
}

static void snapshot_418_is_reported_and_the_ban_honoured(void **state)
{
    static const char *const sets[] = {"markets.spot.symbols=BTCUSDT",
                                       "markets.spot.channels.kline_intervals=[]", NULL};
    rig_t *r = rig_start_ready(state, NULL, sets);
    cJSON *hb = refusal_holds_the_next_request(r, "name=snapshot_418", 418);
    const cJSON *c = fakebb_counters(hb);
    assert_int_equal((int)fakebb_counter(c, "rest.bans"), 1);
    assert_int_equal((int)fakebb_counter(c, "rest.rate_limited"), 0);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(c, "rest"), "banned"))); /* the ban is over */
    assert_int_equal((int)fakebb_counter(c, "snapshot_errors"), 1);
    assert_int_equal((int)fakebb_counter(c, "snapshot_answers"), 1);
    cJSON_Delete(hb);
    rig_assert_clean(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(snapshot_storm_stays_under_the_weight_share, rig_stop),
        cmocka_unit_test_teardown(snapshot_429_is_reported_and_retry_after_honoured, rig_stop),
        cmocka_unit_test_teardown(snapshot_418_is_reported_and_the_ban_honoured, rig_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
