/* Unit tests of collector/net's URL parser (the part of the net that needs no sockets): the
   URLs of the configuration (markets.*.ws_url, rest_url) plus the paths the collector appends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "net.h"

#include <string.h>

static net_url_t parse_ok(const char *url, const char *path)
{
    net_url_t u;
    assert_int_equal(net_url_parse(url, path, &u), 0);
    return u;
}

static void schemes_set_tls_and_default_ports(void **state)
{
    (void)state;
    net_url_t u = parse_ok("wss://stream.binance.com", NULL);
    assert_true(u.tls);
    assert_int_equal(u.port, 443);
    assert_string_equal(u.host, "stream.binance.com");
    u = parse_ok("ws://localhost", NULL);
    assert_false(u.tls);
    assert_int_equal(u.port, 80);
    u = parse_ok("https://api.binance.com", NULL);
    assert_true(u.tls);
    assert_int_equal(u.port, 443);
    u = parse_ok("http://127.0.0.1", NULL);
    assert_false(u.tls);
    assert_int_equal(u.port, 80);
    assert_string_equal(u.host, "127.0.0.1");
}

static void url_without_path_has_path_slash(void **state)
{
    (void)state;
    net_url_t u = parse_ok("https://api.binance.com", NULL);
    assert_string_equal(u.path, "/");
    u = parse_ok("https://api.binance.com", "");
    assert_string_equal(u.path, "/");
}

static void explicit_port_wins(void **state)
{
    (void)state;
    net_url_t u = parse_ok("wss://stream.binance.com:9443", NULL);
    assert_int_equal(u.port, 9443);
    assert_string_equal(u.host, "stream.binance.com");
    u = parse_ok("http://127.0.0.1:1/x", NULL);
    assert_int_equal(u.port, 1);
    u = parse_ok("https://127.0.0.1:65535", NULL);
    assert_int_equal(u.port, 65535);
}

static void path_is_appended_to_the_base(void **state)
{
    (void)state;
    net_url_t u = parse_ok("https://api.binance.com", "/api/v3/depth?symbol=BTCUSDT&limit=100");
    assert_string_equal(u.path, "/api/v3/depth?symbol=BTCUSDT&limit=100");
    u = parse_ok("https://127.0.0.1:7443/prefix", "/api/v3/exchangeInfo");
    assert_string_equal(u.path, "/prefix/api/v3/exchangeInfo");
    u = parse_ok("wss://fstream.binance.com", "/public/stream");
    assert_string_equal(u.path, "/public/stream");
}

static void base_path_is_kept_with_its_query(void **state)
{
    (void)state;
    net_url_t u = parse_ok("wss://stream.binance.com:9443/stream?streams=btcusdt@depth", NULL);
    assert_string_equal(u.path, "/stream?streams=btcusdt@depth");
}

static void trailing_slash_of_the_base_is_dropped(void **state)
{
    (void)state;
    net_url_t u = parse_ok("https://127.0.0.1:7443/prefix/", "/api/v3/ping");
    assert_string_equal(u.path, "/prefix/api/v3/ping");
    u = parse_ok("https://api.binance.com/", "/api/v3/ping");
    assert_string_equal(u.path, "/api/v3/ping");
    u = parse_ok("https://api.binance.com/", NULL);
    assert_string_equal(u.path, "/");
    u = parse_ok("wss://fstream.binance.com/public//", NULL);
    assert_string_equal(u.path, "/public");
}

static void query_stays_after_the_whole_path(void **state)
{
    (void)state;
    assert_string_equal(parse_ok("https://h?x=1", NULL).path, "/?x=1");
    assert_string_equal(parse_ok("https://h/p?q=1", "/x").path, "/p/x?q=1");
    assert_string_equal(parse_ok("https://h/p/?q=1", "/x").path, "/p/x?q=1");
}

static void other_schemes_are_refused(void **state)
{
    (void)state;
    net_url_t u;
    assert_int_equal(net_url_parse("ftp://example.com", NULL, &u), -1);
    assert_int_equal(net_url_parse("api.binance.com", NULL, &u), -1);
    assert_int_equal(net_url_parse("WSS://stream.binance.com", NULL, &u), -1);
    assert_int_equal(net_url_parse("", NULL, &u), -1);
}

static void missing_host_is_refused(void **state)
{
    (void)state;
    net_url_t u;
    assert_int_equal(net_url_parse("wss://", NULL, &u), -1);
    assert_int_equal(net_url_parse("https://:443", NULL, &u), -1);
    assert_int_equal(net_url_parse("https:///api", NULL, &u), -1);
}

static void bad_ports_are_refused(void **state)
{
    (void)state;
    net_url_t u;
    assert_int_equal(net_url_parse("wss://h:0", NULL, &u), -1);
    assert_int_equal(net_url_parse("wss://h:65536", NULL, &u), -1);
    assert_int_equal(net_url_parse("wss://h:", NULL, &u), -1);
    assert_int_equal(net_url_parse("wss://h:abc", NULL, &u), -1);
    assert_int_equal(net_url_parse("wss://h:443x/ws", NULL, &u), -1);
    assert_int_equal(net_url_parse("wss://h:-1", NULL, &u), -1);
}

static void host_too_long_is_refused(void **state)
{
    (void)state;
    char url[400] = "https://";
    memset(url + 8, 'a', 300);
    url[308] = '\0';
    net_url_t u;
    assert_int_equal(net_url_parse(url, NULL, &u), -1);
}

static void path_too_long_is_refused(void **state)
{
    (void)state;
    char path[3000];
    path[0] = '/';
    memset(path + 1, 'p', sizeof path - 2);
    path[sizeof path - 1] = '\0';
    net_url_t u;
    assert_int_equal(net_url_parse("https://api.binance.com", path, &u), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schemes_set_tls_and_default_ports),
        cmocka_unit_test(url_without_path_has_path_slash),
        cmocka_unit_test(explicit_port_wins),
        cmocka_unit_test(path_is_appended_to_the_base),
        cmocka_unit_test(base_path_is_kept_with_its_query),
        cmocka_unit_test(trailing_slash_of_the_base_is_dropped),
        cmocka_unit_test(query_stays_after_the_whole_path),
        cmocka_unit_test(other_schemes_are_refused),
        cmocka_unit_test(missing_host_is_refused),
        cmocka_unit_test(bad_ports_are_refused),
        cmocka_unit_test(host_too_long_is_refused),
        cmocka_unit_test(path_too_long_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
