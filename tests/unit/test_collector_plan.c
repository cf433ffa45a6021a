/* Unit tests of collector/plan: Binance stream names per market and speed, and the USD-M route
   that serves each (binance-protocol.md §1, §3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "plan.h"

#include <string.h>

/* The single stream of one enabled channel. */
static const char *one_stream(market_t market, const plan_channels_t *ch)
{
    static char out[PLAN_STREAMS_PER_SYMBOL][PLAN_STREAM_MAX];
    size_t n = plan_symbol_streams(market, "BTCUSDT", ch, out, PLAN_STREAMS_PER_SYMBOL);
    assert_int_equal(n, 1);
    return out[0];
}

static const char *depth_name(market_t market, unsigned speed_ms)
{
    plan_channels_t ch = {.depth = true, .depth_speed_ms = speed_ms};
    return one_stream(market, &ch);
}

static const char *partial_name(market_t market, unsigned levels, unsigned speed_ms)
{
    plan_channels_t ch = {.depth_n = levels, .depth_n_speed_ms = speed_ms};
    return one_stream(market, &ch);
}

static void spot_depth_1000_ms_is_the_plain_stream(void **state)
{
    (void)state;
    assert_string_equal(depth_name(MARKET_SPOT, 1000), "btcusdt@depth");
    assert_string_equal(depth_name(MARKET_SPOT, 100), "btcusdt@depth@100ms");
}

static void futures_depth_250_ms_is_the_plain_stream(void **state)
{
    (void)state;
    assert_string_equal(depth_name(MARKET_USDM, 250), "btcusdt@depth");
    assert_string_equal(depth_name(MARKET_USDM, 100), "btcusdt@depth@100ms");
    assert_string_equal(depth_name(MARKET_USDM, 500), "btcusdt@depth@500ms");
    assert_string_equal(depth_name(MARKET_USDM, 0), "btcusdt@depth@0ms");
    assert_string_equal(depth_name(MARKET_COINM, 250), "btcusdt@depth");
    assert_string_equal(depth_name(MARKET_COINM, 500), "btcusdt@depth@500ms");
}

static void partial_depth_takes_levels_and_speed_suffixes(void **state)
{
    (void)state;
    assert_string_equal(partial_name(MARKET_SPOT, 5, 1000), "btcusdt@depth5");
    assert_string_equal(partial_name(MARKET_SPOT, 10, 100), "btcusdt@depth10@100ms");
    assert_string_equal(partial_name(MARKET_USDM, 20, 250), "btcusdt@depth20");
    assert_string_equal(partial_name(MARKET_USDM, 5, 500), "btcusdt@depth5@500ms");
    assert_string_equal(partial_name(MARKET_COINM, 10, 100), "btcusdt@depth10@100ms");
}

static void partial_depth_other_level_counts_are_off(void **state)
{
    (void)state;
    char out[PLAN_STREAMS_PER_SYMBOL][PLAN_STREAM_MAX];
    plan_channels_t ch = {.depth_n = 15, .depth_n_speed_ms = 100};
    assert_int_equal(plan_symbol_streams(MARKET_SPOT, "BTCUSDT", &ch, out, 8), 0);
}

static void trade_is_planned_on_every_market(void **state)
{
    (void)state;
    /* plan.h skips only spot markPrice; COIN-M @trade is planned as configured (the sim and
       Binance acknowledge it; whether it delivers is the exchange's business). */
    char out[PLAN_STREAMS_PER_SYMBOL][PLAN_STREAM_MAX];
    plan_channels_t ch = {.trade = true, .agg_trade = true};
    assert_int_equal(plan_symbol_streams(MARKET_COINM, "BTCUSD_PERP", &ch, out, 8), 2);
    assert_string_equal(out[0], "btcusd_perp@trade");
    assert_string_equal(out[1], "btcusd_perp@aggTrade");
    assert_int_equal(plan_symbol_streams(MARKET_USDM, "BTCUSDT", &ch, out, 8), 2);
    assert_string_equal(out[0], "btcusdt@trade");
    assert_int_equal(plan_symbol_streams(MARKET_SPOT, "BTCUSDT", &ch, out, 8), 2);
    assert_string_equal(out[0], "btcusdt@trade");
}

static void spot_has_no_mark_price(void **state)
{
    (void)state;
    char out[PLAN_STREAMS_PER_SYMBOL][PLAN_STREAM_MAX];
    plan_channels_t ch = {.mark_price = true};
    assert_int_equal(plan_symbol_streams(MARKET_SPOT, "BTCUSDT", &ch, out, 8), 0);
    assert_int_equal(plan_symbol_streams(MARKET_USDM, "BTCUSDT", &ch, out, 8), 1);
    assert_string_equal(out[0], "btcusdt@markPrice@1s");
    assert_int_equal(plan_symbol_streams(MARKET_COINM, "BTCUSD_PERP", &ch, out, 8), 1);
    assert_string_equal(out[0], "btcusd_perp@markPrice@1s");
}

static void kline_names_keep_the_interval_case(void **state)
{
    (void)state;
    char out[PLAN_STREAMS_PER_SYMBOL][PLAN_STREAM_MAX];
    plan_channels_t ch = {.kline_count = 3};
    strcpy(ch.klines[0], "1m");
    strcpy(ch.klines[1], "1h");
    strcpy(ch.klines[2], "1M"); /* one month, not one minute */
    assert_int_equal(plan_symbol_streams(MARKET_SPOT, "ETHUSDT", &ch, out, 8), 3);
    assert_string_equal(out[0], "ethusdt@kline_1m");
    assert_string_equal(out[1], "ethusdt@kline_1h");
    assert_string_equal(out[2], "ethusdt@kline_1M");
}

static void streams_come_in_fixed_order_with_symbol_lower_case(void **state)
{
    (void)state;
    char out[PLAN_STREAMS_PER_SYMBOL][PLAN_STREAM_MAX];
    plan_channels_t ch = {.depth = true,
                          .depth_speed_ms = 100,
                          .depth_n = 5,
                          .depth_n_speed_ms = 250,
                          .trade = true,
                          .agg_trade = true,
                          .book_ticker = true,
                          .mark_price = true,
                          .kline_count = 1};
    strcpy(ch.klines[0], "1m");
    const char *want[] = {"btcusdt@depth@100ms", "btcusdt@depth5",     "btcusdt@trade",
                          "btcusdt@aggTrade",    "btcusdt@bookTicker", "btcusdt@markPrice@1s",
                          "btcusdt@kline_1m"};
    assert_int_equal(plan_symbol_streams(MARKET_USDM, "BtcUsdt", &ch, out, 16), 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(out[i], want[i]);
}

static void output_stops_at_max(void **state)
{
    (void)state;
    char out[2][PLAN_STREAM_MAX];
    plan_channels_t ch = {.depth = true,
                          .depth_speed_ms = 1000,
                          .trade = true,
                          .agg_trade = true,
                          .book_ticker = true};
    assert_int_equal(plan_symbol_streams(MARKET_SPOT, "BTCUSDT", &ch, out, 2), 2);
    assert_string_equal(out[1], "btcusdt@trade");
}

static void empty_or_too_long_symbol_gives_nothing(void **state)
{
    (void)state;
    char out[4][PLAN_STREAM_MAX];
    plan_channels_t ch = {.depth = true, .depth_speed_ms = 1000};
    assert_int_equal(plan_symbol_streams(MARKET_SPOT, "", &ch, out, 4), 0);
    assert_int_equal(plan_symbol_streams(MARKET_SPOT, NULL, &ch, out, 4), 0);
    char long_symbol[64];
    memset(long_symbol, 'A', sizeof long_symbol - 1);
    long_symbol[sizeof long_symbol - 1] = '\0';
    assert_int_equal(plan_symbol_streams(MARKET_SPOT, long_symbol, &ch, out, 4), 0);
}

static void usdm_depth_book_ticker_and_trade_are_public(void **state)
{
    (void)state;
    assert_int_equal(plan_route(MARKET_USDM, "btcusdt@depth"), PLAN_ROUTE_PUBLIC);
    assert_int_equal(plan_route(MARKET_USDM, "btcusdt@depth@100ms"), PLAN_ROUTE_PUBLIC);
    assert_int_equal(plan_route(MARKET_USDM, "btcusdt@depth20@500ms"), PLAN_ROUTE_PUBLIC);
    assert_int_equal(plan_route(MARKET_USDM, "btcusdt@bookTicker"), PLAN_ROUTE_PUBLIC);
    assert_int_equal(plan_route(MARKET_USDM, "btcusdt@trade"), PLAN_ROUTE_PUBLIC);
}

static void usdm_agg_trade_kline_and_mark_price_are_market(void **state)
{
    (void)state;
    assert_int_equal(plan_route(MARKET_USDM, "btcusdt@aggTrade"), PLAN_ROUTE_MARKET);
    assert_int_equal(plan_route(MARKET_USDM, "btcusdt@kline_1m"), PLAN_ROUTE_MARKET);
    assert_int_equal(plan_route(MARKET_USDM, "btcusdt@markPrice@1s"), PLAN_ROUTE_MARKET);
}

static void spot_and_coinm_have_no_route(void **state)
{
    (void)state;
    assert_int_equal(plan_route(MARKET_SPOT, "btcusdt@aggTrade"), PLAN_ROUTE_NONE);
    assert_int_equal(plan_route(MARKET_SPOT, "btcusdt@depth"), PLAN_ROUTE_NONE);
    assert_int_equal(plan_route(MARKET_COINM, "btcusd_perp@markPrice@1s"), PLAN_ROUTE_NONE);
    assert_int_equal(plan_route(MARKET_COINM, "btcusd_perp@depth"), PLAN_ROUTE_NONE);
}

static void route_paths_and_names(void **state)
{
    (void)state;
    assert_string_equal(plan_route_path(MARKET_USDM, PLAN_ROUTE_PUBLIC), "/public/stream");
    assert_string_equal(plan_route_path(MARKET_USDM, PLAN_ROUTE_MARKET), "/market/stream");
    assert_string_equal(plan_route_path(MARKET_SPOT, PLAN_ROUTE_NONE), "/stream");
    assert_string_equal(plan_route_path(MARKET_COINM, PLAN_ROUTE_NONE), "/stream");
    assert_string_equal(plan_route_name(PLAN_ROUTE_PUBLIC), "public");
    assert_string_equal(plan_route_name(PLAN_ROUTE_MARKET), "market");
    assert_string_equal(plan_route_name(PLAN_ROUTE_NONE), "");
}

static void stream_gives_its_symbol_in_upper_case(void **state)
{
    (void)state;
    char sym[16];
    assert_int_equal(plan_stream_symbol("btcusdt@depth@100ms", sym, sizeof sym), 7);
    assert_string_equal(sym, "BTCUSDT");
    assert_int_equal(plan_stream_symbol("btcusd_perp@aggTrade", sym, sizeof sym), 11);
    assert_string_equal(sym, "BTCUSD_PERP");
}

static void stream_without_symbol_gives_nothing(void **state)
{
    (void)state;
    char sym[8];
    assert_int_equal(plan_stream_symbol("btcusdt", sym, sizeof sym), 0); /* no '@' */
    assert_int_equal(plan_stream_symbol("@depth", sym, sizeof sym), 0);  /* empty symbol */
    assert_int_equal(plan_stream_symbol("btcusdt@depth", sym, 7), 0);    /* no room for NUL */
    assert_int_equal(plan_stream_symbol("btcusdt@depth", sym, sizeof sym), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spot_depth_1000_ms_is_the_plain_stream),
        cmocka_unit_test(futures_depth_250_ms_is_the_plain_stream),
        cmocka_unit_test(partial_depth_takes_levels_and_speed_suffixes),
        cmocka_unit_test(partial_depth_other_level_counts_are_off),
        cmocka_unit_test(trade_is_planned_on_every_market),
        cmocka_unit_test(spot_has_no_mark_price),
        cmocka_unit_test(kline_names_keep_the_interval_case),
        cmocka_unit_test(streams_come_in_fixed_order_with_symbol_lower_case),
        cmocka_unit_test(output_stops_at_max),
        cmocka_unit_test(empty_or_too_long_symbol_gives_nothing),
        cmocka_unit_test(usdm_depth_book_ticker_and_trade_are_public),
        cmocka_unit_test(usdm_agg_trade_kline_and_mark_price_are_market),
        cmocka_unit_test(spot_and_coinm_have_no_route),
        cmocka_unit_test(route_paths_and_names),
        cmocka_unit_test(stream_gives_its_symbol_in_upper_case),
        cmocka_unit_test(stream_without_symbol_gives_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
