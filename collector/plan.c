/*
 * plan.c — stream names and routes (see plan.h).
 *
 * Names follow binance-protocol.md §3 and §5: the symbol in lower case, then the kind. A speed
 * suffix is written only where it differs from the plain stream: spot "@depth" is 1000 ms and
 * "@depth@100ms" 100 ms; futures "@depth" is 250 ms and take "@100ms", "@500ms" and "@0ms"
 * (USD-M only, real time). Partial depth takes the same suffixes. USD-M routes are those of the
 * official SDK's stream lists; @trade goes to /public, where it has been observed delivering.
 */
#include "plan.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool is_futures(market_t market)
{
    return market == MARKET_USDM || market == MARKET_COINM;
}

/* The suffix for a depth speed: "" for the market's plain stream, "@100ms" etc. otherwise. */
static const char *speed_suffix(market_t market, unsigned speed_ms, bool partial)
{
    unsigned plain = is_futures(market) ? 250 : 1000;
    if (speed_ms == plain)
        return "";
    switch (speed_ms) {
    case 0:
        return partial ? "" : "@0ms";
    case 100:
        return "@100ms";
    case 500:
        return "@500ms";
    case 1000:
        return "@1000ms";
    default:
        return "";
    }
}

static bool add(char out[][PLAN_STREAM_MAX], size_t max, size_t *n, const char *lower,
                const char *kind, const char *suffix)
{
    if (*n >= max)
        return false;
    int w = snprintf(out[*n], PLAN_STREAM_MAX, "%s@%s%s", lower, kind, suffix);
    if (w < 0 || w >= PLAN_STREAM_MAX)
        return false;
    (*n)++;
    return true;
}

size_t plan_symbol_streams(market_t market, const char *symbol, const plan_channels_t *ch,
                           char out[][PLAN_STREAM_MAX], size_t max)
{
    char lower[40];
    size_t len = symbol ? strlen(symbol) : 0;
    if (len == 0 || len >= sizeof lower)
        return 0;
    for (size_t i = 0; i <= len; i++)
        lower[i] = (char)tolower((unsigned char)symbol[i]);
    size_t n = 0;
    if (ch->depth)
        add(out, max, &n, lower, "depth", speed_suffix(market, ch->depth_speed_ms, false));
    if (ch->depth_n == 5 || ch->depth_n == 10 || ch->depth_n == 20) {
        char kind[16];
        snprintf(kind, sizeof kind, "depth%u", ch->depth_n);
        add(out, max, &n, lower, kind, speed_suffix(market, ch->depth_n_speed_ms, true));
    }
    if (ch->trade)
        add(out, max, &n, lower, "trade", "");
    if (ch->agg_trade)
        add(out, max, &n, lower, "aggTrade", "");
    if (ch->book_ticker)
        add(out, max, &n, lower, "bookTicker", "");
    if (ch->mark_price && is_futures(market))
        add(out, max, &n, lower, "markPrice", "@1s");
    for (size_t i = 0; i < ch->kline_count && i < PLAN_KLINES_MAX; i++) {
        char kind[16];
        snprintf(kind, sizeof kind, "kline_%s", ch->klines[i]);
        add(out, max, &n, lower, kind, "");
    }
    return n;
}

plan_route_t plan_route(market_t market, const char *stream)
{
    if (market != MARKET_USDM)
        return PLAN_ROUTE_NONE;
    const char *kind = strchr(stream, '@');
    kind = kind ? kind + 1 : stream;
    if (strncmp(kind, "aggTrade", 8) == 0 || strncmp(kind, "kline_", 6) == 0 ||
        strncmp(kind, "markPrice", 9) == 0)
        return PLAN_ROUTE_MARKET;
    return PLAN_ROUTE_PUBLIC;
}

const char *plan_route_path(market_t market, plan_route_t route)
{
    (void)market;
    switch (route) {
    case PLAN_ROUTE_PUBLIC:
        return "/public/stream";
    case PLAN_ROUTE_MARKET:
        return "/market/stream";
    default:
        return "/stream";
    }
}

const char *plan_route_name(plan_route_t route)
{
    return route == PLAN_ROUTE_PUBLIC ? "public" : route == PLAN_ROUTE_MARKET ? "market" : "";
}

size_t plan_stream_symbol(const char *stream, char *out, size_t out_len)
{
    const char *at = strchr(stream, '@');
    if (!at || at == stream || (size_t)(at - stream) >= out_len)
        return 0;
    size_t n = (size_t)(at - stream);
    for (size_t i = 0; i < n; i++)
        out[i] = (char)toupper((unsigned char)stream[i]);
    out[n] = '\0';
    return n;
}
