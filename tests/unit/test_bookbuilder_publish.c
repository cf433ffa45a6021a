/*
 * test_bookbuilder_publish.c — the JSON bodies of the data bus (bookbuilder/publish.h) against the
 * contract, docs/topics.md.
 *
 * Each message kind is written from a hand-made input and compared byte for byte with the
 * expected body: the examples of docs/topics.md where they exist, so the page and the code cannot
 * drift apart, with the keys in the order the page shows. Every body is also parsed with cJSON to
 * check it is one JSON object with the documented types: integers as numbers, decimals as
 * strings, levels as [price, quantity] pairs of strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "publish.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static dec_t D(const char *s)
{
    dec_t d = {0};
    assert_int_equal(dec_parse(s, strlen(s), 0, &d), DEC_OK);
    return d;
}

static parse_dec_t PD(const char *s)
{
    const char *dot = strchr(s, '.');
    return (parse_dec_t){D(s), (uint8_t)(dot ? strlen(dot + 1) : 0)};
}

static void assert_body(const jbuf_t *b, const char *want)
{
    assert_false(jbuf_failed(b));
    if (b->len != strlen(want) || memcmp(b->data, want, b->len) != 0) {
        print_error("got  %.*s\nwant %s\n", (int)b->len, b->data, want);
        fail();
    }
}

/* Parses the body: one JSON object, and nothing after it. The caller deletes it. */
static cJSON *parse_body(const jbuf_t *b)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(b->data, b->len, &end, false);
    assert_non_null(root);
    assert_true(cJSON_IsObject(root));
    assert_ptr_equal(end, b->data + b->len);
    return root;
}

static const cJSON *item(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) {
        print_error("missing key %s\n", key);
        fail();
    }
    return it;
}

static void assert_number(const cJSON *obj, const char *key)
{
    assert_true(cJSON_IsNumber(item(obj, key)));
}

static void assert_string(const cJSON *obj, const char *key, const char *want)
{
    const cJSON *it = item(obj, key);
    assert_true(cJSON_IsString(it));
    if (want)
        assert_string_equal(it->valuestring, want);
}

/* An array of [price, quantity] pairs of strings, of length n. */
static void assert_levels(const cJSON *obj, const char *key, int n)
{
    const cJSON *side = item(obj, key);
    assert_true(cJSON_IsArray(side));
    assert_int_equal(cJSON_GetArraySize(side), n);
    const cJSON *lvl;
    cJSON_ArrayForEach(lvl, side)
    {
        assert_true(cJSON_IsArray(lvl));
        assert_int_equal(cJSON_GetArraySize(lvl), 2);
        assert_true(cJSON_IsString(cJSON_GetArrayItem(lvl, 0)));
        assert_true(cJSON_IsString(cJSON_GetArrayItem(lvl, 1)));
    }
}

/* Sets levels best first from "price", "qty" pairs, NULL-terminated. */
static void set_levels(book_t *book, book_side_t side, const char *const *pairs)
{
    for (size_t i = 0; pairs[i]; i += 2)
        assert_int_equal(book_set(book, side, D(pairs[i]), D(pairs[i + 1])), BOOK_INSERTED);
}

#define PAIRS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const publish_book_id_t SPOT_BTC = {"spot", "BTCUSDT", 8, 8, false};
static const publish_book_id_t USDM_BTC = {"usdm", "BTCUSDT", 2, 3, true};
static const publish_book_id_t SPOT_NKN = {"spot", "NKNUSDT", 8, 8, false};

/* NKNUSDT of the docs' snapshot example, five levels a side. */
static book_t *nkn_book(void)
{
    book_t *book = book_new(5);
    assert_non_null(book);
    set_levels(book, BOOK_BID,
               PAIRS("0.35210000", "672.00000000", "0.35200000", "1144.00000000", "0.35190000",
                     "3260.00000000", "0.35180000", "3052.00000000", "0.35160000",
                     "15356.00000000"));
    set_levels(book, BOOK_ASK,
               PAIRS("0.35250000", "3959.00000000", "0.35260000", "3199.00000000", "0.35270000",
                     "4201.00000000", "0.35280000", "703.00000000", "0.35290000", "6718.00000000"));
    return book;
}

/* ---- book ----------------------------------------------------------------------------------- */

static void spot_book_update_matches_the_documented_example(void **state)
{
    (void)state;
    jbuf_t b = {0};
    sync_applied_t applied = {.first_id = 50093241262,
                              .last_id = 50093241266,
                              .event_ms = 1723161258209,
                              .txn_ms = 0,
                              .recv_ns = 1723161256936890765};
    /* Bids and asks interleaved as the event applied them: each side keeps its own order. */
    const sync_change_t changes[] = {
        {.side = BOOK_ASK, .price = D("61840.18"), .qty = D("0.04959")},
        {.side = BOOK_BID, .price = D("61824"), .qty = D("0.32726")},
        {.side = BOOK_ASK, .price = D("61840.19"), .qty = D("0")},
        {.side = BOOK_BID, .price = D("61799.5"), .qty = D("0.0647")},
    };
    publish_book_update(&b, &SPOT_BTC, 29, &applied, changes, 4, 1723161256936890765);
    assert_body(&b, "{\"seq\":29,\"market\":\"spot\",\"symbol\":\"BTCUSDT\",\"type\":\"update\","
                    "\"first_id\":50093241262,\"last_id\":50093241266,\"event_ms\":1723161258209,"
                    "\"recv_ns\":1723161256936890765,\"pub_ns\":1723161256936890765,\"bids\":[["
                    "\"61824.00000000\",\"0.32726000\"],[\"61799.50000000\",\"0.06470000\"]],"
                    "\"asks\":[[\"61840.18000000\",\"0.04959000\"],[\"61840.19000000\","
                    "\"0.00000000\"]]}");
    cJSON *root = parse_body(&b);
    assert_number(root, "seq");
    assert_string(root, "market", "spot");
    assert_string(root, "symbol", "BTCUSDT");
    assert_string(root, "type", "update");
    assert_number(root, "first_id");
    assert_number(root, "last_id");
    assert_number(root, "event_ms");
    assert_null(cJSON_GetObjectItemCaseSensitive(root, "txn_ms"));
    assert_number(root, "recv_ns");
    assert_number(root, "pub_ns");
    assert_levels(root, "bids", 2);
    assert_levels(root, "asks", 2);
    cJSON_Delete(root);
    jbuf_free(&b);
}

/* A level carries the exchange's own text when the event was read straight from its payload:
   written ["p","q"] it is copied whole; with anything else around the strings (a space, which
   JSON allows) the strings alone are copied into our form; without text, the value is
   formatted. The three give the same bytes. */
static void book_update_copies_the_exchanges_text_in_our_form(void **state)
{
    (void)state;
    static const char plain[] = "[\"61824.00000000\",\"0.32726000\"]";
    static const char spaced[] = "[ \"61824.00000000\",\"0.32726000\" ]";
    sync_applied_t applied = {.first_id = 1, .last_id = 2, .event_ms = 3, .recv_ns = 4};
    sync_change_t from_plain = {.side = BOOK_BID,
                                .price = D("61824"),
                                .qty = D("0.32726"),
                                .price_text = plain + 2,
                                .qty_text = plain + 19,
                                .price_len = 14,
                                .qty_len = 10};
    sync_change_t from_spaced = from_plain;
    from_spaced.price_text = spaced + 3;
    from_spaced.qty_text = spaced + 20;
    sync_change_t formatted = {.side = BOOK_BID, .price = D("61824"), .qty = D("0.32726")};
    const sync_change_t *cases[] = {&from_plain, &from_spaced, &formatted};
    for (size_t i = 0; i < 3; i++) {
        jbuf_t b = {0};
        publish_book_update(&b, &SPOT_BTC, 1, &applied, cases[i], 1, 5);
        assert_body(&b, "{\"seq\":1,\"market\":\"spot\",\"symbol\":\"BTCUSDT\",\"type\":\"update\","
                        "\"first_id\":1,\"last_id\":2,\"event_ms\":3,\"recv_ns\":4,\"pub_ns\":5,"
                        "\"bids\":[[\"61824.00000000\",\"0.32726000\"]],\"asks\":[]}");
        jbuf_free(&b);
    }
}

static void futures_book_update_matches_the_documented_example_with_txn_ms(void **state)
{
    (void)state;
    jbuf_t b = {0};
    sync_applied_t applied = {.first_id = 5123108235337,
                              .last_id = 5123108237014,
                              .event_ms = 1723161261998,
                              .txn_ms = 1723161261993,
                              .recv_ns = 1723161260728988661};
    const sync_change_t changes[] = {
        {.side = BOOK_ASK, .price = D("61818.9"), .qty = D("0.025")},
        {.side = BOOK_ASK, .price = D("61821.8"), .qty = D("0.133")},
        {.side = BOOK_ASK, .price = D("61994.9"), .qty = D("0")},
        {.side = BOOK_ASK, .price = D("62450"), .qty = D("9.999")},
    };
    publish_book_update(&b, &USDM_BTC, 105, &applied, changes, 4, 1723161260728988661);
    assert_body(&b, "{\"seq\":105,\"market\":\"usdm\",\"symbol\":\"BTCUSDT\",\"type\":\"update\","
                    "\"first_id\":5123108235337,\"last_id\":5123108237014,\"event_ms\":"
                    "1723161261998,\"txn_ms\":1723161261993,\"recv_ns\":1723161260728988661,"
                    "\"pub_ns\":1723161260728988661,\"bids\":[],\"asks\":[[\"61818.90\",\"0.025\"],"
                    "[\"61821.80\",\"0.133\"],[\"61994.90\",\"0.000\"],[\"62450.00\",\"9.999\"]]}");
    cJSON *root = parse_body(&b);
    assert_number(root, "txn_ms");
    assert_levels(root, "bids", 0);
    assert_levels(root, "asks", 4);
    cJSON_Delete(root);
    jbuf_free(&b);
}

static void book_update_lists_one_price_twice_in_the_order_applied(void **state)
{
    (void)state;
    jbuf_t b = {0};
    sync_applied_t applied = {.first_id = 11, .last_id = 12, .event_ms = 5, .recv_ns = 6};
    const sync_change_t changes[] = {
        {.side = BOOK_BID, .price = D("100"), .qty = D("1")},
        {.side = BOOK_BID, .price = D("99"), .qty = D("2")},
        {.side = BOOK_BID, .price = D("100"), .qty = D("0")},
    };
    publish_book_update(&b, &(publish_book_id_t){"spot", "X", 0, 0, false}, 1, &applied, changes, 3,
                        7);
    assert_body(&b, "{\"seq\":1,\"market\":\"spot\",\"symbol\":\"X\",\"type\":\"update\","
                    "\"first_id\":11,\"last_id\":12,\"event_ms\":5,\"recv_ns\":6,\"pub_ns\":7,"
                    "\"bids\":[[\"100\",\"1\"],[\"99\",\"2\"],[\"100\",\"0\"]],\"asks\":[]}");
    jbuf_free(&b);
}

static void spot_book_snapshot_matches_the_documented_example(void **state)
{
    (void)state;
    jbuf_t b = {0};
    book_t *book = nkn_book();
    sync_applied_t applied = {
        .first_id = 499869752, .last_id = 499869752, .event_ms = 0, .recv_ns = 1633998512320639000};
    publish_book_snapshot(&b, &SPOT_NKN, 1, book, &applied, 1633998512320639000);
    assert_body(&b, "{\"seq\":1,\"market\":\"spot\",\"symbol\":\"NKNUSDT\",\"type\":\"snapshot\","
                    "\"first_id\":499869752,\"last_id\":499869752,\"event_ms\":0,\"recv_ns\":"
                    "1633998512320639000,\"pub_ns\":1633998512320639000,\"bids\":[[\"0.35210000\","
                    "\"672.00000000\"],[\"0.35200000\",\"1144.00000000\"],[\"0.35190000\","
                    "\"3260.00000000\"],[\"0.35180000\",\"3052.00000000\"],[\"0.35160000\","
                    "\"15356.00000000\"]],\"asks\":[[\"0.35250000\",\"3959.00000000\"],["
                    "\"0.35260000\",\"3199.00000000\"],[\"0.35270000\",\"4201.00000000\"],["
                    "\"0.35280000\",\"703.00000000\"],[\"0.35290000\",\"6718.00000000\"]]}");
    cJSON *root = parse_body(&b);
    assert_string(root, "type", "snapshot");
    assert_null(cJSON_GetObjectItemCaseSensitive(root, "txn_ms"));
    assert_levels(root, "bids", 5);
    assert_levels(root, "asks", 5);
    cJSON_Delete(root);
    book_destroy(&book);
    jbuf_free(&b);
}

static void futures_book_snapshot_carries_txn_ms(void **state)
{
    (void)state;
    jbuf_t b = {0};
    book_t *book = book_new(10);
    set_levels(book, BOOK_BID, PAIRS("61800.2", "2.909"));
    sync_applied_t applied = {.first_id = 5123107852948,
                              .last_id = 5123107852948,
                              .event_ms = 1723161256501,
                              .txn_ms = 1723161256493,
                              .recv_ns = 10};
    publish_book_snapshot(&b, &USDM_BTC, 1, book, &applied, 11);
    assert_body(&b, "{\"seq\":1,\"market\":\"usdm\",\"symbol\":\"BTCUSDT\",\"type\":\"snapshot\","
                    "\"first_id\":5123107852948,\"last_id\":5123107852948,\"event_ms\":"
                    "1723161256501,\"txn_ms\":1723161256493,\"recv_ns\":10,\"pub_ns\":11,"
                    "\"bids\":[[\"61800.20\",\"2.909\"]],\"asks\":[]}");
    book_destroy(&book);
    jbuf_free(&b);
}

/* ---- bbo ------------------------------------------------------------------------------------ */

static void bbo_matches_the_documented_example(void **state)
{
    (void)state;
    jbuf_t b = {0};
    book_t *book = book_new(10);
    set_levels(book, BOOK_BID, PAIRS("61837.63", "3.78826", "61837.62", "0.617"));
    set_levels(book, BOOK_ASK, PAIRS("61837.64", "1.6052", "61837.65", "0.00843"));
    publish_bbo(&b, &SPOT_BTC, 1, book, 50093239224, 1723161255408, 1723161254137307667,
                1723161254206652067);
    assert_body(&b, "{\"seq\":1,\"market\":\"spot\",\"symbol\":\"BTCUSDT\",\"update_id\":"
                    "50093239224,\"bid\":\"61837.63000000\",\"bid_qty\":\"3.78826000\",\"ask\":"
                    "\"61837.64000000\",\"ask_qty\":\"1.60520000\",\"event_ms\":1723161255408,"
                    "\"recv_ns\":1723161254137307667,\"pub_ns\":1723161254206652067}");
    cJSON *root = parse_body(&b);
    assert_number(root, "update_id");
    assert_string(root, "bid", "61837.63000000");
    assert_string(root, "bid_qty", NULL);
    assert_string(root, "ask", NULL);
    assert_string(root, "ask_qty", NULL);
    assert_number(root, "event_ms");
    cJSON_Delete(root);
    book_destroy(&book);
    jbuf_free(&b);
}

static void bbo_of_an_empty_side_is_null(void **state)
{
    (void)state;
    jbuf_t b = {0};
    book_t *book = book_new(10);
    set_levels(book, BOOK_ASK, PAIRS("61800.3", "1.072"));
    publish_bbo(&b, &USDM_BTC, 3, book, 77, 1, 2, 3);
    assert_body(&b, "{\"seq\":3,\"market\":\"usdm\",\"symbol\":\"BTCUSDT\",\"update_id\":77,"
                    "\"bid\":null,\"bid_qty\":null,\"ask\":\"61800.30\",\"ask_qty\":\"1.072\","
                    "\"event_ms\":1,\"recv_ns\":2,\"pub_ns\":3}");
    cJSON *root = parse_body(&b);
    assert_true(cJSON_IsNull(item(root, "bid")));
    assert_true(cJSON_IsNull(item(root, "bid_qty")));
    assert_string(root, "ask", "61800.30");
    cJSON_Delete(root);

    book_clear(book);
    publish_bbo(&b, &USDM_BTC, 4, book, 78, 1, 2, 3);
    assert_body(&b, "{\"seq\":4,\"market\":\"usdm\",\"symbol\":\"BTCUSDT\",\"update_id\":78,"
                    "\"bid\":null,\"bid_qty\":null,\"ask\":null,\"ask_qty\":null,"
                    "\"event_ms\":1,\"recv_ns\":2,\"pub_ns\":3}");
    root = parse_body(&b);
    assert_true(cJSON_IsNull(item(root, "ask")));
    assert_true(cJSON_IsNull(item(root, "ask_qty")));
    cJSON_Delete(root);
    book_destroy(&book);
    jbuf_free(&b);
}

/* ---- depth<N> ------------------------------------------------------------------------------- */

static void depth_matches_the_documented_example(void **state)
{
    (void)state;
    jbuf_t b = {0};
    book_t *book = nkn_book();
    publish_depth(&b, &SPOT_NKN, 1, book, 5, 499869752, 1633998512564785000);
    assert_body(&b, "{\"seq\":1,\"market\":\"spot\",\"symbol\":\"NKNUSDT\",\"update_id\":"
                    "499869752,\"pub_ns\":1633998512564785000,\"bids\":[[\"0.35210000\","
                    "\"672.00000000\"],[\"0.35200000\",\"1144.00000000\"],[\"0.35190000\","
                    "\"3260.00000000\"],[\"0.35180000\",\"3052.00000000\"],[\"0.35160000\","
                    "\"15356.00000000\"]],\"asks\":[[\"0.35250000\",\"3959.00000000\"],["
                    "\"0.35260000\",\"3199.00000000\"],[\"0.35270000\",\"4201.00000000\"],["
                    "\"0.35280000\",\"703.00000000\"],[\"0.35290000\",\"6718.00000000\"]]}");
    cJSON *root = parse_body(&b);
    assert_number(root, "update_id");
    assert_number(root, "pub_ns");
    assert_levels(root, "bids", 5);
    assert_levels(root, "asks", 5);
    cJSON_Delete(root);
    book_destroy(&book);
    jbuf_free(&b);
}

static void depth_keeps_only_the_top_n_best_first(void **state)
{
    (void)state;
    jbuf_t b = {0};
    book_t *book = nkn_book();
    publish_depth(&b, &SPOT_NKN, 9, book, 2, 5, 6);
    assert_body(&b, "{\"seq\":9,\"market\":\"spot\",\"symbol\":\"NKNUSDT\",\"update_id\":5,"
                    "\"pub_ns\":6,\"bids\":[[\"0.35210000\",\"672.00000000\"],[\"0.35200000\","
                    "\"1144.00000000\"]],\"asks\":[[\"0.35250000\",\"3959.00000000\"],["
                    "\"0.35260000\",\"3199.00000000\"]]}");
    jbuf_free(&b);
    book_destroy(&book);
}

/* ---- trade ---------------------------------------------------------------------------------- */

static void spot_trade_matches_the_documented_example(void **state)
{
    (void)state;
    jbuf_t b = {0};
    trade_event_t t = {.id = 3735683259,
                       .first_trade_id = 3735683259,
                       .last_trade_id = 3735683259,
                       .price = PD("61837.63000000"),
                       .qty = PD("0.02000000"),
                       .trade_ms = 1723161255342,
                       .event_ms = 1723161255343,
                       .buyer_is_maker = true};
    publish_trade(&b, "spot", "BTCUSDT", 1, EVENT_TRADE, &t, 1723161254087896568,
                  1723161254087896568);
    assert_body(&b, "{\"seq\":1,\"market\":\"spot\",\"symbol\":\"BTCUSDT\",\"type\":\"trade\","
                    "\"id\":3735683259,\"price\":\"61837.63000000\",\"qty\":\"0.02000000\","
                    "\"taker_side\":\"sell\",\"trade_ms\":1723161255342,\"event_ms\":"
                    "1723161255343,\"recv_ns\":1723161254087896568,\"pub_ns\":"
                    "1723161254087896568}");
    cJSON *root = parse_body(&b);
    assert_string(root, "type", "trade");
    assert_number(root, "id");
    assert_null(cJSON_GetObjectItemCaseSensitive(root, "first_trade_id"));
    assert_string(root, "price", "61837.63000000");
    assert_string(root, "qty", "0.02000000");
    assert_string(root, "taker_side", "sell");
    assert_number(root, "trade_ms");
    cJSON_Delete(root);
    jbuf_free(&b);
}

static void agg_trade_matches_the_documented_example(void **state)
{
    (void)state;
    jbuf_t b = {0};
    trade_event_t t = {.id = 16599292,
                       .first_trade_id = 23961322,
                       .last_trade_id = 23961322,
                       .price = PD("1.01100"),
                       .qty = PD("10"),
                       .trade_ms = 1626992741421,
                       .event_ms = 1626992741575,
                       .buyer_is_maker = false};
    publish_trade(&b, "usdm", "CTKUSDT", 1, EVENT_AGG_TRADE, &t, 1626992742289739000,
                  1626992742289739000);
    assert_body(&b, "{\"seq\":1,\"market\":\"usdm\",\"symbol\":\"CTKUSDT\",\"type\":"
                    "\"agg_trade\",\"id\":16599292,\"first_trade_id\":23961322,"
                    "\"last_trade_id\":23961322,\"price\":\"1.01100\",\"qty\":\"10\","
                    "\"taker_side\":\"buy\",\"trade_ms\":1626992741421,\"event_ms\":"
                    "1626992741575,\"recv_ns\":1626992742289739000,\"pub_ns\":"
                    "1626992742289739000}");
    cJSON *root = parse_body(&b);
    assert_string(root, "type", "agg_trade");
    assert_number(root, "first_trade_id");
    assert_number(root, "last_trade_id");
    assert_string(root, "taker_side", "buy");
    cJSON_Delete(root);
    jbuf_free(&b);
}

/* ---- kline ---------------------------------------------------------------------------------- */

static kline_event_t sushi_kline(bool closed)
{
    kline_event_t k = {.open_ms = 1626992700000,
                       .close_ms = 1626992759999,
                       .first_trade_id = 126902874,
                       .last_trade_id = 126902986,
                       .trade_count = 113,
                       .open = PD("7.6080"),
                       .high = PD("7.6180"),
                       .low = PD("7.6070"),
                       .close = PD("7.6170"),
                       .volume = PD("3005"),
                       .quote_volume = PD("22875.8590"),
                       .taker_buy_volume = PD("1900"),
                       .taker_buy_quote_volume = PD("14464.6960"),
                       .closed = closed,
                       .event_ms = 1626992760203};
    strcpy(k.interval, "1m");
    return k;
}

static void closed_kline_matches_the_documented_example(void **state)
{
    (void)state;
    jbuf_t b = {0};
    kline_event_t k = sushi_kline(true);
    publish_kline(&b, "usdm", "SUSHIUSDT", 1, &k, 1626992760247864000, 1626992760247864000);
    assert_body(&b, "{\"seq\":1,\"market\":\"usdm\",\"symbol\":\"SUSHIUSDT\",\"interval\":\"1m\","
                    "\"open_ms\":1626992700000,\"close_ms\":1626992759999,\"open\":\"7.6080\","
                    "\"high\":\"7.6180\",\"low\":\"7.6070\",\"close\":\"7.6170\",\"volume\":"
                    "\"3005\",\"quote_volume\":\"22875.8590\",\"taker_buy_volume\":\"1900\","
                    "\"taker_buy_quote_volume\":\"14464.6960\",\"trades\":113,\"first_trade_id\":"
                    "126902874,\"last_trade_id\":126902986,\"closed\":true,\"event_ms\":"
                    "1626992760203,\"recv_ns\":1626992760247864000,\"pub_ns\":"
                    "1626992760247864000}");
    cJSON *root = parse_body(&b);
    assert_string(root, "interval", "1m");
    assert_number(root, "open_ms");
    assert_string(root, "open", "7.6080");
    assert_string(root, "volume", "3005");
    assert_number(root, "trades");
    assert_true(cJSON_IsTrue(item(root, "closed")));
    cJSON_Delete(root);
    jbuf_free(&b);
}

static void open_kline_says_closed_false(void **state)
{
    (void)state;
    jbuf_t b = {0};
    kline_event_t k = sushi_kline(false);
    k.first_trade_id = k.last_trade_id = k.trade_count = 0;
    publish_kline(&b, "usdm", "SUSHIUSDT", 2, &k, 1, 2);
    cJSON *root = parse_body(&b);
    assert_true(cJSON_IsFalse(item(root, "closed")));
    assert_int_equal(item(root, "first_trade_id")->valueint, 0);
    cJSON_Delete(root);
    jbuf_free(&b);
}

/* ---- status --------------------------------------------------------------------------------- */

static void status_matches_the_documented_example(void **state)
{
    (void)state;
    jbuf_t b = {0};
    publish_status_t st = {.state = "synced",
                           .reason = "start",
                           .update_id = 5123107856210,
                           .resyncs = 0,
                           .run_id = 0x8d0f3c21a7b94e12ULL,
                           .started_ns = 1723161255030314667};
    publish_status(&b, "usdm", "BTCUSDT", 2, &st, 1723161255319702566);
    assert_body(&b, "{\"seq\":2,\"market\":\"usdm\",\"symbol\":\"BTCUSDT\",\"state\":\"synced\","
                    "\"reason\":\"start\",\"update_id\":5123107856210,\"resyncs\":0,\"run_id\":"
                    "\"8d0f3c21a7b94e12\",\"started_ns\":1723161255030314667,\"pub_ns\":"
                    "1723161255319702566}");
    cJSON *root = parse_body(&b);
    assert_string(root, "state", "synced");
    assert_string(root, "reason", "start");
    assert_number(root, "update_id");
    assert_number(root, "resyncs");
    assert_string(root, "run_id", "8d0f3c21a7b94e12");
    assert_number(root, "started_ns");
    cJSON_Delete(root);
    jbuf_free(&b);
}

static void status_of_a_replay_has_a_zero_run_id_of_sixteen_digits(void **state)
{
    (void)state;
    jbuf_t b = {0};
    publish_status_t st = {.state = "resyncing", .reason = "gap", .resyncs = 3, .started_ns = 1};
    publish_status(&b, "coinm", "BTCUSD_PERP", 7, &st, 2);
    assert_body(&b, "{\"seq\":7,\"market\":\"coinm\",\"symbol\":\"BTCUSD_PERP\",\"state\":"
                    "\"resyncing\",\"reason\":\"gap\",\"update_id\":0,\"resyncs\":3,\"run_id\":"
                    "\"0000000000000000\",\"started_ns\":1,\"pub_ns\":2}");
    jbuf_free(&b);
}

static void writing_a_message_replaces_the_previous_one(void **state)
{
    (void)state;
    jbuf_t b = {0};
    publish_status_t st = {.state = "syncing", .reason = "start"};
    publish_status(&b, "spot", "BTCUSDT", 1, &st, 2);
    size_t first_len = b.len;
    publish_status(&b, "spot", "BTCUSDT", 1, &st, 2);
    assert_int_equal(b.len, first_len);
    cJSON_Delete(parse_body(&b));
    jbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(book_update_copies_the_exchanges_text_in_our_form),
        cmocka_unit_test(spot_book_update_matches_the_documented_example),
        cmocka_unit_test(futures_book_update_matches_the_documented_example_with_txn_ms),
        cmocka_unit_test(book_update_lists_one_price_twice_in_the_order_applied),
        cmocka_unit_test(spot_book_snapshot_matches_the_documented_example),
        cmocka_unit_test(futures_book_snapshot_carries_txn_ms),
        cmocka_unit_test(bbo_matches_the_documented_example),
        cmocka_unit_test(bbo_of_an_empty_side_is_null),
        cmocka_unit_test(depth_matches_the_documented_example),
        cmocka_unit_test(depth_keeps_only_the_top_n_best_first),
        cmocka_unit_test(spot_trade_matches_the_documented_example),
        cmocka_unit_test(agg_trade_matches_the_documented_example),
        cmocka_unit_test(closed_kline_matches_the_documented_example),
        cmocka_unit_test(open_kline_says_closed_false),
        cmocka_unit_test(status_matches_the_documented_example),
        cmocka_unit_test(status_of_a_replay_has_a_zero_run_id_of_sixteen_digits),
        cmocka_unit_test(writing_a_message_replaces_the_previous_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
