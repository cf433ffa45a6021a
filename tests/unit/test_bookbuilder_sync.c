/*
 * test_bookbuilder_sync.c — Binance's snapshot + diff rules (binance-protocol.md §4) on
 * hand-made sequences of depth events and snapshots, one behaviour a test.
 *
 * Update ids are small numbers chosen so that each sequence reads like the rule it checks: a book
 * synced "at 10" has lastUpdateId 10, and a spot event [11..12] is the next one. Every event
 * carries levels of its own, so a test can tell from the book which events were applied, and
 * events that should be dropped carry quantities that would show if they were not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sync.h"

/* ---- helpers --------------------------------------------------------------------------------- */

/* One side of an event or snapshot: "price", "qty" pairs, NULL-terminated. */
typedef const char *const *side_spec_t;
#define SIDE(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

#define MAX_TEST_LEVELS 16
#define WINDOW_NS 1000000 /* a reorder window of 1 ms */

static dec_t D(const char *s)
{
    dec_t d = {0};
    assert_int_equal(dec_parse(s, strlen(s), 0, &d), DEC_OK);
    return d;
}

static uint8_t places_of(const char *s)
{
    const char *dot = strchr(s, '.');
    return dot ? (uint8_t)strlen(dot + 1) : 0;
}

/* Fills out[] from spec and raises *price_places / *qty_places to the most digits seen, as the
   parser does. Returns the number of levels. */
static size_t fill_levels(parse_level_t *out, side_spec_t spec, uint8_t *price_places,
                          uint8_t *qty_places)
{
    size_t n = 0;
    for (; spec[2 * n]; n++) {
        assert_true(n < MAX_TEST_LEVELS);
        assert_non_null(spec[2 * n + 1]);
        out[n] = (parse_level_t){D(spec[2 * n]), D(spec[2 * n + 1])};
        if (places_of(spec[2 * n]) > *price_places)
            *price_places = places_of(spec[2 * n]);
        if (places_of(spec[2 * n + 1]) > *qty_places)
            *qty_places = places_of(spec[2 * n + 1]);
    }
    return n;
}

/* Feeds the depth event [U..u] (with pu when has_pu) received at recv_ns. Its event time is
   u * 10 ms and its transaction time one less, so sync_last_applied can be checked. */
static sync_event_result_t feed(sync_t *s, uint64_t U, uint64_t u, bool has_pu, uint64_t pu,
                                side_spec_t bids, side_spec_t asks, int64_t recv_ns)
{
    parse_level_t b[MAX_TEST_LEVELS], a[MAX_TEST_LEVELS];
    depth_event_t ev = {
        .first_id = U,
        .last_id = u,
        .prev_id = has_pu ? pu : 0,
        .has_prev_id = has_pu,
        .event_ms = (int64_t)u * 10,
        .txn_ms = has_pu ? (int64_t)u * 10 - 1 : 0,
        .bids = b,
        .asks = a,
    };
    ev.bid_count = fill_levels(b, bids, &ev.price_places, &ev.qty_places);
    ev.ask_count = fill_levels(a, asks, &ev.price_places, &ev.qty_places);
    sync_event_result_t r = sync_on_depth(s, &ev, recv_ns);
    /* The event is borrowed: whatever sync kept must survive the caller reusing its memory. */
    memset(b, 0xa5, sizeof b);
    memset(a, 0xa5, sizeof a);
    return r;
}

static sync_event_result_t spot(sync_t *s, uint64_t U, uint64_t u, side_spec_t bids,
                                side_spec_t asks)
{
    return feed(s, U, u, false, 0, bids, asks, 0);
}

static sync_event_result_t spot_at(sync_t *s, uint64_t U, uint64_t u, side_spec_t bids,
                                   side_spec_t asks, int64_t recv_ns)
{
    return feed(s, U, u, false, 0, bids, asks, recv_ns);
}

static sync_event_result_t fut(sync_t *s, uint64_t U, uint64_t u, uint64_t pu, side_spec_t bids,
                               side_spec_t asks)
{
    return feed(s, U, u, true, pu, bids, asks, 0);
}

static sync_snapshot_result_t snapshot(sync_t *s, uint64_t last_update_id, side_spec_t bids,
                                       side_spec_t asks)
{
    parse_level_t b[MAX_TEST_LEVELS], a[MAX_TEST_LEVELS];
    snapshot_t snap = {
        .last_update_id = last_update_id,
        .event_ms = (int64_t)last_update_id * 10,
        .txn_ms = (int64_t)last_update_id * 10 - 1,
        .bids = b,
        .asks = a,
    };
    snap.bid_count = fill_levels(b, bids, &snap.price_places, &snap.qty_places);
    snap.ask_count = fill_levels(a, asks, &snap.price_places, &snap.qty_places);
    sync_snapshot_result_t r = sync_on_snapshot(s, &snap);
    memset(b, 0xa5, sizeof b);
    memset(a, 0xa5, sizeof a);
    return r;
}

/* The book most tests start from: 100 / 101, one level behind each side. */
#define BOOK_BIDS SIDE("100", "1", "99", "1")
#define BOOK_ASKS SIDE("101", "1", "102", "1")

static sync_t *new_sync(sync_rules_t rules, size_t max_levels, size_t buffer_max_events,
                        int64_t reorder_window_ns, size_t reorder_max)
{
    sync_config_t cfg = {
        .rules = rules,
        .max_levels = max_levels,
        .buffer_max_events = buffer_max_events,
        .reorder_window_ns = reorder_window_ns,
        .reorder_max = reorder_max,
    };
    sync_t *s = sync_new(&cfg);
    assert_non_null(s);
    assert_int_equal(sync_state(s), SYNC_SYNCING);
    assert_int_equal(sync_reason(s), SYNC_REASON_START);
    return s;
}

/* A strict spot book (no reorder window). */
static sync_t *new_spot(void)
{
    return new_sync(SYNC_RULES_SPOT, 100, 1000, 0, 0);
}

static sync_t *new_futures(void)
{
    return new_sync(SYNC_RULES_FUTURES, 100, 1000, 0, 0);
}

/* A spot book synced at 10 from the standard book, with no event since. */
static void sync_spot_at_10(sync_t *s)
{
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_state(s), SYNC_SYNCED);
    assert_int_equal(sync_update_id(s), 10);
}

/* A futures book synced at 100 whose first event [95..105] has been applied: what follows is
   chained on pu == 105. */
static void sync_futures_at_105(sync_t *s)
{
    assert_int_equal(fut(s, 95, 105, 90, NONE, NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 100, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_state(s), SYNC_SYNCED);
    assert_int_equal(sync_update_id(s), 105);
}

static const char *side_name(book_side_t side)
{
    return side == BOOK_BID ? "bid" : "ask";
}

/* Checks that the side holds exactly the levels of spec, best first. */
static void check_side(const sync_t *s, book_side_t side, side_spec_t spec, const char *file,
                       int line)
{
    const book_t *book = sync_book(s);
    size_t n = 0;
    while (spec[2 * n])
        n++;
    if (book_depth(book, side) != n) {
        print_error("%s depth %zu, expected %zu\n", side_name(side), book_depth(book, side), n);
        _fail(file, line);
    }
    for (size_t i = 0; i < n; i++) {
        const book_level_t *got = book_level(book, side, i);
        dec_t price = D(spec[2 * i]), qty = D(spec[2 * i + 1]);
        if (got->price.units != price.units || got->qty.units != qty.units) {
            char gp[DEC_STRLEN], gq[DEC_STRLEN];
            dec_format(got->price, gp);
            dec_format(got->qty, gq);
            print_error("%s level %zu: expected %s@%s, got %s@%s\n", side_name(side), i,
                        spec[2 * i + 1], spec[2 * i], gq, gp);
            _fail(file, line);
        }
    }
}
#define assert_side(s, side, spec) check_side(s, side, spec, __FILE__, __LINE__)

static void check_empty_book(const sync_t *s, const char *file, int line)
{
    check_side(s, BOOK_BID, NONE, file, line);
    check_side(s, BOOK_ASK, NONE, file, line);
}
#define assert_empty_book(s) check_empty_book(s, __FILE__, __LINE__)

typedef struct {
    book_side_t side;
    const char *price, *qty;
} change_spec_t;
#define BID(price, qty)                                                                            \
    {                                                                                              \
        BOOK_BID, price, qty                                                                       \
    }
#define ASK(price, qty)                                                                            \
    {                                                                                              \
        BOOK_ASK, price, qty                                                                       \
    }

/* Checks that sync_changes lists exactly `want`, in order. */
static void check_changes(const sync_t *s, const change_spec_t *want, size_t n, const char *file,
                          int line)
{
    size_t count = 0;
    const sync_change_t *got = sync_changes(s, &count);
    if (count != n) {
        print_error("%zu changes, expected %zu\n", count, n);
        _fail(file, line);
    }
    for (size_t i = 0; i < n; i++) {
        dec_t price = D(want[i].price), qty = D(want[i].qty);
        if (got[i].side != want[i].side || got[i].price.units != price.units ||
            got[i].qty.units != qty.units) {
            char gp[DEC_STRLEN], gq[DEC_STRLEN];
            dec_format(got[i].price, gp);
            dec_format(got[i].qty, gq);
            print_error("change %zu: expected %s %s@%s, got %s %s@%s\n", i, side_name(want[i].side),
                        want[i].qty, want[i].price, side_name(got[i].side), gq, gp);
            _fail(file, line);
        }
    }
}
#define assert_changes(s, ...)                                                                     \
    do {                                                                                           \
        const change_spec_t want_[] = {__VA_ARGS__};                                               \
        check_changes(s, want_, sizeof want_ / sizeof want_[0], __FILE__, __LINE__);               \
    } while (0)
#define assert_no_changes(s) check_changes(s, NULL, 0, __FILE__, __LINE__)

/* The book is broken and waits for a snapshot, for `reason`. */
/* A broken book waits for a snapshot: "resyncing" once it has been synced, "syncing" before. */
static void check_broken(const sync_t *s, sync_state_t expected, sync_reason_t reason,
                         const char *file, int line)
{
    if (sync_state(s) != expected || sync_reason(s) != reason) {
        print_error("state %s reason %s, expected %s reason %s\n", sync_state_name(sync_state(s)),
                    sync_reason_name(sync_reason(s)), sync_state_name(expected),
                    sync_reason_name(reason));
        _fail(file, line);
    }
    if (sync_update_id(s) != 0) {
        print_error("update id %llu on a broken book\n", (unsigned long long)sync_update_id(s));
        _fail(file, line);
    }
    check_empty_book(s, file, line);
}
#define assert_resyncing(s, reason) check_broken(s, SYNC_RESYNCING, reason, __FILE__, __LINE__)
#define assert_still_syncing(s, reason) check_broken(s, SYNC_SYNCING, reason, __FILE__, __LINE__)

/* ---- spot: buffering and the snapshot -------------------------------------------------------- */

static void spot_events_before_the_snapshot_are_buffered(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    assert_int_equal(spot(s, 8, 12, SIDE("100", "3"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 13, 15, NONE, SIDE("101", "4")), SYNC_BUFFERED);
    assert_int_equal(sync_state(s), SYNC_SYNCING);
    assert_int_equal(sync_reason(s), SYNC_REASON_START);
    assert_int_equal(sync_buffered(s), 2);
    assert_int_equal(sync_update_id(s), 0);
    assert_empty_book(s);
    assert_no_changes(s);

    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_state(s), SYNC_SYNCED);
    assert_int_equal(sync_update_id(s), 15);
    assert_int_equal(sync_buffered(s), 0);
    assert_side(s, BOOK_BID, SIDE("100", "3", "99", "1"));
    assert_side(s, BOOK_ASK, SIDE("101", "4", "102", "1"));
    /* The snapshot's state is published whole, not as changes. */
    assert_no_changes(s);
    sync_destroy(&s);
    assert_null(s);
}

static void spot_buffered_events_up_to_last_update_id_are_dropped(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    /* Both stale events would leave a quantity of 7 or 8 if they were applied. */
    assert_int_equal(spot(s, 1, 5, SIDE("100", "7"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 6, 10, SIDE("99", "8"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 11, 15, NONE, SIDE("101", "2")), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 15);
    assert_side(s, BOOK_BID, BOOK_BIDS);
    assert_side(s, BOOK_ASK, SIDE("101", "2", "102", "1"));
    const sync_applied_t *applied = sync_last_applied(s);
    assert_int_equal(applied->first_id, 10);
    assert_int_equal(applied->last_id, 15);
    sync_destroy(&s);
}

static void spot_first_event_straddling_the_snapshot_is_applied(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    assert_int_equal(spot(s, 8, 12, SIDE("98", "5"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 13, 14, NONE, SIDE("102", "0")), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 14);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "98", "5"));
    assert_side(s, BOOK_ASK, SIDE("101", "1"));
    sync_destroy(&s);
}

static void spot_snapshot_older_than_the_buffer_is_too_old_and_the_buffer_is_kept(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    assert_int_equal(spot(s, 20, 25, SIDE("98", "5"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 26, 30, NONE, SIDE("103", "6")), SYNC_BUFFERED);
    /* Events 11..19 are missing between the snapshot and the buffer. */
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_TOO_OLD);
    assert_int_equal(sync_state(s), SYNC_SYNCING);
    assert_int_equal(sync_reason(s), SYNC_REASON_SNAPSHOT_STALE);
    assert_int_equal(sync_buffered(s), 2);
    assert_int_equal(sync_update_id(s), 0);
    assert_true(sync_wants_snapshot(s));
    assert_empty_book(s);

    assert_int_equal(snapshot(s, 22, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_state(s), SYNC_SYNCED);
    assert_int_equal(sync_update_id(s), 30);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "98", "5"));
    assert_side(s, BOOK_ASK, SIDE("101", "1", "102", "1", "103", "6"));
    sync_destroy(&s);
}

static void spot_snapshot_just_before_the_first_event_is_accepted(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    /* lastUpdateId == U - 1: nothing is missing, though Binance's step 4 reads "lid < U". */
    assert_int_equal(spot(s, 11, 15, SIDE("98", "5"), NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 15);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "98", "5"));
    sync_destroy(&s);
}

static void
spot_snapshot_newer_than_the_whole_buffer_syncs_and_waits_for_the_next_event(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    assert_int_equal(spot(s, 5, 8, SIDE("100", "7"), NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 10);
    assert_int_equal(sync_buffered(s), 0);
    assert_side(s, BOOK_BID, BOOK_BIDS);
    assert_int_equal(spot(s, 11, 12, SIDE("100", "2"), NONE), SYNC_APPLIED);
    assert_changes(s, BID("100", "2"));
    assert_int_equal(sync_update_id(s), 12);
    sync_destroy(&s);
}

static void spot_buffered_events_are_applied_in_update_id_order(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    /* Two connections overlapping during a rotation can deliver the stream out of order. */
    assert_int_equal(spot(s, 13, 14, SIDE("100", "4"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 11, 12, SIDE("100", "3"), NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 14);
    assert_side(s, BOOK_BID, SIDE("100", "4", "99", "1"));
    sync_destroy(&s);
}

static void
spot_out_of_order_buffer_keeps_each_events_levels_when_stale_ones_are_dropped(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    /* Arrival order 21..30, 1..10, 11..20: dropping the stale one must not mix up the levels
       of the other two, which were stored in arrival order. */
    assert_int_equal(spot(s, 21, 30, SIDE("98", "3"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 1, 10, SIDE("97", "1"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 11, 20, SIDE("96", "2"), NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 30);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "98", "3", "96", "2"));
    sync_destroy(&s);
}

static void
spot_gap_inside_the_buffer_breaks_the_snapshot_and_keeps_the_events_after_it(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    assert_int_equal(spot(s, 9, 12, SIDE("98", "1"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 13, 15, SIDE("97", "1"), NONE), SYNC_BUFFERED);
    /* 16..17 never came. */
    assert_int_equal(spot(s, 18, 20, SIDE("96", "1"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 21, 22, SIDE("95", "1"), NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_BROKEN);
    assert_still_syncing(s, SYNC_REASON_GAP);
    assert_int_equal(sync_buffered(s), 2);
    assert_true(sync_wants_snapshot(s));
    assert_no_changes(s);

    /* A snapshot taken after the gap syncs from the events kept; 98 and 97 are not in it. */
    assert_int_equal(snapshot(s, 17, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 22);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "96", "1", "95", "1"));
    sync_destroy(&s);
}

/* ---- spot: live events ----------------------------------------------------------------------- */

static void spot_next_event_is_applied_and_its_changes_reported(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    sync_spot_at_10(s);
    assert_int_equal(spot_at(s, 11, 12, SIDE("100", "2", "99", "0"), SIDE("101.5", "3"), 777),
                     SYNC_APPLIED);
    assert_changes(s, BID("100", "2"), BID("99", "0"), ASK("101.5", "3"));
    assert_int_equal(sync_update_id(s), 12);
    assert_side(s, BOOK_BID, SIDE("100", "2"));
    assert_side(s, BOOK_ASK, SIDE("101", "1", "101.5", "3", "102", "1"));
    const sync_applied_t *applied = sync_last_applied(s);
    assert_int_equal(applied->first_id, 11);
    assert_int_equal(applied->last_id, 12);
    assert_int_equal(applied->event_ms, 120);
    assert_int_equal(applied->recv_ns, 777);
    sync_destroy(&s);
}

static void spot_event_overlapping_the_book_id_is_applied(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    sync_spot_at_10(s);
    /* U <= id + 1 <= u: Binance's apply rule only rejects U > id + 1. */
    assert_int_equal(spot(s, 8, 14, SIDE("100", "2"), NONE), SYNC_APPLIED);
    assert_changes(s, BID("100", "2"));
    assert_int_equal(sync_update_id(s), 14);
    sync_destroy(&s);
}

static void spot_live_gap_resyncs_and_keeps_the_gap_event_for_the_next_snapshot(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    sync_spot_at_10(s);
    assert_int_equal(spot(s, 11, 12, SIDE("100", "2"), NONE), SYNC_APPLIED);
    /* 13..14 are missing. */
    assert_int_equal(spot(s, 15, 16, SIDE("98", "4"), NONE), SYNC_BROKEN);
    assert_resyncing(s, SYNC_REASON_GAP);
    assert_no_changes(s);
    assert_int_equal(sync_buffered(s), 1);
    assert_int_equal(sync_held(s), 0);
    assert_true(sync_wants_snapshot(s));

    assert_int_equal(snapshot(s, 14, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_state(s), SYNC_SYNCED);
    assert_int_equal(sync_update_id(s), 16);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "98", "4"));
    sync_destroy(&s);
}

static void spot_duplicate_event_is_stale_while_buffering(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    assert_int_equal(spot(s, 11, 12, SIDE("100", "2"), NONE), SYNC_BUFFERED);
    /* The same ids again, as from the second connection of a rotation. Its quantity differs
       only so that the book shows which copy was applied. */
    assert_int_equal(spot(s, 11, 12, SIDE("100", "9"), NONE), SYNC_STALE);
    assert_int_equal(sync_buffered(s), 1);
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_side(s, BOOK_BID, SIDE("100", "2", "99", "1"));
    sync_destroy(&s);
}

static void spot_duplicate_event_is_stale_while_synced(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    sync_spot_at_10(s);
    assert_int_equal(spot(s, 11, 12, SIDE("100", "2"), NONE), SYNC_APPLIED);
    assert_int_equal(spot(s, 11, 12, SIDE("100", "9"), NONE), SYNC_STALE);
    assert_no_changes(s);
    assert_int_equal(sync_update_id(s), 12);
    assert_side(s, BOOK_BID, SIDE("100", "2", "99", "1"));
    const sync_applied_t *applied = sync_last_applied(s);
    assert_int_equal(applied->first_id, 11);
    assert_int_equal(applied->last_id, 12);
    sync_destroy(&s);
}

static void spot_old_event_is_stale_while_synced(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    sync_spot_at_10(s);
    assert_int_equal(spot(s, 3, 7, SIDE("100", "7"), NONE), SYNC_STALE);
    /* u == id: everything in it is already in the book. */
    assert_int_equal(spot(s, 9, 10, SIDE("100", "8"), NONE), SYNC_STALE);
    assert_no_changes(s);
    assert_int_equal(sync_state(s), SYNC_SYNCED);
    assert_int_equal(sync_update_id(s), 10);
    assert_side(s, BOOK_BID, BOOK_BIDS);
    sync_destroy(&s);
}

/* ---- futures --------------------------------------------------------------------------------- */

static void futures_buffered_events_before_last_update_id_are_dropped(void **state)
{
    (void)state;
    sync_t *s = new_futures();
    assert_int_equal(fut(s, 80, 95, 70, SIDE("100", "7"), NONE), SYNC_BUFFERED);
    /* u == lastUpdateId is kept: Binance drops only u < lastUpdateId. */
    assert_int_equal(fut(s, 96, 100, 95, SIDE("98", "5"), NONE), SYNC_BUFFERED);
    assert_int_equal(fut(s, 104, 110, 100, NONE, SIDE("101", "2")), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 100, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 110);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "98", "5"));
    assert_side(s, BOOK_ASK, SIDE("101", "2", "102", "1"));
    const sync_applied_t *applied = sync_last_applied(s);
    assert_int_equal(applied->last_id, 110);
    assert_int_equal(applied->event_ms, 1100);
    assert_int_equal(applied->txn_ms, 1099);
    sync_destroy(&s);
}

static void futures_first_event_bracketing_last_update_id_is_applied(void **state)
{
    (void)state;
    sync_t *s = new_futures();
    assert_int_equal(fut(s, 95, 105, 90, SIDE("98", "5"), NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 100, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 105);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "98", "5"));
    /* From now on events chain on pu. */
    assert_int_equal(fut(s, 110, 120, 105, SIDE("98", "0"), NONE), SYNC_APPLIED);
    assert_changes(s, BID("98", "0"));
    assert_int_equal(sync_update_id(s), 120);
    sync_destroy(&s);
}

static void futures_first_event_after_last_update_id_with_pu_equal_to_it_is_accepted(void **state)
{
    (void)state;
    sync_t *s = new_futures();
    /* Futures ids are global across symbols: this symbol's next event starts well after the
       snapshot, and pu proves nothing is missing. */
    assert_int_equal(fut(s, 120, 130, 100, SIDE("98", "5"), NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 100, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 130);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "98", "5"));
    sync_destroy(&s);
}

static void futures_first_event_after_last_update_id_with_another_pu_is_too_old(void **state)
{
    (void)state;
    sync_t *s = new_futures();
    assert_int_equal(fut(s, 120, 130, 110, SIDE("98", "5"), NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 100, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_TOO_OLD);
    assert_int_equal(sync_state(s), SYNC_SYNCING);
    assert_int_equal(sync_reason(s), SYNC_REASON_SNAPSHOT_STALE);
    assert_int_equal(sync_buffered(s), 1);
    assert_true(sync_wants_snapshot(s));
    assert_empty_book(s);

    assert_int_equal(snapshot(s, 110, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 130);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "98", "5"));
    sync_destroy(&s);
}

static void
futures_snapshot_newer_than_the_whole_buffer_accepts_a_first_event_chained_on_it(void **state)
{
    (void)state;
    sync_t *s = new_futures();
    assert_int_equal(fut(s, 80, 95, 70, SIDE("100", "7"), NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 100, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 100);
    assert_int_equal(sync_buffered(s), 0);
    assert_side(s, BOOK_BID, BOOK_BIDS);
    /* Live now, the first event still obeys the first-event rule. */
    assert_int_equal(fut(s, 96, 99, 95, SIDE("100", "8"), NONE), SYNC_STALE);
    assert_int_equal(fut(s, 120, 130, 100, SIDE("100", "2"), NONE), SYNC_APPLIED);
    assert_changes(s, BID("100", "2"));
    assert_int_equal(sync_update_id(s), 130);
    sync_destroy(&s);
}

static void futures_pu_mismatch_while_synced_is_a_gap(void **state)
{
    (void)state;
    sync_t *s = new_futures();
    sync_futures_at_105(s);
    assert_int_equal(fut(s, 110, 120, 105, SIDE("100", "2"), NONE), SYNC_APPLIED);
    /* The event after 120 never came: this one follows 125. */
    assert_int_equal(fut(s, 130, 140, 125, SIDE("98", "4"), NONE), SYNC_BROKEN);
    assert_resyncing(s, SYNC_REASON_GAP);
    assert_no_changes(s);
    assert_int_equal(sync_buffered(s), 1);
    assert_true(sync_wants_snapshot(s));
    /* The event that showed the gap is the one the next snapshot syncs from. */
    assert_int_equal(snapshot(s, 125, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 140);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "98", "4"));
    sync_destroy(&s);
}

static void futures_pu_before_the_book_id_is_a_gap_even_with_a_reorder_window(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_FUTURES, 100, 1000, WINDOW_NS, 4);
    sync_futures_at_105(s);
    /* pu 100 < 105 but u > 105: the stream says the book's last event was not its predecessor,
       and nothing arriving later can change that. */
    assert_int_equal(fut(s, 101, 110, 100, SIDE("98", "4"), NONE), SYNC_BROKEN);
    assert_resyncing(s, SYNC_REASON_GAP);
    assert_int_equal(sync_held(s), 0);
    assert_int_equal(sync_buffered(s), 1);
    sync_destroy(&s);
}

static void futures_pu_after_the_book_id_is_held_with_a_reorder_window(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_FUTURES, 100, 1000, WINDOW_NS, 4);
    sync_futures_at_105(s);
    assert_int_equal(fut(s, 130, 140, 120, SIDE("98", "4"), NONE), SYNC_HELD);
    assert_int_equal(sync_held(s), 1);
    assert_no_changes(s);
    assert_int_equal(sync_state(s), SYNC_SYNCED);
    assert_int_equal(sync_update_id(s), 105);
    assert_side(s, BOOK_BID, BOOK_BIDS);

    assert_int_equal(fut(s, 110, 120, 105, SIDE("100", "2"), NONE), SYNC_APPLIED);
    assert_changes(s, BID("100", "2"), BID("98", "4"));
    assert_int_equal(sync_held(s), 0);
    assert_int_equal(sync_update_id(s), 140);
    const sync_applied_t *applied = sync_last_applied(s);
    assert_int_equal(applied->first_id, 110);
    assert_int_equal(applied->last_id, 140);
    assert_int_equal(applied->event_ms, 1400);
    sync_destroy(&s);
}

static void futures_event_without_pu_breaks_a_synced_book(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_FUTURES, 100, 1000, WINDOW_NS, 4);
    sync_futures_at_105(s);
    /* Without pu the chain cannot be checked: not even a reorder window can help. */
    assert_int_equal(feed(s, 110, 120, false, 0, SIDE("100", "2"), NONE, 0), SYNC_BROKEN);
    assert_resyncing(s, SYNC_REASON_GAP);
    assert_int_equal(sync_held(s), 0);
    sync_destroy(&s);
}

static void futures_old_and_duplicate_events_are_stale_while_synced(void **state)
{
    (void)state;
    sync_t *s = new_futures();
    sync_futures_at_105(s);
    assert_int_equal(fut(s, 110, 120, 105, SIDE("100", "2"), NONE), SYNC_APPLIED);
    assert_int_equal(fut(s, 110, 120, 105, SIDE("100", "9"), NONE), SYNC_STALE);
    assert_int_equal(fut(s, 95, 105, 90, SIDE("100", "8"), NONE), SYNC_STALE);
    assert_no_changes(s);
    assert_int_equal(sync_update_id(s), 120);
    assert_side(s, BOOK_BID, SIDE("100", "2", "99", "1"));
    sync_destroy(&s);
}

static void futures_duplicate_event_is_stale_while_buffering(void **state)
{
    (void)state;
    sync_t *s = new_futures();
    assert_int_equal(fut(s, 95, 105, 90, SIDE("100", "2"), NONE), SYNC_BUFFERED);
    assert_int_equal(fut(s, 95, 105, 90, SIDE("100", "9"), NONE), SYNC_STALE);
    assert_int_equal(sync_buffered(s), 1);
    assert_int_equal(snapshot(s, 100, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_side(s, BOOK_BID, SIDE("100", "2", "99", "1"));
    sync_destroy(&s);
}

static void futures_broken_chain_inside_the_buffer_breaks_the_snapshot(void **state)
{
    (void)state;
    sync_t *s = new_futures();
    assert_int_equal(fut(s, 95, 105, 90, SIDE("98", "1"), NONE), SYNC_BUFFERED);
    /* The event after 105 is missing. */
    assert_int_equal(fut(s, 120, 130, 115, SIDE("97", "1"), NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 100, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_BROKEN);
    assert_still_syncing(s, SYNC_REASON_GAP);
    assert_int_equal(sync_buffered(s), 1);
    assert_int_equal(snapshot(s, 115, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 130);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "97", "1"));
    sync_destroy(&s);
}

/* ---- the reorder window ---------------------------------------------------------------------- */

static void spot_event_ahead_is_held_and_applied_when_the_missing_one_arrives(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 100, 1000, WINDOW_NS, 4);
    sync_spot_at_10(s);
    assert_int_equal(spot_at(s, 13, 14, SIDE("100", "4"), SIDE("103", "1"), 1000), SYNC_HELD);
    assert_int_equal(sync_held(s), 1);
    assert_no_changes(s);
    assert_int_equal(sync_update_id(s), 10);
    assert_side(s, BOOK_BID, BOOK_BIDS);
    assert_false(sync_wants_snapshot(s));

    assert_int_equal(spot_at(s, 11, 12, SIDE("100", "3", "98", "2"), NONE, 2000), SYNC_APPLIED);
    /* Both events' changes, in the order they were applied. */
    assert_changes(s, BID("100", "3"), BID("98", "2"), BID("100", "4"), ASK("103", "1"));
    assert_int_equal(sync_held(s), 0);
    assert_int_equal(sync_update_id(s), 14);
    assert_side(s, BOOK_BID, SIDE("100", "4", "99", "1", "98", "2"));
    assert_side(s, BOOK_ASK, SIDE("101", "1", "102", "1", "103", "1"));
    const sync_applied_t *applied = sync_last_applied(s);
    assert_int_equal(applied->first_id, 11);
    assert_int_equal(applied->last_id, 14);
    assert_int_equal(applied->event_ms, 140);
    assert_int_equal(applied->recv_ns, 1000);
    sync_destroy(&s);
}

static void held_events_are_released_in_update_id_order(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 100, 1000, WINDOW_NS, 4);
    sync_spot_at_10(s);
    assert_int_equal(spot(s, 15, 16, SIDE("100", "6"), NONE), SYNC_HELD);
    assert_int_equal(spot(s, 13, 14, SIDE("100", "5", "97", "5"), NONE), SYNC_HELD);
    assert_int_equal(sync_held(s), 2);
    assert_int_equal(spot(s, 11, 12, SIDE("100", "3"), NONE), SYNC_APPLIED);
    assert_changes(s, BID("100", "3"), BID("100", "5"), BID("97", "5"), BID("100", "6"));
    assert_int_equal(sync_held(s), 0);
    assert_int_equal(sync_update_id(s), 16);
    assert_side(s, BOOK_BID, SIDE("100", "6", "99", "1", "97", "5"));
    sync_destroy(&s);
}

static void held_events_keep_their_levels_while_others_are_released(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 100, 1000, WINDOW_NS, 4);
    sync_spot_at_10(s);
    /* Events numbered from 0 arrive as 1, 3, 0, 5, 2, 7, 4, …: something is held throughout, so
       released events leave the held list while others stay in it. Each event sets a bid level
       of its own and the shared level "1"; quantities number the events. */
    char price[32][8], qty[32][8];
    for (int i = 0; i < 32; i++) {
        snprintf(price[i], sizeof price[i], "%d", 50 + i);
        snprintf(qty[i], sizeof qty[i], "%d", i + 1);
    }
#define EVENT(i) spot(s, 11 + 2 * (i), 12 + 2 * (i), SIDE(price[i], qty[i], "1", qty[i]), NONE)
    assert_int_equal(EVENT(1), SYNC_HELD);
    for (int i = 0; i + 3 < 32; i += 2) {
        assert_int_equal(EVENT(i + 3), SYNC_HELD);
        assert_int_equal(EVENT(i), SYNC_APPLIED);
        assert_int_equal(sync_held(s), 1);
        assert_changes(s, BID(price[i], qty[i]), BID("1", qty[i]), BID(price[i + 1], qty[i + 1]),
                       BID("1", qty[i + 1]));
    }
    assert_int_equal(EVENT(30), SYNC_APPLIED);
    assert_int_equal(sync_held(s), 0);
    assert_changes(s, BID(price[30], qty[30]), BID("1", qty[30]), BID(price[31], qty[31]),
                   BID("1", qty[31]));
#undef EVENT
    assert_int_equal(sync_update_id(s), 74);
    for (int i = 0; i < 32; i++)
        assert_int_equal(book_qty_at(sync_book(s), BOOK_BID, D(price[i])).units, D(qty[i]).units);
    assert_int_equal(book_qty_at(sync_book(s), BOOK_BID, D("1")).units, D("32").units);
    sync_destroy(&s);
}

static void held_event_covered_by_a_wider_one_is_dropped_when_released(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 100, 1000, WINDOW_NS, 4);
    sync_spot_at_10(s);
    assert_int_equal(spot(s, 13, 14, SIDE("100", "4"), NONE), SYNC_HELD);
    /* 11..16 already contains 13..14's updates and newer ones: applying 13..14 after it would
       put an older quantity back. */
    assert_int_equal(spot(s, 11, 16, SIDE("100", "6"), NONE), SYNC_APPLIED);
    assert_changes(s, BID("100", "6"));
    assert_int_equal(sync_held(s), 0);
    assert_int_equal(sync_update_id(s), 16);
    assert_side(s, BOOK_BID, SIDE("100", "6", "99", "1"));
    sync_destroy(&s);
}

static void futures_held_event_that_cannot_follow_the_released_chain_is_a_gap(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_FUTURES, 100, 1000, WINDOW_NS, 4);
    sync_futures_at_105(s);
    assert_int_equal(fut(s, 130, 140, 120, SIDE("98", "4"), NONE), SYNC_HELD);
    /* The event after 105 ends at 125, not 120: the held one can never follow. */
    assert_int_equal(fut(s, 110, 125, 105, SIDE("100", "2"), NONE), SYNC_BROKEN);
    assert_resyncing(s, SYNC_REASON_GAP);
    assert_no_changes(s);
    assert_int_equal(sync_held(s), 0);
    assert_int_equal(sync_buffered(s), 1);
    sync_destroy(&s);
}

static void held_duplicate_is_stale_and_applied_once(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 100, 1000, WINDOW_NS, 4);
    sync_spot_at_10(s);
    assert_int_equal(spot(s, 13, 14, SIDE("100", "4"), NONE), SYNC_HELD);
    assert_int_equal(spot(s, 13, 14, SIDE("100", "9"), NONE), SYNC_STALE);
    assert_int_equal(sync_held(s), 1);
    assert_int_equal(spot(s, 11, 12, SIDE("98", "2"), NONE), SYNC_APPLIED);
    assert_changes(s, BID("98", "2"), BID("100", "4"));
    assert_side(s, BOOK_BID, SIDE("100", "4", "99", "1", "98", "2"));
    sync_destroy(&s);
}

static void held_duplicate_at_the_reorder_limit_is_stale_not_a_gap(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 100, 1000, WINDOW_NS, 1);
    sync_spot_at_10(s);
    assert_int_equal(spot(s, 13, 14, SIDE("100", "4"), NONE), SYNC_HELD);
    /* A second copy adds nothing to hold: the limit is not exceeded. */
    assert_int_equal(spot(s, 13, 14, SIDE("100", "4"), NONE), SYNC_STALE);
    assert_int_equal(sync_state(s), SYNC_SYNCED);
    assert_int_equal(sync_held(s), 1);
    assert_int_equal(spot(s, 11, 12, SIDE("98", "2"), NONE), SYNC_APPLIED);
    assert_int_equal(sync_update_id(s), 14);
    sync_destroy(&s);
}

static void held_events_expire_into_a_gap(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 100, 1000, WINDOW_NS, 4);
    assert_false(sync_expire(s, 0)); /* nothing held, not synced */
    sync_spot_at_10(s);
    assert_false(sync_expire(s, 5 * WINDOW_NS)); /* nothing held */
    assert_int_equal(spot_at(s, 15, 16, SIDE("98", "6"), NONE, 3000), SYNC_HELD);
    assert_int_equal(spot_at(s, 13, 14, SIDE("97", "4"), NONE, 1000), SYNC_HELD);
    /* The window is measured from the oldest receive time. */
    assert_false(sync_expire(s, 1000 + WINDOW_NS));
    assert_int_equal(sync_state(s), SYNC_SYNCED);
    assert_true(sync_expire(s, 1000 + WINDOW_NS + 1));
    assert_resyncing(s, SYNC_REASON_GAP);
    assert_int_equal(sync_held(s), 0);
    /* The held events start the new buffer: a snapshot at 12 syncs from them. */
    assert_int_equal(sync_buffered(s), 2);
    assert_true(sync_wants_snapshot(s));
    assert_false(sync_expire(s, 10 * WINDOW_NS));
    assert_int_equal(snapshot(s, 12, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 16);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "98", "6", "97", "4"));
    sync_destroy(&s);
}

static void exceeding_reorder_max_is_a_gap(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 100, 1000, WINDOW_NS, 2);
    sync_spot_at_10(s);
    assert_int_equal(spot(s, 13, 14, SIDE("97", "1"), NONE), SYNC_HELD);
    assert_int_equal(spot(s, 15, 16, SIDE("96", "1"), NONE), SYNC_HELD);
    assert_int_equal(spot(s, 17, 18, SIDE("95", "1"), NONE), SYNC_BROKEN);
    assert_resyncing(s, SYNC_REASON_GAP);
    assert_no_changes(s);
    assert_int_equal(sync_held(s), 0);
    assert_int_equal(sync_buffered(s), 3);
    assert_int_equal(snapshot(s, 12, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 18);
    sync_destroy(&s);
}

static void without_a_reorder_window_an_event_ahead_is_a_gap(void **state)
{
    (void)state;
    /* A limit of events to hold does not matter when they may not wait at all. */
    sync_t *s = new_sync(SYNC_RULES_SPOT, 100, 1000, 0, 4);
    sync_spot_at_10(s);
    assert_int_equal(spot(s, 13, 14, SIDE("97", "1"), NONE), SYNC_BROKEN);
    assert_resyncing(s, SYNC_REASON_GAP);
    assert_int_equal(sync_held(s), 0);
    assert_int_equal(sync_buffered(s), 1);
    sync_destroy(&s);
}

/* ---- book semantics through sync ------------------------------------------------------------- */

static void removing_an_unknown_level_is_a_no_op_and_not_reported(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    sync_spot_at_10(s);
    assert_int_equal(spot(s, 11, 12, SIDE("95", "0", "100", "2"), SIDE("110", "0")), SYNC_APPLIED);
    assert_changes(s, BID("100", "2"));
    assert_side(s, BOOK_BID, SIDE("100", "2", "99", "1"));
    assert_side(s, BOOK_ASK, BOOK_ASKS);
    sync_destroy(&s);
}

static void crossed_book_after_an_event_breaks_without_reporting_changes(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    sync_spot_at_10(s);
    assert_int_equal(spot(s, 11, 12, SIDE("101", "1"), NONE), SYNC_BROKEN);
    assert_resyncing(s, SYNC_REASON_CROSSED);
    assert_no_changes(s);
    /* The event agreed with the chain; the data is what is wrong, so it starts nothing. */
    assert_int_equal(sync_buffered(s), 0);
    assert_false(sync_wants_snapshot(s));
    assert_int_equal(spot(s, 13, 14, SIDE("100", "3"), NONE), SYNC_BUFFERED);
    assert_true(sync_wants_snapshot(s));
    sync_destroy(&s);
}

static void crossed_book_after_snapshot_and_buffer_breaks_the_snapshot(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    assert_int_equal(spot(s, 11, 12, NONE, SIDE("99.5", "1")), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_BROKEN);
    assert_still_syncing(s, SYNC_REASON_CROSSED);
    assert_no_changes(s);
    assert_int_equal(sync_buffered(s), 0);
    sync_destroy(&s);
}

static void crossed_snapshot_breaks(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    assert_int_equal(spot(s, 11, 12, NONE, NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 10, SIDE("101", "1"), SIDE("101", "1")), SYNC_SNAPSHOT_BROKEN);
    assert_still_syncing(s, SYNC_REASON_CROSSED);
    sync_destroy(&s);
}

static void full_side_reports_the_trimmed_worst_level_as_removed(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 3, 1000, 0, 0);
    assert_int_equal(snapshot(s, 10, SIDE("100", "1", "99", "1", "98", "1"), BOOK_ASKS),
                     SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(spot(s, 11, 12, SIDE("100.5", "2"), NONE), SYNC_APPLIED);
    assert_changes(s, BID("98", "0"), BID("100.5", "2"));
    assert_side(s, BOOK_BID, SIDE("100.5", "2", "100", "1", "99", "1"));
    /* A new level worse than the worst of a full side is not kept, so not reported. */
    assert_int_equal(spot(s, 13, 14, SIDE("97", "5"), NONE), SYNC_APPLIED);
    assert_no_changes(s);
    assert_side(s, BOOK_BID, SIDE("100.5", "2", "100", "1", "99", "1"));
    /* Updating a level of a full side trims nothing. */
    assert_int_equal(spot(s, 15, 16, SIDE("99", "3"), NONE), SYNC_APPLIED);
    assert_changes(s, BID("99", "3"));
    sync_destroy(&s);
}

/* ---- outside breaks, the buffer bound, snapshots when synced --------------------------------- */

static void disconnect_while_buffering_drops_the_buffer(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    assert_int_equal(spot(s, 11, 12, SIDE("100", "2"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 13, 14, SIDE("100", "3"), NONE), SYNC_BUFFERED);
    assert_true(sync_break(s, SYNC_REASON_DISCONNECT));
    assert_int_equal(sync_state(s), SYNC_SYNCING);
    assert_int_equal(sync_reason(s), SYNC_REASON_DISCONNECT);
    assert_int_equal(sync_buffered(s), 0);
    assert_false(sync_wants_snapshot(s));
    assert_false(sync_break(s, SYNC_REASON_DISCONNECT));
    sync_destroy(&s);
}

static void overflow_on_a_synced_book_clears_it_and_resyncs(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 100, 1000, WINDOW_NS, 4);
    sync_spot_at_10(s);
    assert_int_equal(spot(s, 13, 14, SIDE("97", "1"), NONE), SYNC_HELD);
    assert_true(sync_break(s, SYNC_REASON_OVERFLOW));
    assert_resyncing(s, SYNC_REASON_OVERFLOW);
    /* The stream lost frames, so what was held cannot be trusted either. */
    assert_int_equal(sync_held(s), 0);
    assert_int_equal(sync_buffered(s), 0);
    assert_false(sync_wants_snapshot(s));
    assert_false(sync_break(s, SYNC_REASON_OVERFLOW));
    assert_true(sync_break(s, SYNC_REASON_DISCONNECT));
    assert_resyncing(s, SYNC_REASON_DISCONNECT);
    sync_destroy(&s);
}

static void failed_snapshot_keeps_the_buffer(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    assert_int_equal(spot(s, 11, 12, SIDE("98", "2"), NONE), SYNC_BUFFERED);
    assert_true(sync_break(s, SYNC_REASON_SNAPSHOT_FAILED));
    assert_int_equal(sync_state(s), SYNC_SYNCING);
    assert_int_equal(sync_reason(s), SYNC_REASON_SNAPSHOT_FAILED);
    assert_int_equal(sync_buffered(s), 1);
    assert_true(sync_wants_snapshot(s));
    assert_false(sync_break(s, SYNC_REASON_SNAPSHOT_FAILED));
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "98", "2"));
    sync_destroy(&s);
}

static void bad_data_on_a_synced_book_resyncs(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    sync_spot_at_10(s);
    assert_true(sync_break(s, SYNC_REASON_BAD_DATA));
    assert_resyncing(s, SYNC_REASON_BAD_DATA);
    assert_int_equal(spot(s, 11, 12, SIDE("98", "2"), NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 12);
    sync_destroy(&s);
}

static void full_buffer_keeps_the_newest_half(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 100, 4, 0, 0);
    for (uint64_t i = 0; i < 4; i++)
        assert_int_equal(spot(s, 11 + 2 * i, 12 + 2 * i, SIDE("98", "1"), NONE), SYNC_BUFFERED);
    assert_int_equal(sync_buffered(s), 4);
    assert_int_equal(sync_reason(s), SYNC_REASON_START);
    assert_int_equal(spot(s, 19, 20, SIDE("97", "1"), NONE), SYNC_BUFFERED);
    assert_int_equal(sync_buffered(s), 2);
    assert_int_equal(sync_reason(s), SYNC_REASON_BUFFER_FULL);
    assert_true(sync_wants_snapshot(s));
    /* 17..18 and 19..20 are what is left: a snapshot from before them is too old. */
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_TOO_OLD);
    assert_int_equal(snapshot(s, 16, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 20);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "98", "1", "97", "1"));
    sync_destroy(&s);
}

static void full_buffer_of_reordered_events_keeps_each_events_levels(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 100, 4, 0, 0);
    /* Arrival order 5, 1, 2, 3, then 4 overflows the buffer: 4 and 5 (the newest) remain, and
       5 was stored before the others. */
    assert_int_equal(spot(s, 19, 20, SIDE("93", "5"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 11, 12, SIDE("97", "1"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 13, 14, SIDE("96", "2"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 15, 16, SIDE("95", "3"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 17, 18, SIDE("94", "4"), NONE), SYNC_BUFFERED);
    assert_int_equal(sync_buffered(s), 2);
    assert_int_equal(snapshot(s, 16, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_update_id(s), 20);
    assert_side(s, BOOK_BID, SIDE("100", "1", "99", "1", "94", "4", "93", "5"));
    sync_destroy(&s);
}

static void zero_bounds_in_the_config_mean_one(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 0, 0, 0, 0);
    assert_int_equal(spot(s, 11, 12, SIDE("98", "1"), NONE), SYNC_BUFFERED);
    assert_int_equal(spot(s, 13, 14, SIDE("98", "2"), NONE), SYNC_BUFFERED);
    assert_int_equal(sync_buffered(s), 1);
    assert_int_equal(sync_reason(s), SYNC_REASON_BUFFER_FULL);
    assert_int_equal(snapshot(s, 12, SIDE("100", "1", "99", "1"), BOOK_ASKS),
                     SYNC_SNAPSHOT_APPLIED);
    assert_side(s, BOOK_BID, SIDE("100", "1"));
    assert_side(s, BOOK_ASK, SIDE("101", "1"));
    sync_destroy(&s);
    assert_null(s);
    sync_destroy(&s);
    sync_destroy(NULL);
}

static void snapshot_wanted_only_when_not_synced_with_events_buffered(void **state)
{
    (void)state;
    sync_t *s = new_sync(SYNC_RULES_SPOT, 100, 1000, WINDOW_NS, 4);
    assert_false(sync_wants_snapshot(s)); /* Binance: buffer first, then fetch */
    assert_int_equal(spot(s, 11, 12, NONE, NONE), SYNC_BUFFERED);
    assert_true(sync_wants_snapshot(s));
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_false(sync_wants_snapshot(s));
    assert_int_equal(spot(s, 15, 16, NONE, NONE), SYNC_HELD);
    assert_false(sync_wants_snapshot(s));
    assert_true(sync_break(s, SYNC_REASON_DISCONNECT));
    assert_false(sync_wants_snapshot(s));
    sync_destroy(&s);
}

static void snapshot_is_unused_while_synced(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    sync_spot_at_10(s);
    assert_int_equal(spot(s, 11, 12, SIDE("100", "2"), NONE), SYNC_APPLIED);
    assert_int_equal(snapshot(s, 20, SIDE("90", "1"), SIDE("91", "1")), SYNC_SNAPSHOT_UNUSED);
    assert_int_equal(sync_state(s), SYNC_SYNCED);
    assert_int_equal(sync_update_id(s), 12);
    assert_side(s, BOOK_BID, SIDE("100", "2", "99", "1"));
    assert_side(s, BOOK_ASK, BOOK_ASKS);
    sync_destroy(&s);
}

static void places_are_the_most_seen_in_snapshots_and_events(void **state)
{
    (void)state;
    sync_t *s = new_spot();
    assert_int_equal(sync_price_places(s), 0);
    assert_int_equal(sync_qty_places(s), 0);
    assert_int_equal(spot(s, 11, 12, SIDE("98.50", "1.5"), NONE), SYNC_BUFFERED);
    assert_int_equal(sync_price_places(s), 2);
    assert_int_equal(sync_qty_places(s), 1);
    assert_int_equal(snapshot(s, 10, SIDE("100.1", "1.000"), SIDE("101.25", "2")),
                     SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(sync_price_places(s), 2);
    assert_int_equal(sync_qty_places(s), 3);
    /* Fewer digits later do not lower them. */
    assert_int_equal(spot(s, 13, 14, SIDE("98", "2"), NONE), SYNC_APPLIED);
    assert_int_equal(sync_price_places(s), 2);
    assert_int_equal(sync_qty_places(s), 3);
    assert_int_equal(spot(s, 15, 16, NONE, SIDE("101.12345678", "0.00000001")), SYNC_APPLIED);
    assert_int_equal(sync_price_places(s), 8);
    assert_int_equal(sync_qty_places(s), 8);
    sync_destroy(&s);
}

static void names_are_metric_labels(void **state)
{
    (void)state;
    assert_string_equal(sync_state_name(SYNC_SYNCING), "syncing");
    assert_string_equal(sync_state_name(SYNC_SYNCED), "synced");
    assert_string_equal(sync_state_name(SYNC_RESYNCING), "resyncing");
    assert_string_equal(sync_reason_name(SYNC_REASON_START), "start");
    assert_string_equal(sync_reason_name(SYNC_REASON_GAP), "gap");
    assert_string_equal(sync_reason_name(SYNC_REASON_CROSSED), "crossed");
    assert_string_equal(sync_reason_name(SYNC_REASON_SNAPSHOT_STALE), "snapshot_stale");
    assert_string_equal(sync_reason_name(SYNC_REASON_BUFFER_FULL), "buffer_full");
    for (int r = 0; r < SYNC_REASON_COUNT; r++)
        assert_string_not_equal(sync_reason_name((sync_reason_t)r), "unknown");
    assert_string_equal(sync_reason_name(SYNC_REASON_COUNT), "unknown");
}

/* ---- what a snapshot leaves unknown ---------------------------------------------------------- */

static sync_t *new_cut_sync(size_t snapshot_depth, size_t min_levels)
{
    sync_config_t cfg = {
        .rules = SYNC_RULES_SPOT,
        .max_levels = 1000,
        .buffer_max_events = 1000,
        .snapshot_depth = snapshot_depth,
        .min_levels = min_levels,
    };
    sync_t *s = sync_new(&cfg);
    assert_non_null(s);
    return s;
}

/* A snapshot side as deep as the depth asked for was cut: the book is complete only down to its
   worst level; a level learned beyond it is still applied and reported. */
static void a_cut_snapshot_side_is_complete_down_to_its_worst(void **state)
{
    (void)state;
    sync_t *s = new_cut_sync(2, 0);
    assert_int_equal(spot(s, 11, 12, NONE, NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, SIDE("101", "1")), SYNC_SNAPSHOT_APPLIED);
    dec_t to;
    assert_true(book_complete_to(sync_book(s), BOOK_BID, &to));
    assert_int_equal(to.units, 99 * DEC_SCALE);
    assert_false(book_side_limited(sync_book(s), BOOK_ASK)); /* one ask: the whole side */
    assert_int_equal(spot(s, 13, 14, SIDE("98", "5"), NONE), SYNC_APPLIED);
    assert_changes(s, BID("98", "5"));
    assert_int_equal(book_complete_depth(sync_book(s), BOOK_BID), 2);
    sync_destroy(&s);
}

/* When a cut side thins below min_levels, the book resyncs for a fresh snapshot: what lies
   beyond the old cut is unknown, and the top would soon reach it. */
static void a_cut_side_that_thins_resyncs(void **state)
{
    (void)state;
    sync_t *s = new_cut_sync(6, 3);
    assert_int_equal(spot(s, 11, 12, NONE, NONE), SYNC_BUFFERED);
    assert_int_equal(
        snapshot(s, 10, SIDE("100", "1", "99", "1", "98", "1", "97", "1", "96", "1", "95", "1"),
                 BOOK_ASKS),
        SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(spot(s, 13, 14, SIDE("100", "0", "99", "0", "98", "0"), NONE), SYNC_APPLIED);
    assert_int_equal(spot(s, 15, 16, SIDE("97", "0"), NONE), SYNC_BROKEN);
    assert_resyncing(s, SYNC_REASON_THIN);
    sync_destroy(&s);
}

/* A snapshot side shorter than the depth asked for is the whole side: nothing is cut, new far
   levels are kept, and thinning does not matter. */
static void a_short_snapshot_side_is_the_whole_side(void **state)
{
    (void)state;
    sync_t *s = new_cut_sync(4, 3);
    assert_int_equal(spot(s, 11, 12, NONE, NONE), SYNC_BUFFERED);
    assert_int_equal(snapshot(s, 10, BOOK_BIDS, BOOK_ASKS), SYNC_SNAPSHOT_APPLIED);
    assert_int_equal(spot(s, 13, 14, SIDE("100", "0", "50", "1"), NONE), SYNC_APPLIED);
    assert_side(s, BOOK_BID, SIDE("99", "1", "50", "1"));
    assert_int_equal(sync_state(s), SYNC_SYNCED);
    sync_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_cut_snapshot_side_is_complete_down_to_its_worst),
        cmocka_unit_test(a_cut_side_that_thins_resyncs),
        cmocka_unit_test(a_short_snapshot_side_is_the_whole_side),
        cmocka_unit_test(spot_events_before_the_snapshot_are_buffered),
        cmocka_unit_test(spot_buffered_events_up_to_last_update_id_are_dropped),
        cmocka_unit_test(spot_first_event_straddling_the_snapshot_is_applied),
        cmocka_unit_test(spot_snapshot_older_than_the_buffer_is_too_old_and_the_buffer_is_kept),
        cmocka_unit_test(spot_snapshot_just_before_the_first_event_is_accepted),
        cmocka_unit_test(
            spot_snapshot_newer_than_the_whole_buffer_syncs_and_waits_for_the_next_event),
        cmocka_unit_test(spot_buffered_events_are_applied_in_update_id_order),
        cmocka_unit_test(
            spot_out_of_order_buffer_keeps_each_events_levels_when_stale_ones_are_dropped),
        cmocka_unit_test(
            spot_gap_inside_the_buffer_breaks_the_snapshot_and_keeps_the_events_after_it),
        cmocka_unit_test(spot_next_event_is_applied_and_its_changes_reported),
        cmocka_unit_test(spot_event_overlapping_the_book_id_is_applied),
        cmocka_unit_test(spot_live_gap_resyncs_and_keeps_the_gap_event_for_the_next_snapshot),
        cmocka_unit_test(spot_duplicate_event_is_stale_while_buffering),
        cmocka_unit_test(spot_duplicate_event_is_stale_while_synced),
        cmocka_unit_test(spot_old_event_is_stale_while_synced),
        cmocka_unit_test(futures_buffered_events_before_last_update_id_are_dropped),
        cmocka_unit_test(futures_first_event_bracketing_last_update_id_is_applied),
        cmocka_unit_test(futures_first_event_after_last_update_id_with_pu_equal_to_it_is_accepted),
        cmocka_unit_test(futures_first_event_after_last_update_id_with_another_pu_is_too_old),
        cmocka_unit_test(
            futures_snapshot_newer_than_the_whole_buffer_accepts_a_first_event_chained_on_it),
        cmocka_unit_test(futures_pu_mismatch_while_synced_is_a_gap),
        cmocka_unit_test(futures_pu_before_the_book_id_is_a_gap_even_with_a_reorder_window),
        cmocka_unit_test(futures_pu_after_the_book_id_is_held_with_a_reorder_window),
        cmocka_unit_test(futures_event_without_pu_breaks_a_synced_book),
        cmocka_unit_test(futures_old_and_duplicate_events_are_stale_while_synced),
        cmocka_unit_test(futures_duplicate_event_is_stale_while_buffering),
        cmocka_unit_test(futures_broken_chain_inside_the_buffer_breaks_the_snapshot),
        cmocka_unit_test(spot_event_ahead_is_held_and_applied_when_the_missing_one_arrives),
        cmocka_unit_test(held_events_are_released_in_update_id_order),
        cmocka_unit_test(held_events_keep_their_levels_while_others_are_released),
        cmocka_unit_test(held_event_covered_by_a_wider_one_is_dropped_when_released),
        cmocka_unit_test(futures_held_event_that_cannot_follow_the_released_chain_is_a_gap),
        cmocka_unit_test(held_duplicate_is_stale_and_applied_once),
        cmocka_unit_test(held_duplicate_at_the_reorder_limit_is_stale_not_a_gap),
        cmocka_unit_test(held_events_expire_into_a_gap),
        cmocka_unit_test(exceeding_reorder_max_is_a_gap),
        cmocka_unit_test(without_a_reorder_window_an_event_ahead_is_a_gap),
        cmocka_unit_test(removing_an_unknown_level_is_a_no_op_and_not_reported),
        cmocka_unit_test(crossed_book_after_an_event_breaks_without_reporting_changes),
        cmocka_unit_test(crossed_book_after_snapshot_and_buffer_breaks_the_snapshot),
        cmocka_unit_test(crossed_snapshot_breaks),
        cmocka_unit_test(full_side_reports_the_trimmed_worst_level_as_removed),
        cmocka_unit_test(disconnect_while_buffering_drops_the_buffer),
        cmocka_unit_test(overflow_on_a_synced_book_clears_it_and_resyncs),
        cmocka_unit_test(failed_snapshot_keeps_the_buffer),
        cmocka_unit_test(bad_data_on_a_synced_book_resyncs),
        cmocka_unit_test(full_buffer_keeps_the_newest_half),
        cmocka_unit_test(full_buffer_of_reordered_events_keeps_each_events_levels),
        cmocka_unit_test(zero_bounds_in_the_config_mean_one),
        cmocka_unit_test(snapshot_wanted_only_when_not_synced_with_events_buffered),
        cmocka_unit_test(snapshot_is_unused_while_synced),
        cmocka_unit_test(places_are_the_most_seen_in_snapshots_and_events),
        cmocka_unit_test(names_are_metric_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
