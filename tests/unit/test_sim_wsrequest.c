/* Unit tests of sim/wsrequest: Binance's control requests and their exact responses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "wsrequest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN_VARIANT(v)                                                                     \
    "unknown variant `" v "`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, "                  \
    "`LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"

static sim_wsconn_t *open_conn(market_t market, const char *path)
{
    char err[128] = "";
    sim_wsconn_t *c = sim_wsconn_new(market, path, NULL, err, sizeof err);
    if (!c)
        fail_msg("sim_wsconn_new(%s): %s", path, err);
    return c;
}

/* Sends `msg` and checks the exact response text; returns the reply for more checks (the
   caller clears it). */
static sim_wsreply_t ask(sim_wsconn_t *c, const char *msg, const char *want)
{
    sim_wsreply_t r;
    assert_int_equal(sim_wsconn_handle(c, msg, strlen(msg), &r), 0);
    assert_non_null(r.response);
    assert_int_equal(r.response_len, strlen(r.response));
    if (strcmp(r.response, want) != 0)
        fail_msg("request  %s\nexpected %s\ngot      %s", msg, want, r.response);
    return r;
}

static void ask_only(sim_wsconn_t *c, const char *msg, const char *want)
{
    sim_wsreply_t r = ask(c, msg, want);
    assert_false(r.close);
    sim_wsreply_clear(&r);
}

/* The response to a message that fails parsing, with its id null. */
static void ask_error(sim_wsconn_t *c, const char *msg, int code, const char *text)
{
    char want[1024];
    snprintf(want, sizeof want, "{\"error\":{\"code\":%d,\"msg\":\"%s\"},\"id\":null}", code, text);
    sim_wsreply_t r = ask(c, msg, want);
    assert_int_equal(r.error_code, code);
    sim_wsreply_clear(&r);
}

/* ---- the five methods ---- */

static void subscribe_answers_result_null_and_adds_the_streams(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    sim_wsreply_t r = ask(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@aggTrade\","
                             "\"btcusdt@depth\"],\"id\":1}",
                          "{\"result\":null,\"id\":1}");
    assert_int_equal(r.method, SIM_WSMETHOD_SUBSCRIBE);
    assert_int_equal(r.error_code, -1);
    assert_false(r.close);
    assert_int_equal(r.added_count, 2);
    assert_string_equal(r.added[0], "btcusdt@aggTrade");
    assert_string_equal(r.added[1], "btcusdt@depth");
    assert_int_equal(r.removed_count, 0);
    sim_wsreply_clear(&r);
    assert_null(r.response);
    assert_int_equal(sim_wsconn_stream_count(c), 2);
    assert_true(sim_wsconn_has(c, "btcusdt@depth"));
    sim_wsconn_destroy(&c);
    assert_null(c);
}

static void unsubscribe_answers_result_null_and_removes_the_streams(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_only(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@aggTrade\",\"btcusdt@depth\"],"
                "\"id\":1}",
             "{\"result\":null,\"id\":1}");
    sim_wsreply_t r = ask(c, "{\"method\":\"UNSUBSCRIBE\",\"params\":[\"btcusdt@depth\"],\"id\":312}",
                          "{\"result\":null,\"id\":312}");
    assert_int_equal(r.method, SIM_WSMETHOD_UNSUBSCRIBE);
    assert_int_equal(r.removed_count, 1);
    assert_string_equal(r.removed[0], "btcusdt@depth");
    assert_int_equal(r.added_count, 0);
    sim_wsreply_clear(&r);
    assert_int_equal(sim_wsconn_stream_count(c), 1);
    assert_false(sim_wsconn_has(c, "btcusdt@depth"));
    sim_wsconn_destroy(&c);
}

static void unsubscribe_of_a_stream_not_held_is_a_successful_no_op(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_USDM, "/public/ws");
    sim_wsreply_t r = ask(c, "{\"method\":\"UNSUBSCRIBE\",\"params\":[\"btcusdt@depth\"],\"id\":4}",
                          "{\"result\":null,\"id\":4}");
    assert_int_equal(r.removed_count, 0);
    sim_wsreply_clear(&r);
    sim_wsconn_destroy(&c);
}

static void list_subscriptions_returns_streams_in_subscription_order(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_only(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"ethusdt@trade\"],\"id\":1}",
             "{\"result\":null,\"id\":1}");
    ask_only(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@aggTrade\",\"bnbusdt@depth\"],"
                "\"id\":2}",
             "{\"result\":null,\"id\":2}");
    sim_wsreply_t r = ask(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":3}",
                          "{\"result\":[\"ethusdt@trade\",\"btcusdt@aggTrade\",\"bnbusdt@depth\"],"
                          "\"id\":3}");
    assert_int_equal(r.method, SIM_WSMETHOD_LIST_SUBSCRIPTIONS);
    sim_wsreply_clear(&r);
    ask_only(c, "{\"method\":\"UNSUBSCRIBE\",\"params\":[\"btcusdt@aggTrade\"],\"id\":4}",
             "{\"result\":null,\"id\":4}");
    ask_only(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@aggTrade\"],\"id\":5}",
             "{\"result\":null,\"id\":5}");
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":6}",
             "{\"result\":[\"ethusdt@trade\",\"bnbusdt@depth\",\"btcusdt@aggTrade\"],\"id\":6}");
    assert_string_equal(sim_wsconn_stream(c, 2), "btcusdt@aggTrade");
    assert_null(sim_wsconn_stream(c, 3));
    sim_wsconn_destroy(&c);
}

static void list_subscriptions_of_a_new_connection_is_an_empty_array(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_COINM, "/stream");
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":3}", "{\"result\":[],\"id\":3}");
    sim_wsconn_destroy(&c);
}

static void combined_is_false_on_ws_and_true_on_stream(void **state)
{
    (void)state;
    sim_wsconn_t *raw = open_conn(MARKET_SPOT, "/ws");
    sim_wsconn_t *comb = open_conn(MARKET_SPOT, "/stream");
    assert_false(sim_wsconn_combined(raw));
    assert_true(sim_wsconn_combined(comb));
    ask_only(raw, "{\"method\":\"GET_PROPERTY\",\"params\":[\"combined\"],\"id\":2}",
             "{\"result\":false,\"id\":2}");
    ask_only(comb, "{\"method\":\"GET_PROPERTY\",\"params\":[\"combined\"],\"id\":2}",
             "{\"result\":true,\"id\":2}");
    sim_wsconn_destroy(&raw);
    sim_wsconn_destroy(&comb);
}

static void set_property_combined_changes_what_get_property_returns(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_USDM, "/public/ws");
    sim_wsreply_t r = ask(c, "{\"method\":\"SET_PROPERTY\",\"params\":[\"combined\",true],\"id\":5}",
                          "{\"result\":null,\"id\":5}");
    assert_int_equal(r.method, SIM_WSMETHOD_SET_PROPERTY);
    sim_wsreply_clear(&r);
    assert_true(sim_wsconn_combined(c));
    ask_only(c, "{\"method\":\"GET_PROPERTY\",\"params\":[\"combined\"],\"id\":2}",
             "{\"result\":true,\"id\":2}");
    ask_only(c, "{\"method\":\"SET_PROPERTY\",\"params\":[\"combined\",false],\"id\":6}",
             "{\"result\":null,\"id\":6}");
    assert_false(sim_wsconn_combined(c));
    sim_wsconn_destroy(&c);
}

static void responses_are_never_wrapped_on_combined_connections(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/stream");
    ask_only(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@depth\"],\"id\":1}",
             "{\"result\":null,\"id\":1}");
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":2}",
             "{\"result\":[\"btcusdt@depth\"],\"id\":2}");
    sim_wsconn_destroy(&c);
}

/* ---- ids ---- */

static void integer_ids_are_echoed_as_integers(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":0}", "{\"result\":[],\"id\":0}");
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":-17}", "{\"result\":[],\"id\":-17}");
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":9223372036854775807}",
             "{\"result\":[],\"id\":9223372036854775807}");
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":-9223372036854775808}",
             "{\"result\":[],\"id\":-9223372036854775808}");
    sim_wsconn_destroy(&c);
}

static void alphanumeric_string_ids_up_to_36_chars_are_echoed_as_strings(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":\"abc123\"}",
             "{\"result\":[],\"id\":\"abc123\"}");
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":\"0123456789abcdefghijABCDEFGHIJ012345\"}",
             "{\"result\":[],\"id\":\"0123456789abcdefghijABCDEFGHIJ012345\"}");
    ask_only(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@depth\"],\"id\":\"42\"}",
             "{\"result\":null,\"id\":\"42\"}");
    sim_wsconn_destroy(&c);
}

static void null_id_is_echoed_as_null(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":null}", "{\"result\":[],\"id\":null}");
    sim_wsconn_destroy(&c);
}

static void missing_or_unsupported_ids_are_refused(void **state)
{
    (void)state;
    const char *ids[] = {NULL,   "1.5",  "1e3",   "-0",  "true", "[]", "{}",
                         "9223372036854775808", "\"\"", "\"a-b\"", "\"0123456789abcdefghijABCDEFGHIJ0123456\"",
                         "\"caf\\u00e9\""};
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    char msg[256];
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        if (ids[i])
            snprintf(msg, sizeof msg,
                     "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@depth\"],\"id\":%s}", ids[i]);
        else
            snprintf(msg, sizeof msg, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@depth\"]}");
        ask_error(c, msg, 2, "Invalid request: request ID must be an unsigned integer");
    }
    assert_int_equal(sim_wsconn_stream_count(c), 0);
    sim_wsconn_destroy(&c);
}

/* ---- subscriptions ---- */

static void duplicates_are_subscribed_once(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    sim_wsreply_t r = ask(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@depth\","
                             "\"btcusdt@depth\",\"btcusdt@trade\"],\"id\":1}",
                          "{\"result\":null,\"id\":1}");
    assert_int_equal(r.added_count, 2);
    sim_wsreply_clear(&r);
    r = ask(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@trade\"],\"id\":2}",
            "{\"result\":null,\"id\":2}");
    assert_int_equal(r.added_count, 0);
    sim_wsreply_clear(&r);
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":3}",
             "{\"result\":[\"btcusdt@depth\",\"btcusdt@trade\"],\"id\":3}");
    sim_wsconn_destroy(&c);
}

static void subscribe_without_params_changes_nothing(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_only(c, "{\"method\":\"SUBSCRIBE\",\"id\":1}", "{\"result\":null,\"id\":1}");
    ask_only(c, "{\"method\":\"SUBSCRIBE\",\"params\":null,\"id\":2}", "{\"result\":null,\"id\":2}");
    ask_only(c, "{\"method\":\"SUBSCRIBE\",\"params\":[],\"id\":3}", "{\"result\":null,\"id\":3}");
    assert_int_equal(sim_wsconn_stream_count(c), 0);
    sim_wsconn_destroy(&c);
}

static void invalid_stream_refuses_the_whole_subscribe_and_closes(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_USDM, "/public/ws");
    sim_wsreply_t r = ask(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@depth\",\"@@@lixo###\"],"
                             "\"id\":1}",
                          "{\"error\":{\"code\":2,\"msg\":\"Invalid request: invalid stream\"},"
                          "\"id\":1}");
    assert_int_equal(r.error_code, 2);
    assert_true(r.close);
    assert_int_equal(r.close_code, SIM_WSCONN_CLOSE_INVALID_CODE);
    assert_string_equal(r.close_reason, SIM_WSCONN_CLOSE_INVALID_REASON);
    assert_int_equal(r.added_count, 0);
    sim_wsreply_clear(&r);
    assert_int_equal(sim_wsconn_stream_count(c), 0);
    sim_wsconn_destroy(&c);
}

static void non_string_or_nul_bearing_params_are_invalid_streams(void **state)
{
    (void)state;
    const char *msgs[] = {
        "{\"method\":\"SUBSCRIBE\",\"params\":[1],\"id\":\"x\"}",
        "{\"method\":\"SUBSCRIBE\",\"params\":[[\"btcusdt@depth\"]],\"id\":\"x\"}",
        "{\"method\":\"SUBSCRIBE\",\"params\":[null],\"id\":\"x\"}",
        "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@depth\\u0000\"],\"id\":\"x\"}",
        "{\"method\":\"SUBSCRIBE\",\"params\":[\"not asdfads\"],\"id\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof msgs / sizeof *msgs; i++) {
        sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
        sim_wsreply_t r = ask(c, msgs[i],
                              "{\"error\":{\"code\":2,\"msg\":\"Invalid request: invalid stream\"},"
                              "\"id\":\"x\"}");
        assert_true(r.close);
        sim_wsreply_clear(&r);
        sim_wsconn_destroy(&c);
    }
}

static void invalid_stream_in_unsubscribe_is_refused_and_closes(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws/btcusdt@depth");
    sim_wsreply_t r = ask(c, "{\"method\":\"UNSUBSCRIBE\",\"params\":[\"btcusdt@depth\",\"a b\"],"
                             "\"id\":9}",
                          "{\"error\":{\"code\":2,\"msg\":\"Invalid request: invalid stream\"},"
                          "\"id\":9}");
    assert_true(r.close);
    assert_int_equal(r.removed_count, 0);
    sim_wsreply_clear(&r);
    assert_int_equal(sim_wsconn_stream_count(c), 1);
    sim_wsconn_destroy(&c);
}

static void escaped_stream_names_are_decoded(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_only(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt\\u0040depth\"],\"id\":1}",
             "{\"result\":null,\"id\":1}");
    assert_true(sim_wsconn_has(c, "btcusdt@depth"));
    sim_wsconn_destroy(&c);
}

static void silent_streams_are_acked_listed_and_not_delivered(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_USDM, "/ws"); /* legacy unrouted: served as /public */
    ask_only(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@depth\",\"BTCUSDT@depth\","
                "\"btcusdt@depth@250ms\",\"btcusdt@aggTrade\",\"btcusdt@naoExisteStream\","
                "\"nosuchusdt@depth\"],\"id\":1}",
             "{\"result\":null,\"id\":1}");
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":2}",
             "{\"result\":[\"btcusdt@depth\",\"BTCUSDT@depth\",\"btcusdt@depth@250ms\","
             "\"btcusdt@aggTrade\",\"btcusdt@naoExisteStream\",\"nosuchusdt@depth\"],\"id\":2}");
    assert_true(sim_wsconn_delivers(c, 0));
    assert_false(sim_wsconn_delivers(c, 1));
    assert_false(sim_wsconn_delivers(c, 2));
    assert_false(sim_wsconn_delivers(c, 3)); /* a /market stream on the unrouted path */
    assert_false(sim_wsconn_delivers(c, 4));
    assert_true(sim_wsconn_delivers(c, 5)); /* the universe check is the caller's */
    assert_false(sim_wsconn_delivers(c, 6));
    assert_int_equal(sim_wsconn_parsed(c, 1)->verdict, SIM_STREAMNAME_SILENT);
    assert_null(sim_wsconn_parsed(c, 6));
    sim_wsconn_destroy(&c);
}

static void usdm_market_path_delivers_agg_trade_but_not_depth(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_USDM, "/market/stream");
    assert_int_equal(sim_wsconn_route(c), SIM_WSROUTE_MARKET);
    ask_only(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@aggTrade\",\"btcusdt@depth\"],"
                "\"id\":1}",
             "{\"result\":null,\"id\":1}");
    assert_true(sim_wsconn_delivers(c, 0));
    assert_false(sim_wsconn_delivers(c, 1));
    sim_wsconn_destroy(&c);
}

static char *names_message(size_t first, size_t count, int id)
{
    size_t cap = 64 + count * 32;
    char *msg = malloc(cap);
    assert_non_null(msg);
    size_t n = (size_t)snprintf(msg, cap, "{\"method\":\"SUBSCRIBE\",\"params\":[");
    for (size_t i = 0; i < count; i++)
        n += (size_t)snprintf(msg + n, cap - n, "%s\"s%zuusdt@depth\"", i ? "," : "", first + i);
    snprintf(msg + n, cap - n, "],\"id\":%d}", id);
    return msg;
}

static void a_connection_holds_at_most_1024_streams(void **state)
{
    (void)state;
    const market_t markets[] = {MARKET_SPOT, MARKET_USDM, MARKET_COINM};
    for (int m = 0; m < 3; m++) {
        sim_wsconn_t *c = open_conn(markets[m], "/stream");
        char *msg = names_message(0, 1000, 1);
        ask_only(c, msg, "{\"result\":null,\"id\":1}");
        free(msg);
        msg = names_message(1000, 24, 2);
        ask_only(c, msg, "{\"result\":null,\"id\":2}");
        free(msg);
        assert_int_equal(sim_wsconn_stream_count(c), SIM_WSCONN_MAX_STREAMS);
        /* Already held: no new stream, so no limit. */
        ask_only(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"s5usdt@depth\"],\"id\":3}",
                 "{\"result\":null,\"id\":3}");
        sim_wsreply_t r = ask(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"s5usdt@depth\","
                                 "\"one@depth\"],\"id\":4}",
                              "{\"error\":{\"code\":2,\"msg\":\"Invalid request: too many "
                              "streams\"},\"id\":4}");
        assert_false(r.close);
        assert_int_equal(r.added_count, 0);
        sim_wsreply_clear(&r);
        assert_int_equal(sim_wsconn_stream_count(c), SIM_WSCONN_MAX_STREAMS);
        assert_int_equal(sim_wsconn_add(c, "one@depth"), SIM_WSCONN_ADD_LIMIT);
        sim_wsconn_destroy(&c);
    }
}

static void a_subscribe_over_the_limit_adds_nothing(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    char *msg = names_message(0, SIM_WSCONN_MAX_STREAMS + 1, 1);
    ask_only(c, msg, "{\"error\":{\"code\":2,\"msg\":\"Invalid request: too many streams\"},"
                     "\"id\":1}");
    free(msg);
    assert_int_equal(sim_wsconn_stream_count(c), 0);
    sim_wsconn_destroy(&c);
}

/* ---- SET_PROPERTY / GET_PROPERTY / LIST_SUBSCRIPTIONS errors ---- */

static void set_property_of_an_unknown_property_is_code_0(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_only(c, "{\"method\":\"SET_PROPERTY\",\"params\":[\"merged\",true],\"id\":5}",
             "{\"error\":{\"code\":0,\"msg\":\"Unknown property\"},\"id\":5}");
    ask_only(c, "{\"method\":\"GET_PROPERTY\",\"params\":[\"Combined\"],\"id\":6}",
             "{\"error\":{\"code\":0,\"msg\":\"Unknown property\"},\"id\":6}");
    sim_wsconn_destroy(&c);
}

static void set_property_without_a_boolean_is_code_1(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/stream");
    const char *want = "{\"error\":{\"code\":1,\"msg\":\"Invalid value type: expected Boolean\"},"
                       "\"id\":5}";
    ask_only(c, "{\"method\":\"SET_PROPERTY\",\"params\":[\"combined\",\"false\"],\"id\":5}", want);
    ask_only(c, "{\"method\":\"SET_PROPERTY\",\"params\":[\"combined\",0],\"id\":5}", want);
    ask_only(c, "{\"method\":\"SET_PROPERTY\",\"params\":[\"combined\",null],\"id\":5}", want);
    ask_only(c, "{\"method\":\"SET_PROPERTY\",\"params\":[\"combined\"],\"id\":5}", want);
    assert_true(sim_wsconn_combined(c));
    sim_wsconn_destroy(&c);
}

static void property_name_missing_or_not_a_string_is_code_2(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    const char *want = "{\"error\":{\"code\":2,\"msg\":\"Invalid request: property name must be a "
                       "string\"},\"id\":7}";
    ask_only(c, "{\"method\":\"SET_PROPERTY\",\"params\":[true,true],\"id\":7}", want);
    ask_only(c, "{\"method\":\"SET_PROPERTY\",\"params\":[],\"id\":7}", want);
    ask_only(c, "{\"method\":\"SET_PROPERTY\",\"id\":7}", want);
    ask_only(c, "{\"method\":\"GET_PROPERTY\",\"params\":[1],\"id\":7}", want);
    ask_only(c, "{\"method\":\"GET_PROPERTY\",\"id\":7}", want);
    sim_wsconn_destroy(&c);
}

static void too_many_parameters_is_code_2(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    const char *want = "{\"error\":{\"code\":2,\"msg\":\"Invalid request: too many parameters\"},"
                       "\"id\":8}";
    ask_only(c, "{\"method\":\"SET_PROPERTY\",\"params\":[\"combined\",true,true],\"id\":8}", want);
    ask_only(c, "{\"method\":\"GET_PROPERTY\",\"params\":[\"combined\",true],\"id\":8}", want);
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"params\":[\"btcusdt@depth\"],\"id\":8}",
             want);
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"params\":[],\"id\":8}",
             "{\"result\":[],\"id\":8}");
    assert_false(sim_wsconn_combined(c));
    sim_wsconn_destroy(&c);
}

/* ---- serde_json's errors, positions included ---- */

static void unknown_method_is_an_unknown_variant_at_its_closing_quote(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_error(c, "{\"method\":\"FOO\",\"id\":1}", 2,
              "Invalid request: " UNKNOWN_VARIANT("FOO") " at line 1 column 15");
    /* The doc's example position: the closing quote in column 28. */
    ask_error(c, "{\"id\":12,\"method\":\"SUBSCRIB\",\"params\":[]}", 2,
              "Invalid request: " UNKNOWN_VARIANT("SUBSCRIB") " at line 1 column 28");
    ask_error(c, "{\"method\":\"subscribe\",\"params\":[\"btcusdt@depth\"],\"id\":1}", 2,
              "Invalid request: " UNKNOWN_VARIANT("subscribe") " at line 1 column 21");
    sim_wsreply_t r;
    const char *msg = "{\"method\":\"PING\"}";
    assert_int_equal(sim_wsconn_handle(c, msg, strlen(msg), &r), 0);
    assert_int_equal(r.method, SIM_WSMETHOD_NONE);
    assert_false(r.close);
    sim_wsreply_clear(&r);
    sim_wsconn_destroy(&c);
}

static void missing_method_is_reported_at_the_closing_brace(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    const char *msg = "{\"params\":[\"btcusdt@aggTrade\",\"btcusdt@depth\",\"btcusdt@bookTicker\"],"
                      "\"id\":1}";
    assert_int_equal(strlen(msg), 75);
    ask_error(c, msg, 2, "Invalid request: missing field `method` at line 1 column 75");
    ask_error(c, "{}", 2, "Invalid request: missing field `method` at line 1 column 2");
    ask_error(c, "{\"id\":1}  \n", 2, "Invalid request: missing field `method` at line 1 column 8");
    sim_wsconn_destroy(&c);
}

static void syntax_errors_are_invalid_json_with_line_and_column(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_error(c, "hello", 3, "Invalid JSON: expected value at line 1 column 1");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"params\":[btcusdt@depth],\"id\":1}", 3,
              "Invalid JSON: expected value at line 1 column 33");
    ask_error(c, "{\"method\":\n  nope}", 3, "Invalid JSON: expected value at line 2 column 3");
    ask_error(c, "{\"method\":1,\"id\":1}", 3, "Invalid JSON: expected value at line 1 column 11");
    ask_error(c, "{\"method\":null,\"id\":1}", 3,
              "Invalid JSON: expected value at line 1 column 11");
    ask_error(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":1,}", 3,
              "Invalid JSON: trailing comma at line 1 column 39");
    ask_error(c, "{\"method\":\"LIST_SUBSCRIPTIONS\" \"id\":1}", 3,
              "Invalid JSON: expected `,` or `}` at line 1 column 32");
    ask_error(c, "{\"method\" \"LIST_SUBSCRIPTIONS\"}", 3,
              "Invalid JSON: expected `:` at line 1 column 11");
    ask_error(c, "{method:\"LIST_SUBSCRIPTIONS\"}", 3,
              "Invalid JSON: key must be a string at line 1 column 2");
    ask_error(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":1}x", 3,
              "Invalid JSON: trailing characters at line 1 column 39");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"a\",],\"id\":1}", 3,
              "Invalid JSON: trailing comma at line 1 column 37");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"a\" \"b\"],\"id\":1}", 3,
              "Invalid JSON: expected `,` or `]` at line 1 column 37");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"id\":tru}", 3,
              "Invalid JSON: expected ident at line 1 column 31");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"id\":01}", 3,
              "Invalid JSON: invalid number at line 1 column 29");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"id\":1e999}", 3,
              "Invalid JSON: number out of range at line 1 column 32");
    sim_wsconn_destroy(&c);
}

static void truncated_and_empty_messages_are_eof_errors(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_error(c, "", 3, "Invalid JSON: EOF while parsing a value at line 1 column 0");
    ask_error(c, "  \n ", 3, "Invalid JSON: EOF while parsing a value at line 2 column 1");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@depth\"", 3,
              "Invalid JSON: EOF while parsing a list at line 1 column 47");
    ask_error(c, "{\"method\":\"SUBSCRIBE\"", 3,
              "Invalid JSON: EOF while parsing an object at line 1 column 21");
    ask_error(c, "{\"method\":\"SUBSC", 3,
              "Invalid JSON: EOF while parsing a string at line 1 column 16");
    sim_wsconn_destroy(&c);
}

static void string_errors_follow_serde(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_error(c, "{\"method\":\"SUB\\qSCRIBE\"}", 3, "Invalid JSON: invalid escape at line 1 column 16");
    ask_error(c, "{\"method\":\"SUB\tSCRIBE\"}", 3,
              "Invalid JSON: control character (\\\\u0000-\\\\u001F) found while parsing a string "
              "at line 1 column 15");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"\\ud800x\"],\"id\":1}", 3,
              "Invalid JSON: unexpected end of hex escape at line 1 column 40");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"params\":[\"\\udc00\"],\"id\":1}", 3,
              "Invalid JSON: lone leading surrogate in hex escape at line 1 column 39");
    /* In an ignored field the same control character is reported one column earlier. */
    ask_error(c, "{\"x\":\"a\tb\",\"method\":\"SUBSCRIBE\"}", 3,
              "Invalid JSON: control character (\\\\u0000-\\\\u001F) found while parsing a string "
              "at line 1 column 7");
    sim_wsconn_destroy(&c);
}

static void duplicate_fields_are_reported_after_the_second_key(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_error(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"method\":\"SUBSCRIBE\",\"id\":1}", 2,
              "Invalid request: duplicate field `method` at line 1 column 39");
    ask_error(c, "{\"id\":1,\"method\":\"LIST_SUBSCRIPTIONS\",\"id\" :2}", 2,
              "Invalid request: duplicate field `id` at line 1 column 43");
    ask_error(c, "{\"params\":null,\"method\":\"SUBSCRIBE\",\"params\":[],\"id\":1}", 2,
              "Invalid request: duplicate field `params` at line 1 column 44");
    sim_wsconn_destroy(&c);
}

static void params_of_the_wrong_type_name_the_type_as_serde_does(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"params\":\"btcusdt@depth\",\"id\":1}", 2,
              "Invalid request: invalid type: string \\\"btcusdt@depth\\\", expected a sequence "
              "at line 1 column 46");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"params\":5,\"id\":1}", 2,
              "Invalid request: invalid type: integer `5`, expected a sequence at line 1 column 32");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"params\":-3,\"id\":1}", 2,
              "Invalid request: invalid type: integer `-3`, expected a sequence at line 1 column "
              "33");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"params\":1.5,\"id\":1}", 2,
              "Invalid request: invalid type: floating point `1.5`, expected a sequence at line 1 "
              "column 34");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"params\":2e3,\"id\":1}", 2,
              "Invalid request: invalid type: floating point `2000.0`, expected a sequence at "
              "line 1 column 34");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"params\":true,\"id\":1}", 2,
              "Invalid request: invalid type: boolean `true`, expected a sequence at line 1 "
              "column 35");
    ask_error(c, "{\"method\":\"SUBSCRIBE\",\"params\":{},\"id\":1}", 2,
              "Invalid request: invalid type: map, expected a sequence at line 1 column 31");
    ask_error(c, "[\"SUBSCRIBE\"]", 2,
              "Invalid request: invalid type: sequence, expected struct Request at line 1 "
              "column 0");
    ask_error(c, "42", 2,
              "Invalid request: invalid type: integer `42`, expected struct Request at line 1 "
              "column 2");
    sim_wsconn_destroy(&c);
}

static void unknown_fields_are_ignored(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"extra\":{\"a\":[1,2.5e3,{\"b\":null}],"
                "\"c\":\"\\ud800\"},\"id\":7}",
             "{\"result\":[],\"id\":7}");
    sim_wsconn_destroy(&c);
}

static void method_may_be_written_as_a_tagged_unit_variant(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    ask_only(c, "{\"method\":{\"LIST_SUBSCRIPTIONS\":null},\"id\":1}", "{\"result\":[],\"id\":1}");
    ask_error(c, "{\"method\":{\"LIST_SUBSCRIPTIONS\":1},\"id\":1}", 2,
              "Invalid request: invalid type: integer `1`, expected unit at line 1 column 33");
    sim_wsconn_destroy(&c);
}

static void nested_arrays_deeper_than_serde_allows_are_refused(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws");
    char msg[512];
    size_t n = (size_t)snprintf(msg, sizeof msg, "{\"method\":\"SUBSCRIBE\",\"params\":");
    for (int i = 0; i < 127; i++)
        msg[n++] = '[';
    msg[n] = '\0';
    /* The object is level 1, so the 127th '[' is level 128: serde_json's limit. */
    char want[128];
    snprintf(want, sizeof want, "Invalid JSON: recursion limit exceeded at line 1 column %zu", n);
    ask_error(c, msg, 3, want);
    sim_wsconn_destroy(&c);
}

/* ---- connections from handshake paths ---- */

static void connection_from_a_raw_path_subscribes_its_stream(void **state)
{
    (void)state;
    sim_wsconn_t *c = open_conn(MARKET_SPOT, "/ws/btcusdt@depth@100ms");
    assert_false(sim_wsconn_combined(c));
    assert_int_equal(sim_wsconn_route(c), SIM_WSROUTE_NONE);
    assert_int_equal(sim_wsconn_market(c), MARKET_SPOT);
    assert_int_equal(sim_wsconn_stream_count(c), 1);
    assert_string_equal(sim_wsconn_stream(c, 0), "btcusdt@depth@100ms");
    assert_int_equal(sim_wsconn_parsed(c, 0)->speed_ms, 100);
    ask_only(c, "{\"method\":\"LIST_SUBSCRIPTIONS\",\"id\":1}",
             "{\"result\":[\"btcusdt@depth@100ms\"],\"id\":1}");
    sim_wsconn_destroy(&c);
}

static void connection_from_a_combined_url_subscribes_each_stream_once(void **state)
{
    (void)state;
    char err[128];
    sim_wsconn_t *c = sim_wsconn_new(MARKET_USDM, "/public/stream",
                                     "btcusdt@depth/ethusdt@bookTicker//btcusdt@depth", err,
                                     sizeof err);
    assert_non_null(c);
    assert_true(sim_wsconn_combined(c));
    assert_int_equal(sim_wsconn_route(c), SIM_WSROUTE_PUBLIC);
    assert_int_equal(sim_wsconn_stream_count(c), 2);
    assert_string_equal(sim_wsconn_stream(c, 1), "ethusdt@bookTicker");
    assert_int_equal(sim_wsconn_add(c, "ethusdt@bookTicker"), SIM_WSCONN_ADD_DUPLICATE);
    assert_int_equal(sim_wsconn_add(c, "eth usdt"), SIM_WSCONN_ADD_INVALID);
    assert_int_equal(sim_wsconn_add(c, "xrpusdt@depth5"), SIM_WSCONN_ADD_OK);
    sim_wsconn_destroy(&c);
}

static void handshake_with_a_bad_path_or_name_or_too_many_names_is_refused(void **state)
{
    (void)state;
    char err[128];
    assert_null(sim_wsconn_new(MARKET_SPOT, "/public/ws", NULL, err, sizeof err));
    assert_string_equal(err, "no WebSocket at \"/public/ws\"");
    assert_null(sim_wsconn_new(MARKET_USDM, "/private/ws", NULL, err, sizeof err));
    assert_null(sim_wsconn_new(MARKET_SPOT, "/stream", "btcusdt@depth/@@@", err, sizeof err));
    assert_string_equal(err, "invalid stream name \"@@@\"");
    size_t cap = (SIM_WSCONN_MAX_STREAMS + 1) * 24;
    char *many = malloc(cap);
    assert_non_null(many);
    size_t n = 0;
    for (int i = 0; i <= SIM_WSCONN_MAX_STREAMS; i++)
        n += (size_t)snprintf(many + n, cap - n, "%ss%dusdt@depth", i ? "/" : "", i);
    assert_null(sim_wsconn_new(MARKET_SPOT, "/stream", many, err, sizeof err));
    assert_string_equal(err, "more than 1024 streams");
    assert_null(sim_wsconn_new(MARKET_SPOT, "/stream", many, NULL, 0));
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(subscribe_answers_result_null_and_adds_the_streams),
        cmocka_unit_test(unsubscribe_answers_result_null_and_removes_the_streams),
        cmocka_unit_test(unsubscribe_of_a_stream_not_held_is_a_successful_no_op),
        cmocka_unit_test(list_subscriptions_returns_streams_in_subscription_order),
        cmocka_unit_test(list_subscriptions_of_a_new_connection_is_an_empty_array),
        cmocka_unit_test(combined_is_false_on_ws_and_true_on_stream),
        cmocka_unit_test(set_property_combined_changes_what_get_property_returns),
        cmocka_unit_test(responses_are_never_wrapped_on_combined_connections),
        cmocka_unit_test(integer_ids_are_echoed_as_integers),
        cmocka_unit_test(alphanumeric_string_ids_up_to_36_chars_are_echoed_as_strings),
        cmocka_unit_test(null_id_is_echoed_as_null),
        cmocka_unit_test(missing_or_unsupported_ids_are_refused),
        cmocka_unit_test(duplicates_are_subscribed_once),
        cmocka_unit_test(subscribe_without_params_changes_nothing),
        cmocka_unit_test(invalid_stream_refuses_the_whole_subscribe_and_closes),
        cmocka_unit_test(non_string_or_nul_bearing_params_are_invalid_streams),
        cmocka_unit_test(invalid_stream_in_unsubscribe_is_refused_and_closes),
        cmocka_unit_test(escaped_stream_names_are_decoded),
        cmocka_unit_test(silent_streams_are_acked_listed_and_not_delivered),
        cmocka_unit_test(usdm_market_path_delivers_agg_trade_but_not_depth),
        cmocka_unit_test(a_connection_holds_at_most_1024_streams),
        cmocka_unit_test(a_subscribe_over_the_limit_adds_nothing),
        cmocka_unit_test(set_property_of_an_unknown_property_is_code_0),
        cmocka_unit_test(set_property_without_a_boolean_is_code_1),
        cmocka_unit_test(property_name_missing_or_not_a_string_is_code_2),
        cmocka_unit_test(too_many_parameters_is_code_2),
        cmocka_unit_test(unknown_method_is_an_unknown_variant_at_its_closing_quote),
        cmocka_unit_test(missing_method_is_reported_at_the_closing_brace),
        cmocka_unit_test(syntax_errors_are_invalid_json_with_line_and_column),
        cmocka_unit_test(truncated_and_empty_messages_are_eof_errors),
        cmocka_unit_test(string_errors_follow_serde),
        cmocka_unit_test(duplicate_fields_are_reported_after_the_second_key),
        cmocka_unit_test(params_of_the_wrong_type_name_the_type_as_serde_does),
        cmocka_unit_test(unknown_fields_are_ignored),
        cmocka_unit_test(method_may_be_written_as_a_tagged_unit_variant),
        cmocka_unit_test(nested_arrays_deeper_than_serde_allows_are_refused),
        cmocka_unit_test(connection_from_a_raw_path_subscribes_its_stream),
        cmocka_unit_test(connection_from_a_combined_url_subscribes_each_stream_once),
        cmocka_unit_test(handshake_with_a_bad_path_or_name_or_too_many_names_is_refused),
    };
    return cmocka_run_group_tests_name("sim_wsrequest", tests, NULL, NULL);
}
