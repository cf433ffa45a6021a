/*
 * streamname.h — Binance market-data stream names, as the simulated exchange judges them.
 *
 * A client names streams in SUBSCRIBE/UNSUBSCRIBE params and in URLs (/ws/<name>,
 * /stream?streams=a/b). Binance sorts every name into one of three outcomes, and so does
 * sim_streamname_parse:
 *   LIVE     a stream this market serves: it delivers, once the symbol exists in the universe
 *            (the caller's check) and the connection's path routes it (USD-M /public vs /market);
 *   SILENT   well-formed, so SUBSCRIBE answers {"result":null,…}, but nothing is ever delivered:
 *            an upper-case symbol, a speed or interval the market lacks, an unknown stream kind;
 *   INVALID  malformed ("not asdfads", "@@@x###"): SUBSCRIBE is refused with
 *            {"error":{"code":2,"msg":"Invalid request: invalid stream"},…}.
 * streamname.c explains the rules and where they come from. Nothing here allocates; all
 * functions are pure and thread-safe.
 */
#ifndef BOOKCAST_SIM_STREAMNAME_H
#define BOOKCAST_SIM_STREAMNAME_H

#include "envelope.h" /* market_t */

#include <stdbool.h>
#include <stddef.h>

/* Longest stream name the sim accepts, in bytes; a longer one is INVALID (a sim bound: real
   names, listen keys included, are far shorter). */
#define SIM_STREAMNAME_MAX 200
/* Longest symbol kept in sim_streamname_t; a name with a longer symbol part is SILENT. */
#define SIM_STREAMNAME_SYMBOL_MAX 32

typedef enum {
    SIM_STREAMNAME_LIVE = 0,
    SIM_STREAMNAME_SILENT,
    SIM_STREAMNAME_INVALID,
} sim_streamname_verdict_t;

typedef enum {
    SIM_STREAMKIND_NONE = 0,      /* not a kind the sim recognises */
    SIM_STREAMKIND_DEPTH,         /* <s>@depth[@speed]: diff depth */
    SIM_STREAMKIND_PARTIAL_DEPTH, /* <s>@depth<5|10|20>[@speed] */
    SIM_STREAMKIND_TRADE,         /* <s>@trade */
    SIM_STREAMKIND_AGG_TRADE,     /* <s>@aggTrade */
    SIM_STREAMKIND_BOOK_TICKER,   /* <s>@bookTicker */
    SIM_STREAMKIND_KLINE,         /* <s>@kline_<interval> */
    SIM_STREAMKIND_MARK_PRICE,    /* <s>@markPrice[@1s] (futures) */
} sim_streamkind_t;

/* Where a stream is served (USD-M) or which route a connection's path has. Spot and COIN-M
   have no routes (NONE); on USD-M, NONE is the legacy unrouted /ws and /stream. */
typedef enum {
    SIM_WSROUTE_NONE = 0,
    SIM_WSROUTE_PUBLIC, /* fstream …/public/ws|stream */
    SIM_WSROUTE_MARKET, /* fstream …/market/ws|stream */
} sim_wsroute_t;

typedef struct {
    sim_streamname_verdict_t verdict;
    const char *why;  /* SILENT/INVALID: a static reason for logs; LIVE: NULL */
    char symbol[SIM_STREAMNAME_SYMBOL_MAX + 1]; /* as written, e.g. "btcusdt"; "" if none fits */
    sim_streamkind_t kind;
    unsigned speed_ms; /* update cadence; 0 = real time (trade, bookTicker, USD-M @depth@0ms) */
    unsigned levels;   /* PARTIAL_DEPTH: 5, 10 or 20; else 0 */
    char interval[4];  /* KLINE: "1s", "1m", … "1M"; else "" */
} sim_streamname_t;

/* Judges the NUL-terminated `name` for `market` and fills *out (always, whatever the verdict).
   Returns out->verdict. The symbol's existence is not checked: a well-formed name for an
   unknown symbol is LIVE here and simply never delivers. */
sim_streamname_verdict_t sim_streamname_parse(market_t market, const char *name,
                                              sim_streamname_t *out);

/* The route a stream kind is served on: USD-M /public (depth, partial depth, bookTicker, trade)
   or /market (aggTrade, kline, markPrice); NONE on spot and COIN-M and for KIND_NONE. */
sim_wsroute_t sim_streamname_route(market_t market, sim_streamkind_t kind);

/* True when a connection whose path has route `conn_route` delivers `stream` (a parsed name):
   it must be LIVE, and on USD-M its route must be the path's — the unrouted legacy path counts
   as /public, so it ACKs /market streams and never delivers them. Spot and COIN-M paths have
   no route: anything but NONE there delivers nothing. The universe check is the caller's. */
bool sim_streamname_delivered_on(market_t market, const sim_streamname_t *stream,
                                 sim_wsroute_t conn_route);

/* A WebSocket request path ("/ws", "/ws/btcusdt@depth", "/stream", "/public/stream", …,
   without the "?query"), as served by `market`. */
typedef struct {
    sim_wsroute_t route; /* USD-M /public or /market; NONE for unrouted paths */
    bool combined;       /* /stream: true; /ws: false — the initial "combined" property */
    const char *raw;     /* /ws/<rest>: points at <rest> inside the path (may be ""); else NULL */
} sim_wspath_t;

/* Parses `path` for `market`. Returns 0 and fills *out, or -1 when the market serves no
   WebSocket there (spot/COIN-M "/public/…", USD-M "/private/…", "/foo"). */
int sim_streamname_path_parse(market_t market, const char *path, sim_wspath_t *out);

/* "depth", "partialDepth", "trade", "aggTrade", "bookTicker", "kline", "markPrice", "none". */
const char *sim_streamkind_name(sim_streamkind_t kind);

#endif
