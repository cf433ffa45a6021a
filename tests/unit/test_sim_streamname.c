/* Unit tests of sim/streamname: which names Binance serves, ACKs silently or refuses, and
   which USD-M path delivers what. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "streamname.h"
#include "symbols.h"

#include <stdio.h>
#include <string.h>

static const market_t ALL_MARKETS[] = {MARKET_SPOT, MARKET_USDM, MARKET_COINM};

static sim_streamname_t parse(market_t market, const char *name)
{
    sim_streamname_t s;
    sim_streamname_verdict_t v = sim_streamname_parse(market, name, &s);
    assert_int_equal(v, s.verdict);
    return s;
}

static void expect_live(market_t market, const char *name, sim_streamkind_t kind,
                        unsigned speed_ms, unsigned levels, const char *interval)
{
    sim_streamname_t s = parse(market, name);
    if (s.verdict != SIM_STREAMNAME_LIVE)
        fail_msg("%s on %s: expected LIVE, got %d (%s)", name, market_name(market), s.verdict,
                 s.why);
    assert_null(s.why);
    assert_string_equal(s.symbol, "btcusdt");
    assert_int_equal(s.kind, kind);
    assert_int_equal(s.speed_ms, speed_ms);
    assert_int_equal(s.levels, levels);
    assert_string_equal(s.interval, interval);
}

static void expect_verdict(market_t market, const char *name, sim_streamname_verdict_t want)
{
    sim_streamname_t s = parse(market, name);
    if (s.verdict != want)
        fail_msg("%s on %s: expected verdict %d, got %d", name, market_name(market), want,
                 s.verdict);
    if (want != SIM_STREAMNAME_LIVE)
        assert_non_null(s.why);
}

/* ---- diff depth ---- */

static void spot_diff_depth_default_is_1000ms_and_takes_100ms_or_1000ms(void **state)
{
    (void)state;
    expect_live(MARKET_SPOT, "btcusdt@depth", SIM_STREAMKIND_DEPTH, 1000, 0, "");
    expect_live(MARKET_SPOT, "btcusdt@depth@100ms", SIM_STREAMKIND_DEPTH, 100, 0, "");
    expect_live(MARKET_SPOT, "btcusdt@depth@1000ms", SIM_STREAMKIND_DEPTH, 1000, 0, "");
}

static void spot_diff_depth_futures_speeds_are_silent(void **state)
{
    (void)state;
    expect_verdict(MARKET_SPOT, "btcusdt@depth@250ms", SIM_STREAMNAME_SILENT);
    expect_verdict(MARKET_SPOT, "btcusdt@depth@500ms", SIM_STREAMNAME_SILENT);
    expect_verdict(MARKET_SPOT, "btcusdt@depth@0ms", SIM_STREAMNAME_SILENT);
}

static void futures_diff_depth_default_is_250ms_and_takes_500ms_or_100ms(void **state)
{
    (void)state;
    for (int m = 1; m < 3; m++) {
        expect_live(ALL_MARKETS[m], "btcusdt@depth", SIM_STREAMKIND_DEPTH, 250, 0, "");
        expect_live(ALL_MARKETS[m], "btcusdt@depth@500ms", SIM_STREAMKIND_DEPTH, 500, 0, "");
        expect_live(ALL_MARKETS[m], "btcusdt@depth@100ms", SIM_STREAMKIND_DEPTH, 100, 0, "");
    }
}

static void futures_diff_depth_0ms_is_live_on_usdm_and_coinm(void **state)
{
    (void)state;
    expect_live(MARKET_USDM, "btcusdt@depth@0ms", SIM_STREAMKIND_DEPTH, 0, 0, "");
    expect_live(MARKET_COINM, "btcusdt@depth@0ms", SIM_STREAMKIND_DEPTH, 0, 0, "");
}

static void futures_explicit_250ms_and_1000ms_suffixes_are_silent(void **state)
{
    (void)state;
    for (int m = 1; m < 3; m++) {
        expect_verdict(ALL_MARKETS[m], "btcusdt@depth@250ms", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@depth@1000ms", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@depth20@250ms", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@depth20@1000ms", SIM_STREAMNAME_SILENT);
    }
}

static void silent_depth_name_still_reports_its_kind(void **state)
{
    (void)state;
    sim_streamname_t s = parse(MARKET_USDM, "btcusdt@depth@250ms");
    assert_int_equal(s.verdict, SIM_STREAMNAME_SILENT);
    assert_int_equal(s.kind, SIM_STREAMKIND_DEPTH);
    assert_string_equal(s.symbol, "btcusdt");
}

/* ---- partial depth ---- */

static void spot_partial_depth_5_10_20_at_1000ms_default_100ms_or_1000ms(void **state)
{
    (void)state;
    const unsigned levels[] = {5, 10, 20};
    char name[64];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "btcusdt@depth%u", levels[i]);
        expect_live(MARKET_SPOT, name, SIM_STREAMKIND_PARTIAL_DEPTH, 1000, levels[i], "");
        snprintf(name, sizeof name, "btcusdt@depth%u@100ms", levels[i]);
        expect_live(MARKET_SPOT, name, SIM_STREAMKIND_PARTIAL_DEPTH, 100, levels[i], "");
        snprintf(name, sizeof name, "btcusdt@depth%u@1000ms", levels[i]);
        expect_live(MARKET_SPOT, name, SIM_STREAMKIND_PARTIAL_DEPTH, 1000, levels[i], "");
        snprintf(name, sizeof name, "btcusdt@depth%u@500ms", levels[i]);
        expect_verdict(MARKET_SPOT, name, SIM_STREAMNAME_SILENT);
    }
}

static void futures_partial_depth_5_10_20_at_250ms_default_500ms_or_100ms(void **state)
{
    (void)state;
    const unsigned levels[] = {5, 10, 20};
    char name[64];
    for (int m = 1; m < 3; m++) {
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "btcusdt@depth%u", levels[i]);
            expect_live(ALL_MARKETS[m], name, SIM_STREAMKIND_PARTIAL_DEPTH, 250, levels[i], "");
            snprintf(name, sizeof name, "btcusdt@depth%u@500ms", levels[i]);
            expect_live(ALL_MARKETS[m], name, SIM_STREAMKIND_PARTIAL_DEPTH, 500, levels[i], "");
            snprintf(name, sizeof name, "btcusdt@depth%u@100ms", levels[i]);
            expect_live(ALL_MARKETS[m], name, SIM_STREAMKIND_PARTIAL_DEPTH, 100, levels[i], "");
        }
    }
}

static void partial_depth_with_other_level_counts_is_silent(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++) {
        expect_verdict(ALL_MARKETS[m], "btcusdt@depth1", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@depth15", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@depth50", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@depth500", SIM_STREAMNAME_SILENT);
    }
}

/* ---- trades, tickers, klines, mark price ---- */

static void trade_is_live_on_every_market(void **state)
{
    (void)state;
    expect_live(MARKET_SPOT, "btcusdt@trade", SIM_STREAMKIND_TRADE, 0, 0, "");
    expect_live(MARKET_USDM, "btcusdt@trade", SIM_STREAMKIND_TRADE, 0, 0, "");
    expect_live(MARKET_COINM, "btcusdt@trade", SIM_STREAMKIND_TRADE, 0, 0, "");
}

static void agg_trade_is_real_time_on_spot_and_100ms_on_futures(void **state)
{
    (void)state;
    expect_live(MARKET_SPOT, "btcusdt@aggTrade", SIM_STREAMKIND_AGG_TRADE, 0, 0, "");
    expect_live(MARKET_USDM, "btcusdt@aggTrade", SIM_STREAMKIND_AGG_TRADE, 100, 0, "");
    expect_live(MARKET_COINM, "btcusdt@aggTrade", SIM_STREAMKIND_AGG_TRADE, 100, 0, "");
}

static void book_ticker_is_real_time_on_every_market(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++)
        expect_live(ALL_MARKETS[m], "btcusdt@bookTicker", SIM_STREAMKIND_BOOK_TICKER, 0, 0, "");
}

static void extra_speed_on_real_time_streams_is_silent(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++) {
        expect_verdict(ALL_MARKETS[m], "btcusdt@aggTrade@100ms", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@bookTicker@100ms", SIM_STREAMNAME_SILENT);
    }
}

static const char *const FUTURES_INTERVALS[] = {"1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h",
                                                "6h", "8h", "12h", "1d", "3d", "1w", "1M"};

static void spot_kline_takes_every_interval_including_1s(void **state)
{
    (void)state;
    char name[64];
    expect_live(MARKET_SPOT, "btcusdt@kline_1s", SIM_STREAMKIND_KLINE, 1000, 0, "1s");
    for (size_t i = 0; i < sizeof FUTURES_INTERVALS / sizeof *FUTURES_INTERVALS; i++) {
        snprintf(name, sizeof name, "btcusdt@kline_%s", FUTURES_INTERVALS[i]);
        expect_live(MARKET_SPOT, name, SIM_STREAMKIND_KLINE, 2000, 0, FUTURES_INTERVALS[i]);
    }
}

static void futures_kline_takes_every_interval_but_1s(void **state)
{
    (void)state;
    char name[64];
    for (int m = 1; m < 3; m++) {
        for (size_t i = 0; i < sizeof FUTURES_INTERVALS / sizeof *FUTURES_INTERVALS; i++) {
            snprintf(name, sizeof name, "btcusdt@kline_%s", FUTURES_INTERVALS[i]);
            expect_live(ALL_MARKETS[m], name, SIM_STREAMKIND_KLINE, 250, 0, FUTURES_INTERVALS[i]);
        }
        expect_verdict(ALL_MARKETS[m], "btcusdt@kline_1s", SIM_STREAMNAME_SILENT);
    }
}

static void unknown_kline_intervals_and_timezone_klines_are_silent(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++) {
        expect_verdict(ALL_MARKETS[m], "btcusdt@kline_2m", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@kline_1mo", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@kline_", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@kline_1H", SIM_STREAMNAME_SILENT);
    }
    /* Real on spot [S-WS], not produced by the sim. */
    expect_verdict(MARKET_SPOT, "btcusdt@kline_1m@+08:00", SIM_STREAMNAME_SILENT);
}

static void mark_price_is_3s_or_1s_on_futures(void **state)
{
    (void)state;
    for (int m = 1; m < 3; m++) {
        expect_live(ALL_MARKETS[m], "btcusdt@markPrice", SIM_STREAMKIND_MARK_PRICE, 3000, 0, "");
        expect_live(ALL_MARKETS[m], "btcusdt@markPrice@1s", SIM_STREAMKIND_MARK_PRICE, 1000, 0,
                    "");
        expect_verdict(ALL_MARKETS[m], "btcusdt@markPrice@3s", SIM_STREAMNAME_SILENT);
    }
}

static void mark_price_is_silent_on_spot(void **state)
{
    (void)state;
    expect_verdict(MARKET_SPOT, "btcusdt@markPrice", SIM_STREAMNAME_SILENT);
    expect_verdict(MARKET_SPOT, "btcusdt@markPrice@1s", SIM_STREAMNAME_SILENT);
}

/* ---- what Binance ACKs but never delivers ---- */

static void upper_case_symbol_is_silent_with_its_kind_recognised(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++) {
        sim_streamname_t s = parse(ALL_MARKETS[m], "BTCUSDT@depth");
        assert_int_equal(s.verdict, SIM_STREAMNAME_SILENT);
        assert_string_equal(s.symbol, "BTCUSDT");
        assert_int_equal(s.kind, SIM_STREAMKIND_DEPTH);
        assert_string_equal(s.why, "symbol not in lower case");
        expect_verdict(ALL_MARKETS[m], "BtcUsdt@bookTicker", SIM_STREAMNAME_SILENT);
    }
}

static void stream_kind_is_case_sensitive(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++) {
        expect_verdict(ALL_MARKETS[m], "btcusdt@aggtrade", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@DEPTH", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@booKTicker", SIM_STREAMNAME_SILENT);
    }
}

static void made_up_but_well_formed_names_are_silent(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m++) {
        expect_verdict(ALL_MARKETS[m], "btcusdt@naoExisteStream", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@miniTicker", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "btcusdt@depth@100ms@x", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "!bookTicker", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "!miniTicker@arr", SIM_STREAMNAME_SILENT);
        expect_verdict(ALL_MARKETS[m], "a@b@c@d@e@f@g@h@i@j", SIM_STREAMNAME_SILENT);
    }
}

static void listen_key_without_at_sign_is_silent(void **state)
{
    (void)state;
    sim_streamname_t s = parse(MARKET_SPOT,
                               "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1");
    assert_int_equal(s.verdict, SIM_STREAMNAME_SILENT);
    assert_int_equal(s.kind, SIM_STREAMKIND_NONE);
    expect_verdict(MARKET_USDM, "btcusdt", SIM_STREAMNAME_SILENT);
}

static void symbol_longer_than_32_bytes_is_silent(void **state)
{
    (void)state;
    sim_streamname_t s = parse(MARKET_SPOT, "abcdefghijklmnopqrstuvwxyz0123456@depth");
    assert_int_equal(s.verdict, SIM_STREAMNAME_SILENT);
    assert_string_equal(s.symbol, "");
    expect_live(MARKET_SPOT, "btcusdt@depth", SIM_STREAMKIND_DEPTH, 1000, 0, "");
    expect_verdict(MARKET_SPOT, "abcdefghijklmnopqrstuvwxyz012345@depth", SIM_STREAMNAME_LIVE);
}

static void non_ascii_and_delivery_contract_symbols_are_live(void **state)
{
    (void)state;
    expect_verdict(MARKET_SPOT, "\xe5\xb8\x81\xe5\xae\x89usdt@trade", SIM_STREAMNAME_LIVE);
    sim_streamname_t s = parse(MARKET_USDM, "btcusdt_251226@depth@100ms");
    assert_int_equal(s.verdict, SIM_STREAMNAME_LIVE);
    assert_string_equal(s.symbol, "btcusdt_251226");
    s = parse(MARKET_COINM, "btcusd_perp@depth20@100ms");
    assert_int_equal(s.verdict, SIM_STREAMNAME_LIVE);
    assert_string_equal(s.symbol, "btcusd_perp");
}

static void unknown_symbol_parses_live_and_only_the_universe_knows(void **state)
{
    (void)state;
    sim_universe_t *u = sim_universe_new(MARKET_SPOT, 8, 42);
    assert_non_null(u);
    sim_streamname_t s = parse(MARKET_SPOT, "btcusdt@depth");
    assert_int_equal(s.verdict, SIM_STREAMNAME_LIVE);
    assert_non_null(sim_universe_find(u, s.symbol));
    s = parse(MARKET_SPOT, "nosuchcoinusdt@depth");
    assert_int_equal(s.verdict, SIM_STREAMNAME_LIVE);
    assert_null(sim_universe_find(u, s.symbol));
    sim_universe_destroy(&u);
}

/* ---- what Binance refuses with "invalid stream" ---- */

static void malformed_names_are_invalid(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "not asdfads",
                         "@@@lixo###",
                         "btcusdt@",
                         "@depth",
                         "btcusdt@@depth",
                         "btcusdt/depth",
                         "btcusdt@depth#",
                         "btcusdt @depth",
                         "btc\"usdt@depth",
                         "btcusdt@depth\n",
                         "btcusdt@depth@",
                         "@"};
    for (int m = 0; m < 3; m++) {
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            sim_streamname_t s = parse(ALL_MARKETS[m], bad[i]);
            if (s.verdict != SIM_STREAMNAME_INVALID)
                fail_msg("\"%s\" on %s: expected INVALID", bad[i], market_name(ALL_MARKETS[m]));
            assert_int_equal(s.kind, SIM_STREAMKIND_NONE);
        }
    }
    sim_streamname_t s;
    assert_int_equal(sim_streamname_parse(MARKET_SPOT, NULL, &s), SIM_STREAMNAME_INVALID);
}

static void names_up_to_200_bytes_are_well_formed_and_longer_are_invalid(void **state)
{
    (void)state;
    char name[SIM_STREAMNAME_MAX + 2];
    memset(name, 'a', sizeof name);
    memcpy(name, "btcusdt@", 8);
    name[SIM_STREAMNAME_MAX] = '\0';
    expect_verdict(MARKET_SPOT, name, SIM_STREAMNAME_SILENT);
    name[SIM_STREAMNAME_MAX] = 'a';
    name[SIM_STREAMNAME_MAX + 1] = '\0';
    expect_verdict(MARKET_SPOT, name, SIM_STREAMNAME_INVALID);
}

/* ---- USD-M routes and delivery ---- */

static void usdm_serves_depth_book_ticker_and_trade_on_public(void **state)
{
    (void)state;
    assert_int_equal(sim_streamname_route(MARKET_USDM, SIM_STREAMKIND_DEPTH), SIM_WSROUTE_PUBLIC);
    assert_int_equal(sim_streamname_route(MARKET_USDM, SIM_STREAMKIND_PARTIAL_DEPTH),
                     SIM_WSROUTE_PUBLIC);
    assert_int_equal(sim_streamname_route(MARKET_USDM, SIM_STREAMKIND_BOOK_TICKER),
                     SIM_WSROUTE_PUBLIC);
    assert_int_equal(sim_streamname_route(MARKET_USDM, SIM_STREAMKIND_TRADE), SIM_WSROUTE_PUBLIC);
}

static void usdm_serves_agg_trade_kline_and_mark_price_on_market(void **state)
{
    (void)state;
    assert_int_equal(sim_streamname_route(MARKET_USDM, SIM_STREAMKIND_AGG_TRADE),
                     SIM_WSROUTE_MARKET);
    assert_int_equal(sim_streamname_route(MARKET_USDM, SIM_STREAMKIND_KLINE), SIM_WSROUTE_MARKET);
    assert_int_equal(sim_streamname_route(MARKET_USDM, SIM_STREAMKIND_MARK_PRICE),
                     SIM_WSROUTE_MARKET);
    assert_int_equal(sim_streamname_route(MARKET_USDM, SIM_STREAMKIND_NONE), SIM_WSROUTE_NONE);
}

static void spot_and_coinm_have_no_routes(void **state)
{
    (void)state;
    for (int k = SIM_STREAMKIND_NONE; k <= SIM_STREAMKIND_MARK_PRICE; k++) {
        assert_int_equal(sim_streamname_route(MARKET_SPOT, (sim_streamkind_t)k), SIM_WSROUTE_NONE);
        assert_int_equal(sim_streamname_route(MARKET_COINM, (sim_streamkind_t)k),
                         SIM_WSROUTE_NONE);
    }
}

static bool delivered(market_t market, const char *name, sim_wsroute_t route)
{
    sim_streamname_t s = parse(market, name);
    return sim_streamname_delivered_on(market, &s, route);
}

static void usdm_public_path_delivers_public_streams_only(void **state)
{
    (void)state;
    assert_true(delivered(MARKET_USDM, "btcusdt@depth@100ms", SIM_WSROUTE_PUBLIC));
    assert_true(delivered(MARKET_USDM, "btcusdt@depth5", SIM_WSROUTE_PUBLIC));
    assert_true(delivered(MARKET_USDM, "btcusdt@bookTicker", SIM_WSROUTE_PUBLIC));
    assert_true(delivered(MARKET_USDM, "btcusdt@trade", SIM_WSROUTE_PUBLIC));
    assert_false(delivered(MARKET_USDM, "btcusdt@aggTrade", SIM_WSROUTE_PUBLIC));
    assert_false(delivered(MARKET_USDM, "btcusdt@kline_1m", SIM_WSROUTE_PUBLIC));
    assert_false(delivered(MARKET_USDM, "btcusdt@markPrice@1s", SIM_WSROUTE_PUBLIC));
}

static void usdm_market_path_delivers_market_streams_only(void **state)
{
    (void)state;
    assert_true(delivered(MARKET_USDM, "btcusdt@aggTrade", SIM_WSROUTE_MARKET));
    assert_true(delivered(MARKET_USDM, "btcusdt@kline_1m", SIM_WSROUTE_MARKET));
    assert_true(delivered(MARKET_USDM, "btcusdt@markPrice", SIM_WSROUTE_MARKET));
    assert_false(delivered(MARKET_USDM, "btcusdt@depth", SIM_WSROUTE_MARKET));
    assert_false(delivered(MARKET_USDM, "btcusdt@bookTicker", SIM_WSROUTE_MARKET));
    assert_false(delivered(MARKET_USDM, "btcusdt@trade", SIM_WSROUTE_MARKET));
}

static void usdm_unrouted_path_acts_as_public_and_never_delivers_market_streams(void **state)
{
    (void)state;
    assert_true(delivered(MARKET_USDM, "btcusdt@depth", SIM_WSROUTE_NONE));
    assert_true(delivered(MARKET_USDM, "btcusdt@bookTicker", SIM_WSROUTE_NONE));
    assert_true(delivered(MARKET_USDM, "btcusdt@trade", SIM_WSROUTE_NONE));
    assert_false(delivered(MARKET_USDM, "btcusdt@aggTrade", SIM_WSROUTE_NONE));
    assert_false(delivered(MARKET_USDM, "btcusdt@kline_5m", SIM_WSROUTE_NONE));
    assert_false(delivered(MARKET_USDM, "btcusdt@markPrice", SIM_WSROUTE_NONE));
}

static void spot_and_coinm_deliver_everything_live_on_their_plain_paths(void **state)
{
    (void)state;
    assert_true(delivered(MARKET_SPOT, "btcusdt@depth", SIM_WSROUTE_NONE));
    assert_true(delivered(MARKET_SPOT, "btcusdt@aggTrade", SIM_WSROUTE_NONE));
    assert_true(delivered(MARKET_COINM, "btcusd_perp@depth", SIM_WSROUTE_NONE));
    assert_true(delivered(MARKET_COINM, "btcusd_perp@markPrice@1s", SIM_WSROUTE_NONE));
    assert_false(delivered(MARKET_COINM, "btcusd_perp@depth", SIM_WSROUTE_PUBLIC));
}

static void silent_streams_are_delivered_nowhere(void **state)
{
    (void)state;
    const sim_wsroute_t routes[] = {SIM_WSROUTE_NONE, SIM_WSROUTE_PUBLIC, SIM_WSROUTE_MARKET};
    for (int r = 0; r < 3; r++) {
        assert_false(delivered(MARKET_USDM, "BTCUSDT@depth", routes[r]));
        assert_false(delivered(MARKET_USDM, "btcusdt@depth@250ms", routes[r]));
        assert_false(delivered(MARKET_SPOT, "btcusdt@markPrice", routes[r]));
        assert_false(delivered(MARKET_COINM, "btcusd_perp@kline_1s", routes[r]));
    }
    assert_false(sim_streamname_delivered_on(MARKET_USDM, NULL, SIM_WSROUTE_PUBLIC));
}

/* ---- request paths ---- */

static void spot_and_coinm_paths_are_ws_and_stream(void **state)
{
    (void)state;
    const market_t plain[] = {MARKET_SPOT, MARKET_COINM};
    sim_wspath_t p;
    for (int m = 0; m < 2; m++) {
        assert_int_equal(sim_streamname_path_parse(plain[m], "/ws", &p), 0);
        assert_int_equal(p.route, SIM_WSROUTE_NONE);
        assert_false(p.combined);
        assert_null(p.raw);
        assert_int_equal(sim_streamname_path_parse(plain[m], "/ws/btcusdt@depth", &p), 0);
        assert_false(p.combined);
        assert_string_equal(p.raw, "btcusdt@depth");
        assert_int_equal(sim_streamname_path_parse(plain[m], "/stream", &p), 0);
        assert_true(p.combined);
        assert_int_equal(sim_streamname_path_parse(plain[m], "/stream/", &p), 0);
        assert_true(p.combined);
        assert_int_equal(sim_streamname_path_parse(plain[m], "/public/ws", &p), -1);
        assert_int_equal(sim_streamname_path_parse(plain[m], "/market/stream", &p), -1);
    }
}

static void usdm_paths_carry_their_route(void **state)
{
    (void)state;
    sim_wspath_t p;
    assert_int_equal(sim_streamname_path_parse(MARKET_USDM, "/public/ws/btcusdt@depth", &p), 0);
    assert_int_equal(p.route, SIM_WSROUTE_PUBLIC);
    assert_false(p.combined);
    assert_string_equal(p.raw, "btcusdt@depth");
    assert_int_equal(sim_streamname_path_parse(MARKET_USDM, "/market/stream", &p), 0);
    assert_int_equal(p.route, SIM_WSROUTE_MARKET);
    assert_true(p.combined);
    assert_int_equal(sim_streamname_path_parse(MARKET_USDM, "/stream", &p), 0);
    assert_int_equal(p.route, SIM_WSROUTE_NONE);
    assert_true(p.combined);
    assert_int_equal(sim_streamname_path_parse(MARKET_USDM, "/ws/", &p), 0);
    assert_string_equal(p.raw, "");
}

static void other_paths_serve_no_websocket(void **state)
{
    (void)state;
    const char *bad[] = {"/", "", "/private/ws", "/foo", "/wsx", "/streams", "/stream/x",
                         "/public", "/public/", "/market/foo", "ws"};
    sim_wspath_t p;
    for (int m = 0; m < 3; m++)
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
            if (sim_streamname_path_parse(ALL_MARKETS[m], bad[i], &p) != -1)
                fail_msg("\"%s\" on %s: expected -1", bad[i], market_name(ALL_MARKETS[m]));
    assert_int_equal(sim_streamname_path_parse(MARKET_SPOT, NULL, &p), -1);
}

static void kind_names_are_stable(void **state)
{
    (void)state;
    assert_string_equal(sim_streamkind_name(SIM_STREAMKIND_DEPTH), "depth");
    assert_string_equal(sim_streamkind_name(SIM_STREAMKIND_PARTIAL_DEPTH), "partialDepth");
    assert_string_equal(sim_streamkind_name(SIM_STREAMKIND_MARK_PRICE), "markPrice");
    assert_string_equal(sim_streamkind_name(SIM_STREAMKIND_NONE), "none");
    assert_string_equal(sim_streamkind_name((sim_streamkind_t)99), "none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spot_diff_depth_default_is_1000ms_and_takes_100ms_or_1000ms),
        cmocka_unit_test(spot_diff_depth_futures_speeds_are_silent),
        cmocka_unit_test(futures_diff_depth_default_is_250ms_and_takes_500ms_or_100ms),
        cmocka_unit_test(futures_diff_depth_0ms_is_live_on_usdm_and_coinm),
        cmocka_unit_test(futures_explicit_250ms_and_1000ms_suffixes_are_silent),
        cmocka_unit_test(silent_depth_name_still_reports_its_kind),
        cmocka_unit_test(spot_partial_depth_5_10_20_at_1000ms_default_100ms_or_1000ms),
        cmocka_unit_test(futures_partial_depth_5_10_20_at_250ms_default_500ms_or_100ms),
        cmocka_unit_test(partial_depth_with_other_level_counts_is_silent),
        cmocka_unit_test(trade_is_live_on_every_market),
        cmocka_unit_test(agg_trade_is_real_time_on_spot_and_100ms_on_futures),
        cmocka_unit_test(book_ticker_is_real_time_on_every_market),
        cmocka_unit_test(extra_speed_on_real_time_streams_is_silent),
        cmocka_unit_test(spot_kline_takes_every_interval_including_1s),
        cmocka_unit_test(futures_kline_takes_every_interval_but_1s),
        cmocka_unit_test(unknown_kline_intervals_and_timezone_klines_are_silent),
        cmocka_unit_test(mark_price_is_3s_or_1s_on_futures),
        cmocka_unit_test(mark_price_is_silent_on_spot),
        cmocka_unit_test(upper_case_symbol_is_silent_with_its_kind_recognised),
        cmocka_unit_test(stream_kind_is_case_sensitive),
        cmocka_unit_test(made_up_but_well_formed_names_are_silent),
        cmocka_unit_test(listen_key_without_at_sign_is_silent),
        cmocka_unit_test(symbol_longer_than_32_bytes_is_silent),
        cmocka_unit_test(non_ascii_and_delivery_contract_symbols_are_live),
        cmocka_unit_test(unknown_symbol_parses_live_and_only_the_universe_knows),
        cmocka_unit_test(malformed_names_are_invalid),
        cmocka_unit_test(names_up_to_200_bytes_are_well_formed_and_longer_are_invalid),
        cmocka_unit_test(usdm_serves_depth_book_ticker_and_trade_on_public),
        cmocka_unit_test(usdm_serves_agg_trade_kline_and_mark_price_on_market),
        cmocka_unit_test(spot_and_coinm_have_no_routes),
        cmocka_unit_test(usdm_public_path_delivers_public_streams_only),
        cmocka_unit_test(usdm_market_path_delivers_market_streams_only),
        cmocka_unit_test(usdm_unrouted_path_acts_as_public_and_never_delivers_market_streams),
        cmocka_unit_test(spot_and_coinm_deliver_everything_live_on_their_plain_paths),
        cmocka_unit_test(silent_streams_are_delivered_nowhere),
        cmocka_unit_test(spot_and_coinm_paths_are_ws_and_stream),
        cmocka_unit_test(usdm_paths_carry_their_route),
        cmocka_unit_test(other_paths_serve_no_websocket),
        cmocka_unit_test(kind_names_are_stable),
    };
    return cmocka_run_group_tests_name("sim_streamname", tests, NULL, NULL);
}
