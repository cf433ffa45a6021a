/*
 * streamname.c — which stream names Binance accepts, which it serves, and where.
 *
 * Binance checks the *syntax* of a stream name and nothing else: SUBSCRIBE to a made-up but
 * well-formed name ("btcusdt@naoExisteStream") gets {"result":null} exactly like a real one,
 * while "@@@lixo###" and "not asdfads" get "Invalid request: invalid stream" (measurements on
 * fstream, 2026-08; ccxt PR #19833). Binance also ACKs a spot listen key (an alphanumeric word
 * without '@'). So three verdicts, see streamname.h:
 *
 * INVALID — the sim's syntax, chosen to agree with every observation above: 1..200 bytes,
 *   '@'-separated segments, none empty, each made of ASCII letters and digits, '_' '-' '.' '!'
 *   ':' '+' (kline "@+08:00", "!bookTicker") or bytes >= 0x80 (spot symbols may be non-ASCII
 *   [S-WS]). A space, '#', '/', '"', "@@", a leading or trailing '@' make a name INVALID.
 *
 * SILENT — well-formed but never delivering:
 *   - a symbol with an upper-case letter: stream symbols are lower case [S-WS]; upper case is
 *     accepted without error and never delivers (binance-connector-java#24,
 *     node-binance-api#694 "the channel is case sensitive"). The kind part is matched
 *     case-sensitively too ("btcusdt@aggtrade" is SILENT) — an inference, same matching rule;
 *   - a speed, interval or kind the market does not serve, e.g. USD-M "@depth@250ms": observed
 *     ACKed with no data (2026-09-28 measurement on the /public tier), so the futures default
 *     250 ms has no explicit suffix; by the same rule "@depth5@250ms" is SILENT (the doc lists
 *     only [@500ms|@100ms] for partial depth, [PY-SDK] enums agree);
 *   - real Binance streams the sim does not produce (miniTicker, ticker, forceOrder, rpiDepth,
 *     kline "@+08:00", "!…" all-market streams): a sim limitation, said in `why`.
 *
 * LIVE, per market (binance-protocol.md §3, §5; [PY-SDK] stream lists and speed enums):
 *   spot    @depth (1000 ms), @depth@100ms, @depth@1000ms; @depth<5|10|20> with the same three
 *           speed forms; @trade; @aggTrade; @bookTicker; @kline_<i> with i in 1s 1m 3m 5m 15m
 *           30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M (1000 ms for 1s, 2000 ms otherwise).
 *           "@1000ms" is not in [S-WS] but is used widely and delivers (many public clients).
 *   USD-M   @depth (250 ms), @depth@500ms, @depth@100ms, @depth@0ms (undocumented on the stream
 *           page; USD-M changelog 2020-01-06 "real time updates"); @depth<5|10|20> default,
 *           @500ms, @100ms; @trade (undocumented, observed: JKorf/Binance.Net#1218); @aggTrade
 *           (100 ms); @bookTicker; @kline_<i> without 1s (250 ms); @markPrice (3 s), @1s.
 *   COIN-M  as USD-M, @depth@0ms and @trade included: neither is on the COIN-M stream page or in
 *           [PY-SDK]'s COIN-M list, but the real COIN-M capture in binance-real-data/
 *           (cm_ethusd_perp_20240808) is made of "ethusd_perp@depth@0ms" and "ethusd_perp@trade"
 *           frames, and a capture beats a list.
 *
 * USD-M routes [PY-SDK public_api.py / market_api.py]: /public serves depth, partial depth and
 * bookTicker; /market serves aggTrade, kline and markPrice. @trade is a conflict in the doc
 * (observed on /public and unrouted; ccxt PR #28091 routes it to /market): the sim follows the
 * observation, /public. The legacy unrouted /ws and /stream are served as /public: they ACK
 * /market streams and never deliver them (BYTEX-TRADE/bytex#7, jesse-ai/jesse#562). Spot and
 * COIN-M have no routes.
 */
#include "streamname.h"

#include <string.h>

#define SEGMENTS_MAX 8 /* more '@'s than any real name has: SILENT, not INVALID */

typedef struct {
    const char *p;
    size_t len;
} seg_t;

static bool seg_is(seg_t s, const char *word)
{
    size_t n = strlen(word);
    return s.len == n && memcmp(s.p, word, n) == 0;
}

static bool name_byte_ok(unsigned char c)
{
    if (c >= 0x80)
        return true;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c == '_' || c == '-' || c == '.' || c == '!' || c == ':' || c == '+';
}

/* Splits name on '@'. Returns the number of segments (may exceed SEGMENTS_MAX, in which case
   only the first SEGMENTS_MAX are stored), or 0 when the syntax is invalid. */
static size_t split(const char *name, seg_t segs[SEGMENTS_MAX])
{
    size_t len = strlen(name);
    if (len == 0 || len > SIM_STREAMNAME_MAX)
        return 0;
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '@') {
            if (i == start)
                return 0; /* empty segment: "@x", "x@", "x@@y" */
            if (count < SEGMENTS_MAX)
                segs[count] = (seg_t){name + start, i - start};
            count++;
            start = i + 1;
        } else if (!name_byte_ok((unsigned char)name[i])) {
            return 0;
        }
    }
    return count;
}

static bool is_futures(market_t market)
{
    return market == MARKET_USDM || market == MARKET_COINM;
}

/* Diff-depth speed suffix → cadence. Returns false when the market lacks that suffix. */
static bool diff_speed(market_t market, seg_t s, unsigned *speed_ms)
{
    if (market == MARKET_SPOT) {
        if (seg_is(s, "100ms"))
            *speed_ms = 100;
        else if (seg_is(s, "1000ms"))
            *speed_ms = 1000;
        else
            return false;
        return true;
    }
    if (seg_is(s, "100ms"))
        *speed_ms = 100;
    else if (seg_is(s, "500ms"))
        *speed_ms = 500;
    else if (seg_is(s, "0ms"))
        *speed_ms = 0;
    else
        return false;
    return true;
}

/* Partial-depth speed suffix: spot @100ms/@1000ms, futures @100ms/@500ms. */
static bool partial_speed(market_t market, seg_t s, unsigned *speed_ms)
{
    if (seg_is(s, "100ms"))
        *speed_ms = 100;
    else if (market == MARKET_SPOT && seg_is(s, "1000ms"))
        *speed_ms = 1000;
    else if (is_futures(market) && seg_is(s, "500ms"))
        *speed_ms = 500;
    else
        return false;
    return true;
}

static const char *const KLINE_INTERVALS[] = {"1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h",
                                              "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"};

static bool kline_interval_ok(market_t market, seg_t iv)
{
    if (seg_is(iv, "1s"))
        return market == MARKET_SPOT; /* futures klines have no 1s [PY-SDK] */
    for (size_t i = 0; i < sizeof KLINE_INTERVALS / sizeof *KLINE_INTERVALS; i++)
        if (seg_is(iv, KLINE_INTERVALS[i]))
            return true;
    return false;
}

static sim_streamname_verdict_t verdict(sim_streamname_t *out, sim_streamname_verdict_t v,
                                        const char *why)
{
    out->verdict = v;
    out->why = why;
    return v;
}

/* Recognises the kind part (segs[1..]) for market; fills kind, speed, levels, interval.
   Returns false when the name is not a stream the sim serves on this market. */
static bool classify(market_t market, const seg_t *segs, size_t n, sim_streamname_t *out)
{
    seg_t k = segs[1];
    if (seg_is(k, "depth")) {
        out->kind = SIM_STREAMKIND_DEPTH;
        out->speed_ms = market == MARKET_SPOT ? 1000 : 250;
        return n == 2 || (n == 3 && diff_speed(market, segs[2], &out->speed_ms));
    }
    if (seg_is(k, "depth5") || seg_is(k, "depth10") || seg_is(k, "depth20")) {
        out->kind = SIM_STREAMKIND_PARTIAL_DEPTH;
        out->levels = k.p[5] == '5' ? 5 : k.p[5] == '1' ? 10 : 20;
        out->speed_ms = market == MARKET_SPOT ? 1000 : 250;
        return n == 2 || (n == 3 && partial_speed(market, segs[2], &out->speed_ms));
    }
    if (seg_is(k, "trade")) {
        out->kind = SIM_STREAMKIND_TRADE;
        return n == 2;
    }
    if (seg_is(k, "aggTrade")) {
        out->kind = SIM_STREAMKIND_AGG_TRADE;
        out->speed_ms = is_futures(market) ? 100 : 0;
        return n == 2;
    }
    if (seg_is(k, "bookTicker")) {
        out->kind = SIM_STREAMKIND_BOOK_TICKER;
        return n == 2;
    }
    if (k.len > 6 && memcmp(k.p, "kline_", 6) == 0) {
        seg_t iv = {k.p + 6, k.len - 6};
        out->kind = SIM_STREAMKIND_KLINE;
        if (iv.len < sizeof out->interval) {
            memcpy(out->interval, iv.p, iv.len);
            out->interval[iv.len] = '\0';
        }
        out->speed_ms = is_futures(market) ? 250 : seg_is(iv, "1s") ? 1000 : 2000;
        return n == 2 && kline_interval_ok(market, iv);
    }
    if (seg_is(k, "markPrice")) {
        out->kind = SIM_STREAMKIND_MARK_PRICE;
        out->speed_ms = 3000;
        if (n == 3 && seg_is(segs[2], "1s"))
            out->speed_ms = 1000;
        return is_futures(market) && (n == 2 || (n == 3 && seg_is(segs[2], "1s")));
    }
    return false;
}

sim_streamname_verdict_t sim_streamname_parse(market_t market, const char *name,
                                              sim_streamname_t *out)
{
    memset(out, 0, sizeof *out);
    seg_t segs[SEGMENTS_MAX];
    size_t n = name ? split(name, segs) : 0;
    if (n == 0)
        return verdict(out, SIM_STREAMNAME_INVALID, "malformed stream name");
    if (segs[0].len > SIM_STREAMNAME_SYMBOL_MAX)
        return verdict(out, SIM_STREAMNAME_SILENT, "symbol too long to exist");
    memcpy(out->symbol, segs[0].p, segs[0].len);
    out->symbol[segs[0].len] = '\0';
    if (n == 1)
        return verdict(out, SIM_STREAMNAME_SILENT, "no stream kind (a listen key?)");
    if (n > 3 || segs[0].p[0] == '!')
        return verdict(out, SIM_STREAMNAME_SILENT,
                       "not a stream bookcast-sim serves on this market");
    if (!classify(market, segs, n, out)) {
        sim_streamkind_t kind = out->kind;
        memset(out, 0, sizeof *out);
        memcpy(out->symbol, segs[0].p, segs[0].len);
        out->kind = kind; /* e.g. DEPTH for "@depth@250ms": recognisable, never served */
        return verdict(out, SIM_STREAMNAME_SILENT,
                       "not a stream bookcast-sim serves on this market");
    }
    for (size_t i = 0; i < segs[0].len; i++)
        if (segs[0].p[i] >= 'A' && segs[0].p[i] <= 'Z')
            return verdict(out, SIM_STREAMNAME_SILENT, "symbol not in lower case");
    return verdict(out, SIM_STREAMNAME_LIVE, NULL);
}

sim_wsroute_t sim_streamname_route(market_t market, sim_streamkind_t kind)
{
    if (market != MARKET_USDM)
        return SIM_WSROUTE_NONE;
    switch (kind) {
    case SIM_STREAMKIND_DEPTH:
    case SIM_STREAMKIND_PARTIAL_DEPTH:
    case SIM_STREAMKIND_BOOK_TICKER:
    case SIM_STREAMKIND_TRADE:
        return SIM_WSROUTE_PUBLIC;
    case SIM_STREAMKIND_AGG_TRADE:
    case SIM_STREAMKIND_KLINE:
    case SIM_STREAMKIND_MARK_PRICE:
        return SIM_WSROUTE_MARKET;
    case SIM_STREAMKIND_NONE:
        break;
    }
    return SIM_WSROUTE_NONE;
}

bool sim_streamname_delivered_on(market_t market, const sim_streamname_t *stream,
                                 sim_wsroute_t conn_route)
{
    if (!stream || stream->verdict != SIM_STREAMNAME_LIVE)
        return false;
    if (market != MARKET_USDM)
        return conn_route == SIM_WSROUTE_NONE;
    sim_wsroute_t served = conn_route == SIM_WSROUTE_NONE ? SIM_WSROUTE_PUBLIC : conn_route;
    return sim_streamname_route(market, stream->kind) == served;
}

/* Matches "<base>" or "<base>/…" at p; returns the rest (after base) or NULL. */
static const char *after(const char *p, const char *base)
{
    size_t n = strlen(base);
    if (strncmp(p, base, n) != 0 || (p[n] != '\0' && p[n] != '/'))
        return NULL;
    return p + n;
}

int sim_streamname_path_parse(market_t market, const char *path, sim_wspath_t *out)
{
    if (!path || !out)
        return -1;
    sim_wsroute_t route = SIM_WSROUTE_NONE;
    const char *p = path, *rest;
    if (market == MARKET_USDM && (rest = after(p, "/public")) != NULL) {
        route = SIM_WSROUTE_PUBLIC;
        p = rest;
    } else if (market == MARKET_USDM && (rest = after(p, "/market")) != NULL) {
        route = SIM_WSROUTE_MARKET;
        p = rest;
    }
    if ((rest = after(p, "/ws")) != NULL) {
        *out = (sim_wspath_t){route, false, *rest == '/' ? rest + 1 : NULL};
        return 0;
    }
    if ((rest = after(p, "/stream")) != NULL && (*rest == '\0' || strcmp(rest, "/") == 0)) {
        *out = (sim_wspath_t){route, true, NULL};
        return 0;
    }
    return -1;
}

const char *sim_streamkind_name(sim_streamkind_t kind)
{
    switch (kind) {
    case SIM_STREAMKIND_DEPTH:
        return "depth";
    case SIM_STREAMKIND_PARTIAL_DEPTH:
        return "partialDepth";
    case SIM_STREAMKIND_TRADE:
        return "trade";
    case SIM_STREAMKIND_AGG_TRADE:
        return "aggTrade";
    case SIM_STREAMKIND_BOOK_TICKER:
        return "bookTicker";
    case SIM_STREAMKIND_KLINE:
        return "kline";
    case SIM_STREAMKIND_MARK_PRICE:
        return "markPrice";
    case SIM_STREAMKIND_NONE:
        break;
    }
    return "none";
}
