/*
 * control.c — parsing of control-bus requests (see control.h), with cJSON.
 */
#include "control.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const *control_topics(market_t market, char buf[3][32])
{
    static const char *topics[4];
    snprintf(buf[0], 32, "snapshot.%s", market_name(market));
    snprintf(buf[1], 32, "subscribe.%s", market_name(market));
    snprintf(buf[2], 32, "unsubscribe.%s", market_name(market));
    topics[0] = buf[0];
    topics[1] = buf[1];
    topics[2] = buf[2];
    topics[3] = NULL;
    return topics;
}

int control_limit_valid(market_t market, unsigned limit)
{
    if (market == MARKET_SPOT)
        return limit >= 1 && limit <= 5000;
    static const unsigned allowed[] = {5, 10, 20, 50, 100, 500, 1000};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (limit == allowed[i])
            return 1;
    return 0;
}

static bool symbol_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ENVELOPE_SYMBOL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/* Stream names are lower-case symbols, '@', and the kind: letters, digits, '_', '@'. */
static bool stream_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || !strchr(s, '@') || s[0] == '@')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '@')
            return false;
    return true;
}

void control_msg_clear(control_msg_t *msg)
{
    for (size_t i = 0; i < msg->symbol_count; i++)
        free(msg->symbols[i]);
    free(msg->symbols);
    for (size_t i = 0; i < msg->stream_count; i++)
        free(msg->streams[i]);
    free(msg->streams);
    memset(msg, 0, sizeof *msg);
}

/* Reads the string array `key` (absent: none) into *names, checking each with `valid`, upper-
   casing when `upper`. */
static int read_names(const cJSON *root, const char *key, bool (*valid)(const char *), bool upper,
                      char ***names, size_t *count, char *err, size_t err_len)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr)) {
        snprintf(err, err_len, "\"%s\" must be an array of strings", key);
        return -1;
    }
    int n = cJSON_GetArraySize(arr);
    if (n > CONTROL_NAMES_MAX) {
        snprintf(err, err_len, "\"%s\" has %d names, at most %d", key, n, CONTROL_NAMES_MAX);
        return -1;
    }
    *names = calloc(n ? (size_t)n : 1, sizeof **names);
    if (!*names) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        if (!cJSON_IsString(item) || !valid(item->valuestring)) {
            snprintf(err, err_len, "\"%s\" holds an invalid name", key);
            return -1;
        }
        char *copy = strdup(item->valuestring);
        if (!copy) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        for (char *p = copy; upper && *p; p++)
            *p = (char)toupper((unsigned char)*p);
        (*names)[(*count)++] = copy;
    }
    return 0;
}

static int parse_snapshot(market_t market, const cJSON *root, control_msg_t *out, char *err,
                          size_t err_len)
{
    const cJSON *symbol = cJSON_GetObjectItemCaseSensitive(root, "symbol");
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(root, "limit");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "request_id");
    if (!cJSON_IsString(symbol) || !symbol_valid(symbol->valuestring)) {
        snprintf(err, err_len, "snapshot: \"symbol\" must be a symbol ([A-Z0-9_]{1,32})");
        return -1;
    }
    if (!cJSON_IsNumber(limit) || limit->valuedouble != (double)(unsigned)limit->valuedouble ||
        !control_limit_valid(market, (unsigned)limit->valuedouble)) {
        snprintf(err, err_len, "snapshot: \"limit\" must be a depth limit %s accepts (%s)",
                 market_name(market),
                 market == MARKET_SPOT ? "1..5000" : "5, 10, 20, 50, 100, 500, 1000");
        return -1;
    }
    /* Ids up to 2^53 are exact in JSON numbers as cJSON reads them. */
    if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > 9007199254740992.0 ||
        id->valuedouble != (double)(uint64_t)id->valuedouble) {
        snprintf(err, err_len, "snapshot: \"request_id\" must be an integer from 1 to 2^53");
        return -1;
    }
    out->kind = CONTROL_SNAPSHOT;
    snprintf(out->symbol, sizeof out->symbol, "%s", symbol->valuestring);
    for (char *p = out->symbol; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    out->limit = (unsigned)limit->valuedouble;
    out->request_id = (uint64_t)id->valuedouble;
    return 0;
}

int control_parse(market_t market, const char *topic, const void *body, size_t len,
                  control_msg_t *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    char buf[3][32];
    const char *const *topics = control_topics(market, buf);
    control_kind_t kind = 0;
    for (int i = 0; topics[i]; i++)
        if (strcmp(topic, topics[i]) == 0)
            kind = (control_kind_t)(i + 1);
    if (!kind) {
        const char *dot = strrchr(topic, '.');
        market_t other;
        if (dot && market_parse(dot + 1, &other) == 0 && other != market)
            return 1;
        snprintf(err, err_len, "unknown control topic \"%.40s\"", topic);
        return -1;
    }
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        snprintf(err, err_len, "%s: the body is not a JSON object", topic);
        return -1;
    }
    int rc;
    if (kind == CONTROL_SNAPSHOT) {
        rc = parse_snapshot(market, root, out, err, err_len);
    } else {
        out->kind = kind;
        rc = read_names(root, "symbols", symbol_valid, true, &out->symbols, &out->symbol_count,
                        err, err_len);
        if (rc == 0)
            rc = read_names(root, "streams", stream_valid, false, &out->streams,
                            &out->stream_count, err, err_len);
        if (rc == 0 && out->symbol_count + out->stream_count == 0) {
            snprintf(err, err_len, "%s: give \"symbols\" or \"streams\"", topic);
            rc = -1;
        }
    }
    cJSON_Delete(root);
    if (rc != 0)
        control_msg_clear(out);
    return rc;
}
