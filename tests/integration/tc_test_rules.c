/*
 * tc_test_rules.c — self-test of the parts of bookcast-testclient that judge the sim: the local
 * book, Binance's sync rules, the truth comparison and the JSON readers. The test client is the
 * reference the sim's and the collector's integration tests trust, so its rules are tested the
 * way the issue tracker's bugs happened (binance-protocol.md §7): stale snapshots, straddling
 * first events, futures' pu continuity, gaps, duplicates, levels beyond the snapshot's depth.
 * Built as its own program (not part of bookcast-testclient); no sockets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tc_book.h"
#include "tc_check.h"
#include "tc_depth.h"
#include "tc_sync.h"

/* ---- helpers --------------------------------------------------------------------------------- */

static dec_t dec(const char *text)
{
    dec_t d = {0};
    assert_int_equal(dec_parse(text, strlen(text), 0, &d), DEC_OK);
    return d;
}

/* Fills `list` from "price=qty,price=qty" ("" for none). */
static void levels(tc_levels_t *list, const char *spec)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *item = strtok_r(buf, ",", &save); item != NULL;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        assert_non_null(eq);
        *eq = '\0';
        assert_int_equal(tc_levels_push(list, dec(item), dec(eq + 1)), 0);
    }
}

#define NO_PU UINT64_MAX

static tc_depth_event_t event(uint64_t first, uint64_t last, uint64_t pu, const char *bids,
                              const char *asks)
{
    tc_depth_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.first_id = first;
    ev.last_id = last;
    ev.has_prev_last_id = pu != NO_PU;
    ev.prev_last_id = pu == NO_PU ? 0 : pu;
    levels(&ev.bids, bids);
    levels(&ev.asks, asks);
    return ev;
}

static tc_step_t feed(tc_sync_t *sync, uint64_t first, uint64_t last, uint64_t pu, const char *bids,
                      const char *asks)
{
    tc_depth_event_t ev = event(first, last, pu, bids, asks);
    tc_step_result_t result;
    tc_step_t step = tc_sync_on_event(sync, &ev, &result);
    tc_depth_event_free(&ev);
    return step;
}

static tc_step_t snapshot(tc_sync_t *sync, uint64_t id, const char *bids, const char *asks,
                          size_t depth_limit, tc_step_result_t *result)
{
    tc_book_json_t snap;
    memset(&snap, 0, sizeof snap);
    snap.update_id = id;
    levels(&snap.bids, bids);
    levels(&snap.asks, asks);
    tc_step_result_t ignored;
    tc_step_t step = tc_sync_on_snapshot(sync, &snap, depth_limit, result ? result : &ignored);
    tc_book_json_free(&snap);
    return step;
}

/* Asserts the side holds exactly `spec`, best first. */
static void check_side(const tc_side_t *side, const char *spec, const char *file, int line)
{
    tc_levels_t want = {0};
    levels(&want, spec);
    bool same = want.n == side->levels.n;
    for (size_t i = 0; same && i < want.n; i++)
        same = dec_cmp(want.v[i].price, side->levels.v[i].price) == 0 &&
               dec_cmp(want.v[i].qty, side->levels.v[i].qty) == 0;
    if (!same) {
        print_error("side has %zu levels, expected \"%s\"\n", side->levels.n, spec);
        for (size_t i = 0; i < side->levels.n; i++) {
            char p[DEC_STRLEN], q[DEC_STRLEN];
            dec_format(side->levels.v[i].price, p);
            dec_format(side->levels.v[i].qty, q);
            print_error("  [%zu] %s=%s\n", i, p, q);
        }
        tc_levels_free(&want);
        _fail(file, line);
    }
    tc_levels_free(&want);
}
#define assert_side(side, spec) check_side(side, spec, __FILE__, __LINE__)

/* ---- the book -------------------------------------------------------------------------------- */

static void book_keeps_sides_sorted_best_first(void **state)
{
    (void)state;
    tc_book_t book;
    tc_book_init(&book);
    assert_int_equal(tc_side_set(&book.bids, dec("100"), dec("1")), 0);
    assert_int_equal(tc_side_set(&book.bids, dec("101.5"), dec("2")), 0);
    assert_int_equal(tc_side_set(&book.bids, dec("99"), dec("3")), 0);
    assert_int_equal(tc_side_set(&book.asks, dec("103"), dec("1")), 0);
    assert_int_equal(tc_side_set(&book.asks, dec("102"), dec("2")), 0);
    assert_side(&book.bids, "101.5=2,100=1,99=3");
    assert_side(&book.asks, "102=2,103=1");
    tc_book_free(&book);
}

static void book_quantity_is_absolute_and_zero_removes(void **state)
{
    (void)state;
    tc_book_t book;
    tc_book_init(&book);
    tc_side_set(&book.bids, dec("100"), dec("1"));
    tc_side_set(&book.bids, dec("100"), dec("0.5"));
    assert_side(&book.bids, "100=0.5");
    tc_side_set(&book.bids, dec("100.00000000"), dec("0.00000000"));
    assert_side(&book.bids, "");
    tc_book_free(&book);
}

static void book_removing_an_absent_level_is_a_no_op(void **state)
{
    (void)state;
    tc_book_t book;
    tc_book_init(&book);
    tc_side_set(&book.asks, dec("10"), dec("1"));
    assert_int_equal(tc_side_set(&book.asks, dec("11"), dec("0")), 0);
    assert_int_equal(tc_side_set(&book.asks, dec("9"), dec("0")), 0);
    assert_side(&book.asks, "10=1");
    tc_book_free(&book);
}

/* ---- spot rules ------------------------------------------------------------------------------ */

static void spot_first_event_straddles_snapshot(void **state)
{
    (void)state;
    tc_sync_t *sync = tc_sync_new(TC_RULES_SPOT);
    assert_int_equal(feed(sync, 98, 100, NO_PU, "10=1", ""), TC_STEP_BUFFERED);
    assert_int_equal(feed(sync, 101, 104, NO_PU, "10=2", ""), TC_STEP_BUFFERED);
    assert_int_equal(feed(sync, 105, 105, NO_PU, "", "12=7"), TC_STEP_BUFFERED);
    assert_int_equal(tc_sync_state(sync), TC_SYNC_NEED_SNAPSHOT);
    tc_step_result_t result;
    /* 98..100 is covered by snapshot 102 and dropped; 101..104 straddles 103 = 102+1 */
    assert_int_equal(snapshot(sync, 102, "10=5,9=1", "12=1", 1000, &result), TC_STEP_SYNCED);
    assert_int_equal(result.snapshot_id, 102);
    assert_int_equal(result.buffered, 3);
    assert_int_equal(result.applied, 2);
    assert_int_equal(tc_sync_book_id(sync), 105);
    assert_side(&tc_sync_book(sync)->bids, "10=2,9=1");
    assert_side(&tc_sync_book(sync)->asks, "12=7");
    assert_int_equal(feed(sync, 106, 106, NO_PU, "9=0", ""), TC_STEP_APPLIED);
    assert_side(&tc_sync_book(sync)->bids, "10=2");
    tc_sync_destroy(&sync);
}

static void spot_event_ending_at_snapshot_is_dropped(void **state)
{
    (void)state;
    tc_sync_t *sync = tc_sync_new(TC_RULES_SPOT);
    feed(sync, 100, 102, NO_PU, "10=9", "");
    tc_step_result_t result;
    assert_int_equal(snapshot(sync, 102, "10=1", "", 1000, &result), TC_STEP_SYNCED);
    assert_int_equal(result.applied, 0);
    assert_side(&tc_sync_book(sync)->bids, "10=1");
    assert_int_equal(feed(sync, 103, 103, NO_PU, "10=3", ""), TC_STEP_APPLIED);
    assert_side(&tc_sync_book(sync)->bids, "10=3");
    tc_sync_destroy(&sync);
}

static void spot_snapshot_older_than_buffer_is_fetched_again(void **state)
{
    (void)state;
    tc_sync_t *sync = tc_sync_new(TC_RULES_SPOT);
    feed(sync, 200, 201, NO_PU, "10=1", "");
    tc_step_result_t result;
    assert_int_equal(snapshot(sync, 198, "10=5", "", 1000, &result), TC_STEP_SNAPSHOT_OLD);
    assert_int_equal(tc_sync_state(sync), TC_SYNC_NEED_SNAPSHOT);
    assert_int_equal(tc_sync_buffered(sync), 1); /* the buffer is kept across retries */
    feed(sync, 202, 202, NO_PU, "11=1", "");
    /* lastUpdateId 199 is exactly one before U = 200: valid, not old */
    assert_int_equal(snapshot(sync, 199, "10=5", "", 1000, &result), TC_STEP_SYNCED);
    assert_int_equal(result.applied, 2);
    assert_side(&tc_sync_book(sync)->bids, "11=1,10=1");
    tc_sync_destroy(&sync);
}

static void spot_gap_discards_book_and_keeps_the_breaking_event(void **state)
{
    (void)state;
    tc_sync_t *sync = tc_sync_new(TC_RULES_SPOT);
    feed(sync, 10, 10, NO_PU, "", "");
    snapshot(sync, 10, "5=1", "6=1", 1000, NULL);
    assert_int_equal(feed(sync, 11, 12, NO_PU, "5=2", ""), TC_STEP_APPLIED);
    assert_int_equal(feed(sync, 14, 15, NO_PU, "5=3", ""), TC_STEP_RESYNC); /* 13 missing */
    assert_int_equal(tc_sync_state(sync), TC_SYNC_NEED_SNAPSHOT);
    assert_int_equal(tc_sync_buffered(sync), 1);
    assert_side(&tc_sync_book(sync)->bids, "");
    feed(sync, 16, 16, NO_PU, "4=1", "");
    tc_step_result_t result;
    assert_int_equal(snapshot(sync, 14, "5=7", "6=1", 1000, &result), TC_STEP_SYNCED);
    assert_int_equal(result.applied, 2);
    assert_side(&tc_sync_book(sync)->bids, "5=3,4=1");
    tc_sync_destroy(&sync);
}

static void spot_gap_inside_buffer_forces_another_snapshot(void **state)
{
    (void)state;
    tc_sync_t *sync = tc_sync_new(TC_RULES_SPOT);
    feed(sync, 10, 11, NO_PU, "", "");
    feed(sync, 14, 15, NO_PU, "", ""); /* 12..13 lost before the snapshot */
    tc_step_result_t result;
    assert_int_equal(snapshot(sync, 10, "1=1", "", 1000, &result), TC_STEP_RESYNC);
    assert_int_equal(tc_sync_buffered(sync), 1);
    assert_int_equal(snapshot(sync, 14, "1=1", "", 1000, &result), TC_STEP_SYNCED);
    assert_int_equal(tc_sync_book_id(sync), 15);
    tc_sync_destroy(&sync);
}

static void spot_first_live_event_must_reach_past_snapshot(void **state)
{
    (void)state;
    tc_sync_t *sync = tc_sync_new(TC_RULES_SPOT);
    feed(sync, 10, 10, NO_PU, "", "");
    assert_int_equal(snapshot(sync, 20, "1=1", "", 1000, NULL), TC_STEP_SYNCED);
    assert_int_equal(feed(sync, 15, 19, NO_PU, "1=9", ""), TC_STEP_IGNORED);
    assert_int_equal(feed(sync, 23, 25, NO_PU, "1=9", ""), TC_STEP_RESYNC); /* 21..22 lost */
    tc_sync_destroy(&sync);

    sync = tc_sync_new(TC_RULES_SPOT);
    feed(sync, 10, 10, NO_PU, "", "");
    snapshot(sync, 20, "1=1", "", 1000, NULL);
    assert_int_equal(feed(sync, 18, 22, NO_PU, "1=9", ""), TC_STEP_APPLIED);
    assert_side(&tc_sync_book(sync)->bids, "1=9");
    tc_sync_destroy(&sync);
}

static void spot_duplicate_event_is_ignored(void **state)
{
    (void)state;
    tc_sync_t *sync = tc_sync_new(TC_RULES_SPOT);
    feed(sync, 1, 1, NO_PU, "", "");
    snapshot(sync, 1, "1=1", "", 1000, NULL);
    assert_int_equal(feed(sync, 2, 3, NO_PU, "1=2", ""), TC_STEP_APPLIED);
    tc_depth_event_t dup = event(2, 3, NO_PU, "1=5", "");
    tc_step_result_t result;
    assert_int_equal(tc_sync_on_event(sync, &dup, &result), TC_STEP_IGNORED);
    assert_non_null(strstr(result.reason, "stale"));
    tc_depth_event_free(&dup);
    assert_side(&tc_sync_book(sync)->bids, "1=2");
    assert_int_equal(feed(sync, 4, 4, NO_PU, "", ""), TC_STEP_APPLIED);
    tc_sync_destroy(&sync);
}

/* ---- futures rules --------------------------------------------------------------------------- */

static void futures_first_event_may_continue_snapshot_by_pu(void **state)
{
    (void)state;
    tc_sync_t *sync = tc_sync_new(TC_RULES_FUTURES);
    /* ids are global: this symbol's event after snapshot 500 starts at 507, pu proves 500 */
    feed(sync, 507, 510, 500, "1=2", "");
    tc_step_result_t result;
    assert_int_equal(snapshot(sync, 500, "1=1", "", 1000, &result), TC_STEP_SYNCED);
    assert_int_equal(result.applied, 1);
    assert_int_equal(feed(sync, 520, 530, 510, "1=3", ""), TC_STEP_APPLIED);
    assert_side(&tc_sync_book(sync)->bids, "1=3");
    tc_sync_destroy(&sync);
}

static void futures_keeps_event_ending_at_snapshot(void **state)
{
    (void)state;
    tc_sync_t *sync = tc_sync_new(TC_RULES_FUTURES);
    feed(sync, 90, 95, 80, "1=7", "");
    feed(sync, 96, 100, 95, "1=8", "");
    tc_step_result_t result;
    /* drop u < 100 only: the event ending at 100 straddles U <= 100 <= u */
    assert_int_equal(snapshot(sync, 100, "1=1", "", 1000, &result), TC_STEP_SYNCED);
    assert_int_equal(result.applied, 1);
    assert_side(&tc_sync_book(sync)->bids, "1=8");
    tc_sync_destroy(&sync);
}

static void futures_broken_pu_resyncs(void **state)
{
    (void)state;
    tc_sync_t *sync = tc_sync_new(TC_RULES_FUTURES);
    feed(sync, 90, 110, 80, "", "");
    snapshot(sync, 100, "1=1", "", 1000, NULL);
    assert_int_equal(feed(sync, 111, 120, 110, "", ""), TC_STEP_APPLIED);
    /* contiguous U would be fine on spot; on futures only pu counts */
    assert_int_equal(feed(sync, 121, 130, 119, "", ""), TC_STEP_RESYNC);
    tc_sync_destroy(&sync);
}

static void futures_snapshot_older_than_buffer_is_fetched_again(void **state)
{
    (void)state;
    tc_sync_t *sync = tc_sync_new(TC_RULES_FUTURES);
    feed(sync, 507, 510, 503, "", "");
    assert_int_equal(snapshot(sync, 500, "1=1", "", 1000, NULL), TC_STEP_SNAPSHOT_OLD);
    assert_int_equal(snapshot(sync, 503, "1=1", "", 1000, NULL), TC_STEP_SYNCED);
    tc_sync_destroy(&sync);
}

static void reset_forgets_book_and_buffer(void **state)
{
    (void)state;
    tc_sync_t *sync = tc_sync_new(TC_RULES_SPOT);
    feed(sync, 1, 1, NO_PU, "", "");
    snapshot(sync, 1, "1=1", "", 1000, NULL);
    tc_sync_reset(sync);
    assert_int_equal(tc_sync_state(sync), TC_SYNC_WAITING);
    assert_int_equal(tc_sync_buffered(sync), 0);
    assert_side(&tc_sync_book(sync)->bids, "");
    tc_sync_destroy(&sync);
}

/* ---- the comparison -------------------------------------------------------------------------- */

static void compare(tc_sync_t *sync, size_t k, const char *truth_bids, const char *truth_asks,
                    tc_check_result_t *result)
{
    tc_check_view_t view;
    assert_int_equal(tc_check_capture(tc_sync_book(sync), tc_sync_book_id(sync), k, &view), 0);
    tc_levels_t bids = {0}, asks = {0};
    levels(&bids, truth_bids);
    levels(&asks, truth_asks);
    tc_check_compare(&view, &bids, &asks, k, result);
    tc_levels_free(&bids);
    tc_levels_free(&asks);
    tc_check_view_free(&view);
}

static tc_sync_t *synced_book(const char *bids, const char *asks, size_t depth_limit)
{
    tc_sync_t *sync = tc_sync_new(TC_RULES_SPOT);
    feed(sync, 1, 1, NO_PU, "", "");
    assert_int_equal(snapshot(sync, 1, bids, asks, depth_limit, NULL), TC_STEP_SYNCED);
    return sync;
}

static void check_equal_books_compare_equal(void **state)
{
    (void)state;
    tc_sync_t *sync = synced_book("10=1,9=2", "11=1", 1000);
    tc_check_result_t result;
    compare(sync, 100, "10.0=1.00,9=2", "11=1", &result);
    assert_true(result.equal);
    assert_int_equal(result.bids_compared, 2);
    assert_int_equal(result.asks_compared, 1);
    tc_sync_destroy(&sync);
}

static void check_reports_first_difference(void **state)
{
    (void)state;
    tc_sync_t *sync = synced_book("10=1,9=2", "11=1", 1000);
    tc_check_result_t result;
    compare(sync, 100, "10=1,9=2.00000001", "11=1", &result);
    assert_false(result.equal);
    assert_string_equal(result.difference, "bids[1] local 9 x 2, truth 9 x 2.00000001");
    compare(sync, 100, "10=1,9=2", "11=1,12=1", &result);
    assert_false(result.equal);
    assert_string_equal(result.difference, "asks[1] local none, truth 12 x 1");
    compare(sync, 100, "10=1", "11=1", &result);
    assert_false(result.equal);
    assert_string_equal(result.difference, "bids[1] local 9 x 2, truth none");
    tc_sync_destroy(&sync);
}

static void check_ignores_levels_beyond_a_full_snapshot(void **state)
{
    (void)state;
    /* a depth-2 snapshot came back full: prices below 9 are unknown to the book */
    tc_sync_t *sync = synced_book("10=1,9=2", "11=1,12=1", 2);
    feed(sync, 2, 2, NO_PU, "10=0", "");
    tc_check_result_t result;
    compare(sync, 100, "9=2,8=5,7=1", "11=1,12=1,13=4", &result);
    assert_true(result.equal);
    assert_int_equal(result.bids_compared, 1);
    assert_int_equal(result.asks_compared, 2);
    tc_sync_destroy(&sync);
}

static void check_compares_at_most_k_levels(void **state)
{
    (void)state;
    tc_sync_t *sync = synced_book("10=1,9=2,8=1", "", 1000);
    tc_check_result_t result;
    compare(sync, 2, "10=1,9=2,8=999", "", &result);
    assert_true(result.equal);
    assert_int_equal(result.bids_compared, 2);
    tc_sync_destroy(&sync);
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static void parse_combined_spot_event(void **state)
{
    (void)state;
    const char *json = "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\","
                       "\"E\":1,\"s\":\"BTCUSDT\",\"U\":157,\"u\":160,\"b\":[[\"0.0024\",\"10\"]],"
                       "\"a\":[[\"0.0026\",\"0.00000000\"]]}}";
    tc_depth_event_t ev;
    char err[256];
    assert_int_equal(
        tc_depth_parse_event(json, strlen(json), "BTCUSDT", false, &ev, err, sizeof err),
        TC_PARSE_DEPTH);
    assert_int_equal(ev.first_id, 157);
    assert_int_equal(ev.last_id, 160);
    assert_false(ev.has_prev_last_id);
    assert_int_equal(ev.bids.n, 1);
    assert_int_equal(ev.bids.v[0].price.units, 240000);
    assert_true(dec_is_zero(ev.asks.v[0].qty));
    tc_depth_event_free(&ev);
}

static void parse_raw_futures_event_needs_pu(void **state)
{
    (void)state;
    const char *with_pu = "{\"e\":\"depthUpdate\",\"s\":\"BTCUSDT\",\"U\":2438903173774,"
                          "\"u\":2438903173780,\"pu\":2438903173700,\"b\":[],\"a\":[]}";
    const char *without = "{\"e\":\"depthUpdate\",\"s\":\"BTCUSDT\",\"U\":1,\"u\":2,\"b\":[],"
                          "\"a\":[]}";
    tc_depth_event_t ev;
    char err[256];
    assert_int_equal(
        tc_depth_parse_event(with_pu, strlen(with_pu), "BTCUSDT", true, &ev, err, sizeof err),
        TC_PARSE_DEPTH);
    assert_int_equal(ev.prev_last_id, 2438903173700ULL);
    tc_depth_event_free(&ev);
    assert_int_equal(
        tc_depth_parse_event(without, strlen(without), "BTCUSDT", true, &ev, err, sizeof err),
        TC_PARSE_BAD);
}

static void parse_rejects_inexact_values(void **state)
{
    (void)state;
    const char *cases[] = {
        "{\"e\":\"depthUpdate\",\"s\":\"X\",\"U\":1,\"u\":2,\"b\":[[\"1e-8\",\"1\"]],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"s\":\"X\",\"U\":1,\"u\":2,\"b\":[[1.5,\"1\"]],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"s\":\"X\",\"U\":1,\"u\":2,\"b\":[[\"1.000000001\",\"1\"]],"
        "\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"s\":\"X\",\"U\":1.5,\"u\":2,\"b\":[],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"s\":\"X\",\"U\":1,\"u\":18014398509481984,\"b\":[],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"s\":\"X\",\"U\":3,\"u\":2,\"b\":[],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"s\":\"Y\",\"U\":1,\"u\":2,\"b\":[],\"a\":[]}",
        "{\"e\":\"depthUpdate\",\"s\":\"X\",\"U\":1,\"u\":2,\"b\":[],\"a\":[}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tc_depth_event_t ev;
        char err[256];
        tc_parse_t parsed =
            tc_depth_parse_event(cases[i], strlen(cases[i]), "X", false, &ev, err, sizeof err);
        if (parsed != TC_PARSE_BAD) {
            print_error("case %zu was accepted: %s\n", i, cases[i]);
            fail();
        }
    }
}

static void parse_ignores_control_replies(void **state)
{
    (void)state;
    const char *json = "{\"result\":null,\"id\":1}";
    tc_depth_event_t ev;
    char err[256];
    assert_int_equal(tc_depth_parse_event(json, strlen(json), "X", false, &ev, err, sizeof err),
                     TC_PARSE_OTHER);
}

static void parse_truth_checks_order_and_symbol(void **state)
{
    (void)state;
    const char *good = "{\"symbol\":\"BTCUSDT\",\"update_id\":7,\"bids\":[[\"2\",\"1\"],[\"1\","
                       "\"1\"]],\"asks\":[[\"3\",\"1\"]]}";
    const char *unsorted = "{\"symbol\":\"BTCUSDT\",\"update_id\":7,\"bids\":[[\"1\",\"1\"],"
                           "[\"2\",\"1\"]],\"asks\":[]}";
    tc_book_json_t book;
    char err[256];
    assert_int_equal(
        tc_depth_parse_book(good, strlen(good), "update_id", "BTCUSDT", &book, err, sizeof err), 0);
    assert_int_equal(book.update_id, 7);
    assert_int_equal(book.bids.n, 2);
    tc_book_json_free(&book);
    assert_int_equal(
        tc_depth_parse_book(good, strlen(good), "update_id", "ETHUSDT", &book, err, sizeof err),
        -1);
    assert_int_equal(
        tc_depth_parse_book(unsorted, strlen(unsorted), "update_id", NULL, &book, err, sizeof err),
        -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(book_keeps_sides_sorted_best_first),
        cmocka_unit_test(book_quantity_is_absolute_and_zero_removes),
        cmocka_unit_test(book_removing_an_absent_level_is_a_no_op),
        cmocka_unit_test(spot_first_event_straddles_snapshot),
        cmocka_unit_test(spot_event_ending_at_snapshot_is_dropped),
        cmocka_unit_test(spot_snapshot_older_than_buffer_is_fetched_again),
        cmocka_unit_test(spot_gap_discards_book_and_keeps_the_breaking_event),
        cmocka_unit_test(spot_gap_inside_buffer_forces_another_snapshot),
        cmocka_unit_test(spot_first_live_event_must_reach_past_snapshot),
        cmocka_unit_test(spot_duplicate_event_is_ignored),
        cmocka_unit_test(futures_first_event_may_continue_snapshot_by_pu),
        cmocka_unit_test(futures_keeps_event_ending_at_snapshot),
        cmocka_unit_test(futures_broken_pu_resyncs),
        cmocka_unit_test(futures_snapshot_older_than_buffer_is_fetched_again),
        cmocka_unit_test(reset_forgets_book_and_buffer),
        cmocka_unit_test(check_equal_books_compare_equal),
        cmocka_unit_test(check_reports_first_difference),
        cmocka_unit_test(check_ignores_levels_beyond_a_full_snapshot),
        cmocka_unit_test(check_compares_at_most_k_levels),
        cmocka_unit_test(parse_combined_spot_event),
        cmocka_unit_test(parse_raw_futures_event_needs_pu),
        cmocka_unit_test(parse_rejects_inexact_values),
        cmocka_unit_test(parse_ignores_control_replies),
        cmocka_unit_test(parse_truth_checks_order_and_symbol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
