/*
 * parse.h — Binance payloads to typed events, the first step of the bookbuilder's data path.
 *
 * A collector frame carries one WebSocket text frame as the exchange sent it, always a combined
 * stream message {"stream":"btcusdt@depth@100ms","data":{…}}, or the body of a REST depth
 * snapshot. parse turns either into a plain struct of exact decimals (common/decimal) and
 * integers, and refuses anything else with a reason that names a counter: the bookbuilder must
 * never apply half a message, so a message is either wholly valid or wholly rejected.
 *
 * What is valid (binance-protocol.md §3 and §5):
 *   - the stream name decides the kind (`<s>@depth[@0ms|@100ms|@250ms|@500ms|@1000ms]`,
 *     `<s>@trade`, `<s>@aggTrade`, `<s>@bookTicker`, `<s>@kline_<i>[@+08:00]`,
 *     `<s>@depth<5|10|20>[same speeds]`, futures only `<s>@markPrice[@1s]`); the symbol comes
 *     from it, upper-cased, [A-Z0-9_]{1,32}, and the data's "s" (and a kline's "k.s"), when
 *     present, must name the same symbol, in any case; a kline's "k.i" must be the stream's
 *     interval; "e", when present, must be the event the stream carries ("depthUpdate", …);
 *   - the fields each kind needs on `market`, with their JSON types (futures depth updates need
 *     "pu" and "T", futures bookTickers "E", futures snapshots "E" and "T"); unknown fields are
 *     ignored (Binance adds fields: `st`, `ps`, `nq`, …), and so are "pu" and "T" on spot;
 *   - prices > 0, quantities >= 0, at most 8 decimals, within dec_t's range; update ids >= 1 and
 *     U <= u; aggTrade f <= l, kline f <= L; times >= 0; levels are arrays of exactly 2
 *     strings; at most parse's max_levels levels a side.
 * Any key order is accepted; Binance's ("stream" before "data") is the fast one. Duplicate keys:
 * the last one wins, as in most JSON readers, except a second "stream" or "data" in the wrapper,
 * which is bad_shape (the data may already have been read for the first stream).
 *
 * Decimals keep the number of fractional digits the exchange wrote (`places`), so that a value
 * formatted back with dec_format_fixed is the exchange's exact string ("61837.63000000").
 *
 * The levels of a depth event or snapshot live in buffers owned by the parse_t and are valid
 * until the next call on it. Nothing allocates in the steady state.
 */
#ifndef BOOKCAST_PARSE_H
#define BOOKCAST_PARSE_H

#include "decimal.h"
#include "envelope.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARSE_SYMBOL_MAX 32  /* longest symbol, as in the envelope */
#define PARSE_STREAM_MAX 96  /* longest stream name accepted */
#define PARSE_INTERVAL_MAX 4 /* "1s" … "12h", "1M" */

/* Why a payload was refused. The names (parse_err_name) are metric labels. */
typedef enum {
    PARSE_OK = 0,
    PARSE_ERR_JSON,           /* "malformed_json": not RFC 8259 JSON */
    PARSE_ERR_SHAPE,          /* "bad_shape": not {"stream":…,"data":{…}} / not a depth body */
    PARSE_ERR_UNKNOWN_STREAM, /* "unknown_stream": a stream name no kind here matches */
    PARSE_ERR_MISSING_FIELD,  /* "missing_field": a field the kind needs is absent */
    PARSE_ERR_WRONG_TYPE,     /* "wrong_type": a field of the wrong JSON type */
    PARSE_ERR_BAD_VALUE,      /* "bad_value": a decimal or id out of range, U > u, price <= 0 */
    PARSE_ERR_SYMBOL,         /* "symbol_mismatch": the data names another symbol than the stream */
    PARSE_ERR_TOO_MANY_LEVELS, /* "too_many_levels": more than max_levels levels on a side */
    PARSE_ERR_NO_MEMORY,       /* "out_of_memory": the level buffers could not grow */
    PARSE_ERR_COUNT
} parse_err_t;

typedef enum {
    EVENT_DEPTH = 1,     /* diff depth: @depth, @depth@100ms, … */
    EVENT_TRADE,         /* spot @trade (and the undocumented futures @trade) */
    EVENT_AGG_TRADE,     /* @aggTrade */
    EVENT_BOOK_TICKER,   /* @bookTicker */
    EVENT_KLINE,         /* @kline_<interval> */
    EVENT_PARTIAL_DEPTH, /* @depth5/10/20: recognised, validated, not used for books */
    EVENT_MARK_PRICE,    /* @markPrice[@1s]: recognised, validated */
    EVENT_ANSWER,        /* {"result":…,"id":…} or {"error":…}: a reply to a control request;
                            stream and symbol are "", the union is unused */
} event_kind_t;

/* An exact decimal and the number of fractional digits the exchange wrote. */
typedef struct {
    dec_t value;
    uint8_t places;
} parse_dec_t;

typedef struct {
    dec_t price;
    dec_t qty; /* absolute; 0 removes the level */
} parse_level_t;

/* Where a level's price and quantity are written in the payload, so that they can be copied out
   exactly as the exchange wrote them. A length of 0 means "not available" (it was escaped):
   format the decimal instead. Valid as long as the payload is. */
typedef struct {
    const char *price, *qty;
    uint8_t price_len, qty_len;
} parse_level_text_t;

typedef struct {
    uint64_t first_id;                             /* U */
    uint64_t last_id;                              /* u */
    uint64_t prev_id;                              /* pu (futures); 0 when absent */
    bool has_prev_id;                              /* pu was present (USD-M, COIN-M) */
    int64_t event_ms;                              /* E */
    int64_t txn_ms;                                /* T (futures); 0 when absent */
    const parse_level_t *bids, *asks;              /* in the order sent */
    const parse_level_text_t *bid_text, *ask_text; /* the same levels as written */
    size_t bid_count, ask_count;
    uint8_t price_places, qty_places; /* the most fractional digits seen in this event */
} depth_event_t;

typedef struct {
    uint64_t id;                            /* trade: t; aggTrade: a */
    uint64_t first_trade_id, last_trade_id; /* aggTrade: f, l; trade: both = t */
    parse_dec_t price, qty;
    int64_t trade_ms;    /* T */
    int64_t event_ms;    /* E */
    bool buyer_is_maker; /* m: true means the seller was the taker */
} trade_event_t;

typedef struct {
    uint64_t update_id; /* u */
    parse_dec_t bid, bid_qty, ask, ask_qty;
    int64_t event_ms; /* E (futures); 0 when absent (spot) */
} book_ticker_event_t;

typedef struct {
    char interval[PARSE_INTERVAL_MAX + 1];  /* k.i, also checked against the stream name */
    int64_t open_ms, close_ms;              /* k.t, k.T */
    uint64_t first_trade_id, last_trade_id; /* k.f, k.L (L may be -1 on Binance: then both 0) */
    uint64_t trade_count;                   /* k.n */
    parse_dec_t open, high, low, close, volume, quote_volume, taker_buy_volume,
        taker_buy_quote_volume; /* o h l c v q V Q */
    bool closed;                /* k.x */
    int64_t event_ms;           /* E */
} kline_event_t;

typedef struct {
    parse_dec_t mark_price;
    int64_t event_ms;
} mark_price_event_t;

typedef struct {
    event_kind_t kind;
    char stream[PARSE_STREAM_MAX + 1]; /* as received: "btcusdt@depth@100ms" */
    char symbol[PARSE_SYMBOL_MAX + 1]; /* upper case: "BTCUSDT"; "" for EVENT_ANSWER */
    union {
        depth_event_t depth; /* EVENT_DEPTH; also EVENT_PARTIAL_DEPTH, where spot sends only
                                lastUpdateId (in last_id; first_id and the times are 0) */
        trade_event_t trade; /* EVENT_TRADE, EVENT_AGG_TRADE */
        book_ticker_event_t ticker;
        kline_event_t kline;
        mark_price_event_t mark;
    } u;
} event_t;

/* A REST depth snapshot body: {"lastUpdateId":…,"bids":[…],"asks":[…]} (+ E, T on futures). */
typedef struct {
    uint64_t last_update_id;
    int64_t event_ms, txn_ms; /* 0 when absent (spot) */
    const parse_level_t *bids, *asks;
    size_t bid_count, ask_count;
    uint8_t price_places, qty_places;
} snapshot_t;

typedef struct parse_t parse_t;

/* A parser that accepts at most max_levels levels per side (>= 1). NULL when out of memory. */
parse_t *parse_new(size_t max_levels);
void parse_destroy(parse_t **self_p);

/* Parses one WebSocket text frame of `market`. On PARSE_OK fills *ev (levels borrowed from self
   until the next call) and sets detail to ""; otherwise *ev is unspecified and detail, when not
   NULL, holds a short reason naming the path ("data.b[3][0]: more than 8 decimal places …"). */
parse_err_t parse_frame(parse_t *self, market_t market, const char *payload, size_t len,
                        event_t *ev, char *detail, size_t detail_len);

/* Parses a REST depth snapshot body. Same contract. */
parse_err_t parse_snapshot(parse_t *self, market_t market, const char *payload, size_t len,
                           snapshot_t *snap, char *detail, size_t detail_len);

/* "malformed_json", "bad_shape", …; "ok" for PARSE_OK; never NULL. */
const char *parse_err_name(parse_err_t err);

#endif
