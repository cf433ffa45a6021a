/*
 * test_bookbuilder_dedup.c — exactly-once for growing ids (bookbuilder/dedup.h).
 *
 * The window remembers the ids in (max - DEDUP_WINDOW, max]: the tests check both edges, the two
 * connections of a rotation delivering the same ids in either order, and the ends of the uint64
 * range, where an off-by-one in the window arithmetic would wrap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dedup.h"

static void first_id_is_new(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d);
    assert_int_equal(dedup_check(&d, 1000), DEDUP_NEW);
}

static void same_id_twice_is_a_duplicate(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d);
    assert_int_equal(dedup_check(&d, 1000), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, 1000), DEDUP_DUPLICATE);
    assert_int_equal(dedup_check(&d, 1000), DEDUP_DUPLICATE);
}

static void growing_ids_are_each_new(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d);
    for (uint64_t id = 1; id <= 3 * DEDUP_WINDOW; id++)
        assert_int_equal(dedup_check(&d, id), DEDUP_NEW);
}

static void id_below_the_largest_within_the_window_is_new_once(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d);
    assert_int_equal(dedup_check(&d, 100), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, 105), DEDUP_NEW);
    /* 101..104 were skipped: each is new exactly once. */
    for (uint64_t id = 101; id <= 104; id++) {
        assert_int_equal(dedup_check(&d, id), DEDUP_NEW);
        assert_int_equal(dedup_check(&d, id), DEDUP_DUPLICATE);
    }
}

/* Two connections of a rotation carry the same ids; `lead` ids of one arrive before the other
   starts. Every id must come out exactly once, whichever is ahead. */
static void overlap_delivers_each_id_once(uint64_t start, uint64_t n, uint64_t lead, bool a_first)
{
    dedup_t d;
    dedup_init(&d);
    uint64_t delivered = 0, duplicates = 0;
    bool seen[64] = {false};
    assert_true(n <= 64);
    uint64_t ia = 0, ib = 0; /* next index of each connection */
    while (ia < n || ib < n) {
        /* The leading connection runs `lead` ids ahead, then both alternate. */
        bool take_a;
        if (ia >= n)
            take_a = false;
        else if (ib >= n)
            take_a = true;
        else if (a_first)
            take_a = ia < ib + lead;
        else
            take_a = ib >= ia + lead;
        uint64_t idx = take_a ? ia++ : ib++;
        dedup_result_t r = dedup_check(&d, start + idx);
        if (r == DEDUP_NEW) {
            assert_false(seen[idx]);
            seen[idx] = true;
            delivered++;
        } else {
            assert_int_equal(r, DEDUP_DUPLICATE);
            duplicates++;
        }
    }
    assert_int_equal(delivered, n);
    assert_int_equal(duplicates, n);
}

static void overlap_with_the_old_connection_ahead_loses_nothing(void **state)
{
    (void)state;
    overlap_delivers_each_id_once(5000, 40, 7, true);
}

static void overlap_with_the_new_connection_ahead_loses_nothing(void **state)
{
    (void)state;
    overlap_delivers_each_id_once(5000, 40, 7, false);
}

static void overlap_interleaved_one_by_one_loses_nothing(void **state)
{
    (void)state;
    overlap_delivers_each_id_once(1, 64, 0, true);
}

static void id_at_the_bottom_of_the_window_is_still_checked(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d);
    uint64_t max = 1000000;
    assert_int_equal(dedup_check(&d, max), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, max - (DEDUP_WINDOW - 1)), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, max - (DEDUP_WINDOW - 1)), DEDUP_DUPLICATE);
}

static void id_a_whole_window_below_the_largest_is_too_old(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d);
    uint64_t max = 1000000;
    assert_int_equal(dedup_check(&d, max), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, max - DEDUP_WINDOW), DEDUP_TOO_OLD);
    assert_int_equal(dedup_check(&d, max - 10 * DEDUP_WINDOW), DEDUP_TOO_OLD);
    assert_int_equal(dedup_check(&d, 0), DEDUP_TOO_OLD);
    /* Refusing records nothing: the largest is still the largest. */
    assert_int_equal(dedup_check(&d, max), DEDUP_DUPLICATE);
}

static void id_a_whole_window_later_is_not_mistaken_for_seen(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d);
    /* 1000 + DEDUP_WINDOW .. share their bits with 1000 ..: once the largest passes them, an id
       of the new window below the largest must not read the old id's bit. */
    for (uint64_t id = 1000; id < 1010; id++)
        assert_int_equal(dedup_check(&d, id), DEDUP_NEW);
    uint64_t max = 1005 + DEDUP_WINDOW;
    assert_int_equal(dedup_check(&d, max), DEDUP_NEW);
    for (uint64_t id = 1000 + DEDUP_WINDOW; id < max; id++)
        assert_int_equal(dedup_check(&d, id), DEDUP_NEW);
    /* The old ids still inside the window are still seen; the others are too old. */
    for (uint64_t id = 1006; id < 1010; id++)
        assert_int_equal(dedup_check(&d, id), DEDUP_DUPLICATE);
    assert_int_equal(dedup_check(&d, 1005), DEDUP_TOO_OLD);
}

static void jump_of_exactly_one_window_clears_every_bit(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d);
    for (uint64_t id = 1; id <= 64; id++)
        assert_int_equal(dedup_check(&d, id), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, 64 + DEDUP_WINDOW), DEDUP_NEW);
    /* 65 .. 63 + DEDUP_WINDOW lie inside the new window and were never seen. */
    for (uint64_t id = 65; id < 65 + 64; id++)
        assert_int_equal(dedup_check(&d, id), DEDUP_NEW);
    for (uint64_t id = 1 + DEDUP_WINDOW; id < 64 + DEDUP_WINDOW; id++)
        assert_int_equal(dedup_check(&d, id), DEDUP_NEW);
}

static void big_forward_jump_clears_every_bit(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d);
    for (uint64_t id = 1; id <= DEDUP_WINDOW; id++)
        assert_int_equal(dedup_check(&d, id), DEDUP_NEW);
    uint64_t far = 1000000007ULL;
    assert_int_equal(dedup_check(&d, far), DEDUP_NEW);
    for (uint64_t id = far - DEDUP_WINDOW + 1; id < far; id++)
        assert_int_equal(dedup_check(&d, id), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, far - DEDUP_WINDOW), DEDUP_TOO_OLD);
}

static void ids_near_zero(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d);
    assert_int_equal(dedup_check(&d, 0), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, 0), DEDUP_DUPLICATE);
    assert_int_equal(dedup_check(&d, 3), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, 1), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, 2), DEDUP_NEW);
    for (uint64_t id = 0; id <= 3; id++)
        assert_int_equal(dedup_check(&d, id), DEDUP_DUPLICATE);
}

static void first_id_zero_then_a_later_one_keeps_zero_seen(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d);
    assert_int_equal(dedup_check(&d, 5), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, 0), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, 0), DEDUP_DUPLICATE);
}

static void ids_near_uint64_max(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d);
    assert_int_equal(dedup_check(&d, UINT64_MAX - 5), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, UINT64_MAX), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, UINT64_MAX), DEDUP_DUPLICATE);
    assert_int_equal(dedup_check(&d, UINT64_MAX - 5), DEDUP_DUPLICATE);
    for (uint64_t id = UINT64_MAX - 4; id < UINT64_MAX; id++) {
        assert_int_equal(dedup_check(&d, id), DEDUP_NEW);
        assert_int_equal(dedup_check(&d, id), DEDUP_DUPLICATE);
    }
    assert_int_equal(dedup_check(&d, UINT64_MAX - (DEDUP_WINDOW - 1)), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, UINT64_MAX - DEDUP_WINDOW), DEDUP_TOO_OLD);
    assert_int_equal(dedup_check(&d, 0), DEDUP_TOO_OLD);
}

static void jump_from_zero_to_uint64_max(void **state)
{
    (void)state;
    dedup_t d;
    dedup_init(&d);
    assert_int_equal(dedup_check(&d, 0), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, UINT64_MAX), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, UINT64_MAX - 1), DEDUP_NEW);
    assert_int_equal(dedup_check(&d, 0), DEDUP_TOO_OLD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_id_is_new),
        cmocka_unit_test(same_id_twice_is_a_duplicate),
        cmocka_unit_test(growing_ids_are_each_new),
        cmocka_unit_test(id_below_the_largest_within_the_window_is_new_once),
        cmocka_unit_test(overlap_with_the_old_connection_ahead_loses_nothing),
        cmocka_unit_test(overlap_with_the_new_connection_ahead_loses_nothing),
        cmocka_unit_test(overlap_interleaved_one_by_one_loses_nothing),
        cmocka_unit_test(id_at_the_bottom_of_the_window_is_still_checked),
        cmocka_unit_test(id_a_whole_window_below_the_largest_is_too_old),
        cmocka_unit_test(id_a_whole_window_later_is_not_mistaken_for_seen),
        cmocka_unit_test(jump_of_exactly_one_window_clears_every_bit),
        cmocka_unit_test(big_forward_jump_clears_every_bit),
        cmocka_unit_test(ids_near_zero),
        cmocka_unit_test(first_id_zero_then_a_later_one_keeps_zero_seen),
        cmocka_unit_test(ids_near_uint64_max),
        cmocka_unit_test(jump_from_zero_to_uint64_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
