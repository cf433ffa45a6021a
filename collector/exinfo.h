/*
 * exinfo.h — the symbols a market trades, read from its exchangeInfo answer.
 *
 * A collector configured with symbols "ALL" subscribes to every symbol the exchange trades, and
 * one configured with a list reports at start the symbols the exchange does not list. Both read
 * exchangeInfo (binance-protocol.md §4): spot and USD-M give each symbol a "status", COIN-M a
 * "contractStatus"; only "TRADING" symbols are kept (spot BREAK/HALT, futures PENDING_TRADING,
 * SETTLING, CLOSE… are not). The REQUEST_WEIGHT per-minute limit is read too: the exchange's
 * live value for the weight budget.
 *
 * The parser is strict about shape (an object with a "symbols" array whose entries have string
 * "symbol" and status members): a collector that cannot tell what the exchange trades must say
 * so, not subscribe to a guess. A TRADING symbol that cannot travel in a frame (not 1..32 of
 * [A-Z0-9_]; Binance lists a few symbols in other scripts) is skipped and counted. Pure: no I/O,
 * no logging.
 */
#ifndef BOOKCAST_COLLECTOR_EXINFO_H
#define BOOKCAST_COLLECTOR_EXINFO_H

#include "envelope.h" /* market_t */

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char **symbols; /* TRADING symbols in the exchange's order (malloc'd) */
    size_t symbol_count;
    size_t not_trading;            /* listed with another status */
    size_t unusable_names;         /* TRADING, but not a symbol a frame can carry */
    unsigned weight_limit_per_min; /* rateLimits REQUEST_WEIGHT, 1 MINUTE; 0 when absent */
} exinfo_t;

/* Parses the `len` bytes at `body` (need not be NUL-terminated) as `market`'s exchangeInfo into
   *out. Returns 0, or -1 with a one-line reason in error (e.g. `exchangeInfo: not JSON (error
   at byte 17 of 230)` or `exchangeInfo: symbols[3] has no string "contractStatus"`) and *out
   empty. Free *out with exinfo_free. */
int exinfo_parse(market_t market, const char *body, size_t len, exinfo_t *out, char *error,
                 size_t error_len);

/* Frees what exinfo_parse allocated and empties *info. NULL-safe. */
void exinfo_free(exinfo_t *info);

/* True when `symbol` (any case) is one of info's TRADING symbols. */
bool exinfo_has(const exinfo_t *info, const char *symbol);

#endif
