/* Unit tests of common/config: defaults, the override order, and every error message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    config_t *cfg;
    char dir[64];
    char path[128];
    char err[1024];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/bookcast-config-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/test.json", f->dir);
    f->cfg = config_new();
    assert_non_null(f->cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    config_destroy(&f->cfg);
    assert_null(f->cfg);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void write_file(fixture_t *f, const char *text)
{
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Loads `text` as the config file and expects it to fail with an error containing each of the
   NULL-terminated substrings. */
static void expect_file_error(fixture_t *f, const char *text, ...)
{
    write_file(f, text);
    f->err[0] = '\0';
    assert_int_equal(config_load_file(f->cfg, f->path, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, f->path));
    va_list ap;
    va_start(ap, text);
    const char *needle;
    while ((needle = va_arg(ap, const char *)) != NULL) {
        if (!strstr(f->err, needle))
            fail_msg("error \"%s\" lacks \"%s\"", f->err, needle);
    }
    va_end(ap);
}

static void expect_set_error(fixture_t *f, const char *assignment, const char *needle)
{
    f->err[0] = '\0';
    assert_int_equal(config_apply_assignment(f->cfg, assignment, f->err, sizeof f->err), -1);
    if (!strstr(f->err, needle))
        fail_msg("error \"%s\" lacks \"%s\"", f->err, needle);
}

static void defaults_are_the_documented_endpoints(void **state)
{
    fixture_t *f = *state;
    assert_string_equal(config_str(f->cfg, "bus.data"), "tcp://127.0.0.1:7100");
    assert_string_equal(config_str(f->cfg, "bus.frames"), "tcp://127.0.0.1:7101");
    assert_string_equal(config_str(f->cfg, "bus.control"), "tcp://127.0.0.1:7102");
    assert_string_equal(config_str(f->cfg, "bus.snapshot"), "tcp://127.0.0.1:7103");
    assert_string_equal(config_str(f->cfg, "bus.status"), "tcp://127.0.0.1:7110");
    assert_string_equal(config_str(f->cfg, "monitor.http_listen"), "127.0.0.1:7180");
    assert_int_equal(config_int(f->cfg, "bus.status_interval_ms"), 1000);
    assert_string_equal(config_origin(f->cfg, "bus.data"), "default");
}

static void defaults_cover_every_market(void **state)
{
    fixture_t *f = *state;
    assert_true(config_bool(f->cfg, "markets.spot.enabled"));
    assert_string_equal(config_str(f->cfg, "markets.usdm.ws_url"), "wss://fstream.binance.com");
    assert_string_equal(config_str(f->cfg, "markets.coinm.rest_url"), "https://dapi.binance.com");
    assert_false(config_symbols_all(f->cfg, "markets.spot.symbols"));
    assert_int_equal(config_list_size(f->cfg, "markets.coinm.symbols"), 2);
    assert_string_equal(config_list_item(f->cfg, "markets.coinm.symbols", 0), "BTCUSD_PERP");
    assert_null(config_list_item(f->cfg, "markets.coinm.symbols", 2));
    assert_int_equal(config_int(f->cfg, "markets.spot.channels.depth_speed_ms"), 100);
    assert_string_equal(config_list_item(f->cfg, "markets.spot.channels.kline_intervals", 0),
                        "1m");
    assert_string_equal(config_str(f->cfg, "markets.spot.ca_file"), "");
}

static void every_default_survives_a_round_trip_through_set(void **state)
{
    fixture_t *f = *state;
    size_t count;
    const config_key_t *keys = config_schema(&count);
    assert_true(count > 40);
    for (size_t i = 0; i < count; i++) {
        char *json = config_value_json(f->cfg, keys[i].key);
        assert_non_null(json);
        char assignment[1024];
        /* Strings go to --set without their JSON quotes. */
        if (json[0] == '"')
            snprintf(assignment, sizeof assignment, "%s=%.*s", keys[i].key,
                     (int)strlen(json) - 2, json + 1);
        else
            snprintf(assignment, sizeof assignment, "%s=%s", keys[i].key, json);
        if (config_apply_assignment(f->cfg, assignment, f->err, sizeof f->err) != 0)
            fail_msg("%s: %s", assignment, f->err);
        char *again = config_value_json(f->cfg, keys[i].key);
        assert_string_equal(json, again);
        free(json);
        free(again);
    }
}

static void env_name_is_the_key_in_upper_case(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(config_env_name("recorder.db_path", buf, sizeof buf),
                        "BOOKCAST_RECORDER_DB_PATH");
    assert_string_equal(config_env_name("markets.spot.channels.depth_speed_ms", buf, sizeof buf),
                        "BOOKCAST_MARKETS_SPOT_CHANNELS_DEPTH_SPEED_MS");
}

static void file_overrides_default(void **state)
{
    fixture_t *f = *state;
    write_file(f, "{\"recorder\":{\"db_path\":\"/var/lib/bookcast/h.db\"},"
                  "\"markets\":{\"spot\":{\"channels\":{\"depth_speed_ms\":1000}}}}");
    assert_int_equal(config_load_file(f->cfg, f->path, f->err, sizeof f->err), 0);
    assert_string_equal(config_str(f->cfg, "recorder.db_path"), "/var/lib/bookcast/h.db");
    assert_int_equal(config_int(f->cfg, "markets.spot.channels.depth_speed_ms"), 1000);
    assert_string_equal(config_origin(f->cfg, "recorder.db_path"), f->path);
    /* Keys the file does not name keep their defaults. */
    assert_string_equal(config_origin(f->cfg, "recorder.instance"), "default");
}

static void overrides_apply_in_order_file_env_set(void **state)
{
    fixture_t *f = *state;
    write_file(f, "{\"log\":{\"level\":\"warn\",\"max_files\":7},\"recorder\":{\"db_path\":\"f\"}}");
    assert_int_equal(config_load_file(f->cfg, f->path, f->err, sizeof f->err), 0);
    char *env[] = {"PATH=/bin", "BOOKCAST_LOG_LEVEL=error", "BOOKCAST_RECORDER_DB_PATH=e",
                   "BOOKCAST_CONFIG=/ignored.json", NULL};
    assert_int_equal(config_apply_env(f->cfg, env, f->err, sizeof f->err), 0);
    assert_int_equal(config_apply_assignment(f->cfg, "log.level=debug", f->err, sizeof f->err),
                     0);

    assert_string_equal(config_str(f->cfg, "log.level"), "debug");
    assert_string_equal(config_origin(f->cfg, "log.level"), "--set");
    assert_string_equal(config_str(f->cfg, "recorder.db_path"), "e");
    assert_string_equal(config_origin(f->cfg, "recorder.db_path"),
                        "env BOOKCAST_RECORDER_DB_PATH");
    assert_int_equal(config_int(f->cfg, "log.max_files"), 7);
    assert_string_equal(config_origin(f->cfg, "log.max_files"), f->path);
}

static void unknown_key_names_file_and_key(void **state)
{
    expect_file_error(*state, "{\"recorder\":{\"db_pth\":\"x\"}}", "unknown key",
                      "\"recorder.db_pth\"", "did you mean \"recorder.db_path\"", NULL);
}

static void unknown_section_is_an_unknown_key(void **state)
{
    expect_file_error(*state, "{\"sim\":{\"port\":1}}", "unknown key \"sim\"", NULL);
}

static void wrong_type_names_expected_and_got(void **state)
{
    expect_file_error(*state, "{\"bus\":{\"data\":7100}}", "key \"bus.data\"",
                      "expected a ZeroMQ endpoint", "got a number", NULL);
}

static void object_where_a_value_belongs_is_a_type_error(void **state)
{
    expect_file_error(*state, "{\"log\":{\"level\":{\"x\":1}}}", "key \"log.level\"",
                      "got an object", NULL);
}

static void out_of_range_names_the_range(void **state)
{
    expect_file_error(*state, "{\"log\":{\"max_files\":5000}}", "key \"log.max_files\"",
                      "5000 is out of range (0..1000)", NULL);
}

static void value_outside_choices_lists_them(void **state)
{
    expect_file_error(*state, "{\"markets\":{\"spot\":{\"channels\":{\"depth_speed_ms\":250}}}}",
                      "key \"markets.spot.channels.depth_speed_ms\"", "250 is not one of 100, 1000",
                      NULL);
    expect_file_error(*state, "{\"log\":{\"level\":\"loud\"}}",
                      "\"loud\" is not one of debug, info, warn, error", NULL);
}

static void fractional_or_huge_integers_are_refused(void **state)
{
    expect_file_error(*state, "{\"log\":{\"max_files\":1.5}}", "expected an integer", NULL);
    expect_file_error(*state, "{\"log\":{\"max_bytes\":1e300}}", "expected an integer", NULL);
}

static void invalid_json_gives_line_and_column(void **state)
{
    fixture_t *f = *state;
    expect_file_error(f, "{\n  \"log\": {\n    \"level\": \"info\",,\n  }\n}\n", "invalid JSON",
                      NULL);
    char where[160];
    snprintf(where, sizeof where, "%s:3:", f->path);
    assert_non_null(strstr(f->err, where));
}

static void duplicate_key_is_refused(void **state)
{
    expect_file_error(*state, "{\"log\":{\"level\":\"info\",\"level\":\"debug\"}}",
                      "key \"log.level\" appears twice", NULL);
}

static void top_level_must_be_an_object(void **state)
{
    expect_file_error(*state, "[1,2]", "top level must be an object", NULL);
}

static void missing_file_names_the_file(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(config_load_file(f->cfg, "/nonexistent/b.json", f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "/nonexistent/b.json: cannot open"));
}

static void unknown_environment_variable_is_refused(void **state)
{
    fixture_t *f = *state;
    char *env[] = {"BOOKCAST_RECORDER_DBPATH=x", NULL};
    assert_int_equal(config_apply_env(f->cfg, env, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "environment BOOKCAST_RECORDER_DBPATH: no such key"));
}

static void environment_value_errors_name_the_variable(void **state)
{
    fixture_t *f = *state;
    char *env[] = {"BOOKCAST_LOG_MAX_FILES=many", NULL};
    assert_int_equal(config_apply_env(f->cfg, env, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "environment BOOKCAST_LOG_MAX_FILES"));
    assert_non_null(strstr(f->err, "key \"log.max_files\""));
    assert_non_null(strstr(f->err, "expected an integer, got \"many\""));
}

static void booleans_accept_the_usual_words(void **state)
{
    fixture_t *f = *state;
    const char *yes[] = {"true", "1", "yes", "ON"};
    const char *no[] = {"false", "0", "no", "Off"};
    char a[64];
    for (int i = 0; i < 4; i++) {
        snprintf(a, sizeof a, "markets.spot.enabled=%s", no[i]);
        assert_int_equal(config_apply_assignment(f->cfg, a, f->err, sizeof f->err), 0);
        assert_false(config_bool(f->cfg, "markets.spot.enabled"));
        snprintf(a, sizeof a, "markets.spot.enabled=%s", yes[i]);
        assert_int_equal(config_apply_assignment(f->cfg, a, f->err, sizeof f->err), 0);
        assert_true(config_bool(f->cfg, "markets.spot.enabled"));
    }
    expect_set_error(f, "markets.spot.enabled=maybe", "expected a boolean");
}

static void set_needs_key_and_equals(void **state)
{
    fixture_t *f = *state;
    expect_set_error(f, "log.level", "expected key.path=value");
    expect_set_error(f, "=x", "expected key.path=value");
    expect_set_error(f, "log.lvel=debug", "--set log.lvel: unknown key \"log.lvel\"");
    expect_set_error(f, "log.max_files=12x", "expected an integer, got \"12x\"");
    expect_set_error(f, "log.max_files=", "expected an integer");
}

static void symbols_are_upper_cased_and_all_is_recognised(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(config_apply_assignment(f->cfg, "markets.spot.symbols=btcusdt, EthUsdt",
                                             f->err, sizeof f->err),
                     0);
    assert_int_equal(config_list_size(f->cfg, "markets.spot.symbols"), 2);
    assert_string_equal(config_list_item(f->cfg, "markets.spot.symbols", 0), "BTCUSDT");
    assert_string_equal(config_list_item(f->cfg, "markets.spot.symbols", 1), "ETHUSDT");
    assert_int_equal(
        config_apply_assignment(f->cfg, "markets.spot.symbols=all", f->err, sizeof f->err), 0);
    assert_true(config_symbols_all(f->cfg, "markets.spot.symbols"));
    assert_int_equal(config_list_size(f->cfg, "markets.spot.symbols"), 0);
    assert_int_equal(config_apply_assignment(f->cfg, "markets.usdm.symbols=[\"btcusdt_251226\"]",
                                             f->err, sizeof f->err),
                     0);
    assert_string_equal(config_list_item(f->cfg, "markets.usdm.symbols", 0), "BTCUSDT_251226");
}

static void bad_symbol_lists_are_refused(void **state)
{
    fixture_t *f = *state;
    expect_set_error(f, "markets.spot.symbols=BTC-USDT", "item 0: \"BTC-USDT\" is not a symbol");
    expect_set_error(f, "markets.spot.symbols=btcusdt,BTCUSDT", "\"BTCUSDT\" is listed twice");
    expect_set_error(f, "markets.spot.symbols=[]", "the list is empty");
    expect_set_error(f, "markets.spot.symbols=BTCUSDT,,ETHUSDT", "empty item");
    expect_file_error(f, "{\"markets\":{\"spot\":{\"symbols\":\"some\"}}}",
                      "expected \"ALL\" or a list of symbols, got \"some\"", NULL);
    expect_file_error(f, "{\"markets\":{\"spot\":{\"symbols\":[\"BTCUSDT\",3]}}}",
                      "item 1: expected a string, got a number", NULL);
}

static void kline_intervals_are_checked_per_market(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(config_apply_assignment(f->cfg, "markets.spot.channels.kline_intervals=1s,1h",
                                             f->err, sizeof f->err),
                     0);
    assert_int_equal(config_list_size(f->cfg, "markets.spot.channels.kline_intervals"), 2);
    /* Futures have no 1s klines. */
    expect_set_error(f, "markets.usdm.channels.kline_intervals=1s",
                     "item 0: \"1s\" is not one of 1m");
    assert_int_equal(config_apply_assignment(f->cfg, "markets.usdm.channels.kline_intervals=",
                                             f->err, sizeof f->err),
                     0);
    assert_int_equal(config_list_size(f->cfg, "markets.usdm.channels.kline_intervals"), 0);
}

static void endpoints_urls_and_addresses_are_validated(void **state)
{
    fixture_t *f = *state;
    expect_set_error(f, "bus.data=127.0.0.1:7100", "is not a ZeroMQ endpoint");
    expect_set_error(f, "bus.data=tcp://127.0.0.1:70000", "is not a ZeroMQ endpoint");
    expect_set_error(f, "bus.data=tcp://127.0.0.1", "is not a ZeroMQ endpoint");
    assert_int_equal(config_apply_assignment(f->cfg, "bus.data=ipc:///run/bookcast/data", f->err,
                                             sizeof f->err),
                     0);
    assert_int_equal(
        config_apply_assignment(f->cfg, "bus.data=tcp://*:7100", f->err, sizeof f->err), 0);
    assert_int_equal(
        config_apply_assignment(f->cfg, "bus.data=tcp://[::1]:7100", f->err, sizeof f->err), 0);

    expect_set_error(f, "markets.spot.ws_url=ftp://x", "is not a URL");
    expect_set_error(f, "markets.spot.ws_url=wss://", "is not a URL");
    assert_int_equal(config_apply_assignment(f->cfg, "markets.spot.ws_url=wss://127.0.0.1:7443/",
                                             f->err, sizeof f->err),
                     0);
    assert_string_equal(config_str(f->cfg, "markets.spot.ws_url"), "wss://127.0.0.1:7443");

    expect_set_error(f, "monitor.http_listen=7180", "is not an address host:port");
    expect_set_error(f, "monitor.http_listen=localhost:0", "is not an address host:port");
    assert_int_equal(config_apply_assignment(f->cfg, "monitor.http_listen=0.0.0.0:8080", f->err,
                                             sizeof f->err),
                     0);
}

static void printed_config_loads_back_to_the_same_values(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(config_apply_assignment(f->cfg, "markets.coinm.symbols=ALL", f->err,
                                             sizeof f->err),
                     0);
    assert_int_equal(config_apply_assignment(f->cfg, "log.max_bytes=123456", f->err,
                                             sizeof f->err),
                     0);
    char *json = config_to_json(f->cfg);
    assert_non_null(json);
    write_file(f, json);
    free(json);
    config_t *again = config_new();
    assert_non_null(again);
    assert_int_equal(config_load_file(again, f->path, f->err, sizeof f->err), 0);
    size_t count;
    const config_key_t *keys = config_schema(&count);
    for (size_t i = 0; i < count; i++) {
        char *a = config_value_json(f->cfg, keys[i].key);
        char *b = config_value_json(again, keys[i].key);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    assert_true(config_symbols_all(again, "markets.coinm.symbols"));
    config_destroy(&again);
}

static void shipped_config_file_is_valid(void **state)
{
    fixture_t *f = *state;
    const char *path = BOOKCAST_SOURCE_DIR "/config/bookcast.json";
    if (config_load_file(f->cfg, path, f->err, sizeof f->err) != 0)
        fail_msg("%s", f->err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(defaults_are_the_documented_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(defaults_cover_every_market, setup, teardown),
        cmocka_unit_test_setup_teardown(every_default_survives_a_round_trip_through_set, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(env_name_is_the_key_in_upper_case, setup, teardown),
        cmocka_unit_test_setup_teardown(file_overrides_default, setup, teardown),
        cmocka_unit_test_setup_teardown(overrides_apply_in_order_file_env_set, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_key_names_file_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_section_is_an_unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_type_names_expected_and_got, setup, teardown),
        cmocka_unit_test_setup_teardown(object_where_a_value_belongs_is_a_type_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(out_of_range_names_the_range, setup, teardown),
        cmocka_unit_test_setup_teardown(value_outside_choices_lists_them, setup, teardown),
        cmocka_unit_test_setup_teardown(fractional_or_huge_integers_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_json_gives_line_and_column, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_key_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(top_level_must_be_an_object, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_file_names_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_environment_variable_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(environment_value_errors_name_the_variable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(booleans_accept_the_usual_words, setup, teardown),
        cmocka_unit_test_setup_teardown(set_needs_key_and_equals, setup, teardown),
        cmocka_unit_test_setup_teardown(symbols_are_upper_cased_and_all_is_recognised, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_symbol_lists_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(kline_intervals_are_checked_per_market, setup, teardown),
        cmocka_unit_test_setup_teardown(endpoints_urls_and_addresses_are_validated, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(printed_config_loads_back_to_the_same_values, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(shipped_config_file_is_valid, setup, teardown),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
