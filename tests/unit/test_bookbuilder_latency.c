/*
 * test_bookbuilder_latency.c — the log-linear latency histogram (bookbuilder/latency.h).
 *
 * A quantile is reported as the upper bound of its bucket, so it may exceed the exact value by up
 * to one bucket width (1/16 of the value) and never falls below it; the checks allow exactly that.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "latency.h"

/* exact <= got <= exact * (1 + 1/16) */
static void assert_within_a_bucket(int64_t got, int64_t exact)
{
    assert_true(got >= exact);
    assert_true(got <= exact + exact / 16);
}

static latency_t *new_histogram(void)
{
    latency_t *h = malloc(sizeof *h);
    assert_non_null(h);
    latency_reset(h);
    return h;
}

static void empty_histogram_reports_zero(void **state)
{
    (void)state;
    latency_t *h = new_histogram();
    assert_int_equal(latency_quantile(h, 0.0), 0);
    assert_int_equal(latency_quantile(h, 0.5), 0);
    assert_int_equal(latency_quantile(h, 1.0), 0);
    assert_int_equal(h->total, 0);
    assert_int_equal(h->max_ns, 0);
    free(h);
}

static void small_values_are_exact(void **state)
{
    (void)state;
    latency_t *h = new_histogram();
    for (int64_t v = 0; v < 16; v++) {
        latency_reset(h);
        latency_record(h, v);
        assert_int_equal(latency_quantile(h, 0.5), v);
    }
    free(h);
}

static void uniform_distribution_quantiles(void **state)
{
    (void)state;
    latency_t *h = new_histogram();
    /* 1 µs .. 10 ms in 1 µs steps: the q-quantile is q × 10 ms. */
    for (int64_t v = 1000; v <= 10000000; v += 1000)
        latency_record(h, v);
    assert_int_equal(h->total, 10000);
    assert_within_a_bucket(latency_quantile(h, 0.5), 5000000);
    assert_within_a_bucket(latency_quantile(h, 0.9), 9000000);
    assert_within_a_bucket(latency_quantile(h, 0.99), 9900000);
    assert_within_a_bucket(latency_quantile(h, 0.999), 9990000);
    assert_within_a_bucket(latency_quantile(h, 0.0), 1000);
    free(h);
}

static void two_point_distribution_separates_the_tail(void **state)
{
    (void)state;
    latency_t *h = new_histogram();
    /* 990 fast frames, 10 slow ones: p50 and p99 are fast, p99.9 is slow. */
    for (int i = 0; i < 990; i++)
        latency_record(h, 20000);
    for (int i = 0; i < 10; i++)
        latency_record(h, 3000000);
    assert_within_a_bucket(latency_quantile(h, 0.5), 20000);
    assert_within_a_bucket(latency_quantile(h, 0.99), 20000);
    assert_int_equal(latency_quantile(h, 0.999), 3000000);
    free(h);
}

static void geometric_distribution_quantiles(void **state)
{
    (void)state;
    latency_t *h = new_histogram();
    /* 2^k ns recorded 2^(20-k) times for k = 0..20: half the samples are 1 ns, a quarter 2 ns, … */
    uint64_t total = 0;
    for (int k = 0; k <= 20; k++)
        for (uint64_t i = 0; i < (1u << (20 - k)); i++) {
            latency_record(h, (int64_t)1 << k);
            total++;
        }
    assert_int_equal(h->total, total);
    assert_int_equal(latency_quantile(h, 0.5), 1);
    assert_int_equal(latency_quantile(h, 0.75), 2);
    assert_int_equal(latency_quantile(h, 0.875), 4);
    assert_within_a_bucket(latency_quantile(h, 0.9995), 1024);
    free(h);
}

static void value_between_powers_of_two_stays_within_its_bucket(void **state)
{
    (void)state;
    latency_t *h = new_histogram();
    static const int64_t values[] = {17,     100,       999,           12345,
                                     777777, 123456789, 59000000000LL, (int64_t)1 << 40};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        latency_reset(h);
        latency_record(h, values[i]);
        latency_record(h, values[i] + 1);
        /* The median of {v, v+1} is v; with one sample above it in the same bucket or the next,
           the report stays within one bucket of v. */
        assert_within_a_bucket(latency_quantile(h, 0.5), values[i]);
    }
    free(h);
}

static void negative_values_count_as_zero(void **state)
{
    (void)state;
    latency_t *h = new_histogram();
    latency_record(h, -5);
    latency_record(h, INT64_MIN);
    latency_record(h, -1000000);
    assert_int_equal(h->total, 3);
    assert_int_equal(h->max_ns, 0);
    assert_int_equal(latency_quantile(h, 0.5), 0);
    assert_int_equal(latency_quantile(h, 1.0), 0);
    latency_record(h, 1000);
    assert_int_equal(latency_quantile(h, 0.5), 0);
    assert_int_equal(latency_quantile(h, 1.0), 1000);
    free(h);
}

static void max_is_exact_and_caps_every_quantile(void **state)
{
    (void)state;
    latency_t *h = new_histogram();
    latency_record(h, 1000);
    latency_record(h, 1001);
    latency_record(h, 123456789);
    assert_int_equal(h->max_ns, 123456789);
    /* The top quantile is the largest value itself, not its bucket's upper bound. */
    assert_int_equal(latency_quantile(h, 1.0), 123456789);
    /* A single value's bucket bound would exceed it: the max caps the answer. */
    latency_reset(h);
    latency_record(h, 1000);
    assert_int_equal(latency_quantile(h, 0.5), 1000);
    assert_int_equal(latency_quantile(h, 1.0), 1000);
    free(h);
}

static void huge_values_are_kept(void **state)
{
    (void)state;
    latency_t *h = new_histogram();
    latency_record(h, INT64_MAX);
    latency_record(h, (int64_t)1 << 62);
    assert_int_equal(h->max_ns, INT64_MAX);
    assert_int_equal(latency_quantile(h, 1.0), INT64_MAX);
    assert_true(latency_quantile(h, 0.5) >= (int64_t)1 << 62);
    free(h);
}

static void quantile_outside_zero_one_is_clamped(void **state)
{
    (void)state;
    latency_t *h = new_histogram();
    for (int64_t v = 1; v <= 100; v++)
        latency_record(h, v * 1000);
    assert_int_equal(latency_quantile(h, -3.0), latency_quantile(h, 0.0));
    assert_int_equal(latency_quantile(h, 7.0), 100000);
    free(h);
}

static void reset_forgets_everything(void **state)
{
    (void)state;
    latency_t *h = new_histogram();
    latency_record(h, 5000);
    latency_reset(h);
    assert_int_equal(h->total, 0);
    assert_int_equal(h->max_ns, 0);
    assert_int_equal(latency_quantile(h, 0.99), 0);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_histogram_reports_zero),
        cmocka_unit_test(small_values_are_exact),
        cmocka_unit_test(uniform_distribution_quantiles),
        cmocka_unit_test(two_point_distribution_separates_the_tail),
        cmocka_unit_test(geometric_distribution_quantiles),
        cmocka_unit_test(value_between_powers_of_two_stays_within_its_bucket),
        cmocka_unit_test(negative_values_count_as_zero),
        cmocka_unit_test(max_is_exact_and_caps_every_quantile),
        cmocka_unit_test(huge_values_are_kept),
        cmocka_unit_test(quantile_outside_zero_one_is_clamped),
        cmocka_unit_test(reset_forgets_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
