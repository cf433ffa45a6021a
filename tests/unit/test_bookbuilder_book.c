/*
 * test_bookbuilder_book.c — the bookbuilder's order book: ordering, removal, the bound,
 * snapshots, memory, and a randomized comparison against a model too plain to be wrong.
 *
 * The model is an array of quantities indexed by price tick, one per side; the bound is modelled
 * by scanning it for the worst level. Prices in the random test come from a few hundred ticks so
 * that updates and removals hit held levels most of the time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "book.h"

/* ---- helpers --------------------------------------------------------------------------------- */

/* A price or quantity of `whole` units of the quote asset. */
static dec_t D(int64_t whole)
{
    return (dec_t){whole * DEC_SCALE};
}

static book_level_t L(int64_t price, int64_t qty)
{
    return (book_level_t){D(price), D(qty)};
}

/* Checks that side holds exactly `n` levels, best first, with the given prices and quantities. */
static void check_side(const book_t *book, book_side_t side, const book_level_t *expected, size_t n,
                       const char *file, int line)
{
    if (book_depth(book, side) != n) {
        print_error("%s depth %zu, expected %zu\n", side == BOOK_BID ? "bid" : "ask",
                    book_depth(book, side), n);
        _fail(file, line);
    }
    for (size_t i = 0; i < n; i++) {
        const book_level_t *got = book_level(book, side, i);
        if (!got || got->price.units != expected[i].price.units ||
            got->qty.units != expected[i].qty.units) {
            print_error("%s level %zu: expected %lld@%lld, got %lld@%lld\n",
                        side == BOOK_BID ? "bid" : "ask", i, (long long)expected[i].qty.units,
                        (long long)expected[i].price.units, got ? (long long)got->qty.units : -1,
                        got ? (long long)got->price.units : -1);
            _fail(file, line);
        }
    }
    if (book_level(book, side, n) != NULL) {
        print_error("level %zu past the depth is not NULL\n", n);
        _fail(file, line);
    }
}
#define assert_side(book, side, ...)                                                               \
    do {                                                                                           \
        const book_level_t expected_[] = {__VA_ARGS__};                                            \
        check_side(book, side, expected_, sizeof expected_ / sizeof expected_[0], __FILE__,        \
                   __LINE__);                                                                      \
    } while (0)

/* ---- insert, update, remove ------------------------------------------------------------------ */

static void bids_are_held_best_first_whatever_the_insert_order(void **state)
{
    (void)state;
    book_t *book = book_new(100);
    assert_non_null(book);
    assert_int_equal(book_set(book, BOOK_BID, D(100), D(1)), BOOK_INSERTED);
    assert_int_equal(book_set(book, BOOK_BID, D(98), D(2)), BOOK_INSERTED);
    assert_int_equal(book_set(book, BOOK_BID, D(101), D(3)), BOOK_INSERTED);
    assert_int_equal(book_set(book, BOOK_BID, D(99), D(4)), BOOK_INSERTED);
    assert_side(book, BOOK_BID, L(101, 3), L(100, 1), L(99, 4), L(98, 2));
    assert_int_equal(book_depth(book, BOOK_ASK), 0);
    assert_null(book_level(book, BOOK_ASK, 0));
    book_destroy(&book);
    assert_null(book);
}

static void asks_are_held_best_first_whatever_the_insert_order(void **state)
{
    (void)state;
    book_t *book = book_new(100);
    assert_non_null(book);
    assert_int_equal(book_set(book, BOOK_ASK, D(100), D(1)), BOOK_INSERTED);
    assert_int_equal(book_set(book, BOOK_ASK, D(98), D(2)), BOOK_INSERTED);
    assert_int_equal(book_set(book, BOOK_ASK, D(101), D(3)), BOOK_INSERTED);
    assert_int_equal(book_set(book, BOOK_ASK, D(99), D(4)), BOOK_INSERTED);
    assert_side(book, BOOK_ASK, L(98, 2), L(99, 4), L(100, 1), L(101, 3));
    assert_int_equal(book_depth(book, BOOK_BID), 0);
    book_destroy(&book);
}

static void setting_a_held_level_updates_its_quantity_in_place(void **state)
{
    (void)state;
    book_t *book = book_new(100);
    assert_non_null(book);
    book_set(book, BOOK_BID, D(100), D(1));
    book_set(book, BOOK_BID, D(99), D(1));
    book_set(book, BOOK_ASK, D(101), D(1));
    book_set(book, BOOK_ASK, D(102), D(1));
    assert_int_equal(book_set(book, BOOK_BID, D(99), D(7)), BOOK_UPDATED);
    assert_int_equal(book_set(book, BOOK_ASK, D(101), D(8)), BOOK_UPDATED);
    assert_int_equal(book_set(book, BOOK_ASK, D(101), D(8)), BOOK_UPDATED); /* same quantity */
    assert_side(book, BOOK_BID, L(100, 1), L(99, 7));
    assert_side(book, BOOK_ASK, L(101, 8), L(102, 1));
    book_destroy(&book);
}

static void zero_quantity_removes_a_level_on_either_side(void **state)
{
    (void)state;
    book_t *book = book_new(100);
    assert_non_null(book);
    for (int64_t p = 95; p <= 100; p++)
        book_set(book, BOOK_BID, D(p), D(p - 90));
    for (int64_t p = 101; p <= 106; p++)
        book_set(book, BOOK_ASK, D(p), D(p - 100));
    assert_int_equal(book_set(book, BOOK_BID, D(100), D(0)), BOOK_REMOVED); /* the best */
    assert_int_equal(book_set(book, BOOK_BID, D(95), D(0)), BOOK_REMOVED);  /* the worst */
    assert_int_equal(book_set(book, BOOK_BID, D(97), D(0)), BOOK_REMOVED);  /* inside */
    assert_int_equal(book_set(book, BOOK_ASK, D(101), D(0)), BOOK_REMOVED);
    assert_int_equal(book_set(book, BOOK_ASK, D(106), D(0)), BOOK_REMOVED);
    assert_int_equal(book_set(book, BOOK_ASK, D(104), D(0)), BOOK_REMOVED);
    assert_side(book, BOOK_BID, L(99, 9), L(98, 8), L(96, 6));
    assert_side(book, BOOK_ASK, L(102, 2), L(103, 3), L(105, 5));
    book_destroy(&book);
}

static void removing_a_level_the_book_does_not_hold_is_a_noop(void **state)
{
    (void)state;
    book_t *book = book_new(100);
    assert_non_null(book);
    assert_int_equal(book_set(book, BOOK_BID, D(100), D(0)), BOOK_NOOP); /* empty side */
    assert_int_equal(book_set(book, BOOK_ASK, D(100), D(0)), BOOK_NOOP);
    book_set(book, BOOK_BID, D(100), D(1));
    book_set(book, BOOK_BID, D(98), D(2));
    book_set(book, BOOK_ASK, D(101), D(3));
    assert_int_equal(book_set(book, BOOK_BID, D(99), D(0)), BOOK_NOOP);  /* between levels */
    assert_int_equal(book_set(book, BOOK_BID, D(101), D(0)), BOOK_NOOP); /* above the best */
    assert_int_equal(book_set(book, BOOK_BID, D(97), D(0)), BOOK_NOOP);  /* below the worst */
    assert_int_equal(book_set(book, BOOK_ASK, D(100), D(0)),
                     BOOK_NOOP); /* held on the other side */
    assert_side(book, BOOK_BID, L(100, 1), L(98, 2));
    assert_side(book, BOOK_ASK, L(101, 3));
    assert_int_equal(book_trimmed(book), 0);
    book_destroy(&book);
}

static void prices_differing_in_the_last_decimal_are_distinct_levels(void **state)
{
    (void)state;
    book_t *book = book_new(100);
    assert_non_null(book);
    dec_t a = {4325010000000}, b = {4325010000001};
    assert_int_equal(book_set(book, BOOK_ASK, b, D(1)), BOOK_INSERTED);
    assert_int_equal(book_set(book, BOOK_ASK, a, D(2)), BOOK_INSERTED);
    assert_int_equal(book_level(book, BOOK_ASK, 0)->price.units, a.units);
    assert_int_equal(book_level(book, BOOK_ASK, 1)->price.units, b.units);
    book_destroy(&book);
}

/* ---- crossed --------------------------------------------------------------------------------- */

static void bid_equal_to_ask_is_crossed(void **state)
{
    (void)state;
    book_t *book = book_new(10);
    assert_non_null(book);
    book_set(book, BOOK_BID, D(100), D(1));
    book_set(book, BOOK_ASK, D(101), D(1));
    assert_false(book_crossed(book));
    book_set(book, BOOK_BID, D(101), D(1));
    assert_true(book_crossed(book));
    book_set(book, BOOK_BID, D(101), D(0));
    book_set(book, BOOK_BID, D(102), D(1));
    assert_true(book_crossed(book)); /* bid above ask */
    book_set(book, BOOK_ASK, D(103), D(1));
    book_set(book, BOOK_ASK, D(101), D(0));
    assert_false(book_crossed(book));
    book_destroy(&book);
}

static void a_book_with_an_empty_side_is_never_crossed(void **state)
{
    (void)state;
    book_t *book = book_new(10);
    assert_non_null(book);
    assert_false(book_crossed(book));
    book_set(book, BOOK_BID, D(100), D(1));
    assert_false(book_crossed(book));
    book_set(book, BOOK_BID, D(100), D(0));
    book_set(book, BOOK_ASK, D(1), D(1));
    assert_false(book_crossed(book));
    book_destroy(&book);
}

/* ---- the bound ------------------------------------------------------------------------------- */

static void a_full_side_drops_only_its_worst_level_for_a_better_one(void **state)
{
    (void)state;
    book_t *book = book_new(3);
    assert_non_null(book);
    assert_int_equal(book_max_levels(book), 3);
    book_set(book, BOOK_BID, D(100), D(1));
    book_set(book, BOOK_BID, D(98), D(2));
    book_set(book, BOOK_BID, D(96), D(3));
    book_set(book, BOOK_ASK, D(101), D(1));
    book_set(book, BOOK_ASK, D(103), D(2));
    book_set(book, BOOK_ASK, D(105), D(3));
    assert_int_equal(book_set(book, BOOK_BID, D(99), D(9)), BOOK_INSERTED); /* inside */
    assert_side(book, BOOK_BID, L(100, 1), L(99, 9), L(98, 2));
    assert_int_equal(book_trimmed(book), 1);
    assert_int_equal(book_set(book, BOOK_BID, D(101), D(8)), BOOK_INSERTED); /* new best */
    assert_side(book, BOOK_BID, L(101, 8), L(100, 1), L(99, 9));
    assert_int_equal(book_set(book, BOOK_ASK, D(102), D(9)), BOOK_INSERTED);
    assert_side(book, BOOK_ASK, L(101, 1), L(102, 9), L(103, 2));
    assert_int_equal(book_set(book, BOOK_ASK, D(100), D(8)), BOOK_INSERTED);
    assert_side(book, BOOK_ASK, L(100, 8), L(101, 1), L(102, 9));
    assert_int_equal(book_trimmed(book), 4);
    book_destroy(&book);
}

static void a_full_side_refuses_a_level_worse_than_its_worst(void **state)
{
    (void)state;
    book_t *book = book_new(2);
    assert_non_null(book);
    book_set(book, BOOK_BID, D(100), D(1));
    book_set(book, BOOK_BID, D(99), D(2));
    book_set(book, BOOK_ASK, D(101), D(1));
    book_set(book, BOOK_ASK, D(102), D(2));
    assert_int_equal(book_set(book, BOOK_BID, D(98), D(5)), BOOK_TRIMMED);
    assert_int_equal(book_set(book, BOOK_ASK, D(103), D(5)), BOOK_TRIMMED);
    assert_side(book, BOOK_BID, L(100, 1), L(99, 2));
    assert_side(book, BOOK_ASK, L(101, 1), L(102, 2));
    assert_int_equal(book_trimmed(book), 2);
    /* Updates and removals of held levels are not limited by the bound. */
    assert_int_equal(book_set(book, BOOK_BID, D(99), D(3)), BOOK_UPDATED);
    assert_int_equal(book_set(book, BOOK_BID, D(98), D(0)), BOOK_NOOP);
    assert_int_equal(book_set(book, BOOK_BID, D(99), D(0)), BOOK_REMOVED);
    /* With room again, a level below the worst is kept. */
    assert_int_equal(book_set(book, BOOK_BID, D(90), D(4)), BOOK_INSERTED);
    assert_side(book, BOOK_BID, L(100, 1), L(90, 4));
    assert_int_equal(book_trimmed(book), 2);
    book_destroy(&book);
}

static void depth_never_exceeds_max_levels_and_the_best_levels_survive(void **state)
{
    (void)state;
    enum { MAX = 50, PRICES = 1000 };
    book_t *book = book_new(MAX);
    assert_non_null(book);
    /* Every permutation step of 389 (prime to 1000) visits each price once, in scattered order. */
    for (int64_t i = 0; i < PRICES; i++) {
        int64_t p = 1 + (i * 389) % PRICES;
        book_result_t r = book_set(book, BOOK_BID, D(p), D(p));
        assert_true(r == BOOK_INSERTED || r == BOOK_TRIMMED);
        book_set(book, BOOK_ASK, D(p), D(p));
        assert_true(book_depth(book, BOOK_BID) <= MAX);
        assert_true(book_depth(book, BOOK_ASK) <= MAX);
    }
    assert_int_equal(book_depth(book, BOOK_BID), MAX);
    assert_int_equal(book_depth(book, BOOK_ASK), MAX);
    for (size_t i = 0; i < MAX; i++) {
        assert_int_equal(book_level(book, BOOK_BID, i)->price.units, D(PRICES - (int64_t)i).units);
        assert_int_equal(book_level(book, BOOK_ASK, i)->price.units, D(1 + (int64_t)i).units);
    }
    /* Each side saw PRICES distinct levels and kept MAX; each refused or dropped level counts. */
    assert_int_equal(book_trimmed(book), 2 * (PRICES - MAX));
    book_destroy(&book);
}

static void a_book_of_one_level_a_side_keeps_the_best(void **state)
{
    (void)state;
    book_t *book = book_new(1);
    assert_non_null(book);
    assert_int_equal(book_set(book, BOOK_BID, D(100), D(1)), BOOK_INSERTED);
    assert_int_equal(book_set(book, BOOK_BID, D(99), D(1)), BOOK_TRIMMED);
    assert_int_equal(book_set(book, BOOK_BID, D(101), D(2)), BOOK_INSERTED);
    assert_side(book, BOOK_BID, L(101, 2));
    assert_int_equal(book_set(book, BOOK_ASK, D(105), D(1)), BOOK_INSERTED);
    assert_int_equal(book_set(book, BOOK_ASK, D(104), D(3)), BOOK_INSERTED);
    assert_side(book, BOOK_ASK, L(104, 3));
    assert_int_equal(book_trimmed(book), 3);
    book_destroy(&book);
}

static void a_book_needs_room_for_at_least_one_level(void **state)
{
    (void)state;
    assert_null(book_new(0));
    assert_null(book_new(SIZE_MAX));
    book_destroy(NULL);
    book_t *none = NULL;
    book_destroy(&none);
}

/* ---- snapshots ------------------------------------------------------------------------------- */

static void replace_side_sorts_unsorted_levels(void **state)
{
    (void)state;
    book_t *book = book_new(100);
    assert_non_null(book);
    const book_level_t bids[] = {L(98, 1), L(100, 2), L(95, 3), L(99, 4), L(97, 5)};
    const book_level_t asks[] = {L(103, 1), L(101, 2), L(104, 3), L(102, 4)};
    assert_int_equal(book_replace_side(book, BOOK_BID, bids, 5), 0);
    assert_int_equal(book_replace_side(book, BOOK_ASK, asks, 4), 0);
    assert_side(book, BOOK_BID, L(100, 2), L(99, 4), L(98, 1), L(97, 5), L(95, 3));
    assert_side(book, BOOK_ASK, L(101, 2), L(102, 4), L(103, 1), L(104, 3));
    assert_int_equal(book_trimmed(book), 0);
    book_destroy(&book);
}

static void replace_side_takes_sorted_levels_in_either_order(void **state)
{
    (void)state;
    book_t *book = book_new(100);
    assert_non_null(book);
    const book_level_t best_first[] = {L(100, 1), L(99, 2), L(98, 3)};
    const book_level_t worst_first[] = {L(98, 3), L(99, 2), L(100, 1)};
    assert_int_equal(book_replace_side(book, BOOK_BID, best_first, 3), 0);
    assert_side(book, BOOK_BID, L(100, 1), L(99, 2), L(98, 3));
    assert_int_equal(book_replace_side(book, BOOK_BID, worst_first, 3), 0);
    assert_side(book, BOOK_BID, L(100, 1), L(99, 2), L(98, 3));
    const book_level_t asks_best_first[] = {L(101, 1), L(102, 2), L(103, 3)};
    const book_level_t asks_worst_first[] = {L(103, 3), L(102, 2), L(101, 1)};
    assert_int_equal(book_replace_side(book, BOOK_ASK, asks_best_first, 3), 0);
    assert_side(book, BOOK_ASK, L(101, 1), L(102, 2), L(103, 3));
    assert_int_equal(book_replace_side(book, BOOK_ASK, asks_worst_first, 3), 0);
    assert_side(book, BOOK_ASK, L(101, 1), L(102, 2), L(103, 3));
    book_destroy(&book);
}

static void replace_side_keeps_the_last_quantity_of_a_repeated_price(void **state)
{
    (void)state;
    book_t *book = book_new(100);
    assert_non_null(book);
    const book_level_t bids[] = {L(99, 1), L(100, 2), L(99, 3), L(98, 4), L(99, 5), L(100, 6)};
    assert_int_equal(book_replace_side(book, BOOK_BID, bids, 6), 0);
    assert_side(book, BOOK_BID, L(100, 6), L(99, 5), L(98, 4));
    const book_level_t asks[] = {L(101, 1), L(101, 2)}; /* ordered but for the repeat */
    assert_int_equal(book_replace_side(book, BOOK_ASK, asks, 2), 0);
    assert_side(book, BOOK_ASK, L(101, 2));
    book_destroy(&book);
}

static void replace_side_skips_zero_quantities(void **state)
{
    (void)state;
    book_t *book = book_new(100);
    assert_non_null(book);
    const book_level_t sorted[] = {L(100, 0), L(99, 2), L(98, 0), L(97, 4), L(96, 0)};
    assert_int_equal(book_replace_side(book, BOOK_BID, sorted, 5), 0);
    assert_side(book, BOOK_BID, L(99, 2), L(97, 4));
    const book_level_t unsorted[] = {L(103, 0), L(101, 2), L(104, 3), L(102, 0), L(101, 0)};
    assert_int_equal(book_replace_side(book, BOOK_ASK, unsorted, 5), 0);
    assert_side(book, BOOK_ASK, L(101, 2), L(104, 3)); /* a zero removes nothing */
    const book_level_t all_zero[] = {L(100, 0), L(99, 0)};
    assert_int_equal(book_replace_side(book, BOOK_BID, all_zero, 2), 0);
    assert_int_equal(book_depth(book, BOOK_BID), 0);
    assert_int_equal(book_trimmed(book), 0);
    book_destroy(&book);
}

static void replace_side_keeps_only_the_best_max_levels(void **state)
{
    (void)state;
    book_t *book = book_new(3);
    assert_non_null(book);
    const book_level_t bids[] = {L(96, 1), L(100, 2), L(95, 3), L(99, 4), L(97, 5), L(98, 6)};
    assert_int_equal(book_replace_side(book, BOOK_BID, bids, 6), 0);
    assert_side(book, BOOK_BID, L(100, 2), L(99, 4), L(98, 6));
    assert_int_equal(book_trimmed(book), 3);
    const book_level_t asks_best_first[] = {L(101, 1), L(102, 2), L(103, 3), L(104, 4), L(105, 5)};
    assert_int_equal(book_replace_side(book, BOOK_ASK, asks_best_first, 5), 0);
    assert_side(book, BOOK_ASK, L(101, 1), L(102, 2), L(103, 3));
    const book_level_t asks_worst_first[] = {L(105, 5), L(104, 4), L(103, 3), L(102, 2)};
    assert_int_equal(book_replace_side(book, BOOK_ASK, asks_worst_first, 4), 0);
    assert_side(book, BOOK_ASK, L(102, 2), L(103, 3), L(104, 4));
    assert_int_equal(book_trimmed(book), 3 + 2 + 1);
    book_destroy(&book);
}

static void replace_side_replaces_everything_the_side_held(void **state)
{
    (void)state;
    book_t *book = book_new(100);
    assert_non_null(book);
    for (int64_t p = 90; p <= 100; p++)
        book_set(book, BOOK_BID, D(p), D(1));
    book_set(book, BOOK_ASK, D(101), D(1));
    const book_level_t bids[] = {L(50, 7)};
    assert_int_equal(book_replace_side(book, BOOK_BID, bids, 1), 0);
    assert_side(book, BOOK_BID, L(50, 7));
    assert_side(book, BOOK_ASK, L(101, 1)); /* the other side is untouched */
    assert_int_equal(book_replace_side(book, BOOK_BID, NULL, 0), 0);
    assert_int_equal(book_depth(book, BOOK_BID), 0);
    /* The side is an ordinary side afterwards. */
    assert_int_equal(book_set(book, BOOK_BID, D(60), D(1)), BOOK_INSERTED);
    assert_side(book, BOOK_BID, L(60, 1));
    book_destroy(&book);
}

static void a_snapshot_deeper_than_the_initial_capacity_loads_whole(void **state)
{
    (void)state;
    enum { LEVELS = 5000 };
    book_t *book = book_new(LEVELS);
    assert_non_null(book);
    static book_level_t levels[LEVELS];
    for (int64_t i = 0; i < LEVELS; i++) /* Binance's order for bids: best first */
        levels[i] = L(100000 - i, i + 1);
    assert_int_equal(book_replace_side(book, BOOK_BID, levels, LEVELS), 0);
    for (int64_t i = 0; i < LEVELS; i++) /* scrambled */
        levels[i] = L(100001 + (i * 2003) % LEVELS, i + 1);
    assert_int_equal(book_replace_side(book, BOOK_ASK, levels, LEVELS), 0);
    assert_int_equal(book_depth(book, BOOK_BID), LEVELS);
    assert_int_equal(book_depth(book, BOOK_ASK), LEVELS);
    for (size_t i = 0; i < LEVELS; i++) {
        assert_int_equal(book_level(book, BOOK_BID, i)->price.units, D(100000 - (int64_t)i).units);
        assert_int_equal(book_level(book, BOOK_ASK, i)->price.units, D(100001 + (int64_t)i).units);
    }
    /* Updates right after a snapshot land anywhere without disturbing the order. */
    assert_int_equal(book_set(book, BOOK_BID, D(100000), D(0)), BOOK_REMOVED);
    assert_int_equal(book_set(book, BOOK_BID, D(100000), D(9)), BOOK_INSERTED);
    assert_int_equal(book_set(book, BOOK_BID, D(1), D(9)), BOOK_TRIMMED);
    assert_int_equal(book_level(book, BOOK_BID, 0)->qty.units, D(9).units);
    book_destroy(&book);
}

/* ---- queries --------------------------------------------------------------------------------- */

static void qty_at_reports_held_levels_and_zero_elsewhere(void **state)
{
    (void)state;
    book_t *book = book_new(100);
    assert_non_null(book);
    book_set(book, BOOK_BID, D(100), D(3));
    book_set(book, BOOK_BID, D(98), D(4));
    book_set(book, BOOK_ASK, D(101), D(5));
    assert_int_equal(book_qty_at(book, BOOK_BID, D(100)).units, D(3).units);
    assert_int_equal(book_qty_at(book, BOOK_BID, D(98)).units, D(4).units);
    assert_int_equal(book_qty_at(book, BOOK_ASK, D(101)).units, D(5).units);
    assert_int_equal(book_qty_at(book, BOOK_BID, D(99)).units, 0);
    assert_int_equal(book_qty_at(book, BOOK_BID, D(101)).units, 0); /* held only as an ask */
    assert_int_equal(book_qty_at(book, BOOK_ASK, D(100)).units, 0);
    assert_int_equal(book_qty_at(book, BOOK_ASK, D(200)).units, 0);
    book_set(book, BOOK_BID, D(100), D(0));
    assert_int_equal(book_qty_at(book, BOOK_BID, D(100)).units, 0);
    book_destroy(&book);
}

static void clear_empties_both_sides_and_keeps_the_capacity(void **state)
{
    (void)state;
    book_t *book = book_new(1000);
    assert_non_null(book);
    for (int64_t p = 1; p <= 500; p++) {
        book_set(book, BOOK_BID, D(p), D(1));
        book_set(book, BOOK_ASK, D(1000 + p), D(1));
    }
    size_t bytes = book_memory_bytes(book);
    book_clear(book);
    assert_int_equal(book_depth(book, BOOK_BID), 0);
    assert_int_equal(book_depth(book, BOOK_ASK), 0);
    assert_false(book_crossed(book));
    assert_int_equal(book_memory_bytes(book), bytes);
    assert_int_equal(book_set(book, BOOK_BID, D(7), D(1)), BOOK_INSERTED);
    assert_side(book, BOOK_BID, L(7, 1));
    book_destroy(&book);
}

/* ---- memory ---------------------------------------------------------------------------------- */

static void a_book_of_1000_levels_a_side_fits_in_100_kb(void **state)
{
    (void)state;
    book_t *book = book_new(1000);
    assert_non_null(book);
    size_t empty = book_memory_bytes(book);
    assert_true(empty < 4096); /* a thin book stays small */
    /* Filled from the top down and then churned near the top, as a live book is. */
    for (int64_t i = 0; i < 1000; i++) {
        assert_int_equal(book_set(book, BOOK_BID, D(100000 - i), D(1)), BOOK_INSERTED);
        assert_int_equal(book_set(book, BOOK_ASK, D(100001 + i), D(1)), BOOK_INSERTED);
    }
    assert_int_equal(book_depth(book, BOOK_BID), 1000);
    assert_int_equal(book_depth(book, BOOK_ASK), 1000);
    for (int64_t i = 0; i < 10000; i++) {
        book_set(book, BOOK_BID, D(100000 + i % 7), D(i % 3));
        book_set(book, BOOK_ASK, D(100001 - i % 7), D(i % 3));
    }
    size_t bytes = book_memory_bytes(book);
    print_message("1000 x 1000 book: %zu bytes\n", bytes);
    assert_true(bytes >= 2 * 1000 * sizeof(book_level_t));
    assert_true(bytes <= 100 * 1024);
    book_destroy(&book);
}

/* ---- where a side stops being complete ------------------------------------------------------- */

/* A snapshot cut at its depth is complete down to its worst level; levels learned beyond it are
   held (exact in themselves) but do not move the limit, and a removal within does not either. */
static void a_limited_side_is_complete_down_to_its_cut(void **state)
{
    (void)state;
    book_t *book = book_new(100);
    const book_level_t bids[] = {L(100, 1), L(99, 1), L(98, 1)};
    assert_int_equal(book_replace_side(book, BOOK_BID, bids, 3), 0);
    dec_t to;
    assert_false(book_complete_to(book, BOOK_BID, &to));
    assert_int_equal(book_complete_depth(book, BOOK_BID), 3);
    book_limit_side(book, BOOK_BID);
    assert_true(book_complete_to(book, BOOK_BID, &to));
    assert_int_equal(to.units, D(98).units);
    assert_int_equal(book_set(book, BOOK_BID, D(95), D(5)), BOOK_INSERTED);
    assert_int_equal(book_set(book, BOOK_BID, D(101), D(5)), BOOK_INSERTED);
    assert_int_equal(book_set(book, BOOK_BID, D(98), D(0)), BOOK_REMOVED);
    assert_true(book_complete_to(book, BOOK_BID, &to));
    assert_int_equal(to.units, D(98).units);
    assert_int_equal(book_complete_depth(book, BOOK_BID), 3); /* 101, 100, 99 */
    assert_side(book, BOOK_BID, L(101, 5), L(100, 1), L(99, 1), L(95, 5));
    /* Asks the other way round. */
    const book_level_t asks[] = {L(102, 1), L(103, 1)};
    assert_int_equal(book_replace_side(book, BOOK_ASK, asks, 2), 0);
    book_limit_side(book, BOOK_ASK);
    assert_int_equal(book_set(book, BOOK_ASK, D(104), D(1)), BOOK_INSERTED);
    assert_true(book_complete_to(book, BOOK_ASK, &to));
    assert_int_equal(to.units, D(103).units);
    assert_int_equal(book_complete_depth(book, BOOK_ASK), 2);
    book_destroy(&book);
}

/* Trimming a full side leaves it complete at most down to the level then worst; a snapshot that
   keeps fewer levels than it was given is limited at the worst it keeps; a clear, or a snapshot
   that fits, is complete again. */
static void trimming_moves_the_limit_inward(void **state)
{
    (void)state;
    book_t *book = book_new(3);
    const book_level_t bids[] = {L(100, 1), L(99, 1), L(98, 1)};
    assert_int_equal(book_replace_side(book, BOOK_BID, bids, 3), 0);
    assert_int_equal(book_set(book, BOOK_BID, D(101), D(1)), BOOK_INSERTED); /* drops 98 */
    assert_int_equal(book_dropped(book).units, D(98).units);
    dec_t to;
    assert_true(book_complete_to(book, BOOK_BID, &to));
    assert_int_equal(to.units, D(99).units);
    const book_level_t many[] = {L(90, 1), L(91, 1), L(92, 1), L(93, 1)};
    assert_int_equal(book_replace_side(book, BOOK_BID, many, 4), 0);
    assert_true(book_complete_to(book, BOOK_BID, &to));
    assert_int_equal(to.units, D(91).units);
    book_clear(book);
    assert_false(book_side_limited(book, BOOK_BID));
    assert_int_equal(book_replace_side(book, BOOK_BID, bids, 3), 0);
    assert_false(book_side_limited(book, BOOK_BID));
    book_destroy(&book);
}

/* ---- randomized comparison against a model --------------------------------------------------- */

enum { TICKS = 400, TICK_BASE = 10000 };

/* The model: quantity by price tick, 0 = no level. The bound is applied by scanning. */
typedef struct {
    int64_t qty[2][TICKS];
    size_t max_levels;
    uint64_t trimmed;
} model_t;

static uint64_t rng_state;
static uint64_t rng_next(void) /* xorshift64*: fixed seed, same sequence everywhere */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}
static size_t rng_below(size_t n)
{
    return (size_t)(rng_next() >> 33) % n;
}

static dec_t tick_price(size_t tick)
{
    return (dec_t){(int64_t)(TICK_BASE + tick) * 1000}; /* 0.00001 steps */
}

/* Tick order from the worst level to the best on side. */
static bool model_better(book_side_t side, size_t a, size_t b)
{
    return side == BOOK_BID ? a > b : a < b;
}

static size_t model_depth(const model_t *m, book_side_t side, size_t *worst)
{
    size_t n = 0;
    for (size_t t = 0; t < TICKS; t++) {
        if (m->qty[side][t] == 0)
            continue;
        if (n == 0 || model_better(side, *worst, t))
            *worst = t;
        n++;
    }
    return n;
}

static book_result_t model_set(model_t *m, book_side_t side, size_t tick, int64_t qty)
{
    int64_t *q = &m->qty[side][tick];
    if (*q != 0) {
        *q = qty;
        return qty == 0 ? BOOK_REMOVED : BOOK_UPDATED;
    }
    if (qty == 0)
        return BOOK_NOOP;
    size_t worst = 0;
    if (model_depth(m, side, &worst) == m->max_levels) {
        m->trimmed++;
        if (!model_better(side, tick, worst))
            return BOOK_TRIMMED;
        m->qty[side][worst] = 0;
    }
    *q = qty;
    return BOOK_INSERTED;
}

/* A snapshot through the model: last non-zero quantity per price, then the best max_levels. */
static void model_replace(model_t *m, book_side_t side, const size_t *ticks, const int64_t *qtys,
                          size_t n)
{
    memset(m->qty[side], 0, sizeof m->qty[side]);
    size_t held = 0;
    for (size_t i = 0; i < n; i++) {
        if (qtys[i] == 0)
            continue;
        if (m->qty[side][ticks[i]] == 0)
            held++;
        m->qty[side][ticks[i]] = qtys[i];
    }
    for (; held > m->max_levels; held--) {
        size_t worst = 0;
        model_depth(m, side, &worst);
        m->qty[side][worst] = 0;
        m->trimmed++;
    }
}

static void check_against_model(const book_t *book, const model_t *m, uint64_t op)
{
    for (int sd = 0; sd < 2; sd++) {
        book_side_t side = (book_side_t)sd;
        size_t i = 0;
        for (size_t k = 0; k < TICKS; k++) {
            size_t t = side == BOOK_BID ? TICKS - 1 - k : k; /* best first */
            if (m->qty[side][t] == 0)
                continue;
            const book_level_t *got = book_level(book, side, i);
            if (!got || got->price.units != tick_price(t).units ||
                got->qty.units != m->qty[side][t]) {
                print_error("op %llu: %s level %zu differs from the model (tick %zu qty %lld)\n",
                            (unsigned long long)op, side == BOOK_BID ? "bid" : "ask", i, t,
                            (long long)m->qty[side][t]);
                fail();
            }
            i++;
        }
        assert_int_equal(book_depth(book, side), i);
        assert_true(i <= m->max_levels);
    }
    assert_int_equal(book_trimmed(book), m->trimmed);
    size_t best_bid = TICKS, best_ask = TICKS;
    for (size_t t = 0; t < TICKS; t++) {
        if (m->qty[BOOK_BID][t] != 0)
            best_bid = t;
        if (m->qty[BOOK_ASK][TICKS - 1 - t] != 0)
            best_ask = TICKS - 1 - t;
    }
    assert_int_equal(book_crossed(book),
                     best_bid < TICKS && best_ask < TICKS && best_bid >= best_ask);
}

static void run_against_model(size_t max_levels, uint64_t seed)
{
    enum { OPS = 200000, CHECK_EVERY = 500, SNAPSHOT_EVERY = 20011 };
    static model_t m;
    memset(&m, 0, sizeof m);
    m.max_levels = max_levels;
    rng_state = seed;
    book_t *book = book_new(max_levels);
    assert_non_null(book);
    static book_level_t snap[TICKS * 2];
    static size_t snap_ticks[TICKS * 2];
    static int64_t snap_qtys[TICKS * 2];
    for (uint64_t op = 1; op <= OPS; op++) {
        book_side_t side = (book_side_t)(rng_next() & 1);
        if (op % SNAPSHOT_EVERY == 0) {
            /* A snapshot in one of three shapes: best first, worst first, or scrambled with
               repeats and zeros. */
            size_t n = 0, shape = rng_below(3);
            for (size_t k = 0; k < TICKS; k++) {
                bool keep = rng_below(3) != 0;
                size_t t = shape == 2 ? rng_below(TICKS) : k;
                if (shape != 2 && !keep)
                    continue;
                if (shape == 0) /* best first */
                    t = side == BOOK_BID ? TICKS - 1 - k : k;
                else if (shape == 1)
                    t = side == BOOK_BID ? k : TICKS - 1 - k;
                snap_ticks[n] = t;
                snap_qtys[n] = shape == 2 && rng_below(8) == 0 ? 0 : (int64_t)rng_below(1000) + 1;
                snap[n] = (book_level_t){tick_price(t), {snap_qtys[n]}};
                n++;
            }
            model_replace(&m, side, snap_ticks, snap_qtys, n);
            assert_int_equal(book_replace_side(book, side, snap, n), 0);
            check_against_model(book, &m, op);
            continue;
        }
        /* Prices cluster around a top that drifts, as a live book's changes do; a few land
           anywhere. */
        size_t tick = rng_below(4) == 0 ? rng_below(TICKS) : (TICKS / 2 + rng_below(40)) - 20;
        int64_t qty = rng_below(10) < 3 ? 0 : (int64_t)rng_below(1000) + 1;
        book_result_t expected = model_set(&m, side, tick, qty);
        book_result_t got = book_set(book, side, tick_price(tick), (dec_t){qty});
        if (got != expected) {
            print_error("op %llu: book_set returned %d, the model %d\n", (unsigned long long)op,
                        (int)got, (int)expected);
            fail();
        }
        if (op % CHECK_EVERY == 0) {
            check_against_model(book, &m, op);
            size_t probe = rng_below(TICKS);
            assert_int_equal(book_qty_at(book, side, tick_price(probe)).units, m.qty[side][probe]);
        }
    }
    check_against_model(book, &m, OPS);
    book_destroy(&book);
}

static void random_updates_match_the_model_without_a_binding_bound(void **state)
{
    (void)state;
    run_against_model(5000, 0x9E3779B97F4A7C15ULL);
}

static void random_updates_match_the_model_with_a_bound_of_100(void **state)
{
    (void)state;
    run_against_model(100, 0xD1B54A32D192ED03ULL);
}

static void random_updates_match_the_model_with_a_bound_of_7(void **state)
{
    (void)state;
    run_against_model(7, 0x8CB92BA72F3D8DD7ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bids_are_held_best_first_whatever_the_insert_order),
        cmocka_unit_test(asks_are_held_best_first_whatever_the_insert_order),
        cmocka_unit_test(setting_a_held_level_updates_its_quantity_in_place),
        cmocka_unit_test(zero_quantity_removes_a_level_on_either_side),
        cmocka_unit_test(removing_a_level_the_book_does_not_hold_is_a_noop),
        cmocka_unit_test(prices_differing_in_the_last_decimal_are_distinct_levels),
        cmocka_unit_test(bid_equal_to_ask_is_crossed),
        cmocka_unit_test(a_book_with_an_empty_side_is_never_crossed),
        cmocka_unit_test(a_full_side_drops_only_its_worst_level_for_a_better_one),
        cmocka_unit_test(a_full_side_refuses_a_level_worse_than_its_worst),
        cmocka_unit_test(depth_never_exceeds_max_levels_and_the_best_levels_survive),
        cmocka_unit_test(a_book_of_one_level_a_side_keeps_the_best),
        cmocka_unit_test(a_book_needs_room_for_at_least_one_level),
        cmocka_unit_test(replace_side_sorts_unsorted_levels),
        cmocka_unit_test(replace_side_takes_sorted_levels_in_either_order),
        cmocka_unit_test(replace_side_keeps_the_last_quantity_of_a_repeated_price),
        cmocka_unit_test(replace_side_skips_zero_quantities),
        cmocka_unit_test(replace_side_keeps_only_the_best_max_levels),
        cmocka_unit_test(replace_side_replaces_everything_the_side_held),
        cmocka_unit_test(a_snapshot_deeper_than_the_initial_capacity_loads_whole),
        cmocka_unit_test(qty_at_reports_held_levels_and_zero_elsewhere),
        cmocka_unit_test(clear_empties_both_sides_and_keeps_the_capacity),
        cmocka_unit_test(a_book_of_1000_levels_a_side_fits_in_100_kb),
        cmocka_unit_test(a_limited_side_is_complete_down_to_its_cut),
        cmocka_unit_test(trimming_moves_the_limit_inward),
        cmocka_unit_test(random_updates_match_the_model_without_a_binding_bound),
        cmocka_unit_test(random_updates_match_the_model_with_a_bound_of_100),
        cmocka_unit_test(random_updates_match_the_model_with_a_bound_of_7),
    };
    return cmocka_run_group_tests_name("bookbuilder_book", tests, NULL, NULL);
}
