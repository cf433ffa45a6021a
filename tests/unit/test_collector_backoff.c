/* Unit tests of collector/backoff: exponential reconnect delays with jitter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backoff.h"

#include <stdbool.h>

static backoff_t make(int64_t base_ms, int64_t max_ms, uint32_t jitter_pct, uint32_t max_attempts,
                      uint64_t seed)
{
    backoff_policy_t policy = {.base_ms = base_ms,
                               .max_ms = max_ms,
                               .jitter_pct = jitter_pct,
                               .max_attempts = max_attempts};
    backoff_t b;
    backoff_init(&b, &policy, seed);
    return b;
}

static void delays_double_from_base(void **state)
{
    (void)state;
    backoff_t b = make(100, 1000000, 0, 0, 1);
    assert_int_equal(backoff_next_ms(&b), 100);
    assert_int_equal(backoff_next_ms(&b), 200);
    assert_int_equal(backoff_next_ms(&b), 400);
    assert_int_equal(backoff_next_ms(&b), 800);
    assert_int_equal(backoff_next_ms(&b), 1600);
}

static void delays_stop_at_the_cap(void **state)
{
    (void)state;
    backoff_t b = make(100, 500, 0, 0, 1);
    assert_int_equal(backoff_next_ms(&b), 100);
    assert_int_equal(backoff_next_ms(&b), 200);
    assert_int_equal(backoff_next_ms(&b), 400);
    assert_int_equal(backoff_next_ms(&b), 500);
    for (int i = 0; i < 100; i++) /* far past any shift width: no overflow, still the cap */
        assert_int_equal(backoff_next_ms(&b), 500);
}

static void jitter_stays_within_plus_minus_pct(void **state)
{
    (void)state;
    /* 1000 ms ± 20 %: every delay in [800, 1200], and both sides of 1000 are seen. */
    bool below = false, above = false;
    for (uint64_t seed = 0; seed < 500; seed++) {
        backoff_t b = make(1000, 1000, 20, 0, seed);
        int64_t d = backoff_next_ms(&b);
        assert_in_range(d, 800, 1200);
        below = below || d < 1000;
        above = above || d > 1000;
    }
    assert_true(below);
    assert_true(above);
}

static void jitter_applies_around_the_capped_delay(void **state)
{
    (void)state;
    backoff_t b = make(100, 400, 50, 0, 7);
    for (int i = 0; i < 50; i++) {
        int64_t d = backoff_next_ms(&b);
        if (i >= 2)
            assert_in_range(d, 200, 600); /* 400 ± 50 % */
    }
}

static void same_seed_gives_the_same_delays(void **state)
{
    (void)state;
    backoff_t a = make(50, 60000, 30, 0, 42);
    backoff_t b = make(50, 60000, 30, 0, 42);
    backoff_t c = make(50, 60000, 30, 0, 43);
    bool differs = false;
    for (int i = 0; i < 20; i++) {
        int64_t da = backoff_next_ms(&a);
        assert_int_equal(da, backoff_next_ms(&b));
        differs = differs || da != backoff_next_ms(&c);
    }
    assert_true(differs);
}

static void reset_starts_again_from_base(void **state)
{
    (void)state;
    backoff_t b = make(100, 10000, 0, 3, 1);
    assert_int_equal(backoff_next_ms(&b), 100);
    assert_int_equal(backoff_next_ms(&b), 200);
    backoff_reset(&b);
    assert_int_equal(backoff_next_ms(&b), 100); /* and the attempt count restarted too */
    assert_int_equal(backoff_next_ms(&b), 200);
    assert_int_equal(backoff_next_ms(&b), -1);
}

static void max_attempts_gives_up_at_that_failure(void **state)
{
    (void)state;
    backoff_t b = make(10, 1000, 0, 4, 1);
    assert_int_equal(backoff_next_ms(&b), 10); /* failure 1 */
    assert_int_equal(backoff_next_ms(&b), 20); /* failure 2 */
    assert_int_equal(backoff_next_ms(&b), 40); /* failure 3 */
    assert_int_equal(backoff_next_ms(&b), -1); /* failure 4: give up */
}

static void max_attempts_one_gives_up_at_the_first_failure(void **state)
{
    (void)state;
    backoff_t b = make(10, 1000, 0, 1, 1);
    assert_int_equal(backoff_next_ms(&b), -1);
}

static void max_attempts_zero_retries_forever(void **state)
{
    (void)state;
    backoff_t b = make(1, 30000, 10, 0, 9);
    for (int i = 0; i < 100000; i++)
        assert_true(backoff_next_ms(&b) >= 1);
}

static void policy_out_of_range_is_clamped(void **state)
{
    (void)state;
    backoff_t b = make(0, 0, 500, 0, 3); /* base 0 → 1, max below base → base, jitter → 100 % */
    for (int i = 0; i < 20; i++)
        assert_in_range(backoff_next_ms(&b), 1, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(delays_double_from_base),
        cmocka_unit_test(delays_stop_at_the_cap),
        cmocka_unit_test(jitter_stays_within_plus_minus_pct),
        cmocka_unit_test(jitter_applies_around_the_capped_delay),
        cmocka_unit_test(same_seed_gives_the_same_delays),
        cmocka_unit_test(reset_starts_again_from_base),
        cmocka_unit_test(max_attempts_gives_up_at_that_failure),
        cmocka_unit_test(max_attempts_one_gives_up_at_the_first_failure),
        cmocka_unit_test(max_attempts_zero_retries_forever),
        cmocka_unit_test(policy_out_of_range_is_clamped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
