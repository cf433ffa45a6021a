/*
 * test_sim_symbols.c — the simulated symbol universes (sim/symbols.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "symbols.h"

#define SEED 42u

static const market_t markets[3] = {MARKET_SPOT, MARKET_USDM, MARKET_COINM};

static dec_t d(const char *text)
{
    dec_t out = {0};
    assert_int_equal(dec_parse(text, strlen(text), 0, &out), DEC_OK);
    return out;
}

static void assert_same_symbol(const sim_symbol_t *a, const sim_symbol_t *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->lower, b->lower);
    assert_string_equal(a->pair, b->pair);
    assert_string_equal(a->base, b->base);
    assert_string_equal(a->quote, b->quote);
    assert_int_equal(a->market, b->market);
    assert_int_equal(a->perpetual, b->perpetual);
    assert_int_equal(a->tick_size.units, b->tick_size.units);
    assert_int_equal(a->step_size.units, b->step_size.units);
    assert_int_equal(a->price_decimals, b->price_decimals);
    assert_int_equal(a->qty_decimals, b->qty_decimals);
    assert_int_equal(a->initial_price.units, b->initial_price.units);
    assert_int_equal(a->ladder_levels, b->ladder_levels);
    assert_int_equal(a->seed, b->seed);
}

static void universe_is_deterministic_for_a_seed(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++) {
        sim_universe_t *a = sim_universe_new(markets[m], 500, SEED);
        sim_universe_t *b = sim_universe_new(markets[m], 500, SEED);
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(sim_universe_count(a), 500);
        for (size_t i = 0; i < 500; i++)
            assert_same_symbol(sim_universe_get(a, i), sim_universe_get(b, i));
        sim_universe_destroy(&a);
        sim_universe_destroy(&b);
        assert_null(a);
    }
}

static void universe_is_stable_when_count_grows(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++) {
        sim_universe_t *small = sim_universe_new(markets[m], 10, SEED);
        sim_universe_t *large = sim_universe_new(markets[m], 2000, SEED);
        assert_non_null(small);
        assert_non_null(large);
        for (size_t i = 0; i < 10; i++)
            assert_same_symbol(sim_universe_get(small, i), sim_universe_get(large, i));
        sim_universe_destroy(&small);
        sim_universe_destroy(&large);
    }
}

static void other_seed_gives_other_generated_symbols(void **state)
{
    (void)state;
    sim_universe_t *a = sim_universe_new(MARKET_SPOT, 200, 1);
    sim_universe_t *b = sim_universe_new(MARKET_SPOT, 200, 2);
    size_t same_price = 0;
    for (size_t i = 0; i < 200; i++) {
        const sim_symbol_t *x = sim_universe_get(a, i), *y = sim_universe_get(b, i);
        assert_string_equal(x->name, y->name); /* names depend on the index only */
        assert_int_not_equal(x->seed, y->seed);
        if (x->initial_price.units == y->initial_price.units)
            same_price++;
    }
    assert_true(same_price < 20); /* the familiar symbols keep their prices */
    sim_universe_destroy(&a);
    sim_universe_destroy(&b);
}

static void spot_names_start_with_familiar_symbols(void **state)
{
    (void)state;
    static const char *const names[] = {"BTCUSDT", "ETHUSDT",  "BNBUSDT", "SOLUSDT",
                                        "XRPUSDT", "DOGEUSDT", "ADAUSDT"};
    sim_universe_t *u = sim_universe_new(MARKET_SPOT, 100, SEED);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const sim_symbol_t *s = sim_universe_get(u, i);
        assert_string_equal(s->name, names[i]);
        assert_string_equal(s->quote, "USDT");
        assert_false(s->perpetual);
    }
    assert_string_equal(sim_universe_get(u, 0)->lower, "btcusdt");
    assert_string_equal(sim_universe_get(u, 0)->base, "BTC");
    sim_universe_destroy(&u);
}

static void generated_names_follow_the_index(void **state)
{
    (void)state;
    sim_universe_t *spot = sim_universe_new(MARKET_SPOT, 100, SEED);
    sim_universe_t *usdm = sim_universe_new(MARKET_USDM, 100, SEED);
    sim_universe_t *coinm = sim_universe_new(MARKET_COINM, 100, SEED);
    assert_string_equal(sim_universe_get(spot, 42)->name, "S0042USDT");
    assert_string_equal(sim_universe_get(spot, 42)->lower, "s0042usdt");
    assert_string_equal(sim_universe_get(spot, 42)->base, "S0042");
    assert_string_equal(sim_universe_get(usdm, 42)->name, "S0042USDT");
    assert_string_equal(sim_universe_get(usdm, 42)->pair, "S0042USDT");
    assert_true(sim_universe_get(usdm, 42)->perpetual);
    assert_string_equal(sim_universe_get(coinm, 42)->name, "S0042USD_PERP");
    assert_string_equal(sim_universe_get(coinm, 42)->pair, "S0042USD");
    assert_string_equal(sim_universe_get(coinm, 42)->quote, "USD");
    assert_true(sim_universe_get(coinm, 42)->perpetual);
    sim_universe_destroy(&spot);
    sim_universe_destroy(&usdm);
    sim_universe_destroy(&coinm);
}

static void usdm_has_delivery_contract_prefixed_by_perpetual(void **state)
{
    (void)state;
    sim_universe_t *u = sim_universe_new(MARKET_USDM, 4, SEED);
    assert_string_equal(sim_universe_get(u, 0)->name, "BTCUSDT");
    assert_string_equal(sim_universe_get(u, 1)->name, "ETHUSDT");
    assert_string_equal(sim_universe_get(u, 3)->name, "SOLUSDT");
    const sim_symbol_t *delivery = sim_universe_get(u, 2);
    assert_string_equal(delivery->name, "BTCUSDT_251226");
    assert_string_equal(delivery->lower, "btcusdt_251226");
    assert_string_equal(delivery->pair, "BTCUSDT");
    assert_false(delivery->perpetual);
    assert_true(sim_universe_get(u, 0)->perpetual);
    assert_int_equal(strncmp(delivery->name, "BTCUSDT", 7), 0);
    sim_universe_destroy(&u);
}

static void coinm_names_and_pairs(void **state)
{
    (void)state;
    sim_universe_t *u = sim_universe_new(MARKET_COINM, 3, SEED);
    assert_string_equal(sim_universe_get(u, 0)->name, "BTCUSD_PERP");
    assert_string_equal(sim_universe_get(u, 0)->pair, "BTCUSD");
    assert_string_equal(sim_universe_get(u, 1)->name, "ETHUSD_PERP");
    assert_string_equal(sim_universe_get(u, 1)->pair, "ETHUSD");
    assert_string_equal(sim_universe_get(u, 2)->name, "BTCUSD_251226");
    assert_string_equal(sim_universe_get(u, 2)->pair, "BTCUSD");
    assert_false(sim_universe_get(u, 2)->perpetual);
    sim_universe_destroy(&u);
}

static void spot_btcusdt_grid_and_decimals(void **state)
{
    (void)state;
    sim_universe_t *u = sim_universe_new(MARKET_SPOT, 1, SEED);
    const sim_symbol_t *s = sim_universe_find(u, "BTCUSDT");
    assert_non_null(s);
    assert_int_equal(s->tick_size.units, d("0.01").units);
    assert_int_equal(s->step_size.units, d("0.00001").units);
    assert_int_equal(s->price_decimals, 8);
    assert_int_equal(s->qty_decimals, 8);
    char buf[DEC_STRLEN];
    dec_format_fixed(s->initial_price, s->price_decimals, buf);
    assert_string_equal(buf, "61837.63000000");
    assert_true(s->ladder_levels >= 1000 && s->ladder_levels <= 5000);
    sim_universe_destroy(&u);
}

static void usdm_btcusdt_grid_and_decimals(void **state)
{
    (void)state;
    sim_universe_t *u = sim_universe_new(MARKET_USDM, 1, SEED);
    const sim_symbol_t *s = sim_universe_find(u, "BTCUSDT");
    assert_int_equal(s->tick_size.units, d("0.10").units);
    assert_int_equal(s->step_size.units, d("0.001").units);
    assert_int_equal(s->price_decimals, 2); /* pricePrecision 2 with a 0.10 tick: "61510.90" */
    assert_int_equal(s->qty_decimals, 3);
    char buf[DEC_STRLEN];
    assert_true(dec_format_fixed(d("61510.9"), s->price_decimals, buf) > 0);
    assert_string_equal(buf, "61510.90");
    assert_true(s->ladder_levels <= 1000);
    sim_universe_destroy(&u);
}

static void coinm_ethusd_perp_grid_and_decimals(void **state)
{
    (void)state;
    sim_universe_t *u = sim_universe_new(MARKET_COINM, 2, SEED);
    const sim_symbol_t *s = sim_universe_find(u, "ETHUSD_PERP");
    assert_non_null(s);
    assert_int_equal(s->tick_size.units, d("0.01").units);
    assert_int_equal(s->price_decimals, 2);
    assert_int_equal(s->step_size.units, d("1").units);
    assert_int_equal(s->qty_decimals, 0);
    sim_universe_destroy(&u);
}

/* Digits after the point that `d` needs. */
static unsigned decimals_needed(dec_t d)
{
    unsigned places = 8;
    int64_t units = d.units;
    while (places > 0 && units % 10 == 0) {
        units /= 10;
        places--;
    }
    return places;
}

static void every_symbol_has_a_consistent_grid(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++) {
        sim_universe_t *u = sim_universe_new(markets[m], 2000, SEED);
        assert_non_null(u);
        for (size_t i = 0; i < 2000; i++) {
            const sim_symbol_t *s = sim_universe_get(u, i);
            assert_int_equal(s->market, markets[m]);
            assert_true(strlen(s->name) > 0 && strlen(s->name) <= SIM_SYMBOL_MAX);
            for (const char *c = s->name; *c; c++)
                assert_true(isupper((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_');
            for (size_t k = 0; s->name[k]; k++)
                assert_int_equal(s->lower[k], tolower((unsigned char)s->name[k]));
            assert_int_equal(strlen(s->lower), strlen(s->name));
            assert_true(s->tick_size.units > 0);
            assert_true(s->step_size.units > 0);
            assert_true(s->initial_price.units > 0);
            assert_int_equal(s->initial_price.units % s->tick_size.units, 0);
            /* Every price on the grid can be written with price_decimals, every quantity with
               qty_decimals. */
            assert_true(decimals_needed(s->tick_size) <= s->price_decimals);
            assert_true(decimals_needed(s->step_size) <= s->qty_decimals);
            assert_true(s->price_decimals <= 8 && s->qty_decimals <= 8);
            if (markets[m] == MARKET_SPOT) {
                assert_int_equal(s->price_decimals, 8);
                assert_int_equal(s->qty_decimals, 8);
            } else {
                assert_true(s->ladder_levels <= 1000); /* a snapshot holds the whole book */
            }
            if (markets[m] == MARKET_COINM) {
                assert_int_equal(s->step_size.units, DEC_SCALE);
                assert_int_equal(s->qty_decimals, 0);
            }
            assert_true(s->ladder_levels >= 200 && s->ladder_levels <= 5000);
            assert_true(s->initial_price.units >= d("0.0001").units);
            assert_true(s->initial_price.units <= d("65000").units);
            int64_t ticks = s->initial_price.units / s->tick_size.units;
            assert_true(ticks >= 3000 && ticks <= 10000000); /* 4–7 significant digits */
            if (i >= 8) { /* generated: 5 or 6 significant digits */
                assert_true(ticks >= 10000 && ticks < 1000000);
                assert_true(s->ladder_levels <= 600);
            }
        }
        sim_universe_destroy(&u);
    }
}

static void generated_prices_span_magnitudes(void **state)
{
    (void)state;
    sim_universe_t *u = sim_universe_new(MARKET_SPOT, 2000, SEED);
    int64_t lowest = INT64_MAX, highest = 0;
    for (size_t i = 8; i < 2000; i++) {
        int64_t p = sim_universe_get(u, i)->initial_price.units;
        lowest = p < lowest ? p : lowest;
        highest = p > highest ? p : highest;
    }
    assert_true(lowest < d("0.001").units);
    assert_true(highest > d("10000").units);
    assert_true(highest <= d("50000").units);
    sim_universe_destroy(&u);
}

static void names_are_unique(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++) {
        sim_universe_t *u = sim_universe_new(markets[m], 1000, SEED);
        for (size_t i = 0; i < 1000; i++)
            assert_ptr_equal(sim_universe_find(u, sim_universe_get(u, i)->name),
                             sim_universe_get(u, i));
        sim_universe_destroy(&u);
    }
}

static void find_is_case_insensitive(void **state)
{
    (void)state;
    sim_universe_t *u = sim_universe_new(MARKET_USDM, 100, SEED);
    const sim_symbol_t *btc = sim_universe_get(u, 0);
    assert_ptr_equal(sim_universe_find(u, "BTCUSDT"), btc);
    assert_ptr_equal(sim_universe_find(u, "btcusdt"), btc);
    assert_ptr_equal(sim_universe_find(u, "BtcUsdt"), btc);
    assert_ptr_equal(sim_universe_find(u, "btcusdt_251226"), sim_universe_get(u, 2));
    assert_ptr_equal(sim_universe_find(u, "s0042usdt"), sim_universe_get(u, 42));
    sim_universe_destroy(&u);
}

static void find_rejects_unknown_names(void **state)
{
    (void)state;
    sim_universe_t *u = sim_universe_new(MARKET_USDM, 100, SEED);
    assert_null(sim_universe_find(u, "BTCUSD"));     /* a prefix */
    assert_null(sim_universe_find(u, "BTCUSDT_"));   /* a longer name */
    assert_null(sim_universe_find(u, "S0100USDT")); /* beyond the count */
    assert_null(sim_universe_find(u, ""));
    assert_null(sim_universe_find(u, NULL));
    assert_null(sim_universe_find(u, "BTCUSDTBTCUSDTBTCUSDTBTCUSDTBTCUSDT")); /* > 32 chars */
    sim_universe_destroy(&u);
}

static void index_of_symbol_round_trips(void **state)
{
    (void)state;
    sim_universe_t *u = sim_universe_new(MARKET_COINM, 300, SEED);
    for (size_t i = 0; i < 300; i++)
        assert_int_equal(sim_universe_index(u, sim_universe_get(u, i)), i);
    sim_symbol_t stranger = *sim_universe_get(u, 0);
    assert_int_equal(sim_universe_index(u, &stranger), SIZE_MAX);
    assert_null(sim_universe_get(u, 300));
    sim_universe_destroy(&u);
}

static void bad_universe_arguments_give_null(void **state)
{
    (void)state;
    assert_null(sim_universe_new(MARKET_SPOT, 0, SEED));
    assert_null(sim_universe_new(MARKET_SPOT, SIM_UNIVERSE_MAX + 1, SEED));
    assert_null(sim_universe_new((market_t)9, 10, SEED));
    sim_universe_t *max = sim_universe_new(MARKET_SPOT, SIM_UNIVERSE_MAX, SEED);
    assert_non_null(max);
    assert_string_equal(sim_universe_get(max, SIM_UNIVERSE_MAX - 1)->name, "S9999USDT");
    sim_universe_destroy(&max);
    sim_universe_destroy(&max); /* NULL-safe */
}

static void symbol_seeds_differ_across_markets_and_names(void **state)
{
    (void)state;
    enum { N = 300 };
    static uint64_t seeds[3 * N];
    for (int m = 0; m < 3; m++) {
        sim_universe_t *u = sim_universe_new(markets[m], N, SEED);
        for (size_t i = 0; i < N; i++)
            seeds[m * N + i] = sim_universe_get(u, i)->seed;
        sim_universe_destroy(&u);
    }
    for (size_t i = 0; i < 3 * N; i++)
        for (size_t j = i + 1; j < 3 * N; j++)
            assert_int_not_equal(seeds[i], seeds[j]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(universe_is_deterministic_for_a_seed),
        cmocka_unit_test(universe_is_stable_when_count_grows),
        cmocka_unit_test(other_seed_gives_other_generated_symbols),
        cmocka_unit_test(spot_names_start_with_familiar_symbols),
        cmocka_unit_test(generated_names_follow_the_index),
        cmocka_unit_test(usdm_has_delivery_contract_prefixed_by_perpetual),
        cmocka_unit_test(coinm_names_and_pairs),
        cmocka_unit_test(spot_btcusdt_grid_and_decimals),
        cmocka_unit_test(usdm_btcusdt_grid_and_decimals),
        cmocka_unit_test(coinm_ethusd_perp_grid_and_decimals),
        cmocka_unit_test(every_symbol_has_a_consistent_grid),
        cmocka_unit_test(generated_prices_span_magnitudes),
        cmocka_unit_test(names_are_unique),
        cmocka_unit_test(find_is_case_insensitive),
        cmocka_unit_test(find_rejects_unknown_names),
        cmocka_unit_test(index_of_symbol_round_trips),
        cmocka_unit_test(bad_universe_arguments_give_null),
        cmocka_unit_test(symbol_seeds_differ_across_markets_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
