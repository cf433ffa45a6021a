/* Unit tests of collector/exinfo: the TRADING symbols (and the weight limit) of an exchangeInfo
   answer, in each market's shape, and clear errors for anything else. The sim's real answers
   are parsed by tests/integration/test_collector_rest.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "exinfo.h"

#include <string.h>

static int parse(market_t market, const char *body, exinfo_t *out, char *error)
{
    return exinfo_parse(market, body, strlen(body), out, error, 256);
}

static void spot_keeps_trading_symbols_in_order(void **state)
{
    (void)state;
    const char *body =
        "{\"timezone\":\"UTC\",\"rateLimits\":[{\"rateLimitType\":\"REQUEST_WEIGHT\","
        "\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":6000},{\"rateLimitType\":"
        "\"RAW_REQUESTS\",\"interval\":\"MINUTE\",\"intervalNum\":5,\"limit\":61000}],"
        "\"symbols\":[{\"symbol\":\"BTCUSDT\",\"status\":\"TRADING\"},"
        "{\"symbol\":\"LUNAUSDT\",\"status\":\"BREAK\"},"
        "{\"symbol\":\"ETHUSDT\",\"status\":\"TRADING\"},"
        "{\"symbol\":\"XYZUSDT\",\"status\":\"HALT\"}]}";
    exinfo_t info;
    char error[256] = "";
    assert_int_equal(parse(MARKET_SPOT, body, &info, error), 0);
    assert_int_equal(info.symbol_count, 2);
    assert_string_equal(info.symbols[0], "BTCUSDT");
    assert_string_equal(info.symbols[1], "ETHUSDT");
    assert_int_equal(info.not_trading, 2);
    assert_int_equal(info.weight_limit_per_min, 6000);
    exinfo_free(&info);
    assert_null(info.symbols);
    assert_int_equal(info.symbol_count, 0);
}

static void usdm_reads_status(void **state)
{
    (void)state;
    const char *body =
        "{\"rateLimits\":[{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\","
        "\"intervalNum\":1,\"limit\":2400}],\"symbols\":["
        "{\"symbol\":\"BTCUSDT\",\"pair\":\"BTCUSDT\",\"status\":\"TRADING\"},"
        "{\"symbol\":\"BTCUSDT_260327\",\"pair\":\"BTCUSDT\",\"status\":\"PENDING_TRADING\"},"
        "{\"symbol\":\"ETHUSDT_251226\",\"pair\":\"ETHUSDT\",\"status\":\"SETTLING\"}]}";
    exinfo_t info;
    char error[256] = "";
    assert_int_equal(parse(MARKET_USDM, body, &info, error), 0);
    assert_int_equal(info.symbol_count, 1);
    assert_string_equal(info.symbols[0], "BTCUSDT");
    assert_int_equal(info.not_trading, 2);
    assert_int_equal(info.weight_limit_per_min, 2400);
    exinfo_free(&info);
}

static void coinm_reads_contract_status(void **state)
{
    (void)state;
    const char *body = "{\"symbols\":["
                       "{\"symbol\":\"BTCUSD_PERP\",\"contractStatus\":\"TRADING\"},"
                       "{\"symbol\":\"BTCUSD_251226\",\"contractStatus\":\"DELIVERING\"},"
                       "{\"symbol\":\"ETHUSD_PERP\",\"contractStatus\":\"TRADING\"}]}";
    exinfo_t info;
    char error[256] = "";
    assert_int_equal(parse(MARKET_COINM, body, &info, error), 0);
    assert_int_equal(info.symbol_count, 2);
    assert_string_equal(info.symbols[0], "BTCUSD_PERP");
    assert_string_equal(info.symbols[1], "ETHUSD_PERP");
    assert_int_equal(info.weight_limit_per_min, 0); /* no rateLimits: the config stands */
    exinfo_free(&info);
}

static void coinm_without_contract_status_is_an_error(void **state)
{
    (void)state;
    /* A COIN-M answer read with the USD-M key would keep nothing, silently: refuse it. */
    const char *body = "{\"symbols\":[{\"symbol\":\"BTCUSD_PERP\",\"status\":\"TRADING\"}]}";
    exinfo_t info;
    char error[256] = "";
    assert_int_equal(parse(MARKET_COINM, body, &info, error), -1);
    assert_string_equal(error,
                        "exchangeInfo: symbols[0] (BTCUSD_PERP) has no string \"contractStatus\"");
    assert_null(info.symbols);
}

static void symbols_a_frame_cannot_carry_are_skipped_and_counted(void **state)
{
    (void)state;
    const char *body = "{\"symbols\":["
                       "{\"symbol\":\"\xe5\xb8\x81\xe5\xae\x89USDT\",\"status\":\"TRADING\"},"
                       "{\"symbol\":\"btcusdt\",\"status\":\"TRADING\"},"
                       "{\"symbol\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"status\":\"TRADING\"},"
                       "{\"symbol\":\"BNBUSDT\",\"status\":\"TRADING\"}]}";
    exinfo_t info;
    char error[256] = "";
    assert_int_equal(parse(MARKET_SPOT, body, &info, error), 0);
    assert_int_equal(info.symbol_count, 1);
    assert_string_equal(info.symbols[0], "BNBUSDT");
    assert_int_equal(info.unusable_names, 3);
    exinfo_free(&info);
}

static void empty_symbol_list_is_valid(void **state)
{
    (void)state;
    exinfo_t info;
    char error[256] = "";
    assert_int_equal(parse(MARKET_SPOT, "{\"symbols\":[]}", &info, error), 0);
    assert_int_equal(info.symbol_count, 0);
    exinfo_free(&info);
}

static void malformed_json_names_the_byte(void **state)
{
    (void)state;
    exinfo_t info;
    char error[256] = "";
    assert_int_equal(parse(MARKET_SPOT, "{\"symbols\":[{\"symbol\":}]}", &info, error), -1);
    assert_string_equal(error, "exchangeInfo: not JSON (error at byte 22 of 25)");
    assert_int_equal(info.symbol_count, 0);
}

static void truncated_body_is_an_error(void **state)
{
    (void)state;
    const char *body = "{\"symbols\":[{\"symbol\":\"BTCUSDT\",\"status\":\"TRADING\"}]}";
    exinfo_t info;
    char error[256] = "";
    assert_int_equal(exinfo_parse(MARKET_SPOT, body, 30, &info, error, sizeof error), -1);
    assert_non_null(strstr(error, "not JSON"));
}

static void trailing_bytes_are_an_error(void **state)
{
    (void)state;
    exinfo_t info;
    char error[256] = "";
    assert_int_equal(parse(MARKET_SPOT, "{\"symbols\":[]} x", &info, error), -1);
    assert_string_equal(error, "exchangeInfo: bytes after the JSON value at byte 15 of 16");
    assert_int_equal(parse(MARKET_SPOT, "{\"symbols\":[]}\n", &info, error), 0);
    exinfo_free(&info);
}

static void empty_body_is_an_error(void **state)
{
    (void)state;
    exinfo_t info;
    char error[256] = "";
    assert_int_equal(exinfo_parse(MARKET_SPOT, "", 0, &info, error, sizeof error), -1);
    assert_string_equal(error, "exchangeInfo: empty body");
}

static void wrong_shapes_are_errors(void **state)
{
    (void)state;
    exinfo_t info;
    char error[256] = "";
    assert_int_equal(parse(MARKET_SPOT, "[1,2]", &info, error), -1);
    assert_string_equal(error, "exchangeInfo: the answer is not a JSON object");
    assert_int_equal(parse(MARKET_SPOT, "{\"code\":-1003,\"msg\":\"Too many\"}", &info, error), -1);
    assert_string_equal(error, "exchangeInfo: no \"symbols\" array");
    assert_int_equal(parse(MARKET_SPOT, "{\"symbols\":[{\"status\":\"TRADING\"}]}", &info, error),
                     -1);
    assert_string_equal(error, "exchangeInfo: symbols[0] has no string \"symbol\"");
    assert_int_equal(
        parse(MARKET_USDM, "{\"symbols\":[{\"symbol\":\"BTCUSDT\",\"status\":1}]}", &info, error),
        -1);
    assert_string_equal(error, "exchangeInfo: symbols[0] (BTCUSDT) has no string \"status\"");
}

static void lookup_ignores_case(void **state)
{
    (void)state;
    exinfo_t info;
    char error[256] = "";
    assert_int_equal(parse(MARKET_USDM,
                           "{\"symbols\":[{\"symbol\":\"BTCUSDT\",\"status\":\"TRADING\"},"
                           "{\"symbol\":\"ETHUSDT\",\"status\":\"CLOSE\"}]}",
                           &info, error),
                     0);
    assert_true(exinfo_has(&info, "BTCUSDT"));
    assert_true(exinfo_has(&info, "btcusdt"));
    assert_false(exinfo_has(&info, "ETHUSDT")); /* listed, not trading */
    assert_false(exinfo_has(&info, "SOLUSDT"));
    assert_false(exinfo_has(&info, NULL));
    exinfo_free(&info);
    exinfo_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spot_keeps_trading_symbols_in_order),
        cmocka_unit_test(usdm_reads_status),
        cmocka_unit_test(coinm_reads_contract_status),
        cmocka_unit_test(coinm_without_contract_status_is_an_error),
        cmocka_unit_test(symbols_a_frame_cannot_carry_are_skipped_and_counted),
        cmocka_unit_test(empty_symbol_list_is_valid),
        cmocka_unit_test(malformed_json_names_the_byte),
        cmocka_unit_test(truncated_body_is_an_error),
        cmocka_unit_test(trailing_bytes_are_an_error),
        cmocka_unit_test(empty_body_is_an_error),
        cmocka_unit_test(wrong_shapes_are_errors),
        cmocka_unit_test(lookup_ignores_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
