/* Unit tests of collector/weight: the share of Binance's REST weight limit, spent per calendar
   minute so that no request earns a 429. Time is passed in; nothing sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "weight.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z: a minute boundary */
#define S(s) ((int64_t)(s)*1000)

static weight_budget_t make(unsigned limit, unsigned share_pct)
{
    weight_policy_t policy = {.limit_per_min = limit, .share_pct = share_pct};
    weight_budget_t b;
    weight_init(&b, &policy);
    return b;
}

static void budget_is_the_share_of_the_limit(void **state)
{
    (void)state;
    weight_budget_t b = make(2400, 40);
    assert_int_equal(weight_budget(&b), 960);
    b = make(6000, 100);
    assert_int_equal(weight_budget(&b), 6000);
    b = make(30, 0); /* clamped to 1 % */
    assert_int_equal(weight_budget(&b), 0);
    b = make(6000, 250); /* clamped to 100 % */
    assert_int_equal(weight_budget(&b), 6000);
}

static void request_within_budget_goes_at_once(void **state)
{
    (void)state;
    weight_budget_t b = make(100, 100);
    assert_int_equal(weight_wait_ms(&b, 50, T0 + S(10)), 0);
    weight_charge(&b, 50, T0 + S(10));
    assert_int_equal(weight_wait_ms(&b, 50, T0 + S(11)), 0); /* exactly fills it */
    weight_charge(&b, 50, T0 + S(11));
    assert_int_equal(weight_used(&b, T0 + S(11)), 100);
    assert_int_equal(b.throttled, 0);
}

static void window_rolls_at_the_minute_boundary(void **state)
{
    (void)state;
    weight_budget_t b = make(100, 100);
    weight_charge(&b, 80, T0 + S(30));
    assert_int_equal(weight_used(&b, T0 + S(60) - 1), 80); /* the same minute's last ms */
    assert_int_equal(weight_used(&b, T0 + S(60)), 0);      /* the next minute forgets it */
    weight_charge(&b, 10, T0 + S(61));
    assert_int_equal(weight_used(&b, T0 + S(119)), 10);
}

static void exchange_count_wins_when_larger(void **state)
{
    (void)state;
    weight_budget_t b = make(1000, 100);
    weight_charge(&b, 100, T0 + S(1));
    weight_observe(&b, 700, T0 + S(2)); /* other programs on this IP spent weight too */
    assert_int_equal(weight_used(&b, T0 + S(3)), 700);
    assert_int_equal(weight_wait_ms(&b, 300, T0 + S(3)), 0);
    assert_true(weight_wait_ms(&b, 301, T0 + S(3)) > 0);
}

static void local_count_wins_when_larger(void **state)
{
    (void)state;
    weight_budget_t b = make(1000, 100);
    weight_observe(&b, 20, T0 + S(1));
    weight_charge(&b, 500, T0 + S(2)); /* sent after the last answer, not counted there yet */
    assert_int_equal(weight_used(&b, T0 + S(2)), 500);
}

static void observed_count_is_forgotten_at_the_next_minute(void **state)
{
    (void)state;
    weight_budget_t b = make(1000, 100);
    weight_observe(&b, 990, T0 + S(59));
    assert_int_equal(weight_used(&b, T0 + S(60)), 0);
}

static void request_that_would_exceed_waits_for_next_minute_plus_margin(void **state)
{
    (void)state;
    weight_budget_t b = make(30, 100);
    for (int i = 0; i < 6; i++) { /* six spot snapshots of weight 5 fill 30 */
        assert_int_equal(weight_wait_ms(&b, 5, T0 + S(20)), 0);
        weight_charge(&b, 5, T0 + S(20));
    }
    assert_int_equal(weight_wait_ms(&b, 5, T0 + S(20)), S(40) + WEIGHT_WINDOW_MARGIN_MS);
    assert_int_equal(b.throttled, 1);
    assert_int_equal(weight_wait_ms(&b, 5, T0 + S(59)), S(1) + WEIGHT_WINDOW_MARGIN_MS);
    assert_int_equal(b.throttled, 2);
    /* At the time it was told, it may go. */
    assert_int_equal(weight_wait_ms(&b, 5, T0 + S(60) + WEIGHT_WINDOW_MARGIN_MS), 0);
}

static void share_is_respected_not_the_whole_limit(void **state)
{
    (void)state;
    weight_budget_t b = make(2400, 50); /* 1200 */
    weight_charge(&b, 1190, T0 + S(5));
    assert_int_equal(weight_wait_ms(&b, 10, T0 + S(6)), 0);
    assert_true(weight_wait_ms(&b, 11, T0 + S(6)) > 0);
}

static void weight_above_the_whole_budget_is_minus_one(void **state)
{
    (void)state;
    weight_budget_t b = make(300, 50); /* 150: a spot limit=5000 snapshot (250) never fits */
    assert_int_equal(weight_wait_ms(&b, 250, T0), -1);
    assert_int_equal(weight_wait_ms(&b, 151, T0), -1);
    assert_int_equal(weight_wait_ms(&b, 150, T0), 0);
    assert_int_equal(b.throttled, 0);
}

static void rate_limited_429_blocks_until_retry_after(void **state)
{
    (void)state;
    weight_budget_t b = make(6000, 100);
    weight_on_refusal(&b, false, 5, T0 + S(10));
    assert_int_equal(b.rate_limited, 1);
    assert_int_equal(b.bans, 0);
    assert_false(b.banned);
    assert_int_equal(weight_wait_ms(&b, 5, T0 + S(10)), S(5));
    assert_int_equal(weight_wait_ms(&b, 5, T0 + S(14)), S(1));
    assert_int_equal(weight_wait_ms(&b, 5, T0 + S(15)), 0);
}

static void rate_limited_429_without_retry_after_waits_60_s(void **state)
{
    (void)state;
    weight_budget_t b = make(6000, 100);
    weight_on_refusal(&b, false, 0, T0 + S(10));
    assert_int_equal(weight_wait_ms(&b, 5, T0 + S(10)), S(60));
}

static void ban_418_blocks_until_it_ends(void **state)
{
    (void)state;
    weight_budget_t b = make(6000, 100);
    weight_on_refusal(&b, true, 120, T0 + S(10));
    assert_true(b.banned);
    assert_int_equal(b.bans, 1);
    assert_int_equal(weight_wait_ms(&b, 5, T0 + S(10)), S(120));
    assert_int_equal(weight_wait_ms(&b, 5, T0 + S(129)), S(1));
    assert_true(b.banned);
    assert_int_equal(weight_wait_ms(&b, 5, T0 + S(130)), 0);
    assert_false(b.banned); /* the ban is over */
}

static void ban_418_without_retry_after_waits_120_s(void **state)
{
    (void)state;
    weight_budget_t b = make(6000, 100);
    weight_on_refusal(&b, true, -1, T0);
    assert_int_equal(weight_wait_ms(&b, 5, T0), S(120));
}

static void shorter_refusal_never_shortens_a_block(void **state)
{
    (void)state;
    weight_budget_t b = make(6000, 100);
    weight_on_refusal(&b, true, 300, T0);
    weight_on_refusal(&b, false, 5, T0 + S(1));
    assert_int_equal(weight_wait_ms(&b, 5, T0 + S(10)), S(290));
    assert_true(b.banned);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(budget_is_the_share_of_the_limit),
        cmocka_unit_test(request_within_budget_goes_at_once),
        cmocka_unit_test(window_rolls_at_the_minute_boundary),
        cmocka_unit_test(exchange_count_wins_when_larger),
        cmocka_unit_test(local_count_wins_when_larger),
        cmocka_unit_test(observed_count_is_forgotten_at_the_next_minute),
        cmocka_unit_test(request_that_would_exceed_waits_for_next_minute_plus_margin),
        cmocka_unit_test(share_is_respected_not_the_whole_limit),
        cmocka_unit_test(weight_above_the_whole_budget_is_minus_one),
        cmocka_unit_test(rate_limited_429_blocks_until_retry_after),
        cmocka_unit_test(rate_limited_429_without_retry_after_waits_60_s),
        cmocka_unit_test(ban_418_blocks_until_it_ends),
        cmocka_unit_test(ban_418_without_retry_after_waits_120_s),
        cmocka_unit_test(shorter_refusal_never_shortens_a_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
