/*
 * test_sim_market.c — one symbol's simulated market (sim/market.h) and its generator (sim/rng.h).
 *
 * The engine is the truth the whole pipeline is checked against, so most tests here run it for
 * minutes or an hour of logical time and check an invariant at every single event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market.h"
#include "rng.h"

#define SEED 42u

/* Hashes of the first 10 s of each market's first symbol, seed 42 (see
   event_stream_is_pinned_across_builds). */
#define EXPECTED_SPOT_HASH UINT64_C(0xe3b15c3e0dcc5697)
#define EXPECTED_USDM_HASH UINT64_C(0x80e28a2624f01986)
#define EXPECTED_COINM_HASH UINT64_C(0x85a1055a7176fdf9)

static const market_t markets[3] = {MARKET_SPOT, MARKET_USDM, MARKET_COINM};

/* ---- helpers ---- */

static void hash_u64(uint64_t *h, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        *h ^= (v >> (8 * i)) & 0xffu;
        *h *= UINT64_C(0x100000001b3);
    }
}

/* Counts and hashes every field of every event: two equal hashes mean equal event streams. */
typedef struct {
    uint64_t hash;
    size_t updates;
    size_t trades;
    int64_t last_time_ms;
    int64_t until_ms; /* events must come before this */
} recorder_t;

static void record_update(void *arg, const sim_update_t *u)
{
    recorder_t *r = arg;
    assert_true(u->time_ms >= r->last_time_ms);
    assert_true(u->time_ms < r->until_ms);
    r->last_time_ms = u->time_ms;
    r->updates++;
    hash_u64(&r->hash, 1);
    hash_u64(&r->hash, u->first_id);
    hash_u64(&r->hash, u->last_id);
    hash_u64(&r->hash, (uint64_t)u->time_ms);
    hash_u64(&r->hash, u->change_count);
    for (size_t i = 0; i < u->change_count; i++) {
        hash_u64(&r->hash, (uint64_t)u->changes[i].side);
        hash_u64(&r->hash, (uint64_t)u->changes[i].price.units);
        hash_u64(&r->hash, (uint64_t)u->changes[i].qty.units);
        hash_u64(&r->hash, (uint64_t)u->changes[i].prev_qty.units);
    }
}

static void record_trade(void *arg, const sim_trade_t *t)
{
    recorder_t *r = arg;
    assert_true(t->time_ms >= r->last_time_ms);
    assert_true(t->time_ms < r->until_ms);
    r->last_time_ms = t->time_ms;
    r->trades++;
    hash_u64(&r->hash, 2);
    hash_u64(&r->hash, t->trade_id);
    hash_u64(&r->hash, t->taker_order_id);
    hash_u64(&r->hash, (uint64_t)t->time_ms);
    hash_u64(&r->hash, (uint64_t)t->price.units);
    hash_u64(&r->hash, (uint64_t)t->qty.units);
    hash_u64(&r->hash, t->buyer_is_maker);
}

static void recorder_init(recorder_t *r)
{
    memset(r, 0, sizeof *r);
    r->hash = UINT64_C(0xcbf29ce484222325);
}

static recorder_t run_recorded(const sim_symbol_t *symbol, int64_t until_ms)
{
    recorder_t r;
    recorder_init(&r);
    r.until_ms = until_ms;
    sim_market_t *m = sim_market_new(symbol, NULL);
    assert_non_null(m);
    sim_market_sink_t sink = {record_update, record_trade, &r};
    sim_market_advance(m, until_ms, &sink);
    sim_market_destroy(&m);
    return r;
}

/* A few symbols of each market: familiar ones and generated ones across magnitudes. */
static const size_t sample_indices[] = {0, 1, 2, 4, 9, 23, 57, 150};
#define SAMPLE_COUNT (sizeof sample_indices / sizeof sample_indices[0])

/* ---- the generator ---- */

static void rng_matches_reference_xoshiro256starstar(void **state)
{
    (void)state;
    /* From an independent implementation of splitmix64 seeding and xoshiro256** (Python). */
    static const uint64_t expected[5] = {
        UINT64_C(0x15780b2e0c2ec716), UINT64_C(0x6104d9866d113a7e), UINT64_C(0xae17533239e499a1),
        UINT64_C(0xecb8ad4703b360a1), UINT64_C(0xfde6dc7fe2ec5e64),
    };
    sim_rng_t rng;
    sim_rng_seed(&rng, 42);
    for (int i = 0; i < 5; i++)
        assert_int_equal(sim_rng_next(&rng), expected[i]);
}

static void rng_below_stays_in_range_without_bias(void **state)
{
    (void)state;
    sim_rng_t rng;
    sim_rng_seed(&rng, 7);
    size_t counts[3] = {0};
    for (int i = 0; i < 300000; i++) {
        uint64_t v = sim_rng_below(&rng, 3);
        assert_true(v < 3);
        counts[v]++;
    }
    for (int i = 0; i < 3; i++) /* expected 100000, sd ~258 */
        assert_true(counts[i] > 98500 && counts[i] < 101500);
    /* Large bounds, where a modulo would bias toward small values: the lower half of
       [0, 3·2^62) must get about half the draws. */
    uint64_t n = UINT64_C(3) << 62;
    size_t low = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t v = sim_rng_below(&rng, n);
        assert_true(v < n);
        low += v < n / 2;
    }
    assert_true(low > 49000 && low < 51000); /* a plain modulo gives ~66,700 */
    assert_int_equal(sim_rng_below(&rng, 0), 0);
    assert_int_equal(sim_rng_below(&rng, 1), 0);
    for (int i = 0; i < 1000; i++) {
        int64_t v = sim_rng_range(&rng, -3, 3);
        assert_true(v >= -3 && v <= 3);
    }
}

static void rng_chance_follows_parts_per_million(void **state)
{
    (void)state;
    sim_rng_t rng;
    sim_rng_seed(&rng, 8);
    size_t hits = 0;
    for (int i = 0; i < 1000000; i++)
        hits += sim_rng_chance_ppm(&rng, 250000);
    assert_true(hits > 248500 && hits < 251500); /* sd ~433 */
    for (int i = 0; i < 1000; i++) {
        assert_false(sim_rng_chance_ppm(&rng, 0));
        assert_true(sim_rng_chance_ppm(&rng, 1000000));
    }
}

static void rng_exponential_has_requested_mean_and_shape(void **state)
{
    (void)state;
    sim_rng_t rng;
    sim_rng_seed(&rng, 9);
    const uint64_t mean = 50000; /* 20 events/s in µs */
    uint64_t sum = 0;
    size_t above_mean = 0, above_3_means = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t v = sim_rng_exp(&rng, mean);
        sum += v;
        above_mean += v > mean;
        above_3_means += v > 3 * mean;
    }
    uint64_t average = sum / 200000; /* sd of the average ~112 */
    assert_true(average > mean - 600 && average < mean + 600);
    /* P(X > mean) = e^-1 = 0.3679, P(X > 3 mean) = e^-3 = 0.0498 */
    assert_true(above_mean > 72500 && above_mean < 74700);
    assert_true(above_3_means > 9400 && above_3_means < 10500);
}

/* The multiplicative inverse of an odd a modulo 2^64 (Newton's iteration). */
static uint64_t inverse_mod_2_64(uint64_t a)
{
    uint64_t x = a; /* correct to 3 bits for odd a */
    for (int i = 0; i < 5; i++)
        x *= 2 - a * x;
    return x;
}

/* A generator whose next output is r: xoshiro256**'s output depends on s[1] alone,
   rotl(s[1] * 5, 7) * 9, which is invertible. */
static sim_rng_t rng_yielding(uint64_t r)
{
    uint64_t x = r * inverse_mod_2_64(9);
    x = (x >> 7) | (x << 57); /* rotate right by 7 */
    sim_rng_t rng = {{1, x * inverse_mod_2_64(5), 3, 4}};
    return rng;
}

static void rng_exponential_inverts_exactly(void **state)
{
    (void)state;
    const uint64_t ln2 = UINT64_C(2977044472); /* round(ln 2 × 2^32) */
    sim_rng_t rng = rng_yielding(UINT64_C(1) << 63); /* U = 1/2 */
    assert_int_equal(sim_rng_exp_q32(&rng), ln2);
    rng = rng_yielding(UINT64_C(1) << 62); /* U = 1/4 */
    assert_int_equal(sim_rng_exp_q32(&rng), 2 * ln2);
    rng = rng_yielding(UINT64_C(3) << 62); /* U = 3/4: a table point */
    assert_int_equal(sim_rng_exp_q32(&rng), UINT64_C(1235585093));
    rng = rng_yielding(1); /* U = 2^-64, the largest variate */
    assert_int_equal(sim_rng_exp_q32(&rng), 64 * ln2);
    rng = rng_yielding(UINT64_MAX); /* U just below 1 */
    assert_true(sim_rng_exp_q32(&rng) < 16);
    rng = rng_yielding(UINT64_C(11068046444225730969)); /* U = 0.6, between table points */
    int64_t error = (int64_t)sim_rng_exp_q32(&rng) - INT64_C(2193979348);
    assert_true(error > -10000 && error < 10000); /* < 2.4e-6 */
    rng = rng_yielding(UINT64_C(1) << 63);
    assert_int_equal(sim_rng_exp(&rng, 1000000), 693147); /* 10^6 × ln 2, rounded */
}

/* ---- life cycle and parameters ---- */

static sim_universe_t *universe(market_t market, size_t count)
{
    sim_universe_t *u = sim_universe_new(market, count, SEED);
    assert_non_null(u);
    return u;
}

static void default_params_are_documented_values(void **state)
{
    (void)state;
    sim_market_params_t p;
    sim_market_params_default(&p);
    assert_int_equal(p.book_updates_per_s, 20);
    assert_int_equal(p.trades_per_s, 2);
    assert_int_equal(p.futures_id_gap_mean, 40);
    assert_true(p.max_sweep_levels >= 1 && p.max_sweep_levels <= SIM_UPDATE_MAX_CHANGES);
}

static void invalid_params_or_symbol_are_refused(void **state)
{
    (void)state;
    sim_universe_t *u = universe(MARKET_SPOT, 1);
    const sim_symbol_t *btc = sim_universe_get(u, 0);
    sim_market_params_t p;
    sim_market_params_default(&p);
    p.max_sweep_levels = 0;
    assert_null(sim_market_new(btc, &p));
    p.max_sweep_levels = SIM_UPDATE_MAX_CHANGES + 1;
    assert_null(sim_market_new(btc, &p));
    sim_market_params_default(&p);
    p.book_updates_per_s = SIM_MARKET_RATE_MAX + 1;
    assert_null(sim_market_new(btc, &p));
    assert_null(sim_market_new(NULL, NULL));
    sim_symbol_t bad = *btc;
    bad.ladder_levels = 1;
    assert_null(sim_market_new(&bad, NULL));
    bad = *btc;
    bad.tick_size.units = 0;
    assert_null(sim_market_new(&bad, NULL));
    bad = *btc;
    bad.initial_price.units += 1; /* off the tick grid */
    assert_null(sim_market_new(&bad, NULL));
    bad = *btc;
    bad.initial_price = bad.tick_size; /* no room below for a bid ladder */
    assert_null(sim_market_new(&bad, NULL));
    sim_market_t *m = sim_market_new(btc, NULL);
    assert_non_null(m);
    assert_ptr_equal(sim_market_symbol(m), btc);
    sim_market_destroy(&m);
    assert_null(m);
    sim_market_destroy(&m); /* NULL-safe */
    sim_universe_destroy(&u);
}

static void every_symbol_builds_a_full_initial_book(void **state)
{
    (void)state;
    for (int mk = 0; mk < 3; mk++) {
        sim_universe_t *u = universe(markets[mk], 600);
        for (size_t i = 0; i < 600; i++) {
            const sim_symbol_t *s = sim_universe_get(u, i);
            sim_market_t *m = sim_market_new(s, NULL);
            assert_non_null(m);
            const sim_book_t *book = sim_market_book(m);
            char err[128];
            if (sim_book_check(book, err, sizeof err) != 0)
                fail_msg("%s: %s", s->name, err);
            assert_int_equal(sim_book_count(book, SIM_BID), s->ladder_levels);
            assert_int_equal(sim_book_count(book, SIM_ASK), s->ladder_levels);
            sim_level_t bid, ask;
            sim_book_best(book, SIM_BID, &bid);
            sim_book_best(book, SIM_ASK, &ask);
            assert_true(bid.price.units <= s->initial_price.units);
            assert_true(ask.price.units > s->initial_price.units);
            assert_true(ask.price.units - bid.price.units <= 4 * s->tick_size.units);
            for (int side = 0; side < 2; side++)
                for (size_t k = 0; k < s->ladder_levels; k++) {
                    sim_level_t l = sim_book_level(book, (sim_side_t)side, k);
                    assert_int_equal(l.price.units % s->tick_size.units, 0);
                    assert_int_equal(l.qty.units % s->step_size.units, 0);
                }
            sim_market_destroy(&m);
        }
        sim_universe_destroy(&u);
    }
}

/* Digits after the point that a quantity needs ("0.00157000" needs 5, "1.00000000" none). */
static int decimals_needed(int64_t units)
{
    int places = DEC_PLACES;
    while (places > 0 && units % 10 == 0) {
        units /= 10;
        places--;
    }
    return places;
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void initial_quantities_have_varied_precision(void **state)
{
    (void)state;
    sim_universe_t *u = universe(MARKET_SPOT, 1);
    const sim_symbol_t *s = sim_universe_get(u, 0); /* BTCUSDT, step 0.00001 */
    sim_market_t *m = sim_market_new(s, NULL);
    const sim_book_t *book = sim_market_book(m);
    size_t n = 2 * s->ladder_levels, round = 0, precise = 0, k = 0;
    int64_t *qty = malloc(n * sizeof *qty);
    assert_non_null(qty);
    for (int side = 0; side < 2; side++)
        for (size_t i = 0; i < s->ladder_levels; i++) {
            int64_t units = sim_book_level(book, (sim_side_t)side, i).qty.units;
            int places = decimals_needed(units);
            round += places <= 2;                 /* 0.01000000, 1.00000000 */
            precise += places >= 3 && places <= 5; /* 0.00157000, 0.36573000 */
            qty[k++] = units;
        }
    qsort(qty, n, sizeof *qty, compare_i64);
    /* The capture of 8 Aug 2024 has 1% with at most 2 decimals, 98% with 3 to 5. */
    assert_true(round * 1000 > n * 5);
    assert_true(precise * 100 > n * 60);
    assert_true(qty[n - 1] >= 20 * qty[n / 2]); /* a few large */
    free(qty);
    sim_market_destroy(&m);
    sim_universe_destroy(&u);
}

static void zero_rates_produce_no_events(void **state)
{
    (void)state;
    sim_universe_t *u = universe(MARKET_USDM, 1);
    sim_market_params_t p;
    sim_market_params_default(&p);
    p.book_updates_per_s = 0;
    p.trades_per_s = 0;
    sim_market_t *m = sim_market_new(sim_universe_get(u, 0), &p);
    assert_int_equal(sim_market_next_event_ms(m), INT64_MAX);
    recorder_t r;
    recorder_init(&r);
    r.until_ms = INT64_MAX;
    uint64_t id = sim_market_last_update_id(m);
    sim_market_sink_t sink = {record_update, record_trade, &r};
    sim_market_advance(m, 24 * 3600 * 1000, &sink);
    sim_market_advance(m, INT64_MAX, &sink);
    assert_int_equal(r.updates + r.trades, 0);
    assert_int_equal(sim_market_last_update_id(m), id);
    sim_market_destroy(&m);
    sim_universe_destroy(&u);
}

/* ---- determinism ---- */

static void same_symbol_and_params_give_same_events(void **state)
{
    (void)state;
    for (int mk = 0; mk < 3; mk++) {
        sim_universe_t *u = universe(markets[mk], 60);
        for (size_t k = 0; k < SAMPLE_COUNT; k++) {
            if (sample_indices[k] >= 60)
                continue;
            const sim_symbol_t *s = sim_universe_get(u, sample_indices[k]);
            recorder_t a = run_recorded(s, 60000), b = run_recorded(s, 60000);
            assert_true(a.updates > 0 && a.trades > 0);
            assert_int_equal(a.updates, b.updates);
            assert_int_equal(a.trades, b.trades);
            assert_int_equal(a.hash, b.hash);
        }
        sim_universe_destroy(&u);
    }
}

static void split_advance_calls_give_same_events(void **state)
{
    (void)state;
    const int64_t until = 20000;
    for (int mk = 0; mk < 3; mk++) {
        sim_universe_t *u = universe(markets[mk], 1);
        const sim_symbol_t *s = sim_universe_get(u, 0);
        sim_market_t *m[3];
        recorder_t r[3];
        sim_market_sink_t sink[3];
        for (int i = 0; i < 3; i++) {
            m[i] = sim_market_new(s, NULL);
            recorder_init(&r[i]);
            sink[i] = (sim_market_sink_t){record_update, record_trade, &r[i]};
        }
        /* Once. */
        r[0].until_ms = until;
        sim_market_advance(m[0], until, &sink[0]);
        /* advance(1), advance(2), … advance(until). */
        for (int64_t t = 1; t <= until; t++) {
            r[1].until_ms = t;
            sim_market_advance(m[1], t, &sink[1]);
        }
        /* Uneven steps, with repeated and earlier targets that must do nothing. */
        int64_t t = 0;
        uint64_t x = 12345;
        while (t < until) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            int64_t step = (int64_t)((x >> 33) % 700);
            t = t + step > until ? until : t + step;
            r[2].until_ms = t;
            sim_market_advance(m[2], t, &sink[2]);
            sim_market_advance(m[2], t, &sink[2]);
            sim_market_advance(m[2], t - 5, &sink[2]);
        }
        assert_true(r[0].updates > 300 && r[0].trades > 20);
        for (int i = 1; i < 3; i++) {
            assert_int_equal(r[0].updates, r[i].updates);
            assert_int_equal(r[0].trades, r[i].trades);
            assert_int_equal(r[0].hash, r[i].hash);
            assert_true(sim_book_equal(sim_market_book(m[0]), sim_market_book(m[i])));
            assert_int_equal(sim_market_last_update_id(m[0]), sim_market_last_update_id(m[i]));
            assert_int_equal(sim_market_last_trade_id(m[0]), sim_market_last_trade_id(m[i]));
        }
        for (int i = 0; i < 3; i++)
            sim_market_destroy(&m[i]);
        sim_universe_destroy(&u);
    }
}

static void symbol_runs_independently_of_other_symbols(void **state)
{
    (void)state;
    sim_universe_t *one = universe(MARKET_USDM, 1);
    sim_universe_t *many = universe(MARKET_USDM, 500);
    recorder_t alone = run_recorded(sim_universe_get(one, 0), 30000);

    /* The same symbol in a larger universe, interleaved with two neighbours. */
    sim_market_t *m[3];
    recorder_t r[3];
    for (int i = 0; i < 3; i++) {
        m[i] = sim_market_new(sim_universe_get(many, (size_t)(i == 0 ? 0 : 100 * i)), NULL);
        recorder_init(&r[i]);
    }
    for (int64_t t = 7; t <= 30000; t += 7) {
        for (int i = 2; i >= 0; i--) {
            sim_market_sink_t sink = {record_update, record_trade, &r[i]};
            r[i].until_ms = t;
            sim_market_advance(m[i], t, &sink);
        }
    }
    sim_market_sink_t sink = {record_update, record_trade, &r[0]};
    r[0].until_ms = 30000;
    sim_market_advance(m[0], 30000, &sink);
    assert_int_equal(alone.hash, r[0].hash);
    assert_int_not_equal(r[0].hash, r[1].hash);
    for (int i = 0; i < 3; i++)
        sim_market_destroy(&m[i]);
    sim_universe_destroy(&one);
    sim_universe_destroy(&many);
}

static void event_stream_is_pinned_across_builds(void **state)
{
    (void)state;
    /* The same bytes on every compiler and optimisation level: these hashes were taken from
       this engine at -O0 with sanitizers and must equal the -O2 build's. Update them only on a
       deliberate change of the model (and say so in the commit). */
    static const uint64_t expected[3] = {EXPECTED_SPOT_HASH, EXPECTED_USDM_HASH,
                                         EXPECTED_COINM_HASH};
    for (int mk = 0; mk < 3; mk++) {
        sim_universe_t *u = universe(markets[mk], 1);
        recorder_t r = run_recorded(sim_universe_get(u, 0), 10000);
        if (r.hash != expected[mk])
            fail_msg("%s: event hash 0x%016llx, expected 0x%016llx", market_name(markets[mk]),
                     (unsigned long long)r.hash, (unsigned long long)expected[mk]);
        sim_universe_destroy(&u);
    }
}

static void next_event_ms_predicts_the_next_event(void **state)
{
    (void)state;
    sim_universe_t *u = universe(MARKET_SPOT, 1);
    sim_market_t *m = sim_market_new(sim_universe_get(u, 0), NULL);
    recorder_t r;
    recorder_init(&r);
    sim_market_sink_t sink = {record_update, record_trade, &r};
    for (int i = 0; i < 200; i++) {
        int64_t next = sim_market_next_event_ms(m);
        size_t before = r.updates + r.trades;
        r.until_ms = next;
        sim_market_advance(m, next, &sink); /* events strictly before `next`: none */
        assert_int_equal(r.updates + r.trades, before);
        r.until_ms = next + 1;
        sim_market_advance(m, next + 1, &sink);
        assert_true(r.updates + r.trades > before);
        assert_int_equal(r.last_time_ms, next);
    }
    sim_market_destroy(&m);
    sim_universe_destroy(&u);
}

/* ---- ids ---- */

typedef struct {
    uint64_t last_id;
    size_t updates;
    size_t gaps_total;
    size_t multi_id_updates;
} id_checker_t;

static void check_spot_ids(void *arg, const sim_update_t *u)
{
    id_checker_t *c = arg;
    assert_int_equal(u->first_id, c->last_id + 1);
    assert_int_equal(u->last_id, u->first_id);
    c->last_id = u->last_id;
    c->updates++;
}

static void spot_update_ids_are_contiguous(void **state)
{
    (void)state;
    sim_universe_t *u = universe(MARKET_SPOT, 10);
    for (size_t i = 0; i < 10; i++) {
        sim_market_t *m = sim_market_new(sim_universe_get(u, i), NULL);
        id_checker_t c = {.last_id = sim_market_last_update_id(m)};
        assert_true(c.last_id >= UINT64_C(10000000000) && c.last_id < UINT64_C(100000000000));
        sim_market_sink_t sink = {check_spot_ids, NULL, &c};
        sim_market_advance(m, 300000, &sink);
        assert_true(c.updates > 5000);
        assert_int_equal(sim_market_last_update_id(m), c.last_id);
        sim_market_destroy(&m);
    }
    sim_universe_destroy(&u);
}

static void check_futures_ids(void *arg, const sim_update_t *u)
{
    id_checker_t *c = arg;
    assert_true(u->first_id > c->last_id); /* what `pu` chains on */
    assert_true(u->last_id >= u->first_id);
    c->gaps_total += u->first_id - c->last_id - 1;
    c->multi_id_updates += u->last_id > u->first_id;
    c->last_id = u->last_id;
    c->updates++;
}

static void futures_update_ids_increase_with_gaps(void **state)
{
    (void)state;
    for (int mk = 1; mk < 3; mk++) {
        sim_universe_t *u = universe(markets[mk], 10);
        for (size_t i = 0; i < 10; i++) {
            sim_market_t *m = sim_market_new(sim_universe_get(u, i), NULL);
            id_checker_t c = {.last_id = sim_market_last_update_id(m)};
            assert_true(c.last_id >= UINT64_C(1000000000000) &&
                        c.last_id < UINT64_C(10000000000000));
            sim_market_sink_t sink = {check_futures_ids, NULL, &c};
            sim_market_advance(m, 300000, &sink);
            assert_true(c.updates > 5000);
            size_t mean_gap = c.gaps_total / c.updates; /* configured mean 40 */
            assert_true(mean_gap >= 36 && mean_gap <= 44);
            assert_true(c.multi_id_updates * 2 > c.updates); /* most span several ids */
            assert_int_equal(sim_market_last_update_id(m), c.last_id);
            sim_market_destroy(&m);
        }
        sim_universe_destroy(&u);
    }
}

static void futures_id_gap_follows_its_parameter(void **state)
{
    (void)state;
    sim_universe_t *u = universe(MARKET_COINM, 1);
    sim_market_params_t p;
    sim_market_params_default(&p);
    p.futures_id_gap_mean = 0;
    sim_market_t *m = sim_market_new(sim_universe_get(u, 0), &p);
    id_checker_t c = {.last_id = sim_market_last_update_id(m)};
    sim_market_sink_t sink = {check_futures_ids, NULL, &c};
    sim_market_advance(m, 60000, &sink);
    assert_int_equal(c.gaps_total, 0);
    sim_market_destroy(&m);
    p.futures_id_gap_mean = 1000;
    m = sim_market_new(sim_universe_get(u, 0), &p);
    c = (id_checker_t){.last_id = sim_market_last_update_id(m)};
    sim_market_advance(m, 300000, &sink);
    size_t mean_gap = c.gaps_total / c.updates;
    assert_true(mean_gap >= 900 && mean_gap <= 1100);
    sim_market_destroy(&m);
    sim_universe_destroy(&u);
}

/* ---- the truth properties, checked at every event ---- */

typedef struct {
    const sim_market_t *market;
    const sim_symbol_t *symbol;
    sim_book_t *replay; /* the initial book with every change applied, by the test */
    sim_trade_t pending[SIM_UPDATE_MAX_CHANGES];
    size_t pending_count;
    uint64_t last_trade_id;
    uint64_t last_taker_order_id;
    size_t book_updates, trade_updates, trades, changes, near_changes, far_changes,
        best_moves;
    size_t min_count[2], max_count[2];
    int64_t lowest_mid, highest_mid;
} truth_t;

static void truth_init(truth_t *t, const sim_market_t *m)
{
    memset(t, 0, sizeof *t);
    t->market = m;
    t->symbol = sim_market_symbol(m);
    t->replay = sim_book_dup(sim_market_book(m));
    assert_non_null(t->replay);
    t->last_trade_id = sim_market_last_trade_id(m);
    t->min_count[0] = t->min_count[1] = SIZE_MAX;
    t->lowest_mid = INT64_MAX;
}

static void truth_on_trade(void *arg, const sim_trade_t *trade)
{
    truth_t *t = arg;
    const sim_symbol_t *s = t->symbol;
    assert_int_equal(trade->trade_id, t->last_trade_id + 1); /* contiguous */
    t->last_trade_id = trade->trade_id;
    if (t->pending_count == 0) {
        assert_true(trade->taker_order_id > t->last_taker_order_id);
        t->last_taker_order_id = trade->taker_order_id;
    } else {
        assert_int_equal(trade->taker_order_id, t->pending[0].taker_order_id);
        assert_int_equal(trade->time_ms, t->pending[0].time_ms);
        assert_int_equal(trade->buyer_is_maker, t->pending[0].buyer_is_maker);
    }
    /* A sweep from the top: the k-th trade of a taker order hits the k-th best level of the
       book as it was before the order (the book is unchanged during on_trade). */
    sim_side_t hit = trade->buyer_is_maker ? SIM_BID : SIM_ASK;
    sim_level_t level = sim_book_level(sim_market_book(t->market), hit, t->pending_count);
    assert_int_equal(trade->price.units, level.price.units);
    assert_true(trade->qty.units > 0 && trade->qty.units <= level.qty.units);
    assert_int_equal(trade->price.units % s->tick_size.units, 0);
    assert_int_equal(trade->qty.units % s->step_size.units, 0);
    assert_true(t->pending_count < SIM_UPDATE_MAX_CHANGES);
    t->pending[t->pending_count++] = *trade;
    t->trades++;
}

static void truth_on_update(void *arg, const sim_update_t *u)
{
    truth_t *t = arg;
    const sim_symbol_t *s = t->symbol;
    const sim_book_t *book = sim_market_book(t->market);
    sim_level_t old_bid, old_ask;
    assert_true(sim_book_best(t->replay, SIM_BID, &old_bid));
    assert_true(sim_book_best(t->replay, SIM_ASK, &old_ask));

    assert_true(u->change_count >= 1 && u->change_count <= SIM_UPDATE_MAX_CHANGES);
    if (t->pending_count > 0) {
        /* The update after a taker order: exactly the filled levels, each reduced by the
           trade's quantity (removed when it reaches zero). */
        assert_int_equal(u->change_count, t->pending_count);
        for (size_t i = 0; i < u->change_count; i++) {
            const sim_change_t *c = &u->changes[i];
            const sim_trade_t *tr = &t->pending[i];
            assert_int_equal(c->side, tr->buyer_is_maker ? SIM_BID : SIM_ASK);
            assert_int_equal(c->price.units, tr->price.units);
            assert_int_equal(c->prev_qty.units - c->qty.units, tr->qty.units);
            assert_int_equal(u->time_ms, tr->time_ms);
        }
        t->pending_count = 0;
        t->trade_updates++;
    } else {
        assert_true(u->change_count <= 3); /* book updates change one to three levels */
        t->book_updates++;
    }

    for (size_t i = 0; i < u->change_count; i++) {
        const sim_change_t *c = &u->changes[i];
        assert_true(c->side == SIM_BID || c->side == SIM_ASK);
        assert_true(c->price.units > 0);
        assert_true(c->qty.units >= 0);
        assert_int_equal(c->price.units % s->tick_size.units, 0);
        assert_int_equal(c->qty.units % s->step_size.units, 0);
        assert_int_not_equal(c->qty.units, c->prev_qty.units); /* every change changes */
        for (size_t j = 0; j < i; j++) /* one entry per level, as Binance sends */
            assert_false(u->changes[j].side == c->side &&
                         u->changes[j].price.units == c->price.units);
        /* Where was it? Count levels better than it on the book before the update. */
        size_t rank = 0, count = sim_book_count(t->replay, c->side);
        while (rank < count && rank < 100) {
            int64_t p = sim_book_level(t->replay, c->side, rank).price.units;
            if (c->side == SIM_BID ? p <= c->price.units : p >= c->price.units)
                break;
            rank++;
        }
        t->near_changes += rank < 20;
        t->far_changes += rank >= 100;
        /* The core property: prev_qty is what the level held, so history can be replayed. */
        dec_t prev;
        assert_int_equal(sim_book_set(t->replay, c->side, c->price, c->qty, &prev), 0);
        assert_int_equal(prev.units, c->prev_qty.units);
        t->changes++;
    }
    assert_true(sim_book_equal(t->replay, book));

    char err[160];
    if (sim_book_check(book, err, sizeof err) != 0)
        fail_msg("%s at %lld ms: %s", s->name, (long long)u->time_ms, err);
    sim_level_t bid, ask;
    assert_true(sim_book_best(book, SIM_BID, &bid)); /* never empty */
    assert_true(sim_book_best(book, SIM_ASK, &ask));
    t->best_moves += bid.price.units != old_bid.price.units || ask.price.units != old_ask.price.units;
    int64_t mid = (bid.price.units + ask.price.units) / 2;
    t->lowest_mid = mid < t->lowest_mid ? mid : t->lowest_mid;
    t->highest_mid = mid > t->highest_mid ? mid : t->highest_mid;
    for (int side = 0; side < 2; side++) {
        size_t n = sim_book_count(book, (sim_side_t)side);
        t->min_count[side] = n < t->min_count[side] ? n : t->min_count[side];
        t->max_count[side] = n > t->max_count[side] ? n : t->max_count[side];
    }
}

static truth_t run_truth(const sim_symbol_t *s, const sim_market_params_t *p, int64_t until_ms)
{
    sim_market_t *m = sim_market_new(s, p);
    assert_non_null(m);
    truth_t t;
    truth_init(&t, m);
    sim_market_sink_t sink = {truth_on_update, truth_on_trade, &t};
    sim_market_advance(m, until_ms, &sink);
    assert_int_equal(t.pending_count, 0); /* every taker order ended with its update */
    assert_int_equal(sim_market_last_trade_id(m), t.last_trade_id);
    sim_book_destroy(&t.replay);
    sim_market_destroy(&m);
    t.replay = NULL;
    t.market = NULL;
    return t;
}

static void replaying_changes_reproduces_the_book_exactly(void **state)
{
    (void)state;
    /* The assertions live in truth_on_update: prev_qty matches the replayed book before each
       change, and the replayed book equals the engine's after each update. */
    for (int mk = 0; mk < 3; mk++) {
        sim_universe_t *u = universe(markets[mk], 200);
        for (size_t k = 0; k < SAMPLE_COUNT; k++) {
            truth_t t = run_truth(sim_universe_get(u, sample_indices[k]), NULL, 120000);
            assert_true(t.changes > 2000);
        }
        sim_universe_destroy(&u);
    }
}

static void book_is_never_crossed_empty_or_zero(void **state)
{
    (void)state;
    /* High rates and deep sweeps stress the top of the book. */
    sim_market_params_t p;
    sim_market_params_default(&p);
    p.book_updates_per_s = 200;
    p.trades_per_s = 100;
    p.sweep_ppm = 600000;
    p.max_sweep_levels = SIM_UPDATE_MAX_CHANGES;
    for (int mk = 0; mk < 3; mk++) {
        sim_universe_t *u = universe(markets[mk], 200);
        for (size_t k = 0; k < SAMPLE_COUNT; k++) {
            truth_t t = run_truth(sim_universe_get(u, sample_indices[k]), &p, 60000);
            assert_true(t.trades > 5000);
        }
        sim_universe_destroy(&u);
    }
}

static void trades_are_contiguous_and_match_book_changes(void **state)
{
    (void)state;
    for (int mk = 0; mk < 3; mk++) {
        sim_universe_t *u = universe(markets[mk], 60);
        truth_t t = run_truth(sim_universe_get(u, 1), NULL, 600000);
        assert_true(t.trade_updates > 1000);
        assert_true(t.trades > t.trade_updates); /* some taker orders sweep several levels */
        sim_universe_destroy(&u);
    }
}

static void prices_and_quantities_stay_on_the_grid(void **state)
{
    (void)state;
    /* Checked at every change and trade by the truth sink; here across many generated symbols
       with unusual grids (ticks of 5 and 10 units, steps of 100 or 1000). */
    for (int mk = 0; mk < 3; mk++) {
        sim_universe_t *u = universe(markets[mk], 300);
        for (size_t i = 8; i < 300; i += 7)
            run_truth(sim_universe_get(u, i), NULL, 20000);
        sim_universe_destroy(&u);
    }
}

static void rates_follow_configuration_over_a_long_run(void **state)
{
    (void)state;
    sim_universe_t *u = universe(MARKET_SPOT, 10);
    /* Defaults over 1000 s: 20,000 book updates (sd 141) and 2,000 taker orders (sd 45). */
    truth_t t = run_truth(sim_universe_get(u, 3), NULL, 1000000);
    assert_true(t.book_updates > 19300 && t.book_updates < 20700);
    assert_true(t.trade_updates > 1800 && t.trade_updates < 2200);
    sim_market_params_t p;
    sim_market_params_default(&p);
    p.book_updates_per_s = 150;
    p.trades_per_s = 15;
    t = run_truth(sim_universe_get(u, 3), &p, 200000); /* 30,000 and 3,000 */
    assert_true(t.book_updates > 29000 && t.book_updates < 31000);
    assert_true(t.trade_updates > 2750 && t.trade_updates < 3250);
    p.trades_per_s = 0;
    t = run_truth(sim_universe_get(u, 3), &p, 10000);
    assert_int_equal(t.trades, 0);
    sim_universe_destroy(&u);
}

static void changes_are_mostly_near_the_top(void **state)
{
    (void)state;
    sim_universe_t *u = universe(MARKET_USDM, 1);
    truth_t t = run_truth(sim_universe_get(u, 0), NULL, 600000);
    assert_true(t.near_changes * 100 > t.changes * 75); /* ~85% aimed at the best 20 */
    assert_true(t.far_changes * 100 > t.changes * 3);   /* and some far away */
    assert_true(t.best_moves * 100 > (t.book_updates + t.trade_updates) * 5);
    sim_universe_destroy(&u);
}

static void ladder_size_stays_within_bounds_over_an_hour(void **state)
{
    (void)state;
    for (int mk = 0; mk < 3; mk++) {
        sim_universe_t *u = universe(markets[mk], 200);
        static const size_t picks[] = {0, 2, 57, 150};
        for (size_t k = 0; k < sizeof picks / sizeof picks[0]; k++) {
            const sim_symbol_t *s = sim_universe_get(u, picks[k]);
            truth_t t = run_truth(s, NULL, 3600000);
            for (int side = 0; side < 2; side++) {
                assert_true(t.min_count[side] >= s->ladder_levels / 2);
                assert_true(t.max_count[side] <= s->ladder_levels);
            }
            /* The mid wanders but stays near where it started. */
            int64_t p0 = s->initial_price.units;
            assert_true(t.lowest_mid > p0 - p0 / 10 && t.highest_mid < p0 + p0 / 10);
            assert_true(t.highest_mid > t.lowest_mid);
        }
        sim_universe_destroy(&u);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rng_matches_reference_xoshiro256starstar),
        cmocka_unit_test(rng_below_stays_in_range_without_bias),
        cmocka_unit_test(rng_chance_follows_parts_per_million),
        cmocka_unit_test(rng_exponential_has_requested_mean_and_shape),
        cmocka_unit_test(rng_exponential_inverts_exactly),
        cmocka_unit_test(default_params_are_documented_values),
        cmocka_unit_test(invalid_params_or_symbol_are_refused),
        cmocka_unit_test(every_symbol_builds_a_full_initial_book),
        cmocka_unit_test(initial_quantities_have_varied_precision),
        cmocka_unit_test(zero_rates_produce_no_events),
        cmocka_unit_test(same_symbol_and_params_give_same_events),
        cmocka_unit_test(split_advance_calls_give_same_events),
        cmocka_unit_test(symbol_runs_independently_of_other_symbols),
        cmocka_unit_test(event_stream_is_pinned_across_builds),
        cmocka_unit_test(next_event_ms_predicts_the_next_event),
        cmocka_unit_test(spot_update_ids_are_contiguous),
        cmocka_unit_test(futures_update_ids_increase_with_gaps),
        cmocka_unit_test(futures_id_gap_follows_its_parameter),
        cmocka_unit_test(replaying_changes_reproduces_the_book_exactly),
        cmocka_unit_test(book_is_never_crossed_empty_or_zero),
        cmocka_unit_test(trades_are_contiguous_and_match_book_changes),
        cmocka_unit_test(prices_and_quantities_stay_on_the_grid),
        cmocka_unit_test(rates_follow_configuration_over_a_long_run),
        cmocka_unit_test(changes_are_mostly_near_the_top),
        cmocka_unit_test(ladder_size_stays_within_bounds_over_an_hour),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
