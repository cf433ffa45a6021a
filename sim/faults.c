/*
 * faults.c — names and arguments of the sim's faults (see faults.h). Parsing only: the server
 * and the venue carry them out (sim_server_apply_fault).
 */
#include "faults.h"

#include "venue.h" /* sim_http_query_get */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[SIM_FAULT_COUNT] = {
    [SIM_FAULT_DROP] = "drop",
    [SIM_FAULT_ROTATION_STORM] = "rotation_storm",
    [SIM_FAULT_NO_PING] = "no_ping",
    [SIM_FAULT_IGNORE_PONGS] = "ignore_pongs",
    [SIM_FAULT_MALFORMED] = "malformed",
    [SIM_FAULT_TRUNCATED] = "truncated",
    [SIM_FAULT_WRONG_TYPES] = "wrong_types",
    [SIM_FAULT_OVERSIZED] = "oversized",
    [SIM_FAULT_GAP] = "gap",
    [SIM_FAULT_BREAK_PU] = "break_pu",
    [SIM_FAULT_DUPLICATE] = "duplicate",
    [SIM_FAULT_REORDER] = "reorder",
    [SIM_FAULT_STALL] = "stall",
    [SIM_FAULT_SNAPSHOT_STALE] = "snapshot_stale",
    [SIM_FAULT_SNAPSHOT_5XX] = "snapshot_5xx",
    [SIM_FAULT_SNAPSHOT_429] = "snapshot_429",
    [SIM_FAULT_SNAPSHOT_418] = "snapshot_418",
    [SIM_FAULT_SNAPSHOT_SLOW] = "snapshot_slow",
};

static const char *const keys[] = {"name",  "market", "conn",     "symbol",   "count",
                                   "ms",    "bytes",  "after_ms", "every_ms", NULL};

const char *sim_fault_name(sim_fault_kind_t kind)
{
    return kind >= 0 && kind < SIM_FAULT_COUNT ? names[kind] : "?";
}

/* Reads key as an integer in [min, max] into *out when present. */
static int read_int(const char *args, const char *key, long long min, long long max,
                    long long *out, char *err, size_t err_len)
{
    char text[32];
    if (!sim_http_query_get(args, key, text, sizeof text))
        return 0;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (!text[0] || *end || errno || v < min || v > max) {
        snprintf(err, err_len, "%s=%s: expected an integer from %lld to %lld", key, text, min,
                 max);
        return -1;
    }
    *out = v;
    return 0;
}

/* Every key of args must be one the grammar knows: a typo must not turn a fault into a no-op. */
static int check_keys(const char *args, char *err, size_t err_len)
{
    for (const char *p = args; p && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        bool known = false;
        for (int i = 0; keys[i]; i++)
            known |= strlen(keys[i]) == klen && strncmp(keys[i], p, klen) == 0;
        if (!known && len) {
            snprintf(err, err_len, "unknown fault argument \"%.*s\" (known: market, conn, "
                     "symbol, count, ms, bytes, after_ms, every_ms)", (int)klen, p);
            return -1;
        }
        p = end ? end + 1 : p + len;
    }
    return 0;
}

int sim_fault_parse(const char *name, const char *args, sim_fault_t *out, char *err,
                    size_t err_len)
{
    memset(out, 0, sizeof *out);
    out->kind = SIM_FAULT_COUNT;
    for (int i = 0; i < SIM_FAULT_COUNT; i++)
        if (name && strcmp(name, names[i]) == 0)
            out->kind = (sim_fault_kind_t)i;
    if (out->kind == SIM_FAULT_COUNT) {
        snprintf(err, err_len, "unknown fault \"%s\"", name ? name : "");
        return -1;
    }
    if (!args)
        args = "";
    if (check_keys(args, err, err_len) != 0)
        return -1;
    out->count = 1;
    out->ms = 5000;
    out->bytes = SIM_FAULT_OVERSIZED_DEFAULT;
    char text[40];
    if (sim_http_query_get(args, "market", text, sizeof text)) {
        out->market_given = true;
        if (strcmp(text, "all") == 0) {
            out->market = SIM_MARKET_ALL;
        } else if (market_parse(text, &out->market) != 0) {
            snprintf(err, err_len, "market=%s: expected spot, usdm, coinm or all", text);
            return -1;
        }
    }
    if (sim_http_query_get(args, "symbol", text, sizeof text)) {
        if (strlen(text) >= sizeof out->symbol) {
            snprintf(err, err_len, "symbol=%s: too long", text);
            return -1;
        }
        snprintf(out->symbol, sizeof out->symbol, "%s", text);
    }
    long long v;
    if (read_int(args, "conn", 0, INT64_MAX, &v, err, err_len) != 0)
        return -1;
    if (sim_http_query_get(args, "conn", NULL, 0))
        out->conn = (uint64_t)v;
    v = out->count;
    if (read_int(args, "count", 1, 1000000, &v, err, err_len) != 0)
        return -1;
    out->count = (uint32_t)v;
    v = out->ms;
    if (read_int(args, "ms", 0, 24LL * 3600 * 1000, &v, err, err_len) != 0)
        return -1;
    out->ms = v;
    v = (long long)out->bytes;
    if (read_int(args, "bytes", 16, SIM_FAULT_OVERSIZED_MAX, &v, err, err_len) != 0)
        return -1;
    out->bytes = (size_t)v;
    v = 0;
    if (read_int(args, "after_ms", 0, INT64_MAX / 2, &v, err, err_len) != 0)
        return -1;
    out->after_ms = v;
    v = 0;
    if (read_int(args, "every_ms", 0, INT64_MAX / 2, &v, err, err_len) != 0)
        return -1;
    out->every_ms = v;
    return 0;
}

int sim_fault_parse_spec(const char *spec, sim_fault_t *out, char *err, size_t err_len)
{
    char name[32];
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    if (n >= sizeof name) {
        snprintf(err, err_len, "unknown fault \"%.*s\"", (int)n, spec);
        return -1;
    }
    memcpy(name, spec, n);
    name[n] = '\0';
    return sim_fault_parse(name, colon ? colon + 1 : "", out, err, err_len);
}
