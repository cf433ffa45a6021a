/*
 * test_sim_ratelimit.c — Binance's limits as the sim enforces them (sim/ratelimit.h), with the
 * clock passed in: incoming messages per second per connection, connection attempts per address
 * per 5 minutes, and REST weight per minute with 429, then 418 bans that double per offence.
 */
#include "ratelimit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define MINUTE_MS 60000
#define T0 (1000LL * MINUTE_MS) /* a minute boundary */

static void spot_allows_5_messages_a_second_and_closes_on_the_6th(void **state)
{
    (void)state;
    sim_msgrate_t r;
    sim_msgrate_init(&r, MARKET_SPOT);
    for (int i = 0; i < 5; i++)
        assert_true(sim_msgrate_allow(&r, 1000 + i * 10));
    assert_false(sim_msgrate_allow(&r, 1100));
    assert_int_equal(sim_msgrate_limit(MARKET_USDM), 10);
    assert_int_equal(sim_msgrate_limit(MARKET_COINM), 10);
}

static void message_window_slides_over_the_last_second(void **state)
{
    (void)state;
    sim_msgrate_t r;
    sim_msgrate_init(&r, MARKET_SPOT);
    /* Exactly 5 a second, forever, passes. */
    for (int64_t t = 0; t < 10000; t += 200)
        assert_true(sim_msgrate_allow(&r, t));
    /* A burst straddling a calendar second is still 6 within 1000 ms. */
    sim_msgrate_init(&r, MARKET_SPOT);
    for (int i = 0; i < 5; i++)
        assert_true(sim_msgrate_allow(&r, 20900 + i * 20));
    assert_false(sim_msgrate_allow(&r, 21100));
}

static void connection_attempts_over_the_limit_get_429_until_the_window_ends(void **state)
{
    (void)state;
    sim_connrate_t *c = sim_connrate_new();
    assert_non_null(c);
    sim_connrate_set_limit(c, MARKET_SPOT, 3);
    int64_t start = 10LL * SIM_CONNRATE_WINDOW_MS;
    sim_connrate_verdict_t v;
    for (int i = 0; i < 3; i++) {
        sim_connrate_check(c, MARKET_SPOT, "10.0.0.1", start + i, &v);
        assert_true(v.allowed);
    }
    sim_connrate_check(c, MARKET_SPOT, "10.0.0.1", start + 60000, &v);
    assert_false(v.allowed);
    assert_int_equal(v.http_status, 429);
    assert_int_equal(v.retry_after_s, (SIM_CONNRATE_WINDOW_MS - 60000) / 1000);
    /* Another address and another market have their own counts. */
    assert_true(sim_connrate_allow(c, MARKET_SPOT, "10.0.0.2", start + 60000));
    assert_true(sim_connrate_allow(c, MARKET_USDM, "10.0.0.1", start + 60000));
    /* The next window starts afresh. */
    assert_true(sim_connrate_allow(c, MARKET_SPOT, "10.0.0.1", start + SIM_CONNRATE_WINDOW_MS));
    sim_connrate_destroy(&c);
}

static void depth_weights_follow_the_limit_per_market(void **state)
{
    (void)state;
    unsigned w;
    long limits[] = {1, 100, 101, 500, 501, 1000, 1001, 5000, 6000};
    unsigned spot[] = {5, 5, 25, 25, 50, 50, 250, 250, 250};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        assert_int_equal(sim_restweight_of(MARKET_SPOT, SIM_ENDPOINT_DEPTH, &limits[i], &w), 0);
        assert_int_equal(w, spot[i]);
    }
    long futures[] = {5, 10, 20, 50, 100, 500, 1000};
    unsigned fw[] = {2, 2, 2, 2, 5, 10, 20};
    for (size_t i = 0; i < sizeof futures / sizeof futures[0]; i++) {
        assert_int_equal(sim_restweight_of(MARKET_COINM, SIM_ENDPOINT_DEPTH, &futures[i], &w), 0);
        assert_int_equal(w, fw[i]);
    }
    long bad = 7;
    assert_int_equal(sim_restweight_of(MARKET_USDM, SIM_ENDPOINT_DEPTH, &bad, &w), -1);
    assert_int_equal(sim_restweight_of(MARKET_SPOT, SIM_ENDPOINT_EXCHANGE_INFO, NULL, &w), 0);
    assert_int_equal(w, 20);
    assert_int_equal(sim_restweight_endpoint(MARKET_USDM, "/fapi/v1/depth"), SIM_ENDPOINT_DEPTH);
    assert_int_equal(sim_restweight_endpoint(MARKET_USDM, "/api/v3/depth"), SIM_ENDPOINT_NONE);
}

static void weight_over_the_minute_gets_429_with_retry_after_to_the_boundary(void **state)
{
    (void)state;
    sim_restweight_config_t cfg;
    sim_restweight_config_default(&cfg);
    cfg.limit_per_min[0] = 100;
    sim_restweight_t *r = sim_restweight_new(&cfg);
    assert_non_null(r);
    sim_restweight_verdict_t v;
    for (int i = 0; i < 20; i++) {
        sim_restweight_charge(r, MARKET_SPOT, "1.2.3.4", 5, T0 + 1000, &v);
        assert_int_equal(v.http_status, 200);
    }
    assert_int_equal(v.used_weight, 100);
    sim_restweight_charge(r, MARKET_SPOT, "1.2.3.4", 5, T0 + 15000, &v);
    assert_int_equal(v.http_status, 429);
    assert_int_equal(v.retry_after_s, 45);
    /* A client that waits it out is served in the next minute, never banned. */
    sim_restweight_charge(r, MARKET_SPOT, "1.2.3.4", 5, T0 + MINUTE_MS, &v);
    assert_int_equal(v.http_status, 200);
    assert_int_equal(v.used_weight, 5);
    sim_restweight_destroy(&r);
}

static void ignoring_retry_after_is_banned_and_bans_double(void **state)
{
    (void)state;
    sim_restweight_config_t cfg;
    sim_restweight_config_default(&cfg);
    cfg.limit_per_min[0] = 10;
    sim_restweight_t *r = sim_restweight_new(&cfg);
    sim_restweight_verdict_t v;
    int64_t t = T0;
    int64_t expected_ban_ms = SIM_RESTWEIGHT_FIRST_BAN_MS;
    for (int offence = 0; offence < 3; offence++) {
        sim_restweight_charge(r, MARKET_SPOT, "5.6.7.8", 10, t, &v); /* the budget */
        assert_int_equal(v.http_status, 200);
        sim_restweight_charge(r, MARKET_SPOT, "5.6.7.8", 1, t + 1, &v);
        assert_int_equal(v.http_status, 429);
        sim_restweight_charge(r, MARKET_SPOT, "5.6.7.8", 1, t + 2, &v); /* keeps going */
        assert_int_equal(v.http_status, 418);
        assert_int_equal(v.ban_until_ms, t + 2 + expected_ban_ms);
        assert_int_equal(v.retry_after_s, expected_ban_ms / 1000);
        /* During the ban: 418 to its end, the ban not extended. */
        sim_restweight_charge(r, MARKET_SPOT, "5.6.7.8", 1, t + 1000, &v);
        assert_int_equal(v.http_status, 418);
        assert_int_equal(v.ban_until_ms, t + 2 + expected_ban_ms);
        t = ((t + 2 + expected_ban_ms) / MINUTE_MS + 1) * MINUTE_MS; /* after the ban */
        expected_ban_ms *= 2;
    }
    sim_restweight_destroy(&r);
}

static void usdm_and_coinm_share_one_budget(void **state)
{
    (void)state;
    sim_restweight_config_t cfg;
    sim_restweight_config_default(&cfg);
    cfg.limit_per_min[1] = cfg.limit_per_min[2] = 30;
    sim_restweight_t *r = sim_restweight_new(&cfg);
    sim_restweight_verdict_t v;
    sim_restweight_charge(r, MARKET_USDM, "9.9.9.9", 20, T0, &v);
    assert_int_equal(v.http_status, 200);
    sim_restweight_charge(r, MARKET_COINM, "9.9.9.9", 10, T0 + 1, &v);
    assert_int_equal(v.http_status, 200);
    assert_int_equal(v.used_weight, 30);
    sim_restweight_charge(r, MARKET_COINM, "9.9.9.9", 2, T0 + 2, &v);
    assert_int_equal(v.http_status, 429);
    /* Spot has its own. */
    sim_restweight_charge(r, MARKET_SPOT, "9.9.9.9", 5, T0 + 3, &v);
    assert_int_equal(v.http_status, 200);
    assert_int_equal(v.used_weight, 5);
    sim_restweight_destroy(&r);
}

static void refusals_carry_the_1003_body(void **state)
{
    (void)state;
    sim_restweight_verdict_t v = {.http_status = 418, .limit = 6000, .retry_after_s = 120,
                                  .ban_until_ms = 1700000120000};
    char body[300];
    sim_restweight_error_body(MARKET_SPOT, &v, body, sizeof body);
    assert_non_null(strstr(body, "\"code\":-1003"));
    assert_non_null(strstr(body, "1700000120000"));
    v.http_status = 200;
    assert_int_equal(sim_restweight_error_body(MARKET_SPOT, &v, body, sizeof body), 0);
    assert_string_equal(body, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spot_allows_5_messages_a_second_and_closes_on_the_6th),
        cmocka_unit_test(message_window_slides_over_the_last_second),
        cmocka_unit_test(connection_attempts_over_the_limit_get_429_until_the_window_ends),
        cmocka_unit_test(depth_weights_follow_the_limit_per_market),
        cmocka_unit_test(weight_over_the_minute_gets_429_with_retry_after_to_the_boundary),
        cmocka_unit_test(ignoring_retry_after_is_banned_and_bans_double),
        cmocka_unit_test(usdm_and_coinm_share_one_budget),
        cmocka_unit_test(refusals_carry_the_1003_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
