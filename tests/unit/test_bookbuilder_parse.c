/*
 * test_bookbuilder_parse.c — parse_frame and parse_snapshot against real Binance messages.
 *
 * Three parts. One test per kind on a message copied verbatim from the captures in
 * tests/data/binance-real-data (hftbacktest and cryptofeed; snapshot bodies keep their first
 * levels only); kinds no capture holds (partial depth, markPrice, replies, candles without
 * trades) are written from binance-protocol.md §3 and §5. Then one test per way a payload is
 * refused, each forcing its parse_err_t with the smallest change to a real message. Last, every
 * line of every capture is parsed and compared with what cJSON reads from the same text: kind,
 * ids, times, and every price and quantity formatted back with dec_format_fixed must be the
 * exchange's exact string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "parse.h"

#ifndef BOOKCAST_SOURCE_DIR
#error "BOOKCAST_SOURCE_DIR must name the source tree"
#endif
#define REAL_DATA BOOKCAST_SOURCE_DIR "/tests/data/binance-real-data/"

#define MAX_LEVELS 5000 /* spot's deepest snapshot */

/* ---- real messages ------------------------------------------------------------------------ */

/* spot_btcusdt_20240808.gz, line 2 */
static const char SPOT_DEPTH[] =
    "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1723161255308,\"s\":"
    "\"BTCUSDT\",\"U\":50093239203,\"u\":50093239207,\"b\":[[\"55653.87000000\",\"0.00000000\"]],"
    "\"a\":[[\"61838.04000000\",\"0.32332000\"],[\"61844.30000000\",\"0.40163000\"],[\"61862."
    "50000000\",\"0.05019000\"],[\"61862.51000000\",\"0.00000000\"]]}}";

/* usdm_btcusdt_20240808.gz: 889 bytes, 19 bids, 15 asks */
static const char USDM_DEPTH[] =
    "{\"stream\":\"btcusdt@depth@0ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1723161256878,\"T\":"
    "1723161256878,\"s\":\"BTCUSDT\",\"U\":5123107874449,\"u\":5123107879150,\"pu\":5123107874163,"
    "\"b\":[[\"5000.00\",\"2.321\"],[\"33000.00\",\"5.203\"],[\"60788.20\",\"0.100\"],[\"61550."
    "00\",\"2.376\"],[\"61600.00\",\"7.907\"],[\"61614.80\",\"0.000\"],[\"61645.20\",\"0.002\"],"
    "[\"61650.00\",\"5.346\"],[\"61670.00\",\"0.023\"],[\"61703.40\",\"0.180\"],[\"61739.30\","
    "\"0.847\"],[\"61739.40\",\"0.027\"],[\"61740.00\",\"12.109\"],[\"61788.20\",\"0.002\"],["
    "\"61789.50\",\"0.000\"],[\"61789.90\",\"0.000\"],[\"61790.40\",\"0.000\"],[\"61798.90\","
    "\"0.000\"],[\"61800.10\",\"0.599\"]],\"a\":[[\"61800.20\",\"5.723\"],[\"61800.30\",\"0."
    "809\"],[\"61811.90\",\"0.000\"],[\"61827.60\",\"0.607\"],[\"61829.80\",\"0.822\"],[\"61831."
    "40\",\"0.661\"],[\"61835.50\",\"0.087\"],[\"61854.90\",\"0.243\"],[\"61862.10\",\"1.484\"],"
    "[\"61871.30\",\"0.526\"],[\"61878.90\",\"0.006\"],[\"61914.00\",\"0.084\"],[\"61961.50\","
    "\"0.008\"],[\"61988.70\",\"0.119\"],[\"63000.00\",\"73.360\"]]}}";

/* cm_ethusd_perp_20240808.gz, line 5 */
static const char COINM_DEPTH[] =
    "{\"stream\":\"ethusd_perp@depth@0ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1723161257476,"
    "\"T\":1723161257464,\"s\":\"ETHUSD_PERP\",\"ps\":\"ETHUSD\",\"U\":1007198631841,\"u\":"
    "1007198632010,\"pu\":1007198631840,\"b\":[[\"2681.34\",\"1440\"],[\"2681.44\",\"500\"],["
    "\"2681.61\",\"319\"]],\"a\":[[\"2682.13\",\"0\"],[\"2682.18\",\"3793\"]]}}";

/* spot_btcusdt_20240808.gz, line 4 */
static const char SPOT_TRADE[] =
    "{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1723161255343,\"s\":\"BTCUSDT\","
    "\"t\":3735683259,\"p\":\"61837.63000000\",\"q\":\"0.02000000\",\"T\":1723161255342,\"m\":"
    "true,\"M\":true}}";

/* usdm_btcusdt_20240808.gz, line 3 */
static const char USDM_TRADE[] =
    "{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"E\":1723161256322,\"T\":"
    "1723161256322,\"s\":\"BTCUSDT\",\"t\":5266583935,\"p\":\"61800.30\",\"q\":\"0.006\",\"X\":"
    "\"MARKET\",\"m\":false}}";

/* cm_ethusd_perp_20240808.gz */
static const char COINM_TRADE[] =
    "{\"stream\":\"ethusd_perp@trade\",\"data\":{\"e\":\"trade\",\"E\":1723161258769,\"T\":"
    "1723161258762,\"s\":\"ETHUSD_PERP\",\"t\":805376266,\"p\":\"2682.18\",\"q\":\"1\",\"X\":"
    "\"MARKET\",\"m\":false}}";

/* cryptofeed_BINANCE.ws.1.0 */
static const char SPOT_AGG_TRADE[] =
    "{\"stream\":\"lrcbtc@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"E\":1633998534486,\"s\":"
    "\"LRCBTC\",\"a\":9213679,\"p\":\"0.00000638\",\"q\":\"177.00000000\",\"f\":12368013,\"l\":"
    "12368013,\"T\":1633998534486,\"m\":false,\"M\":true}}";

/* cryptofeed_BINANCE_FUTURES.ws.1.0 */
static const char USDM_AGG_TRADE[] =
    "{\"stream\":\"ctkusdt@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"E\":1626992741575,\"a\":"
    "16599292,\"s\":\"CTKUSDT\",\"p\":\"1.01100\",\"q\":\"10\",\"f\":23961322,\"l\":23961322,"
    "\"T\":1626992741421,\"m\":false}}";

/* cryptofeed_BINANCE_DELIVERY.ws.1.0 */
static const char COINM_AGG_TRADE[] =
    "{\"stream\":\"bchusd_perp@aggTrade\",\"data\":{\"e\":\"aggTrade\",\"E\":1626916404006,\"a\":"
    "11285749,\"s\":\"BCHUSD_PERP\",\"p\":\"427.91\",\"q\":\"3\",\"f\":16034449,\"l\":16034449,"
    "\"T\":1626916403852,\"m\":true}}";

/* spot_btcusdt_20240808.gz, line 3 */
static const char SPOT_BOOK_TICKER[] =
    "{\"stream\":\"btcusdt@bookTicker\",\"data\":{\"u\":50093239212,\"s\":\"BTCUSDT\",\"b\":"
    "\"61837.63000000\",\"B\":\"3.78826000\",\"a\":\"61837.64000000\",\"A\":\"1.54698000\"}}";

/* usdm_btcusdt_20240808.gz, line 2 */
static const char USDM_BOOK_TICKER[] =
    "{\"stream\":\"btcusdt@bookTicker\",\"data\":{\"e\":\"bookTicker\",\"u\":5123107839020,\"s\":"
    "\"BTCUSDT\",\"b\":\"61800.20\",\"B\":\"2.507\",\"a\":\"61800.30\",\"A\":\"2.510\",\"T\":"
    "1723161256313,\"E\":1723161256313}}";

/* cm_ethusd_perp_20240808.gz, line 2 */
static const char COINM_BOOK_TICKER[] =
    "{\"stream\":\"ethusd_perp@bookTicker\",\"data\":{\"u\":1007198631825,\"e\":\"bookTicker\","
    "\"s\":\"ETHUSD_PERP\",\"ps\":\"ETHUSD\",\"b\":\"2682.17\",\"B\":\"159\",\"a\":\"2682.18\","
    "\"A\":\"3794\",\"T\":1723161257450,\"E\":1723161257457}}";

/* cryptofeed_BINANCE.ws.1.0: a candle still open */
static const char SPOT_KLINE_OPEN[] =
    "{\"stream\":\"nknusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1633998523963,\"s\":"
    "\"NKNUSDT\",\"k\":{\"t\":1633998480000,\"T\":1633998539999,\"s\":\"NKNUSDT\",\"i\":\"1m\","
    "\"f\":19862761,\"L\":19862790,\"o\":\"0.35270000\",\"c\":\"0.35280000\",\"h\":\"0."
    "35280000\",\"l\":\"0.35220000\",\"v\":\"25877.00000000\",\"n\":30,\"x\":false,\"q\":\"9116."
    "04600000\",\"V\":\"58.00000000\",\"Q\":\"20.46240000\",\"B\":\"0\"}}}";

/* cryptofeed_BINANCE_FUTURES.ws.1.0: the final candle of a minute */
static const char USDM_KLINE_CLOSED[] =
    "{\"stream\":\"sushiusdt@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1626992760203,\"s\":"
    "\"SUSHIUSDT\",\"k\":{\"t\":1626992700000,\"T\":1626992759999,\"s\":\"SUSHIUSDT\",\"i\":"
    "\"1m\",\"f\":126902874,\"L\":126902986,\"o\":\"7.6080\",\"c\":\"7.6170\",\"h\":\"7.6180\","
    "\"l\":\"7.6070\",\"v\":\"3005\",\"n\":113,\"x\":true,\"q\":\"22875.8590\",\"V\":\"1900\","
    "\"Q\":\"14464.6960\",\"B\":\"0\"}}}";

/* cryptofeed_BINANCE_DELIVERY.ws.1.0 */
static const char COINM_KLINE_OPEN[] =
    "{\"stream\":\"ethusd_210924@kline_1m\",\"data\":{\"e\":\"kline\",\"E\":1626916405054,\"s\":"
    "\"ETHUSD_210924\",\"k\":{\"t\":1626916380000,\"T\":1626916439999,\"s\":\"ETHUSD_210924\","
    "\"i\":\"1m\",\"f\":11380855,\"L\":11380895,\"o\":\"1992.70\",\"c\":\"1992.17\",\"h\":"
    "\"1993.71\",\"l\":\"1992.17\",\"v\":\"1893\",\"n\":41,\"x\":false,\"q\":\"9.49653573\","
    "\"V\":\"1368\",\"Q\":\"6.86228695\",\"B\":\"0\"}}}";

/* spot_btcusdt_20240808.gz, line 8, first three levels a side */
static const char SPOT_SNAPSHOT[] =
    "{\"lastUpdateId\":50093239218,\"bids\":[[\"61837.63000000\",\"3.78826000\"],[\"61837."
    "62000000\",\"0.61700000\"],[\"61837.24000000\",\"0.10610000\"]],\"asks\":[[\"61837."
    "64000000\",\"1.54698000\"],[\"61837.65000000\",\"0.00843000\"],[\"61837.68000000\",\"0."
    "00016000\"]]}";

/* usdm_btcusdt_20240808.gz, first three levels a side */
static const char USDM_SNAPSHOT[] =
    "{\"lastUpdateId\":5123107852948,\"E\":1723161256501,\"T\":1723161256493,\"bids\":[[\"61800."
    "20\",\"2.909\"],[\"61800.10\",\"0.696\"],[\"61800.00\",\"20.004\"]],\"asks\":[[\"61800.30\","
    "\"1.072\"],[\"61800.70\",\"0.002\"],[\"61801.00\",\"0.003\"]]}";

/* cm_ethusd_perp_20240808.gz, first three levels a side: quantities are whole contracts */
static const char COINM_SNAPSHOT[] =
    "{\"lastUpdateId\":1007198635066,\"E\":1723161257838,\"T\":1723161257827,\"symbol\":\"ETHUSD_"
    "PERP\",\"pair\":\"ETHUSD\",\"bids\":[[\"2682.17\",\"159\"],[\"2682.12\",\"63\"],[\"2682.07\","
    "\"268\"]],\"asks\":[[\"2682.18\",\"3793\"],[\"2682.19\",\"281\"],[\"2682.23\",\"449\"]]}";

/* ---- helpers ------------------------------------------------------------------------------ */

static int setup(void **state)
{
    parse_t *p = parse_new(MAX_LEVELS);
    if (p == NULL)
        return -1;
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    parse_t *p = *state;
    parse_destroy(&p);
    return 0;
}

static event_t ev;
static snapshot_t snap;
static char detail[256];

static void check_frame_ok(parse_t *p, market_t market, const char *text, event_kind_t kind,
                           const char *file, int line)
{
    memset(&ev, 0x5a, sizeof ev);
    strcpy(detail, "untouched");
    parse_err_t err = parse_frame(p, market, text, strlen(text), &ev, detail, sizeof detail);
    if (err != PARSE_OK || ev.kind != kind || detail[0] != '\0') {
        print_error("%s: expected ok kind %d, got %s kind %d (%s)\n", text, (int)kind,
                    parse_err_name(err), (int)ev.kind, detail);
        _fail(file, line);
    }
}
#define assert_frame_ok(p, market, text, kind)                                                     \
    check_frame_ok(p, market, text, kind, __FILE__, __LINE__)

/* `want_detail` must occur in the detail. */
static void check_frame_err(parse_t *p, market_t market, const char *text, size_t len,
                            parse_err_t want, const char *want_detail, const char *file, int line)
{
    detail[0] = '\0';
    parse_err_t err = parse_frame(p, market, text, len, &ev, detail, sizeof detail);
    if (err != want || strstr(detail, want_detail) == NULL) {
        print_error("%.*s:\n  expected %s with \"%s\", got %s with \"%s\"\n", (int)len, text,
                    parse_err_name(want), want_detail, parse_err_name(err), detail);
        _fail(file, line);
    }
}
#define assert_frame_err(p, market, text, want, want_detail)                                       \
    check_frame_err(p, market, text, strlen(text), want, want_detail, __FILE__, __LINE__)

static void check_snapshot_ok(parse_t *p, market_t market, const char *text, const char *file,
                              int line)
{
    memset(&snap, 0x5a, sizeof snap);
    parse_err_t err = parse_snapshot(p, market, text, strlen(text), &snap, detail, sizeof detail);
    if (err != PARSE_OK) {
        print_error("%s: expected ok, got %s (%s)\n", text, parse_err_name(err), detail);
        _fail(file, line);
    }
}
#define assert_snapshot_ok(p, market, text) check_snapshot_ok(p, market, text, __FILE__, __LINE__)

static void check_snapshot_err(parse_t *p, market_t market, const char *text, parse_err_t want,
                               const char *want_detail, const char *file, int line)
{
    detail[0] = '\0';
    parse_err_t err = parse_snapshot(p, market, text, strlen(text), &snap, detail, sizeof detail);
    if (err != want || strstr(detail, want_detail) == NULL) {
        print_error("%s:\n  expected %s with \"%s\", got %s with \"%s\"\n", text,
                    parse_err_name(want), want_detail, parse_err_name(err), detail);
        _fail(file, line);
    }
}
#define assert_snapshot_err(p, market, text, want, want_detail)                                    \
    check_snapshot_err(p, market, text, want, want_detail, __FILE__, __LINE__)

/* The value formatted with the places it was written with must be the exchange's string. */
static void check_dec(dec_t value, unsigned places, const char *want, const char *file, int line)
{
    char buf[DEC_STRLEN];
    dec_format_fixed(value, places, buf);
    if (strcmp(buf, want) != 0) {
        print_error("expected \"%s\", formatted \"%s\" (%lld units, %u places)\n", want, buf,
                    (long long)value.units, places);
        _fail(file, line);
    }
}
#define assert_dec(d, want) check_dec((d).value, (d).places, want, __FILE__, __LINE__)
#define assert_level(lv, pp, qp, want_price, want_qty)                                             \
    do {                                                                                           \
        check_dec((lv).price, pp, want_price, __FILE__, __LINE__);                                 \
        check_dec((lv).qty, qp, want_qty, __FILE__, __LINE__);                                     \
    } while (0)

/* A real message with `from` replaced by `to` (the first occurrence), in a static buffer. */
static const char *edit(const char *text, const char *from, const char *to)
{
    static char buf[4096];
    const char *at = strstr(text, from);
    assert_non_null(at);
    size_t head = (size_t)(at - text), from_len = strlen(from), to_len = strlen(to);
    assert_true(strlen(text) - from_len + to_len < sizeof buf);
    memcpy(buf, text, head);
    memcpy(buf + head, to, to_len);
    strcpy(buf + head + to_len, at + from_len);
    return buf;
}

/* ---- one test per kind, on real messages -------------------------------------------------- */

static void spot_depth_update(void **state)
{
    assert_frame_ok(*state, MARKET_SPOT, SPOT_DEPTH, EVENT_DEPTH);
    const depth_event_t *d = &ev.u.depth;
    assert_string_equal(ev.stream, "btcusdt@depth@100ms");
    assert_string_equal(ev.symbol, "BTCUSDT");
    assert_int_equal(d->first_id, 50093239203u);
    assert_int_equal(d->last_id, 50093239207u);
    assert_false(d->has_prev_id);
    assert_int_equal(d->prev_id, 0);
    assert_int_equal(d->event_ms, 1723161255308);
    assert_int_equal(d->txn_ms, 0);
    assert_int_equal(d->bid_count, 1);
    assert_int_equal(d->ask_count, 4);
    assert_int_equal(d->price_places, 8);
    assert_int_equal(d->qty_places, 8);
    assert_level(d->bids[0], 8, 8, "55653.87000000", "0.00000000");
    assert_true(dec_is_zero(d->bids[0].qty));
    assert_level(d->asks[0], 8, 8, "61838.04000000", "0.32332000");
    assert_level(d->asks[3], 8, 8, "61862.51000000", "0.00000000");
}

static void usdm_depth_update(void **state)
{
    assert_frame_ok(*state, MARKET_USDM, USDM_DEPTH, EVENT_DEPTH);
    const depth_event_t *d = &ev.u.depth;
    assert_string_equal(ev.symbol, "BTCUSDT");
    assert_int_equal(d->first_id, 5123107874449u);
    assert_int_equal(d->last_id, 5123107879150u);
    assert_true(d->has_prev_id);
    assert_int_equal(d->prev_id, 5123107874163u);
    assert_int_equal(d->event_ms, 1723161256878);
    assert_int_equal(d->txn_ms, 1723161256878);
    assert_int_equal(d->bid_count, 19);
    assert_int_equal(d->ask_count, 15);
    assert_int_equal(d->price_places, 2);
    assert_int_equal(d->qty_places, 3);
    assert_level(d->bids[0], 2, 3, "5000.00", "2.321");
    assert_level(d->bids[18], 2, 3, "61800.10", "0.599");
    assert_level(d->asks[14], 2, 3, "63000.00", "73.360");
    assert_int_equal(d->asks[14].price.units, 63000 * DEC_SCALE);
}

static void coinm_depth_update(void **state)
{
    assert_frame_ok(*state, MARKET_COINM, COINM_DEPTH, EVENT_DEPTH);
    const depth_event_t *d = &ev.u.depth;
    assert_string_equal(ev.symbol, "ETHUSD_PERP");
    assert_int_equal(d->prev_id, 1007198631840u);
    assert_true(d->has_prev_id);
    assert_int_equal(d->txn_ms, 1723161257464);
    assert_int_equal(d->price_places, 2);
    assert_int_equal(d->qty_places, 0);
    assert_level(d->bids[0], 2, 0, "2681.34", "1440");
    assert_int_equal(d->bids[0].qty.units, 1440 * DEC_SCALE);
    assert_level(d->asks[0], 2, 0, "2682.13", "0");
}

static void trades_of_each_market(void **state)
{
    assert_frame_ok(*state, MARKET_SPOT, SPOT_TRADE, EVENT_TRADE);
    const trade_event_t *t = &ev.u.trade;
    assert_int_equal(t->id, 3735683259u);
    assert_int_equal(t->first_trade_id, 3735683259u);
    assert_int_equal(t->last_trade_id, 3735683259u);
    assert_dec(t->price, "61837.63000000");
    assert_dec(t->qty, "0.02000000");
    assert_int_equal(t->trade_ms, 1723161255342);
    assert_int_equal(t->event_ms, 1723161255343);
    assert_true(t->buyer_is_maker);

    assert_frame_ok(*state, MARKET_USDM, USDM_TRADE, EVENT_TRADE);
    assert_int_equal(t->id, 5266583935u);
    assert_dec(t->price, "61800.30");
    assert_dec(t->qty, "0.006");
    assert_false(t->buyer_is_maker);

    assert_frame_ok(*state, MARKET_COINM, COINM_TRADE, EVENT_TRADE);
    assert_string_equal(ev.symbol, "ETHUSD_PERP");
    assert_dec(t->qty, "1");
    assert_int_equal(t->qty.places, 0);
}

static void agg_trades_of_each_market(void **state)
{
    const trade_event_t *t = &ev.u.trade;
    assert_frame_ok(*state, MARKET_SPOT, SPOT_AGG_TRADE, EVENT_AGG_TRADE);
    assert_string_equal(ev.symbol, "LRCBTC");
    assert_int_equal(t->id, 9213679);
    assert_int_equal(t->first_trade_id, 12368013);
    assert_int_equal(t->last_trade_id, 12368013);
    assert_dec(t->price, "0.00000638");
    assert_int_equal(t->price.value.units, 638);
    assert_dec(t->qty, "177.00000000");
    assert_false(t->buyer_is_maker);

    assert_frame_ok(*state, MARKET_USDM, USDM_AGG_TRADE, EVENT_AGG_TRADE);
    assert_int_equal(t->id, 16599292);
    assert_dec(t->price, "1.01100");
    assert_dec(t->qty, "10");
    assert_int_equal(t->trade_ms, 1626992741421);

    assert_frame_ok(*state, MARKET_COINM, COINM_AGG_TRADE, EVENT_AGG_TRADE);
    assert_string_equal(ev.symbol, "BCHUSD_PERP");
    assert_dec(t->price, "427.91");
    assert_true(t->buyer_is_maker);
}

static void book_tickers_of_each_market(void **state)
{
    const book_ticker_event_t *b = &ev.u.ticker;
    assert_frame_ok(*state, MARKET_SPOT, SPOT_BOOK_TICKER, EVENT_BOOK_TICKER);
    assert_int_equal(b->update_id, 50093239212u);
    assert_dec(b->bid, "61837.63000000");
    assert_dec(b->bid_qty, "3.78826000");
    assert_dec(b->ask, "61837.64000000");
    assert_dec(b->ask_qty, "1.54698000");
    assert_int_equal(b->event_ms, 0); /* spot sends no E */

    assert_frame_ok(*state, MARKET_USDM, USDM_BOOK_TICKER, EVENT_BOOK_TICKER);
    assert_int_equal(b->update_id, 5123107839020u);
    assert_dec(b->ask_qty, "2.510");
    assert_int_equal(b->event_ms, 1723161256313);

    assert_frame_ok(*state, MARKET_COINM, COINM_BOOK_TICKER, EVENT_BOOK_TICKER);
    assert_dec(b->bid_qty, "159");
    assert_dec(b->ask, "2682.18");
    assert_int_equal(b->event_ms, 1723161257457);
}

static void open_and_closed_klines(void **state)
{
    const kline_event_t *k = &ev.u.kline;
    assert_frame_ok(*state, MARKET_SPOT, SPOT_KLINE_OPEN, EVENT_KLINE);
    assert_string_equal(ev.symbol, "NKNUSDT");
    assert_string_equal(k->interval, "1m");
    assert_int_equal(k->open_ms, 1633998480000);
    assert_int_equal(k->close_ms, 1633998539999);
    assert_int_equal(k->first_trade_id, 19862761);
    assert_int_equal(k->last_trade_id, 19862790);
    assert_int_equal(k->trade_count, 30);
    assert_false(k->closed);
    assert_dec(k->open, "0.35270000");
    assert_dec(k->high, "0.35280000");
    assert_dec(k->low, "0.35220000");
    assert_dec(k->close, "0.35280000");
    assert_dec(k->volume, "25877.00000000");
    assert_dec(k->quote_volume, "9116.04600000");
    assert_dec(k->taker_buy_volume, "58.00000000");
    assert_dec(k->taker_buy_quote_volume, "20.46240000");
    assert_int_equal(k->event_ms, 1633998523963);

    assert_frame_ok(*state, MARKET_USDM, USDM_KLINE_CLOSED, EVENT_KLINE);
    assert_true(k->closed);
    assert_int_equal(k->trade_count, 113);
    assert_dec(k->volume, "3005");
    assert_dec(k->quote_volume, "22875.8590");

    assert_frame_ok(*state, MARKET_COINM, COINM_KLINE_OPEN, EVENT_KLINE);
    assert_string_equal(ev.symbol, "ETHUSD_210924");
    assert_dec(k->quote_volume, "9.49653573");
}

/* binance-protocol.md §5: a candle without trades has f = L = -1. */
static void kline_without_trades_has_zero_trade_ids(void **state)
{
    const char *text =
        edit(USDM_KLINE_CLOSED, "\"f\":126902874,\"L\":126902986", "\"f\":-1,\"L\":-1");
    assert_frame_ok(*state, MARKET_USDM, text, EVENT_KLINE);
    assert_int_equal(ev.u.kline.first_trade_id, 0);
    assert_int_equal(ev.u.kline.last_trade_id, 0);
    assert_frame_err(*state, MARKET_USDM, edit(USDM_KLINE_CLOSED, "\"f\":126902874", "\"f\":-2"),
                     PARSE_ERR_BAD_VALUE, "data.k.f: -2");
}

static void snapshot_bodies_of_each_market(void **state)
{
    assert_snapshot_ok(*state, MARKET_SPOT, SPOT_SNAPSHOT);
    assert_int_equal(snap.last_update_id, 50093239218u);
    assert_int_equal(snap.event_ms, 0);
    assert_int_equal(snap.txn_ms, 0);
    assert_int_equal(snap.bid_count, 3);
    assert_int_equal(snap.ask_count, 3);
    assert_int_equal(snap.price_places, 8);
    assert_level(snap.bids[0], 8, 8, "61837.63000000", "3.78826000");
    assert_level(snap.asks[2], 8, 8, "61837.68000000", "0.00016000");

    assert_snapshot_ok(*state, MARKET_USDM, USDM_SNAPSHOT);
    assert_int_equal(snap.last_update_id, 5123107852948u);
    assert_int_equal(snap.event_ms, 1723161256501);
    assert_int_equal(snap.txn_ms, 1723161256493);
    assert_level(snap.bids[2], 2, 3, "61800.00", "20.004");

    assert_snapshot_ok(*state, MARKET_COINM, COINM_SNAPSHOT);
    assert_int_equal(snap.last_update_id, 1007198635066u);
    assert_int_equal(snap.qty_places, 0);
    assert_level(snap.bids[0], 2, 0, "2682.17", "159");
    assert_level(snap.asks[2], 2, 0, "2682.23", "449");
    assert_int_equal(snap.asks[2].qty.units, 449 * DEC_SCALE);
}

/* §3: spot partial depth has no e/E/s; the futures one is a depthUpdate. Both by stream name. */
static void partial_depth_of_spot_and_futures(void **state)
{
    assert_frame_ok(*state, MARKET_SPOT,
                    "{\"stream\":\"bnbbtc@depth5@100ms\",\"data\":{\"lastUpdateId\":160,\"bids\":[["
                    "\"0.0024\",\"10\"]],\"asks\":[[\"0.0026\",\"100\"]]}}",
                    EVENT_PARTIAL_DEPTH);
    assert_string_equal(ev.symbol, "BNBBTC");
    assert_int_equal(ev.u.depth.first_id, 0);
    assert_int_equal(ev.u.depth.last_id, 160);
    assert_int_equal(ev.u.depth.bid_count, 1);
    assert_level(ev.u.depth.asks[0], 4, 0, "0.0026", "100");

    assert_frame_ok(*state, MARKET_USDM,
                    "{\"stream\":\"btcusdt@depth20@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":"
                    "1571889248277,\"T\":1571889248276,\"s\":\"BTCUSDT\",\"U\":390497796,\"u\":"
                    "390497878,\"pu\":390497794,\"b\":[[\"7403.89\",\"0.002\"]],\"a\":[[\"7405."
                    "96\",\"3.340\"]]}}",
                    EVENT_PARTIAL_DEPTH);
    assert_int_equal(ev.u.depth.first_id, 390497796);
    assert_int_equal(ev.u.depth.prev_id, 390497794);
    assert_true(ev.u.depth.has_prev_id);

    /* The same payload on the diff stream is a diff: the stream decides. */
    assert_frame_ok(*state, MARKET_USDM,
                    "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":"
                    "1571889248277,\"T\":1571889248276,\"s\":\"BTCUSDT\",\"U\":390497796,\"u\":"
                    "390497878,\"pu\":390497794,\"b\":[],\"a\":[]}}",
                    EVENT_DEPTH);
    assert_frame_ok(*state, MARKET_SPOT,
                    "{\"stream\":\"bnbbtc@depth10\",\"data\":{\"lastUpdateId\":1,\"bids\":[],"
                    "\"asks\":[]}}",
                    EVENT_PARTIAL_DEPTH);
}

static void mark_price_on_futures_only(void **state)
{
    static const char MARK[] =
        "{\"stream\":\"btcusdt@markPrice@1s\",\"data\":{\"e\":\"markPriceUpdate\",\"E\":"
        "1562305380000,\"s\":\"BTCUSDT\",\"p\":\"11794.15000000\",\"i\":\"11784.62659091\",\"P\":"
        "\"11784.25641265\",\"r\":\"0.00038167\",\"T\":1562306400000}}";
    assert_frame_ok(*state, MARKET_USDM, MARK, EVENT_MARK_PRICE);
    assert_dec(ev.u.mark.mark_price, "11794.15000000");
    assert_int_equal(ev.u.mark.event_ms, 1562305380000);
    /* COIN-M delivery contracts send r = "" and T = 0: ignored fields. */
    assert_frame_ok(*state, MARKET_COINM,
                    "{\"stream\":\"btcusd_200925@markPrice\",\"data\":{\"e\":\"markPriceUpdate\","
                    "\"E\":1591261236000,\"s\":\"BTCUSD_200925\",\"p\":\"9638.20\",\"P\":\"9646."
                    "59\",\"r\":\"\",\"T\":0}}",
                    EVENT_MARK_PRICE);
    assert_frame_err(*state, MARKET_SPOT, MARK, PARSE_ERR_UNKNOWN_STREAM, "markPrice@1s");
}

static void replies_to_control_requests(void **state)
{
    assert_frame_ok(*state, MARKET_SPOT, "{\"result\":null,\"id\":1}", EVENT_ANSWER);
    assert_string_equal(ev.stream, "");
    assert_string_equal(ev.symbol, "");
    assert_frame_ok(*state, MARKET_USDM,
                    "{\"error\":{\"code\":2,\"msg\":\"Invalid request: invalid stream\"},\"id\":1}",
                    EVENT_ANSWER);
    assert_frame_ok(*state, MARKET_SPOT, "{\"id\":3,\"result\":[\"btcusdt@depth@100ms\"]}",
                    EVENT_ANSWER);
}

/* ---- key order and tolerance -------------------------------------------------------------- */

static void data_before_stream_gives_the_same_event(void **state)
{
    assert_frame_ok(*state, MARKET_USDM, USDM_DEPTH, EVENT_DEPTH);
    event_t first = ev;
    parse_level_t bids[19];
    memcpy(bids, ev.u.depth.bids, sizeof bids);

    /* {"data":{…},"stream":"…"} with the same data object */
    const char *data = strstr(USDM_DEPTH, "{\"e\"");
    char reordered[2048];
    snprintf(reordered, sizeof reordered, "{\"data\":%.*s,\"stream\":\"btcusdt@depth@0ms\"}",
             (int)(strlen(data) - 1), data);
    assert_frame_ok(*state, MARKET_USDM, reordered, EVENT_DEPTH);
    assert_string_equal(ev.stream, first.stream);
    assert_string_equal(ev.symbol, first.symbol);
    assert_int_equal(ev.u.depth.first_id, first.u.depth.first_id);
    assert_int_equal(ev.u.depth.prev_id, first.u.depth.prev_id);
    assert_int_equal(ev.u.depth.bid_count, 19);
    assert_int_equal(ev.u.depth.ask_count, 15);
    assert_memory_equal(ev.u.depth.bids, bids, sizeof bids);

    /* Errors in the data are still found, with their paths, after the stream is known. */
    snprintf(reordered, sizeof reordered, "{\"data\":%.*s,\"stream\":\"ethusdt@depth@0ms\"}",
             (int)(strlen(data) - 1), data);
    assert_frame_err(*state, MARKET_USDM, reordered, PARSE_ERR_SYMBOL, "data.s: \"BTCUSDT\"");
    assert_frame_err(*state, MARKET_SPOT,
                     "{\"data\":{\"u\":1,\"s\":\"BTCUSDT\",\"b\":\"1.0\",\"B\":\"1\",\"a\":\"0\","
                     "\"A\":\"1\"},\"stream\":\"btcusdt@bookTicker\"}",
                     PARSE_ERR_BAD_VALUE, "data.a: a price must be greater than 0");
    /* Malformed data is found on the first pass, at its offset in the payload. */
    assert_frame_err(*state, MARKET_SPOT, "{\"data\":{\"u\":1,},\"stream\":\"btcusdt@bookTicker\"}",
                     PARSE_ERR_JSON, "malformed JSON at byte 15");
}

static void unknown_fields_are_ignored(void **state)
{
    /* The 2026 CM–UM integration adds st and ps; USD-M aggTrade has nq; anything may nest. */
    assert_frame_ok(*state, MARKET_USDM,
                    edit(USDM_DEPTH, "\"s\":\"BTCUSDT\",",
                         "\"s\":\"BTCUSDT\",\"ps\":\"BTCUSDT\",\"st\":1,\"new\":{\"x\":[1,{\"y\":"
                         "null}],\"b\":\"not levels\"},"),
                    EVENT_DEPTH);
    assert_int_equal(ev.u.depth.bid_count, 19);
    assert_frame_ok(*state, MARKET_USDM,
                    edit(USDM_AGG_TRADE, "\"q\":\"10\",", "\"q\":\"10\",\"nq\":\"10\",\"st\":1,"),
                    EVENT_AGG_TRADE);
    assert_frame_ok(*state, MARKET_USDM,
                    edit(USDM_KLINE_CLOSED, "\"B\":\"0\"", "\"B\":\"0\",\"z\":{\"k\":[]}"),
                    EVENT_KLINE);
    assert_frame_ok(*state, MARKET_SPOT,
                    edit(SPOT_TRADE, "{\"stream\"", "{\"via\":[\"relay\"],\"stream\""),
                    EVENT_TRADE);
    assert_snapshot_ok(
        *state, MARKET_USDM,
        edit(USDM_SNAPSHOT, "\"bids\"", "\"st\":1,\"extra\":{\"a\":[[1]]},\"bids\""));
    /* Spot payloads that grew futures fields keep spot's meaning. */
    assert_frame_ok(*state, MARKET_SPOT,
                    edit(SPOT_DEPTH, "\"U\":", "\"pu\":5,\"T\":1723161255307,\"U\":"), EVENT_DEPTH);
    assert_false(ev.u.depth.has_prev_id);
    assert_int_equal(ev.u.depth.txn_ms, 0);
}

static void escaped_keys_and_strings_read_as_their_text(void **state)
{
    /* "\u0055" is "U", "\u0031" is "1": the same JSON document as the plain spelling. */
    assert_frame_ok(*state, MARKET_SPOT,
                    "{\"str\\u0065am\":\"btc\\u0075sdt@depth@100ms\",\"data\":{\"E\":1,\"\\u0055\":"
                    "7,\"u\":8,\"b\":[[\"\\u0031.5\",\"2\"]],\"a\":[]}}",
                    EVENT_DEPTH);
    assert_string_equal(ev.stream, "btcusdt@depth@100ms");
    assert_int_equal(ev.u.depth.first_id, 7);
    assert_level(ev.u.depth.bids[0], 1, 0, "1.5", "2");
}

static void duplicate_keys_in_data_last_wins(void **state)
{
    assert_frame_ok(*state, MARKET_SPOT, edit(SPOT_TRADE, "\"t\":3735683259,", "\"t\":1,\"t\":2,"),
                    EVENT_TRADE);
    assert_int_equal(ev.u.trade.id, 2);
    assert_frame_err(*state, MARKET_SPOT,
                     edit(SPOT_TRADE, "{\"stream\"", "{\"stream\":\"btcusdt@trade\",\"stream\""),
                     PARSE_ERR_SHAPE, "stream: appears twice");
}

/* ---- every reason a payload is refused ---------------------------------------------------- */

static void malformed_json_is_refused(void **state)
{
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_TRADE, "\"M\":true", "\"M\":true,"),
                     PARSE_ERR_JSON, "malformed JSON at byte");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_TRADE, "}}", "}} x"), PARSE_ERR_JSON,
                     "malformed JSON");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_TRADE, "\"M\":true", "\"M\":tru"),
                     PARSE_ERR_JSON, "malformed JSON");
    assert_frame_err(*state, MARKET_SPOT, "", PARSE_ERR_JSON, "malformed JSON at byte 0");
    assert_frame_err(*state, MARKET_SPOT, "not json", PARSE_ERR_JSON, "malformed JSON");
    assert_snapshot_err(*state, MARKET_SPOT, "{\"lastUpdateId\":1,\"bids\":[[\"1\",\"1\"]",
                        PARSE_ERR_JSON, "malformed JSON");
    /* An unknown field is skipped, but validated. */
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_TRADE, "\"M\":true", "\"M\":[01]"),
                     PARSE_ERR_JSON, "malformed JSON");
}

static void truncated_message_is_refused(void **state)
{
    for (size_t len = 0; len < strlen(USDM_DEPTH); len += 7)
        check_frame_err(*state, MARKET_USDM, USDM_DEPTH, len, PARSE_ERR_JSON, "malformed JSON",
                        __FILE__, __LINE__);
    check_frame_err(*state, MARKET_USDM, USDM_DEPTH, strlen(USDM_DEPTH) - 1, PARSE_ERR_JSON,
                    "malformed JSON", __FILE__, __LINE__);
}

static void wrong_wrapper_is_refused(void **state)
{
    assert_frame_err(*state, MARKET_SPOT, "[1,2]", PARSE_ERR_SHAPE, "found an array");
    assert_frame_err(*state, MARKET_SPOT, "{\"e\":\"trade\",\"t\":1}", PARSE_ERR_SHAPE,
                     "expected {\"stream\"");
    assert_frame_err(*state, MARKET_SPOT, "{\"stream\":\"btcusdt@trade\"}", PARSE_ERR_SHAPE,
                     "data: missing");
    assert_frame_err(*state, MARKET_SPOT, "{\"data\":{}}", PARSE_ERR_SHAPE, "stream: missing");
    assert_frame_err(*state, MARKET_SPOT, "{\"stream\":\"btcusdt@trade\",\"data\":[]}",
                     PARSE_ERR_SHAPE, "data: expected an object, found an array");
    assert_frame_err(*state, MARKET_SPOT, "{\"stream\":7,\"data\":{}}", PARSE_ERR_SHAPE,
                     "stream: expected a string, found a number");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_TRADE, "}}", "},\"data\":{}}"), PARSE_ERR_SHAPE,
                     "data: appears twice");
    assert_snapshot_err(*state, MARKET_SPOT, "[]", PARSE_ERR_SHAPE, "expected a depth body");
    /* A REST body on the WebSocket path has no wrapper. */
    assert_frame_err(*state, MARKET_SPOT, SPOT_SNAPSHOT, PARSE_ERR_SHAPE, "expected {\"stream\"");
}

static void unknown_streams_are_refused(void **state)
{
    static const char *const names[] = {
        "btcusdt@foo",
        "btcusdt",
        "@trade",
        "btc-usdt@trade",
        "btcusdt@depth@300ms",
        "btcusdt@depth15",
        "btcusdt@kline_2m",
        "btcusdt@kline_",
        "btcusdt@kline_1m@+09:00",
        "btcusdt@Trade",
        "btcusdt@trade@1s",
        "abcdefghijklmnopqrstuvwxyz0123456@trade",
        "btcusdt@depth@100ms@",
        "btcusdt@markPrice@3s",
    };
    char text[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(text, sizeof text, "{\"stream\":\"%s\",\"data\":{}}", names[i]);
        check_frame_err(*state, MARKET_USDM, text, strlen(text), PARSE_ERR_UNKNOWN_STREAM, "stream",
                        __FILE__, __LINE__);
    }
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_TRADE, "btcusdt@trade", "btcusdt@foo"),
                     PARSE_ERR_UNKNOWN_STREAM, "stream \"btcusdt@foo\": unknown channel \"foo\"");
    /* 32 characters is the longest symbol; upper case and the kline time zone are accepted. */
    assert_frame_ok(*state, MARKET_SPOT, edit(SPOT_TRADE, "btcusdt@trade\"", "BTCUSDT@trade\""),
                    EVENT_TRADE);
    assert_frame_ok(*state, MARKET_SPOT, edit(SPOT_KLINE_OPEN, "@kline_1m\"", "@kline_1m@+08:00\""),
                    EVENT_KLINE);
    char longest[512];
    snprintf(longest, sizeof longest,
             "{\"stream\":\"abcdefghijklmnopqrstuvwxyz012345@aggTrade\",%s",
             strstr(SPOT_AGG_TRADE, "\"data\""));
    check_frame_err(*state, MARKET_SPOT, longest, strlen(longest), PARSE_ERR_SYMBOL, "LRCBTC",
                    __FILE__, __LINE__);
}

static void missing_fields_are_refused(void **state)
{
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_DEPTH, "\"U\":50093239203,", ""),
                     PARSE_ERR_MISSING_FIELD, "data.U: missing");
    assert_frame_err(*state, MARKET_USDM, edit(USDM_DEPTH, "\"pu\":5123107874163,", ""),
                     PARSE_ERR_MISSING_FIELD, "data.pu: missing");
    assert_frame_err(*state, MARKET_USDM, edit(USDM_DEPTH, "\"T\":1723161256878,", ""),
                     PARSE_ERR_MISSING_FIELD, "data.T: missing");
    assert_frame_err(*state, MARKET_COINM, edit(COINM_BOOK_TICKER, ",\"E\":1723161257457", ""),
                     PARSE_ERR_MISSING_FIELD, "data.E: missing");
    assert_frame_err(*state, MARKET_USDM, edit(USDM_KLINE_CLOSED, "\"x\":true,", ""),
                     PARSE_ERR_MISSING_FIELD, "data.k.x: missing");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_AGG_TRADE, "\"f\":12368013,", ""),
                     PARSE_ERR_MISSING_FIELD, "data.f: missing");
    assert_snapshot_err(*state, MARKET_USDM, edit(USDM_SNAPSHOT, "\"E\":1723161256501,", ""),
                        PARSE_ERR_MISSING_FIELD, "E: missing");
    assert_snapshot_err(*state, MARKET_SPOT, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}",
                        PARSE_ERR_MISSING_FIELD, "lastUpdateId: missing");
}

static void wrong_types_are_refused(void **state)
{
    assert_frame_err(*state, MARKET_SPOT,
                     edit(SPOT_DEPTH, "\"U\":50093239203", "\"U\":\"50093239203\""),
                     PARSE_ERR_WRONG_TYPE, "data.U: expected an integer, found a string");
    assert_frame_err(*state, MARKET_SPOT,
                     edit(SPOT_TRADE, "\"p\":\"61837.63000000\"", "\"p\":61837.63"),
                     PARSE_ERR_WRONG_TYPE, "data.p: expected a decimal string");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_TRADE, "\"m\":true", "\"m\":1"),
                     PARSE_ERR_WRONG_TYPE, "data.m: expected true or false");
    assert_frame_err(*state, MARKET_SPOT,
                     edit(SPOT_DEPTH, "\"b\":[[\"55653.87000000\",\"0.00000000\"]]", "\"b\":null"),
                     PARSE_ERR_WRONG_TYPE, "data.b: expected an array of levels, found null");
    assert_frame_err(*state, MARKET_SPOT,
                     edit(SPOT_DEPTH, "[\"55653.87000000\",\"0.00000000\"]", "\"55653.87\""),
                     PARSE_ERR_WRONG_TYPE, "data.b[0]: expected a [price, quantity] array");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_DEPTH, "\"0.32332000\"", "0.32332"),
                     PARSE_ERR_WRONG_TYPE, "data.a[0][1]: expected a decimal string");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_TRADE, "\"s\":\"BTCUSDT\"", "\"s\":null"),
                     PARSE_ERR_WRONG_TYPE, "data.s: expected a string, found null");
    assert_frame_err(*state, MARKET_USDM, edit(USDM_KLINE_CLOSED, "\"k\":{", "\"k\":[],\"K\":{"),
                     PARSE_ERR_WRONG_TYPE, "data.k: expected an object, found an array");
}

static void bad_values_are_refused(void **state)
{
    assert_frame_err(*state, MARKET_SPOT,
                     edit(SPOT_DEPTH, "\"U\":50093239203", "\"U\":50093239208"),
                     PARSE_ERR_BAD_VALUE, "data.U: 50093239208 is above u (50093239207)");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_DEPTH, "\"U\":50093239203", "\"U\":0"),
                     PARSE_ERR_BAD_VALUE, "data.U: 0 is not an integer");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_DEPTH, "\"U\":50093239203", "\"U\":-5"),
                     PARSE_ERR_BAD_VALUE, "data.U: -5");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_DEPTH, "\"U\":50093239203", "\"U\":5.0"),
                     PARSE_ERR_BAD_VALUE, "data.U: 5.0");
    assert_frame_err(*state, MARKET_SPOT,
                     edit(SPOT_DEPTH, "\"u\":50093239207", "\"u\":18446744073709551616"),
                     PARSE_ERR_BAD_VALUE, "data.u: 18446744073709551616");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_DEPTH, "\"E\":1723161255308", "\"E\":-1"),
                     PARSE_ERR_BAD_VALUE, "data.E: -1 is not a time");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_DEPTH, "\"0.32332000\"", "\"-0.32332000\""),
                     PARSE_ERR_BAD_VALUE, "data.a[0][1]: negative");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_DEPTH, "\"61844.30000000\"", "\"0.00000000\""),
                     PARSE_ERR_BAD_VALUE, "data.a[1][0]: a price must be greater than 0");
    assert_frame_err(*state, MARKET_SPOT,
                     edit(SPOT_DEPTH, "\"61862.50000000\"", "\"61862.500000000\""),
                     PARSE_ERR_BAD_VALUE, "data.a[2][0]: more than 8 decimal places");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_DEPTH, "\"55653.87000000\"", "\"92233720369\""),
                     PARSE_ERR_BAD_VALUE, "data.b[0][0]: out of range");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_DEPTH, "\"55653.87000000\"", "\"5.5e3\""),
                     PARSE_ERR_BAD_VALUE, "data.b[0][0]: exponent");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_TRADE, "\"q\":\"0.02000000\"", "\"q\":\"\""),
                     PARSE_ERR_BAD_VALUE, "data.q: empty");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_TRADE, "\"e\":\"trade\"", "\"e\":\"aggTrade\""),
                     PARSE_ERR_BAD_VALUE, "data.e: \"aggTrade\" where \"trade\" was expected");
    assert_frame_err(*state, MARKET_USDM, edit(USDM_KLINE_CLOSED, "\"i\":\"1m\"", "\"i\":\"5m\""),
                     PARSE_ERR_BAD_VALUE, "data.k.i: \"5m\" on stream \"sushiusdt@kline_1m\"");
    assert_frame_err(*state, MARKET_USDM, edit(USDM_AGG_TRADE, "\"f\":23961322", "\"f\":23961323"),
                     PARSE_ERR_BAD_VALUE, "data.f: 23961323 is above l");
    assert_snapshot_err(*state, MARKET_COINM, edit(COINM_SNAPSHOT, "\"449\"", "\"4.4.9\""),
                        PARSE_ERR_BAD_VALUE, "asks[2][1]: not a decimal number");
}

static void symbol_mismatch_is_refused(void **state)
{
    assert_frame_err(*state, MARKET_SPOT,
                     edit(SPOT_TRADE, "\"s\":\"BTCUSDT\"", "\"s\":\"ETHUSDT\""), PARSE_ERR_SYMBOL,
                     "data.s: \"ETHUSDT\" on stream \"btcusdt@trade\"");
    assert_frame_err(*state, MARKET_SPOT, edit(SPOT_TRADE, "\"s\":\"BTCUSDT\"", "\"s\":\"BTCUSD\""),
                     PARSE_ERR_SYMBOL, "data.s");
    assert_frame_err(
        *state, MARKET_USDM,
        edit(USDM_KLINE_CLOSED, "\"s\":\"SUSHIUSDT\",\"i\"", "\"s\":\"SUSHIBUSD\",\"i\""),
        PARSE_ERR_SYMBOL, "data.k.s: \"SUSHIBUSD\"");
    /* The comparison ignores case. */
    assert_frame_ok(*state, MARKET_SPOT, edit(SPOT_TRADE, "\"s\":\"BTCUSDT\"", "\"s\":\"btcUSDT\""),
                    EVENT_TRADE);
}

static void too_many_levels_are_refused(void **state)
{
    (void)state;
    parse_t *small = parse_new(4);
    assert_non_null(small);
    /* Exactly max_levels a side is accepted (SPOT_DEPTH has 4 asks). */
    assert_frame_ok(small, MARKET_SPOT, SPOT_DEPTH, EVENT_DEPTH);
    assert_int_equal(ev.u.depth.ask_count, 4);
    assert_snapshot_ok(small, MARKET_SPOT, SPOT_SNAPSHOT);
    assert_frame_err(small, MARKET_SPOT,
                     edit(SPOT_DEPTH, "]]}}", "],[\"61862.52000000\",\"1.00000000\"]]}}"),
                     PARSE_ERR_TOO_MANY_LEVELS, "data.a: more than 4 levels");
    assert_frame_err(small, MARKET_USDM, USDM_DEPTH, PARSE_ERR_TOO_MANY_LEVELS,
                     "data.b: more than 4 levels");
    parse_destroy(&small);
    assert_null(small);
}

static void levels_of_other_lengths_are_refused(void **state)
{
    assert_frame_err(*state, MARKET_SPOT,
                     edit(SPOT_DEPTH, "[\"61844.30000000\",\"0.40163000\"]",
                          "[\"61844.30000000\",\"0.40163000\",\"0\"]"),
                     PARSE_ERR_SHAPE, "data.a[1]: a level is [price, quantity], found more than 2");
    assert_frame_err(
        *state, MARKET_SPOT,
        edit(SPOT_DEPTH, "[\"61844.30000000\",\"0.40163000\"]", "[\"61844.30000000\"]"),
        PARSE_ERR_SHAPE, "data.a[1]: a level is [price, quantity], found fewer than 2");
    assert_frame_err(*state, MARKET_SPOT,
                     edit(SPOT_DEPTH, "[\"61844.30000000\",\"0.40163000\"]", "[]"), PARSE_ERR_SHAPE,
                     "data.a[1]: a level");
    assert_snapshot_err(*state, MARKET_COINM, edit(COINM_SNAPSHOT, "\"159\"]", "\"159\",[]]"),
                        PARSE_ERR_SHAPE, "bids[0]: a level is [price, quantity]");
}

/* The level buffers grow by doubling; a failed growth is reported, not a crash. Forced in a
   child process with an address-space limit, which sanitizer runtimes cannot run under. */
static void failed_growth_is_out_of_memory(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__)
    skip();
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    skip();
#endif
#endif
    enum { LEVELS = 1 << 20 };
    static const char head[] = "{\"lastUpdateId\":1,\"bids\":[";
    static const char level[] = "[\"1\",\"1\"],";
    size_t len = sizeof head - 1 + LEVELS * (sizeof level - 1) + 32;
    char *text = malloc(len);
    assert_non_null(text);
    char *w = text;
    w += sprintf(w, "%s", head);
    for (int i = 0; i < LEVELS; i++)
        w += sprintf(w, "%s", level);
    w[-1] = ']';
    w += sprintf(w, ",\"asks\":[]}");

    parse_t *p = parse_new(2 * LEVELS);
    assert_non_null(p);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* Room for the stack and small allocations, none for a 16 MB level buffer. */
        long pages = 0;
        FILE *statm = fopen("/proc/self/statm", "r");
        if (statm == NULL || fscanf(statm, "%ld", &pages) != 1)
            _exit(2);
        fclose(statm);
        struct rlimit lim;
        lim.rlim_cur = lim.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (4u << 20);
        if (setrlimit(RLIMIT_AS, &lim) != 0)
            _exit(3);
        char why[128];
        parse_err_t err =
            parse_snapshot(p, MARKET_SPOT, text, (size_t)(w - text), &snap, why, sizeof why);
        _exit(err == PARSE_ERR_NO_MEMORY && strstr(why, "bids: no memory") != NULL ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* Without the limit the same body parses. */
    snapshot_t big;
    assert_int_equal(parse_snapshot(p, MARKET_SPOT, text, (size_t)(w - text), &big, NULL, 0),
                     PARSE_OK);
    assert_int_equal(big.bid_count, LEVELS);
    parse_destroy(&p);
    free(text);
}

static void every_error_has_a_name(void **state)
{
    (void)state;
    assert_string_equal(parse_err_name(PARSE_OK), "ok");
    assert_string_equal(parse_err_name(PARSE_ERR_JSON), "malformed_json");
    assert_string_equal(parse_err_name(PARSE_ERR_SHAPE), "bad_shape");
    assert_string_equal(parse_err_name(PARSE_ERR_UNKNOWN_STREAM), "unknown_stream");
    assert_string_equal(parse_err_name(PARSE_ERR_MISSING_FIELD), "missing_field");
    assert_string_equal(parse_err_name(PARSE_ERR_WRONG_TYPE), "wrong_type");
    assert_string_equal(parse_err_name(PARSE_ERR_BAD_VALUE), "bad_value");
    assert_string_equal(parse_err_name(PARSE_ERR_SYMBOL), "symbol_mismatch");
    assert_string_equal(parse_err_name(PARSE_ERR_TOO_MANY_LEVELS), "too_many_levels");
    assert_string_equal(parse_err_name(PARSE_ERR_NO_MEMORY), "out_of_memory");
    assert_string_equal(parse_err_name(PARSE_ERR_COUNT), "unknown");
    assert_string_equal(parse_err_name((parse_err_t)-1), "unknown");
}

static void new_refuses_zero_levels_and_destroy_is_null_safe(void **state)
{
    (void)state;
    assert_null(parse_new(0));
    parse_t *p = NULL;
    parse_destroy(&p);
    parse_destroy(NULL);
    /* detail may be NULL or empty. */
    p = parse_new(1);
    assert_non_null(p);
    assert_int_equal(parse_frame(p, MARKET_SPOT, "{", 1, &ev, NULL, 0), PARSE_ERR_JSON);
    char one = 'x';
    assert_int_equal(parse_frame(p, MARKET_SPOT, "{", 1, &ev, &one, 1), PARSE_ERR_JSON);
    assert_int_equal(one, '\0');
    parse_destroy(&p);
}

/* Once the buffers have grown, later messages reuse them. */
static void buffers_are_reused_once_grown(void **state)
{
    assert_frame_ok(*state, MARKET_USDM, USDM_DEPTH, EVENT_DEPTH);
    const parse_level_t *bids = ev.u.depth.bids, *asks = ev.u.depth.asks;
    for (int i = 0; i < 3; i++) {
        assert_frame_ok(*state, MARKET_SPOT, SPOT_DEPTH, EVENT_DEPTH);
        assert_ptr_equal(ev.u.depth.bids, bids);
        assert_ptr_equal(ev.u.depth.asks, asks);
    }
}

/* ---- every line of the captures ----------------------------------------------------------- */

typedef struct {
    size_t kinds[EVENT_ANSWER + 1];
    size_t snapshots;
    size_t closed_klines;
    size_t levels;
} tally_t;

static event_kind_t kind_of_stream(const char *stream)
{
    const char *channel = strchr(stream, '@');
    assert_non_null(channel);
    channel++;
    if (strcmp(channel, "depth") == 0 || strncmp(channel, "depth@", 6) == 0)
        return EVENT_DEPTH;
    if (strcmp(channel, "trade") == 0)
        return EVENT_TRADE;
    if (strcmp(channel, "aggTrade") == 0)
        return EVENT_AGG_TRADE;
    if (strcmp(channel, "bookTicker") == 0)
        return EVENT_BOOK_TICKER;
    if (strncmp(channel, "kline_", 6) == 0)
        return EVENT_KLINE;
    fail_msg("no kind known for stream %s", stream);
    return 0;
}

static const char *json_string(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(item))
        fail_msg("no string \"%s\"", key);
    return item->valuestring;
}

static double json_number(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(item))
        fail_msg("no number \"%s\"", key);
    return item->valuedouble;
}

static void check_json_dec(parse_dec_t d, const cJSON *obj, const char *key)
{
    check_dec(d.value, d.places, json_string(obj, key), __FILE__, __LINE__);
}

/* Every level of `side` (a cJSON array) against the parsed ones. */
static size_t check_levels(const cJSON *side, const parse_level_t *levels, size_t count,
                           unsigned price_places, unsigned qty_places)
{
    assert_true(cJSON_IsArray(side));
    assert_int_equal((size_t)cJSON_GetArraySize(side), count);
    size_t i = 0;
    const cJSON *level;
    cJSON_ArrayForEach(level, side)
    {
        const cJSON *price = cJSON_GetArrayItem(level, 0), *qty = cJSON_GetArrayItem(level, 1);
        assert_true(cJSON_IsString(price) && cJSON_IsString(qty));
        check_dec(levels[i].price, price_places, price->valuestring, __FILE__, __LINE__);
        check_dec(levels[i].qty, qty_places, qty->valuestring, __FILE__, __LINE__);
        i++;
    }
    return count;
}

static void check_snapshot_line(parse_t *p, market_t market, const char *body, size_t len,
                                tally_t *tally)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    assert_non_null(root);
    char why[256];
    parse_err_t err = parse_snapshot(p, market, body, len, &snap, why, sizeof why);
    if (err != PARSE_OK)
        fail_msg("snapshot refused: %s (%s)", parse_err_name(err), why);
    assert_true(snap.last_update_id == (uint64_t)json_number(root, "lastUpdateId"));
    if (market != MARKET_SPOT) {
        assert_true(snap.event_ms == (int64_t)json_number(root, "E"));
        assert_true(snap.txn_ms == (int64_t)json_number(root, "T"));
    }
    tally->levels += check_levels(cJSON_GetObjectItemCaseSensitive(root, "bids"), snap.bids,
                                  snap.bid_count, snap.price_places, snap.qty_places);
    tally->levels += check_levels(cJSON_GetObjectItemCaseSensitive(root, "asks"), snap.asks,
                                  snap.ask_count, snap.price_places, snap.qty_places);
    tally->snapshots++;
    cJSON_Delete(root);
}

static void check_frame_line(parse_t *p, market_t market, const char *frame, size_t len,
                             tally_t *tally)
{
    cJSON *root = cJSON_ParseWithLength(frame, len);
    assert_non_null(root);
    const char *stream = json_string(root, "stream");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    event_kind_t kind = kind_of_stream(stream);
    char why[256];
    parse_err_t err = parse_frame(p, market, frame, len, &ev, why, sizeof why);
    if (err != PARSE_OK || ev.kind != kind)
        fail_msg("%.*s: %s kind %d (%s)", (int)(len < 300 ? len : 300), frame, parse_err_name(err),
                 (int)ev.kind, why);
    assert_string_equal(ev.stream, stream);
    assert_true(strcasecmp(ev.symbol, json_string(data, "s")) == 0);
    tally->kinds[kind]++;

    switch (kind) {
    case EVENT_DEPTH: {
        const depth_event_t *d = &ev.u.depth;
        assert_true(d->first_id == (uint64_t)json_number(data, "U"));
        assert_true(d->last_id == (uint64_t)json_number(data, "u"));
        assert_true(d->event_ms == (int64_t)json_number(data, "E"));
        assert_int_equal(d->has_prev_id, market != MARKET_SPOT);
        if (market != MARKET_SPOT) {
            assert_true(d->prev_id == (uint64_t)json_number(data, "pu"));
            assert_true(d->txn_ms == (int64_t)json_number(data, "T"));
        }
        tally->levels += check_levels(cJSON_GetObjectItemCaseSensitive(data, "b"), d->bids,
                                      d->bid_count, d->price_places, d->qty_places);
        tally->levels += check_levels(cJSON_GetObjectItemCaseSensitive(data, "a"), d->asks,
                                      d->ask_count, d->price_places, d->qty_places);
        break;
    }
    case EVENT_TRADE:
    case EVENT_AGG_TRADE: {
        const trade_event_t *t = &ev.u.trade;
        assert_true(t->id == (uint64_t)json_number(data, kind == EVENT_TRADE ? "t" : "a"));
        assert_true(t->trade_ms == (int64_t)json_number(data, "T"));
        assert_true(t->event_ms == (int64_t)json_number(data, "E"));
        assert_int_equal(t->buyer_is_maker,
                         cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(data, "m")));
        check_json_dec(t->price, data, "p");
        check_json_dec(t->qty, data, "q");
        break;
    }
    case EVENT_BOOK_TICKER: {
        const book_ticker_event_t *b = &ev.u.ticker;
        assert_true(b->update_id == (uint64_t)json_number(data, "u"));
        if (market != MARKET_SPOT)
            assert_true(b->event_ms == (int64_t)json_number(data, "E"));
        check_json_dec(b->bid, data, "b");
        check_json_dec(b->bid_qty, data, "B");
        check_json_dec(b->ask, data, "a");
        check_json_dec(b->ask_qty, data, "A");
        break;
    }
    case EVENT_KLINE: {
        const kline_event_t *k = &ev.u.kline;
        const cJSON *kj = cJSON_GetObjectItemCaseSensitive(data, "k");
        assert_string_equal(k->interval, json_string(kj, "i"));
        assert_true(k->open_ms == (int64_t)json_number(kj, "t"));
        assert_true(k->close_ms == (int64_t)json_number(kj, "T"));
        assert_true(k->trade_count == (uint64_t)json_number(kj, "n"));
        assert_int_equal(k->closed, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(kj, "x")));
        if (json_number(kj, "L") >= 0)
            assert_true(k->last_trade_id == (uint64_t)json_number(kj, "L"));
        check_json_dec(k->open, kj, "o");
        check_json_dec(k->high, kj, "h");
        check_json_dec(k->low, kj, "l");
        check_json_dec(k->close, kj, "c");
        check_json_dec(k->volume, kj, "v");
        check_json_dec(k->quote_volume, kj, "q");
        check_json_dec(k->taker_buy_volume, kj, "V");
        check_json_dec(k->taker_buy_quote_volume, kj, "Q");
        tally->closed_klines += k->closed;
        break;
    }
    default:
        fail_msg("unexpected kind %d", (int)kind);
    }
    cJSON_Delete(root);
}

/* hftbacktest: "<ns> <payload>" per line, gzip. */
static tally_t replay_hftbacktest(parse_t *p, market_t market, const char *name)
{
    char command[512];
    snprintf(command, sizeof command, "gzip -dc '%s%s'", REAL_DATA, name);
    FILE *in = popen(command, "r");
    assert_non_null(in);
    tally_t tally = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t lines = 0;
    while ((n = getline(&line, &cap, in)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        char *payload = strchr(line, ' ');
        assert_non_null(payload);
        payload++;
        size_t len = (size_t)(line + n - payload);
        if (strncmp(payload, "{\"stream\"", 9) == 0)
            check_frame_line(p, market, payload, len, &tally);
        else
            check_snapshot_line(p, market, payload, len, &tally);
        lines++;
    }
    free(line);
    assert_int_equal(pclose(in), 0);
    assert_true(lines > 1000); /* the file was found and read */
    return tally;
}

/* cryptofeed: "<url> <-> <time>" then "<time>: <frame>" (ws), or "<url> -> <time>: <body>". */
static tally_t replay_cryptofeed(parse_t *p, market_t market, const char *name, bool http)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", REAL_DATA, name);
    FILE *in = fopen(path, "r");
    if (in == NULL)
        fail_msg("cannot open %s", path);
    tally_t tally = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t lines = 0;
    while ((n = getline(&line, &cap, in)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0 || strstr(line, " <-> ") != NULL)
            continue;
        char *payload = strstr(line, ": ");
        assert_non_null(payload);
        payload += 2;
        size_t len = (size_t)(line + n - payload);
        if (http)
            check_snapshot_line(p, market, payload, len, &tally);
        else
            check_frame_line(p, market, payload, len, &tally);
        lines++;
    }
    free(line);
    fclose(in);
    assert_true(lines > 0);
    return tally;
}

static void every_hftbacktest_line_parses_exactly(void **state)
{
    tally_t t = replay_hftbacktest(*state, MARKET_SPOT, "spot_btcusdt_20240808.gz");
    assert_int_equal(t.kinds[EVENT_DEPTH], 3451);
    assert_int_equal(t.kinds[EVENT_TRADE], 9757);
    assert_int_equal(t.kinds[EVENT_BOOK_TICKER], 28040);
    assert_int_equal(t.snapshots, 1);

    t = replay_hftbacktest(*state, MARKET_SPOT, "spot_btcusdt_20240809.gz");
    assert_int_equal(t.kinds[EVENT_DEPTH], 3044);
    assert_int_equal(t.kinds[EVENT_TRADE], 10147);
    assert_int_equal(t.kinds[EVENT_BOOK_TICKER], 45134);
    assert_int_equal(t.snapshots, 0);

    t = replay_hftbacktest(*state, MARKET_USDM, "usdm_btcusdt_20240808.gz");
    assert_int_equal(t.kinds[EVENT_DEPTH], 6551);
    assert_int_equal(t.kinds[EVENT_TRADE], 21313);
    assert_int_equal(t.kinds[EVENT_BOOK_TICKER], 66089);
    assert_int_equal(t.snapshots, 1);

    t = replay_hftbacktest(*state, MARKET_COINM, "cm_ethusd_perp_20240808.gz");
    assert_int_equal(t.kinds[EVENT_DEPTH], 22909);
    assert_int_equal(t.kinds[EVENT_TRADE], 1732);
    assert_int_equal(t.kinds[EVENT_BOOK_TICKER], 15812);
    assert_int_equal(t.snapshots, 1);
    assert_true(t.levels > 100000);
}

static void every_cryptofeed_line_parses_exactly(void **state)
{
    tally_t t = replay_cryptofeed(*state, MARKET_SPOT, "cryptofeed_BINANCE.ws.1.0", false);
    assert_int_equal(t.kinds[EVENT_DEPTH], 177);
    assert_int_equal(t.kinds[EVENT_BOOK_TICKER], 84);
    assert_int_equal(t.kinds[EVENT_AGG_TRADE], 2);
    assert_int_equal(t.kinds[EVENT_KLINE], 2);

    t = replay_cryptofeed(*state, MARKET_USDM, "cryptofeed_BINANCE_FUTURES.ws.1.0", false);
    assert_int_equal(t.kinds[EVENT_DEPTH], 764);
    assert_int_equal(t.kinds[EVENT_BOOK_TICKER], 613);
    assert_int_equal(t.kinds[EVENT_AGG_TRADE], 91);
    assert_int_equal(t.kinds[EVENT_KLINE], 67);
    assert_true(t.closed_klines > 0);

    t = replay_cryptofeed(*state, MARKET_COINM, "cryptofeed_BINANCE_DELIVERY.ws.1.0", false);
    assert_int_equal(t.kinds[EVENT_DEPTH], 2047);
    assert_int_equal(t.kinds[EVENT_BOOK_TICKER], 2240);
    assert_int_equal(t.kinds[EVENT_AGG_TRADE], 51);
    assert_int_equal(t.kinds[EVENT_KLINE], 33);

    t = replay_cryptofeed(*state, MARKET_SPOT, "cryptofeed_BINANCE.http.0.0", true);
    assert_int_equal(t.snapshots, 4);
    t = replay_cryptofeed(*state, MARKET_USDM, "cryptofeed_BINANCE_FUTURES.http.0.0", true);
    assert_int_equal(t.snapshots, 4);
    t = replay_cryptofeed(*state, MARKET_COINM, "cryptofeed_BINANCE_DELIVERY.http.0.0", true);
    assert_int_equal(t.snapshots, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(spot_depth_update, setup, teardown),
        cmocka_unit_test_setup_teardown(usdm_depth_update, setup, teardown),
        cmocka_unit_test_setup_teardown(coinm_depth_update, setup, teardown),
        cmocka_unit_test_setup_teardown(trades_of_each_market, setup, teardown),
        cmocka_unit_test_setup_teardown(agg_trades_of_each_market, setup, teardown),
        cmocka_unit_test_setup_teardown(book_tickers_of_each_market, setup, teardown),
        cmocka_unit_test_setup_teardown(open_and_closed_klines, setup, teardown),
        cmocka_unit_test_setup_teardown(kline_without_trades_has_zero_trade_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshot_bodies_of_each_market, setup, teardown),
        cmocka_unit_test_setup_teardown(partial_depth_of_spot_and_futures, setup, teardown),
        cmocka_unit_test_setup_teardown(mark_price_on_futures_only, setup, teardown),
        cmocka_unit_test_setup_teardown(replies_to_control_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(data_before_stream_gives_the_same_event, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_fields_are_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(escaped_keys_and_strings_read_as_their_text, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(duplicate_keys_in_data_last_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_json_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_message_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_wrapper_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_streams_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_fields_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_types_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_values_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(symbol_mismatch_is_refused, setup, teardown),
        cmocka_unit_test(too_many_levels_are_refused),
        cmocka_unit_test_setup_teardown(levels_of_other_lengths_are_refused, setup, teardown),
        cmocka_unit_test(failed_growth_is_out_of_memory),
        cmocka_unit_test(every_error_has_a_name),
        cmocka_unit_test(new_refuses_zero_levels_and_destroy_is_null_safe),
        cmocka_unit_test_setup_teardown(buffers_are_reused_once_grown, setup, teardown),
        cmocka_unit_test_setup_teardown(every_hftbacktest_line_parses_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(every_cryptofeed_line_parses_exactly, setup, teardown),
    };
    return cmocka_run_group_tests_name("bookbuilder_parse", tests, NULL, NULL);
}
