/*
 * test_collector_control.c — the control-bus requests a collector accepts and refuses
 * (collector/control.h): snapshot requests with their limits per market, subscribe and
 * unsubscribe by symbols or streams, topics of other markets ignored, every malformed request
 * refused with a reason.
 */
#include "control.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static int parse(market_t market, const char *topic, const char *body, control_msg_t *out,
                 char *err)
{
    return control_parse(market, topic, body, strlen(body), out, err, 200);
}

static void expect_refused(market_t market, const char *topic, const char *body,
                           const char *reason_part)
{
    control_msg_t msg;
    char err[200] = "";
    assert_int_equal(parse(market, topic, body, &msg, err), -1);
    if (!strstr(err, reason_part))
        fail_msg("%s %s: reason \"%s\" lacks \"%s\"", topic, body, err, reason_part);
    assert_int_equal(msg.symbol_count + msg.stream_count, 0);
}

static void topics_are_the_markets_own(void **state)
{
    (void)state;
    char buf[3][32];
    const char *const *t = control_topics(MARKET_USDM, buf);
    assert_string_equal(t[0], "snapshot.usdm");
    assert_string_equal(t[1], "subscribe.usdm");
    assert_string_equal(t[2], "unsubscribe.usdm");
    assert_null(t[3]);
}

static void snapshot_request_is_read_with_symbol_upper_cased(void **state)
{
    (void)state;
    control_msg_t msg;
    char err[200];
    assert_int_equal(parse(MARKET_SPOT, "snapshot.spot",
                           "{\"symbol\":\"btcusdt\",\"limit\":5000,\"request_id\":17,\"x\":1}",
                           &msg, err),
                     0);
    assert_int_equal(msg.kind, CONTROL_SNAPSHOT);
    assert_string_equal(msg.symbol, "BTCUSDT");
    assert_int_equal(msg.limit, 5000);
    assert_int_equal(msg.request_id, 17);
    control_msg_clear(&msg);
}

static void snapshot_limits_follow_each_market(void **state)
{
    (void)state;
    assert_true(control_limit_valid(MARKET_SPOT, 1));
    assert_true(control_limit_valid(MARKET_SPOT, 5000));
    assert_false(control_limit_valid(MARKET_SPOT, 0));
    assert_false(control_limit_valid(MARKET_SPOT, 5001));
    static const unsigned futures[] = {5, 10, 20, 50, 100, 500, 1000};
    for (size_t i = 0; i < sizeof futures / sizeof futures[0]; i++) {
        assert_true(control_limit_valid(MARKET_USDM, futures[i]));
        assert_true(control_limit_valid(MARKET_COINM, futures[i]));
    }
    assert_false(control_limit_valid(MARKET_USDM, 7));
    assert_false(control_limit_valid(MARKET_COINM, 5000));
    expect_refused(MARKET_USDM, "snapshot.usdm",
                   "{\"symbol\":\"BTCUSDT\",\"limit\":7,\"request_id\":1}", "limit");
}

static void snapshot_request_needs_every_field_valid(void **state)
{
    (void)state;
    expect_refused(MARKET_SPOT, "snapshot.spot", "{\"limit\":100,\"request_id\":1}", "symbol");
    expect_refused(MARKET_SPOT, "snapshot.spot",
                   "{\"symbol\":\"BTC USDT\",\"limit\":100,\"request_id\":1}", "symbol");
    expect_refused(MARKET_SPOT, "snapshot.spot",
                   "{\"symbol\":\"BTCUSDT\",\"limit\":\"100\",\"request_id\":1}", "limit");
    expect_refused(MARKET_SPOT, "snapshot.spot",
                   "{\"symbol\":\"BTCUSDT\",\"limit\":100.5,\"request_id\":1}", "limit");
    expect_refused(MARKET_SPOT, "snapshot.spot",
                   "{\"symbol\":\"BTCUSDT\",\"limit\":100,\"request_id\":0}", "request_id");
    expect_refused(MARKET_SPOT, "snapshot.spot", "{\"symbol\":\"BTCUSDT\",\"limit\":100}",
                   "request_id");
}

static void subscribe_takes_symbols_and_streams(void **state)
{
    (void)state;
    control_msg_t msg;
    char err[200];
    assert_int_equal(parse(MARKET_SPOT, "subscribe.spot",
                           "{\"symbols\":[\"solusdt\",\"BNBUSDT\"],\"streams\":[\"solusdt@kline_5m\"]}",
                           &msg, err),
                     0);
    assert_int_equal(msg.kind, CONTROL_SUBSCRIBE);
    assert_int_equal(msg.symbol_count, 2);
    assert_string_equal(msg.symbols[0], "SOLUSDT");
    assert_string_equal(msg.symbols[1], "BNBUSDT");
    assert_int_equal(msg.stream_count, 1);
    assert_string_equal(msg.streams[0], "solusdt@kline_5m");
    control_msg_clear(&msg);
    assert_int_equal(parse(MARKET_SPOT, "unsubscribe.spot", "{\"streams\":[\"a@trade\"]}", &msg,
                           err),
                     0);
    assert_int_equal(msg.kind, CONTROL_UNSUBSCRIBE);
    control_msg_clear(&msg);
}

static void subscribe_refuses_empty_and_malformed_names(void **state)
{
    (void)state;
    expect_refused(MARKET_SPOT, "subscribe.spot", "{}", "symbols");
    expect_refused(MARKET_SPOT, "subscribe.spot", "{\"symbols\":\"BTCUSDT\"}", "array");
    expect_refused(MARKET_SPOT, "subscribe.spot", "{\"symbols\":[1]}", "invalid");
    expect_refused(MARKET_SPOT, "subscribe.spot", "{\"streams\":[\"no-at-sign\"]}", "invalid");
    expect_refused(MARKET_SPOT, "subscribe.spot", "{\"streams\":[\"a@b c\"]}", "invalid");
}

static void other_markets_topics_are_ignored_and_unknown_ones_refused(void **state)
{
    (void)state;
    control_msg_t msg;
    char err[200];
    assert_int_equal(parse(MARKET_SPOT, "snapshot.usdm",
                           "{\"symbol\":\"BTCUSDT\",\"limit\":100,\"request_id\":1}", &msg, err),
                     1);
    expect_refused(MARKET_SPOT, "reboot.spot", "{}", "unknown control topic");
}

static void malformed_json_is_refused(void **state)
{
    (void)state;
    expect_refused(MARKET_SPOT, "snapshot.spot", "{\"symbol\":", "not a JSON object");
    expect_refused(MARKET_SPOT, "subscribe.spot", "[1,2]", "not a JSON object");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(topics_are_the_markets_own),
        cmocka_unit_test(snapshot_request_is_read_with_symbol_upper_cased),
        cmocka_unit_test(snapshot_limits_follow_each_market),
        cmocka_unit_test(snapshot_request_needs_every_field_valid),
        cmocka_unit_test(subscribe_takes_symbols_and_streams),
        cmocka_unit_test(subscribe_refuses_empty_and_malformed_names),
        cmocka_unit_test(other_markets_topics_are_ignored_and_unknown_ones_refused),
        cmocka_unit_test(malformed_json_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
