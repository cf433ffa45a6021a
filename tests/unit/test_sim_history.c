/*
 * test_sim_history.c — the undo journal behind /_sim/book and stale snapshots (sim/history.h):
 * the book rebuilt at any kept update id equals the book as it was then, ids between updates
 * give the earlier book, and a full journal forgets whole updates, oldest first.
 */
#include "history.h"
#include "market.h"
#include "symbols.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define UPDATES 400

typedef struct {
    sim_history_t *history;
    sim_book_t *books[UPDATES + 1]; /* the book after each recorded update, [0] = start */
    uint64_t ids[UPDATES + 1];
    size_t count;
    sim_market_t *market;
} recording_t;

static void on_update(void *arg, const sim_update_t *u)
{
    recording_t *r = arg;
    if (r->count >= UPDATES)
        return;
    sim_history_record(r->history, u);
    r->count++;
    r->books[r->count] = sim_book_dup(sim_market_book(r->market));
    r->ids[r->count] = u->last_id;
}

/* Runs a futures market (ids with gaps) until UPDATES updates are recorded into a journal of
   `capacity` changes. */
static void record(recording_t *r, size_t capacity)
{
    sim_universe_t *u = sim_universe_new(MARKET_USDM, 1, 7);
    assert_non_null(u);
    r->market = sim_market_new(sim_universe_get(u, 0), NULL);
    assert_non_null(r->market);
    r->history = sim_history_new(capacity, sim_market_last_update_id(r->market));
    assert_non_null(r->history);
    r->books[0] = sim_book_dup(sim_market_book(r->market));
    r->ids[0] = sim_market_last_update_id(r->market);
    sim_market_sink_t sink = {on_update, NULL, r};
    for (int64_t t = 100; r->count < UPDATES; t += 100)
        sim_market_advance(r->market, t, &sink);
    /* The engine may have run past the last update recorded: rebuild from that one. */
    sim_universe_destroy(&u);
}

static void release(recording_t *r)
{
    for (size_t i = 0; i <= r->count; i++)
        sim_book_destroy(&r->books[i]);
    sim_history_destroy(&r->history);
    sim_market_destroy(&r->market);
}

static void book_at_every_kept_id_equals_the_book_then(void **state)
{
    (void)state;
    static recording_t r;
    record(&r, 1 << 16);
    const sim_book_t *now = r.books[r.count];
    assert_int_equal(sim_history_oldest_id(r.history), r.ids[0]);
    assert_int_equal(sim_history_newest_id(r.history), r.ids[r.count]);
    for (size_t i = 0; i <= r.count; i++) {
        sim_book_t *b = sim_history_book_at(r.history, now, r.ids[i]);
        assert_non_null(b);
        if (!sim_book_equal(b, r.books[i]))
            fail_msg("book at id %llu (update %zu) differs", (unsigned long long)r.ids[i], i);
        sim_book_destroy(&b);
    }
    release(&r);
}

static void ids_between_updates_give_the_earlier_book(void **state)
{
    (void)state;
    static recording_t r;
    record(&r, 1 << 16);
    const sim_book_t *now = r.books[r.count];
    size_t between = 0;
    for (size_t i = 1; i <= r.count; i++) {
        if (r.ids[i] - r.ids[i - 1] < 2)
            continue;
        sim_book_t *b = sim_history_book_at(r.history, now, r.ids[i] - 1);
        assert_non_null(b);
        assert_true(sim_book_equal(b, r.books[i - 1]));
        sim_book_destroy(&b);
        between++;
    }
    assert_true(between > 10); /* futures ids skip, so there are many such ids */
    release(&r);
}

static void ids_outside_the_journal_are_refused(void **state)
{
    (void)state;
    static recording_t r;
    record(&r, 1 << 16);
    const sim_book_t *now = r.books[r.count];
    assert_null(sim_history_book_at(r.history, now, r.ids[0] - 1));
    assert_null(sim_history_book_at(r.history, now, r.ids[r.count] + 1));
    release(&r);
}

static void a_full_journal_forgets_whole_updates_oldest_first(void **state)
{
    (void)state;
    static recording_t r;
    record(&r, 64); /* far fewer changes than 400 updates make */
    const sim_book_t *now = r.books[r.count];
    uint64_t oldest = sim_history_oldest_id(r.history);
    assert_true(oldest > r.ids[0]);
    size_t kept = 0;
    for (size_t i = 0; i <= r.count; i++) {
        sim_book_t *b = sim_history_book_at(r.history, now, r.ids[i]);
        if (r.ids[i] < oldest) {
            assert_null(b);
            continue;
        }
        /* Every id from the oldest kept on rebuilds exactly: nothing half-forgotten. */
        assert_non_null(b);
        assert_true(sim_book_equal(b, r.books[i]));
        sim_book_destroy(&b);
        kept++;
    }
    assert_true(kept >= 2 && kept < r.count);
    release(&r);
}

static void id_back_walks_updates_and_stops_at_the_oldest(void **state)
{
    (void)state;
    static recording_t r;
    record(&r, 1 << 16);
    assert_int_equal(sim_history_id_back(r.history, 0), r.ids[r.count]);
    assert_int_equal(sim_history_id_back(r.history, 1), r.ids[r.count - 1]);
    assert_int_equal(sim_history_id_back(r.history, 10), r.ids[r.count - 10]);
    assert_int_equal(sim_history_id_back(r.history, 100000), r.ids[0]);
    release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(book_at_every_kept_id_equals_the_book_then),
        cmocka_unit_test(ids_between_updates_give_the_earlier_book),
        cmocka_unit_test(ids_outside_the_journal_are_refused),
        cmocka_unit_test(a_full_journal_forgets_whole_updates_oldest_first),
        cmocka_unit_test(id_back_walks_updates_and_stops_at_the_oldest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
