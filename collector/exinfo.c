/*
 * exinfo.c — TRADING symbols and the weight limit from exchangeInfo (see exinfo.h). One pass
 * over cJSON's tree; every shape error names the member and the entry, so an operator can
 * compare with the exchange's answer.
 */
#include "exinfo.h"

#include <cjson/cJSON.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TRADING "TRADING"

static void set_error(char *error, size_t error_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(char *error, size_t error_len, const char *fmt, ...)
{
    if (!error || !error_len)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(error, error_len, fmt, args);
    va_end(args);
}

/* The member holding a symbol's trading status in `market`'s exchangeInfo. */
static const char *status_key(market_t market)
{
    return market == MARKET_COINM ? "contractStatus" : "status";
}

static bool frame_symbol(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > ENVELOPE_SYMBOL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isupper((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

/* rateLimits: [{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,
   "limit":6000}, …]. Absent or odd entries leave 0: the configured limit then stands. */
static unsigned request_weight_limit(const cJSON *root)
{
    const cJSON *limits = cJSON_GetObjectItemCaseSensitive(root, "rateLimits");
    const cJSON *entry;
    cJSON_ArrayForEach(entry, limits)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(entry, "rateLimitType");
        const cJSON *interval = cJSON_GetObjectItemCaseSensitive(entry, "interval");
        const cJSON *num = cJSON_GetObjectItemCaseSensitive(entry, "intervalNum");
        const cJSON *limit = cJSON_GetObjectItemCaseSensitive(entry, "limit");
        if (cJSON_IsString(type) && strcmp(type->valuestring, "REQUEST_WEIGHT") == 0 &&
            cJSON_IsString(interval) && strcmp(interval->valuestring, "MINUTE") == 0 &&
            cJSON_IsNumber(num) && num->valuedouble == 1 && cJSON_IsNumber(limit) &&
            limit->valuedouble >= 1 && limit->valuedouble <= 1e9)
            return (unsigned)limit->valuedouble;
    }
    return 0;
}

/* Reads the symbols array into out. Returns 0 or -1 with the error set. */
static int read_symbols(market_t market, const cJSON *symbols, exinfo_t *out, char *error,
                        size_t error_len)
{
    size_t n = (size_t)cJSON_GetArraySize(symbols);
    out->symbols = calloc(n ? n : 1, sizeof *out->symbols);
    if (!out->symbols) {
        set_error(error, error_len, "exchangeInfo: out of memory for %zu symbols", n);
        return -1;
    }
    const char *key = status_key(market);
    size_t index = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, symbols)
    {
        const cJSON *symbol = cJSON_GetObjectItemCaseSensitive(entry, "symbol");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(entry, key);
        if (!cJSON_IsString(symbol)) {
            set_error(error, error_len, "exchangeInfo: symbols[%zu] has no string \"symbol\"",
                      index);
            return -1;
        }
        if (!cJSON_IsString(status)) {
            set_error(error, error_len, "exchangeInfo: symbols[%zu] (%.40s) has no string \"%s\"",
                      index, symbol->valuestring, key);
            return -1;
        }
        index++;
        if (strcmp(status->valuestring, TRADING) != 0) {
            out->not_trading++;
            continue;
        }
        if (!frame_symbol(symbol->valuestring)) {
            out->unusable_names++;
            continue;
        }
        char *copy = strdup(symbol->valuestring);
        if (!copy) {
            set_error(error, error_len, "exchangeInfo: out of memory for %zu symbols", n);
            return -1;
        }
        out->symbols[out->symbol_count++] = copy;
    }
    return 0;
}

int exinfo_parse(market_t market, const char *body, size_t len, exinfo_t *out, char *error,
                 size_t error_len)
{
    memset(out, 0, sizeof *out);
    if (market != MARKET_SPOT && market != MARKET_USDM && market != MARKET_COINM) {
        set_error(error, error_len, "exchangeInfo: unknown market %d", (int)market);
        return -1;
    }
    if (!body || len == 0) {
        set_error(error, error_len, "exchangeInfo: empty body");
        return -1;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root) {
        size_t at = end && end >= body && end <= body + len ? (size_t)(end - body) : 0;
        set_error(error, error_len, "exchangeInfo: not JSON (error at byte %zu of %zu)", at, len);
        return -1;
    }
    while (end && end < body + len && isspace((unsigned char)*end))
        end++;
    int rc = -1;
    const cJSON *symbols = cJSON_GetObjectItemCaseSensitive(root, "symbols");
    if (end && end < body + len && *end != '\0')
        set_error(error, error_len, "exchangeInfo: bytes after the JSON value at byte %zu of %zu",
                  (size_t)(end - body), len);
    else if (!cJSON_IsObject(root))
        set_error(error, error_len, "exchangeInfo: the answer is not a JSON object");
    else if (!cJSON_IsArray(symbols))
        set_error(error, error_len, "exchangeInfo: no \"symbols\" array");
    else
        rc = read_symbols(market, symbols, out, error, error_len);
    if (rc == 0)
        out->weight_limit_per_min = request_weight_limit(root);
    cJSON_Delete(root);
    if (rc != 0)
        exinfo_free(out);
    return rc;
}

void exinfo_free(exinfo_t *info)
{
    if (!info)
        return;
    for (size_t i = 0; i < info->symbol_count; i++)
        free(info->symbols[i]);
    free(info->symbols);
    memset(info, 0, sizeof *info);
}

bool exinfo_has(const exinfo_t *info, const char *symbol)
{
    for (size_t i = 0; symbol && i < info->symbol_count; i++)
        if (strcasecmp(info->symbols[i], symbol) == 0)
            return true;
    return false;
}
