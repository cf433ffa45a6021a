/*
 * test_bookbuilder_snapshots.c — the snapshot service's answers (bookbuilder/snapshots.h) against
 * docs/topics.md, "The snapshot service".
 *
 * The books are built by a real builder from hand-made collector frames, as in the live process:
 *   spot BTCUSDT   synced at 105, 3 bids and 3 asks, after the snapshot and two updates (seq 3)
 *   usdm BTCUSDT   syncing: one event buffered, no snapshot yet
 *   spot ETHUSDT   only trades: no book
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <inttypes.h>

#include "log.h"
#include "snapshots.h"

#define T0 1700000000000000000LL
#define MS 1000000LL

typedef struct {
    builder_t *b;
    char *usdm_symbols[1];
    uint64_t last_request_id;
    uint64_t seq[4][2]; /* [market][conn]: each collector numbers each connection's frames */
    int64_t now;
    jbuf_t out;
} fx_t;

static char USDM_BTC[] = "BTCUSDT";

static void on_publish(void *arg, const char *topic, const char *body, size_t len)
{
    (void)arg;
    (void)topic;
    (void)body;
    (void)len;
}

static int on_request_snapshot(void *arg, market_t market, const char *symbol, unsigned limit,
                               uint64_t request_id)
{
    fx_t *f = arg;
    (void)market;
    (void)symbol;
    (void)limit;
    f->last_request_id = request_id;
    return 0;
}

static void send_frame(fx_t *f, envelope_kind_t kind, market_t m, const char *symbol,
                       uint64_t request_id, const char *payload)
{
    f->now += MS;
    envelope_header_t h;
    envelope_header_init(&h, kind, m);
    h.instance_id = 1;
    h.conn_id = kind == ENVELOPE_WS_TEXT || kind == ENVELOPE_CONN_DOWN ? 1 : 0;
    h.seq = ++f->seq[m][h.conn_id];
    h.recv_ts_ns = f->now;
    if (symbol)
        snprintf(h.symbol, sizeof h.symbol, "%s", symbol);
    h.request_id = request_id;
    h.http_status = kind == ENVELOPE_SNAPSHOT ? 200 : 0;
    size_t plen = strlen(payload);
    char buf[2048];
    char err[160];
    size_t n = envelope_encode(&h, payload, plen, buf, sizeof buf, err, sizeof err);
    if (n == 0) {
        print_error("%s\n", err);
        fail();
    }
    builder_on_frame(f->b, buf, n, f->now);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->now = T0;
    f->usdm_symbols[0] = USDM_BTC;
    builder_config_t cfg = {
        .markets =
            {
                {.enabled = true, .all_symbols = true},
                {.enabled = true, .symbols = f->usdm_symbols, .symbol_count = 1},
                {.enabled = false},
            },
        .max_levels = 100,
        .buffer_max_events = 100,
        .snapshot_timeout_ms = 10000,
        .snapshot_retry_base_ms = 1000,
        .snapshot_retry_max_ms = 8000,
        .snapshot_inflight_max = 4,
        .max_books = 100,
    };
    builder_io_t io = {
        .publish = on_publish,
        .request_snapshot = on_request_snapshot,
        .arg = f,
    };
    f->b = builder_new(&cfg, &io);
    assert_non_null(f->b);

    /* spot BTCUSDT: snapshot at 103 + event [101..105], then two updates */
    send_frame(f, ENVELOPE_WS_TEXT, MARKET_SPOT, NULL, 0,
               "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1,\"s\":"
               "\"BTCUSDT\",\"U\":101,\"u\":105,\"b\":[[\"100.00\",\"1.000\"]],\"a\":[]}}");
    send_frame(f, ENVELOPE_SNAPSHOT, MARKET_SPOT, "BTCUSDT", f->last_request_id,
               "{\"lastUpdateId\":103,\"bids\":[[\"100.00\",\"3.000\"],[\"99.00\",\"2.000\"],["
               "\"98.00\",\"0.500\"]],\"asks\":[[\"101.00\",\"3.000\"],[\"102.00\",\"2.000\"]]}");
    send_frame(f, ENVELOPE_WS_TEXT, MARKET_SPOT, NULL, 0,
               "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":2,\"s\":"
               "\"BTCUSDT\",\"U\":106,\"u\":106,\"b\":[],\"a\":[[\"103.50\",\"0.250\"]]}}");
    send_frame(f, ENVELOPE_WS_TEXT, MARKET_SPOT, NULL, 0,
               "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":3,\"s\":"
               "\"BTCUSDT\",\"U\":107,\"u\":107,\"b\":[[\"99.00\",\"4.000\"]],\"a\":[]}}");
    /* usdm BTCUSDT: buffered, waiting */
    send_frame(
        f, ENVELOPE_WS_TEXT, MARKET_USDM, NULL, 0,
        "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1,\"T\":1,"
        "\"s\":\"BTCUSDT\",\"U\":200,\"u\":210,\"pu\":199,\"b\":[[\"100.0\",\"1\"]],"
        "\"a\":[]}}");
    /* spot ETHUSDT: a trade only */
    send_frame(f, ENVELOPE_WS_TEXT, MARKET_SPOT, NULL, 0,
               "{\"stream\":\"ethusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1,\"s\":\"ETHUSDT\","
               "\"t\":1,\"p\":\"3000.00\",\"q\":\"1.0\",\"T\":1,\"m\":true}}");
    builder_book_view_t v;
    assert_int_equal(builder_book(f->b, MARKET_SPOT, "BTCUSDT", &v), 0);
    assert_int_equal(v.state, SYNC_SYNCED);
    assert_int_equal(v.book_seq, 3);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    builder_destroy(&f->b);
    jbuf_free(&f->out);
    free(f);
    return 0;
}

/* The answer to request, NUL-terminated in a static buffer. */
static const char *ask(fx_t *f, const char *request)
{
    static char answer[4096];
    snapshots_answer(f->b, request, strlen(request), &f->out);
    assert_false(jbuf_failed(&f->out));
    assert_true(f->out.len < sizeof answer);
    memcpy(answer, f->out.data, f->out.len);
    answer[f->out.len] = '\0';
    return answer;
}

static void assert_answer(fx_t *f, const char *request, const char *want)
{
    const char *got = ask(f, request);
    if (strcmp(got, want) != 0) {
        print_error("request %s\ngot  %s\nwant %s\n", request, got, want);
        fail();
    }
}

/* The answer is {"error":"…"} and nothing else. */
static void assert_error(fx_t *f, const char *request)
{
    const char *got = ask(f, request);
    cJSON *root = cJSON_Parse(got);
    if (!root || !cJSON_IsObject(root) || cJSON_GetArraySize(root) != 1 ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "error")) ||
        !cJSON_GetObjectItemCaseSensitive(root, "error")->valuestring[0]) {
        print_error("request %s\nanswer %s is not {\"error\":\"…\"}\n", request, got);
        fail();
    }
    cJSON_Delete(root);
}

#define BTC_HEAD                                                                                   \
    "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"BTCUSDT\",\"state\":\"synced\","            \
    "\"reason\":\"start\",\"seq\":3,\"update_id\":107,\"resyncs\":0,"

/* ---- book ----------------------------------------------------------------------------------- */

static void book_without_depth_has_every_level(void **state)
{
    fx_t *f = *state;
    assert_answer(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"BTCUSDT\"}",
                  BTC_HEAD
                  "\"bids\":[[\"100.00\",\"1.000\"],[\"99.00\",\"4.000\"],[\"98.00\","
                  "\"0.500\"]],\"asks\":[[\"101.00\",\"3.000\"],[\"102.00\",\"2.000\"],"
                  "[\"103.50\",\"0.250\"]],\"bids_complete_to\":null,\"asks_complete_to\":null}");
}

static void book_with_depth_zero_has_every_level(void **state)
{
    fx_t *f = *state;
    assert_answer(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"BTCUSDT\",\"depth\":0}",
                  BTC_HEAD
                  "\"bids\":[[\"100.00\",\"1.000\"],[\"99.00\",\"4.000\"],[\"98.00\","
                  "\"0.500\"]],\"asks\":[[\"101.00\",\"3.000\"],[\"102.00\",\"2.000\"],"
                  "[\"103.50\",\"0.250\"]],\"bids_complete_to\":null,\"asks_complete_to\":null}");
}

static void book_with_depth_n_has_the_best_n_a_side(void **state)
{
    fx_t *f = *state;
    assert_answer(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"BTCUSDT\",\"depth\":2}",
                  BTC_HEAD "\"bids\":[[\"100.00\",\"1.000\"],[\"99.00\",\"4.000\"]],"
                           "\"asks\":[[\"101.00\",\"3.000\"],[\"102.00\",\"2.000\"]],\"bids_"
                           "complete_to\":null,\"asks_complete_to\":null}");
    assert_answer(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"BTCUSDT\",\"depth\":1}",
                  BTC_HEAD "\"bids\":[[\"100.00\",\"1.000\"]],\"asks\":[[\"101.00\",\"3.000\"]],"
                           "\"bids_complete_to\":null,\"asks_complete_to\":null}");
}

static void book_with_depth_beyond_the_book_has_every_level(void **state)
{
    fx_t *f = *state;
    const char *got =
        ask(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"BTCUSDT\",\"depth\":1000}");
    cJSON *root = cJSON_Parse(got);
    assert_non_null(root);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "bids")), 3);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "asks")), 3);
    cJSON_Delete(root);
}

static void book_answer_has_the_documented_keys_and_types(void **state)
{
    fx_t *f = *state;
    const char *got = ask(f, "{\"depth\":2,\"symbol\":\"BTCUSDT\",\"market\":\"spot\","
                             "\"op\":\"book\"}");
    cJSON *root = cJSON_Parse(got);
    assert_non_null(root);
    static const char *const keys[] = {"op",     "market", "symbol",           "state",
                                       "reason", "seq",    "update_id",        "resyncs",
                                       "bids",   "asks",   "bids_complete_to", "asks_complete_to"};
    const cJSON *it = root->child;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++, it = it->next) {
        assert_non_null(it);
        assert_string_equal(it->string, keys[i]);
    }
    assert_null(it);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "seq")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "update_id")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "resyncs")));
    const cJSON *lvl;
    cJSON_ArrayForEach(lvl, cJSON_GetObjectItemCaseSensitive(root, "bids"))
    {
        assert_true(cJSON_IsString(cJSON_GetArrayItem(lvl, 0)));
        assert_true(cJSON_IsString(cJSON_GetArrayItem(lvl, 1)));
    }
    cJSON_Delete(root);
}

static void book_symbol_in_lower_case_names_the_same_book(void **state)
{
    fx_t *f = *state;
    const char *got =
        ask(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"btcusdt\",\"depth\":1}");
    assert_non_null(strstr(got, "\"symbol\":\"BTCUSDT\",\"state\":\"synced\""));
}

static void unknown_book_is_an_error(void **state)
{
    fx_t *f = *state;
    assert_error(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"XRPUSDT\"}");
    /* Trades alone make no book. */
    assert_error(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"ETHUSDT\"}");
    /* The same symbol on another market is another book. */
    assert_error(f, "{\"op\":\"book\",\"market\":\"coinm\",\"symbol\":\"BTCUSDT\"}");
    assert_error(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"\"}");
}

static void book_not_synced_has_empty_sides(void **state)
{
    fx_t *f = *state;
    assert_answer(f, "{\"op\":\"book\",\"market\":\"usdm\",\"symbol\":\"BTCUSDT\"}",
                  "{\"op\":\"book\",\"market\":\"usdm\",\"symbol\":\"BTCUSDT\",\"state\":"
                  "\"syncing\",\"reason\":\"start\",\"seq\":0,\"update_id\":0,\"resyncs\":0,"
                  "\"bids\":[],\"asks\":[],\"bids_complete_to\":null,\"asks_complete_to\":null}");
}

static void book_resyncing_has_empty_sides_and_the_last_seq(void **state)
{
    fx_t *f = *state;
    send_frame(f, ENVELOPE_CONN_DOWN, MARKET_SPOT, NULL, 0,
               "{\"streams\":[\"btcusdt@depth@100ms\"],\"reason\":\"network error\"}");
    assert_answer(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"BTCUSDT\",\"depth\":5}",
                  "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"BTCUSDT\",\"state\":"
                  "\"resyncing\",\"reason\":\"disconnect\",\"seq\":3,\"update_id\":0,"
                  "\"resyncs\":1,\"bids\":[],\"asks\":[],\"bids_complete_to\":null,\"asks_complete_"
                  "to\":null}");
}

/* ---- list ----------------------------------------------------------------------------------- */

static void list_names_every_book_in_creation_order(void **state)
{
    fx_t *f = *state;
    assert_answer(f, "{\"op\":\"list\"}",
                  "{\"op\":\"list\",\"books\":[{\"market\":\"spot\",\"symbol\":\"BTCUSDT\","
                  "\"state\":\"synced\",\"reason\":\"start\",\"seq\":3,\"update_id\":107,"
                  "\"resyncs\":0},{\"market\":\"usdm\",\"symbol\":\"BTCUSDT\",\"state\":"
                  "\"syncing\",\"reason\":\"start\",\"seq\":0,\"update_id\":0,\"resyncs\":0}]}");
}

/* A snapshot side as deep as the depth asked for was cut: the answer says down to which price the
   side is complete; a shorter side is complete (null). */
static void book_says_how_far_each_side_is_complete(void **state)
{
    (void)state;
    fx_t f = {.now = T0};
    builder_config_t cfg = {
        .markets = {{.enabled = true, .all_symbols = true}},
        .max_levels = 2, /* spot asks for a snapshot 2 levels deep */
        .buffer_max_events = 100,
        .snapshot_timeout_ms = 10000,
        .snapshot_retry_base_ms = 1000,
        .snapshot_retry_max_ms = 8000,
        .snapshot_inflight_max = 4,
        .max_books = 10,
    };
    builder_io_t io = {.publish = on_publish, .request_snapshot = on_request_snapshot, .arg = &f};
    f.b = builder_new(&cfg, &io);
    assert_non_null(f.b);
    send_frame(&f, ENVELOPE_WS_TEXT, MARKET_SPOT, NULL, 0,
               "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1,\"s\":"
               "\"BTCUSDT\",\"U\":101,\"u\":105,\"b\":[],\"a\":[]}}");
    send_frame(&f, ENVELOPE_SNAPSHOT, MARKET_SPOT, "BTCUSDT", f.last_request_id,
               "{\"lastUpdateId\":105,\"bids\":[[\"100.00\",\"3.000\"],[\"99.00\",\"2.000\"]],"
               "\"asks\":[[\"101.00\",\"3.000\"]]}");
    const char *req = "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"BTCUSDT\"}";
    snapshots_answer(f.b, req, strlen(req), &f.out);
    const char *tail = "\"bids_complete_to\":\"99.00\",\"asks_complete_to\":null}";
    assert_true(f.out.len > strlen(tail));
    assert_memory_equal(f.out.data + f.out.len - strlen(tail), tail, strlen(tail));
    jbuf_free(&f.out);
    builder_destroy(&f.b);
}

static void list_of_a_builder_without_books_is_empty(void **state)
{
    (void)state;
    builder_config_t cfg = {.max_levels = 10, .max_books = 10};
    builder_io_t io = {.publish = on_publish};
    builder_t *b = builder_new(&cfg, &io);
    assert_non_null(b);
    jbuf_t out = {0};
    snapshots_answer(b, "{\"op\":\"list\"}", 13, &out);
    assert_int_equal(out.len, strlen("{\"op\":\"list\",\"books\":[]}"));
    assert_memory_equal(out.data, "{\"op\":\"list\",\"books\":[]}", out.len);
    jbuf_free(&out);
    builder_destroy(&b);
}

static void list_ignores_other_keys(void **state)
{
    fx_t *f = *state;
    const char *got = ask(f, "{\"op\":\"list\",\"market\":\"nonsense\",\"depth\":-4}");
    assert_non_null(strstr(got, "{\"op\":\"list\",\"books\":[{"));
}

/* ---- malformed requests --------------------------------------------------------------------- */

static void request_that_is_not_json_is_an_error(void **state)
{
    fx_t *f = *state;
    assert_error(f, "");
    assert_error(f, "book BTCUSDT");
    assert_error(f, "{\"op\":\"list\"");
    assert_error(f, "{op:\"list\"}");
    assert_error(f, "{\"op\":\"list\"} trailing");
    assert_error(f, "{\"op\":\"list\"}{\"op\":\"list\"}");
}

static void request_that_is_not_an_object_is_an_error(void **state)
{
    fx_t *f = *state;
    assert_error(f, "[\"book\"]");
    assert_error(f, "\"list\"");
    assert_error(f, "42");
    assert_error(f, "null");
    assert_error(f, "true");
}

static void request_without_a_known_op_is_an_error(void **state)
{
    fx_t *f = *state;
    assert_error(f, "{}");
    assert_error(f, "{\"market\":\"spot\",\"symbol\":\"BTCUSDT\"}");
    assert_error(f, "{\"op\":1}");
    assert_error(f, "{\"op\":null}");
    assert_error(f, "{\"op\":\"snapshot\"}");
    assert_error(f, "{\"op\":\"BOOK\",\"market\":\"spot\",\"symbol\":\"BTCUSDT\"}");
    assert_error(f, "{\"OP\":\"list\"}");
}

static void request_with_a_bad_market_is_an_error(void **state)
{
    fx_t *f = *state;
    assert_error(f, "{\"op\":\"book\",\"symbol\":\"BTCUSDT\"}");
    assert_error(f, "{\"op\":\"book\",\"market\":\"SPOT\",\"symbol\":\"BTCUSDT\"}");
    assert_error(f, "{\"op\":\"book\",\"market\":\"futures\",\"symbol\":\"BTCUSDT\"}");
    assert_error(f, "{\"op\":\"book\",\"market\":1,\"symbol\":\"BTCUSDT\"}");
    assert_error(f, "{\"op\":\"book\",\"market\":null,\"symbol\":\"BTCUSDT\"}");
}

static void request_with_a_bad_symbol_is_an_error(void **state)
{
    fx_t *f = *state;
    assert_error(f, "{\"op\":\"book\",\"market\":\"spot\"}");
    assert_error(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":42}");
    assert_error(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":[\"BTCUSDT\"]}");
    assert_error(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":"
                    "\"BTCUSDTBTCUSDTBTCUSDTBTCUSDTBTCUSDT\"}");
    assert_error(f, "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"BTC\\\"USDT\"}");
}

static void request_with_a_bad_depth_is_an_error(void **state)
{
    fx_t *f = *state;
    static const char *const depths[] = {"-1",  "1.5", "\"10\"", "true", "null",
                                         "1e7", "[5]", "{}",     "-0.5"};
    for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
        char req[160];
        snprintf(req, sizeof req,
                 "{\"op\":\"book\",\"market\":\"spot\",\"symbol\":\"BTCUSDT\",\"depth\":%s}",
                 depths[i]);
        assert_error(f, req);
    }
}

static void request_need_not_be_nul_terminated(void **state)
{
    fx_t *f = *state;
    /* A ZeroMQ frame has no terminator: only len bytes may be read. */
    static const char req[] = {'{', '"', 'o', 'p', '"', ':', '"', 'l', 'i', 's', 't', '"', '}'};
    snapshots_answer(f->b, req, sizeof req, &f->out);
    assert_true(f->out.len > 20);
    assert_memory_equal(f->out.data, "{\"op\":\"list\",\"books\":[", 22);
}

int main(void)
{
    log_options_t lo;
    log_options_default(&lo);
    lo.to_stderr = 0;
    log_open("test_bookbuilder_snapshots", &lo);

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(book_without_depth_has_every_level),
        T(book_with_depth_zero_has_every_level),
        T(book_with_depth_n_has_the_best_n_a_side),
        T(book_with_depth_beyond_the_book_has_every_level),
        T(book_answer_has_the_documented_keys_and_types),
        T(book_symbol_in_lower_case_names_the_same_book),
        T(unknown_book_is_an_error),
        T(book_not_synced_has_empty_sides),
        T(book_resyncing_has_empty_sides_and_the_last_seq),
        T(list_names_every_book_in_creation_order),
        cmocka_unit_test(book_says_how_far_each_side_is_complete),
        cmocka_unit_test(list_of_a_builder_without_books_is_empty),
        T(list_ignores_other_keys),
        T(request_that_is_not_json_is_an_error),
        T(request_that_is_not_an_object_is_an_error),
        T(request_without_a_known_op_is_an_error),
        T(request_with_a_bad_market_is_an_error),
        T(request_with_a_bad_symbol_is_an_error),
        T(request_with_a_bad_depth_is_an_error),
        T(request_need_not_be_nul_terminated),
    };
#undef T
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    log_close();
    return failed;
}
