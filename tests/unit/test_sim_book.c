/*
 * test_sim_book.c — the sim's true order book (sim/book.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "book.h"

static dec_t d(const char *text)
{
    dec_t out = {0};
    assert_int_equal(dec_parse(text, strlen(text), 0, &out), DEC_OK);
    return out;
}

static void set(sim_book_t *book, sim_side_t side, const char *price, const char *qty)
{
    assert_int_equal(sim_book_set(book, side, d(price), d(qty), NULL), 0);
}

static void assert_level(sim_level_t level, const char *price, const char *qty)
{
    assert_int_equal(level.price.units, d(price).units);
    assert_int_equal(level.qty.units, d(qty).units);
}

static void book_starts_empty(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(0);
    assert_non_null(book);
    sim_level_t level;
    assert_int_equal(sim_book_count(book, SIM_BID), 0);
    assert_int_equal(sim_book_count(book, SIM_ASK), 0);
    assert_false(sim_book_best(book, SIM_BID, &level));
    assert_false(sim_book_best(book, SIM_ASK, &level));
    assert_int_equal(sim_book_check(book, NULL, 0), 0);
    sim_book_destroy(&book);
    assert_null(book);
    sim_book_destroy(&book); /* NULL-safe */
}

static void bids_are_kept_descending_and_asks_ascending(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(2);
    set(book, SIM_BID, "100.5", "1");
    set(book, SIM_BID, "101", "2");
    set(book, SIM_BID, "99", "3");
    set(book, SIM_BID, "100", "4");
    set(book, SIM_ASK, "103", "5");
    set(book, SIM_ASK, "102", "6");
    set(book, SIM_ASK, "104.25", "7");
    assert_int_equal(sim_book_count(book, SIM_BID), 4);
    assert_int_equal(sim_book_count(book, SIM_ASK), 3);
    assert_level(sim_book_level(book, SIM_BID, 0), "101", "2");
    assert_level(sim_book_level(book, SIM_BID, 1), "100.5", "1");
    assert_level(sim_book_level(book, SIM_BID, 2), "100", "4");
    assert_level(sim_book_level(book, SIM_BID, 3), "99", "3");
    assert_level(sim_book_level(book, SIM_ASK, 0), "102", "6");
    assert_level(sim_book_level(book, SIM_ASK, 1), "103", "5");
    assert_level(sim_book_level(book, SIM_ASK, 2), "104.25", "7");
    assert_int_equal(sim_book_check(book, NULL, 0), 0);
    sim_book_destroy(&book);
}

static void set_returns_previous_quantity(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(0);
    dec_t prev = {12345};
    assert_int_equal(sim_book_set(book, SIM_ASK, d("50"), d("1.5"), &prev), 0);
    assert_int_equal(prev.units, 0);
    assert_int_equal(sim_book_set(book, SIM_ASK, d("50"), d("2.25"), &prev), 0);
    assert_int_equal(prev.units, d("1.5").units);
    assert_int_equal(sim_book_get(book, SIM_ASK, d("50")).units, d("2.25").units);
    assert_int_equal(sim_book_set(book, SIM_ASK, d("50"), d("0"), &prev), 0);
    assert_int_equal(prev.units, d("2.25").units);
    assert_int_equal(sim_book_count(book, SIM_ASK), 0);
    sim_book_destroy(&book);
}

static void zero_quantity_removes_level(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(0);
    set(book, SIM_BID, "10", "1");
    set(book, SIM_BID, "11", "1");
    set(book, SIM_BID, "12", "1");
    set(book, SIM_BID, "11", "0");
    assert_int_equal(sim_book_count(book, SIM_BID), 2);
    assert_int_equal(sim_book_get(book, SIM_BID, d("11")).units, 0);
    assert_level(sim_book_level(book, SIM_BID, 0), "12", "1");
    assert_level(sim_book_level(book, SIM_BID, 1), "10", "1");
    sim_book_destroy(&book);
}

static void removing_absent_level_is_a_noop(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(0);
    set(book, SIM_ASK, "10", "1");
    dec_t prev = {99};
    assert_int_equal(sim_book_set(book, SIM_ASK, d("11"), d("0"), &prev), 0);
    assert_int_equal(prev.units, 0);
    assert_int_equal(sim_book_count(book, SIM_ASK), 1);
    assert_int_equal(sim_book_set(book, SIM_BID, d("11"), d("0"), NULL), 0); /* empty side */
    assert_int_equal(sim_book_count(book, SIM_BID), 0);
    sim_book_destroy(&book);
}

static void sides_are_independent(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(0);
    set(book, SIM_BID, "10", "1");
    set(book, SIM_ASK, "10", "2"); /* the same price on the other side: crossed, but stored */
    assert_int_equal(sim_book_get(book, SIM_BID, d("10")).units, d("1").units);
    assert_int_equal(sim_book_get(book, SIM_ASK, d("10")).units, d("2").units);
    sim_book_destroy(&book);
}

static void best_is_highest_bid_and_lowest_ask(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(0);
    set(book, SIM_BID, "61837.62", "0.617");
    set(book, SIM_BID, "61837.63", "3.78826");
    set(book, SIM_ASK, "61837.65", "0.1");
    set(book, SIM_ASK, "61837.64", "1.54698");
    sim_level_t bid, ask;
    assert_true(sim_book_best(book, SIM_BID, &bid));
    assert_true(sim_book_best(book, SIM_ASK, &ask));
    assert_level(bid, "61837.63", "3.78826");
    assert_level(ask, "61837.64", "1.54698");
    set(book, SIM_BID, "61837.63", "0"); /* the best goes: the next one is best */
    assert_true(sim_book_best(book, SIM_BID, &bid));
    assert_level(bid, "61837.62", "0.617");
    sim_book_destroy(&book);
}

static void top_copies_best_levels_first(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(0);
    for (int i = 1; i <= 10; i++) {
        char price[8];
        snprintf(price, sizeof price, "%d", 100 + i);
        set(book, SIM_ASK, price, "1");
        snprintf(price, sizeof price, "%d", 100 - i);
        set(book, SIM_BID, price, "2");
    }
    sim_level_t out[20];
    assert_int_equal(sim_book_top(book, SIM_ASK, out, 3), 3);
    assert_level(out[0], "101", "1");
    assert_level(out[1], "102", "1");
    assert_level(out[2], "103", "1");
    assert_int_equal(sim_book_top(book, SIM_BID, out, 20), 10); /* fewer than asked for */
    assert_level(out[0], "99", "2");
    assert_level(out[9], "90", "2");
    assert_int_equal(sim_book_top(book, SIM_BID, out, 0), 0);
    sim_book_destroy(&book);
}

static void invalid_arguments_are_refused(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(0);
    assert_int_equal(sim_book_set(book, SIM_BID, d("0"), d("1"), NULL), -1);
    assert_int_equal(sim_book_set(book, SIM_BID, (dec_t){-100}, d("1"), NULL), -1);
    assert_int_equal(sim_book_set(book, SIM_BID, d("1"), (dec_t){-1}, NULL), -1);
    assert_int_equal(sim_book_set(book, (sim_side_t)2, d("1"), d("1"), NULL), -1);
    assert_int_equal(sim_book_count(book, SIM_BID), 0);
    sim_book_destroy(&book);
}

static void book_grows_beyond_initial_capacity(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(1);
    /* Inserted in an order that exercises the top, the bottom and the middle. */
    for (int64_t i = 0; i < 5000; i++) {
        int64_t ticks = (i * 7919) % 5000 + 1; /* a permutation of 1..5000 */
        assert_int_equal(sim_book_set(book, SIM_BID, (dec_t){ticks * 1000}, (dec_t){ticks}, NULL),
                         0);
    }
    assert_int_equal(sim_book_count(book, SIM_BID), 5000);
    for (size_t i = 0; i < 5000; i++) {
        sim_level_t level = sim_book_level(book, SIM_BID, i);
        assert_int_equal(level.price.units, (int64_t)(5000 - i) * 1000);
        assert_int_equal(level.qty.units, (int64_t)(5000 - i));
    }
    assert_int_equal(sim_book_check(book, NULL, 0), 0);
    sim_book_destroy(&book);
}

static void get_finds_every_level_and_nothing_else(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(0);
    for (int64_t p = 2; p <= 2000; p += 2)
        assert_int_equal(sim_book_set(book, SIM_ASK, (dec_t){p}, (dec_t){p + 1}, NULL), 0);
    for (int64_t p = 1; p <= 2001; p++)
        assert_int_equal(sim_book_get(book, SIM_ASK, (dec_t){p}).units, p % 2 == 0 ? p + 1 : 0);
    sim_book_destroy(&book);
}

static void check_reports_crossed_book(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(0);
    set(book, SIM_BID, "100", "1");
    set(book, SIM_ASK, "101", "1");
    char err[128];
    assert_int_equal(sim_book_check(book, err, sizeof err), 0);
    set(book, SIM_BID, "101", "1"); /* bid == ask */
    assert_int_equal(sim_book_check(book, err, sizeof err), -1);
    assert_non_null(strstr(err, "crossed"));
    set(book, SIM_BID, "101", "0");
    set(book, SIM_BID, "102", "1"); /* bid > ask */
    assert_int_equal(sim_book_check(book, err, sizeof err), -1);
    sim_book_destroy(&book);
}

static void dup_is_equal_and_independent(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(0);
    set(book, SIM_BID, "100", "1");
    set(book, SIM_BID, "99", "2");
    set(book, SIM_ASK, "101", "3");
    sim_book_t *copy = sim_book_dup(book);
    assert_non_null(copy);
    assert_true(sim_book_equal(book, copy));
    set(copy, SIM_ASK, "101", "4");
    assert_false(sim_book_equal(book, copy));
    set(copy, SIM_ASK, "101", "3");
    assert_true(sim_book_equal(book, copy));
    set(copy, SIM_ASK, "102", "3");
    assert_false(sim_book_equal(book, copy));
    sim_book_clear(copy);
    assert_int_equal(sim_book_count(copy, SIM_BID), 0);
    assert_int_equal(sim_book_count(copy, SIM_ASK), 0);
    assert_int_equal(sim_book_count(book, SIM_BID), 2);
    sim_book_destroy(&copy);
    sim_book_destroy(&book);
}

/* Random operations against a naive reference (unsorted array, linear search). */
typedef struct {
    sim_level_t levels[400];
    size_t count;
} naive_side_t;

static int64_t naive_set(naive_side_t *side, int64_t price, int64_t qty)
{
    for (size_t i = 0; i < side->count; i++) {
        if (side->levels[i].price.units == price) {
            int64_t prev = side->levels[i].qty.units;
            if (qty == 0)
                side->levels[i] = side->levels[--side->count];
            else
                side->levels[i].qty.units = qty;
            return prev;
        }
    }
    if (qty != 0)
        side->levels[side->count++] = (sim_level_t){{price}, {qty}};
    return 0;
}

static void random_operations_match_naive_reference(void **state)
{
    (void)state;
    sim_book_t *book = sim_book_new(4);
    naive_side_t naive[2] = {0};
    uint64_t x = 88172645463325252u; /* xorshift64: the test's own generator */
    for (int op = 0; op < 200000; op++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sim_side_t side = (sim_side_t)(x & 1);
        int64_t price = (int64_t)((x >> 8) % 300) + 1;
        int64_t qty = (x >> 20) % 3 == 0 ? 0 : (int64_t)((x >> 24) % 1000) + 1;
        dec_t prev;
        assert_int_equal(sim_book_set(book, side, (dec_t){price}, (dec_t){qty}, &prev), 0);
        assert_int_equal(prev.units, naive_set(&naive[side], price, qty));
        assert_int_equal(sim_book_count(book, side), naive[side].count);
    }
    for (int side = 0; side < 2; side++)
        for (size_t i = 0; i < naive[side].count; i++)
            assert_int_equal(
                sim_book_get(book, (sim_side_t)side, naive[side].levels[i].price).units,
                naive[side].levels[i].qty.units);
    /* Sides are ordered (the two sides overlap here, so check each side alone). */
    for (size_t i = 1; i < sim_book_count(book, SIM_BID); i++)
        assert_true(sim_book_level(book, SIM_BID, i - 1).price.units >
                    sim_book_level(book, SIM_BID, i).price.units);
    for (size_t i = 1; i < sim_book_count(book, SIM_ASK); i++)
        assert_true(sim_book_level(book, SIM_ASK, i - 1).price.units <
                    sim_book_level(book, SIM_ASK, i).price.units);
    sim_book_destroy(&book);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(book_starts_empty),
        cmocka_unit_test(bids_are_kept_descending_and_asks_ascending),
        cmocka_unit_test(set_returns_previous_quantity),
        cmocka_unit_test(zero_quantity_removes_level),
        cmocka_unit_test(removing_absent_level_is_a_noop),
        cmocka_unit_test(sides_are_independent),
        cmocka_unit_test(best_is_highest_bid_and_lowest_ask),
        cmocka_unit_test(top_copies_best_levels_first),
        cmocka_unit_test(invalid_arguments_are_refused),
        cmocka_unit_test(book_grows_beyond_initial_capacity),
        cmocka_unit_test(get_finds_every_level_and_nothing_else),
        cmocka_unit_test(check_reports_crossed_book),
        cmocka_unit_test(dup_is_equal_and_independent),
        cmocka_unit_test(random_operations_match_naive_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
