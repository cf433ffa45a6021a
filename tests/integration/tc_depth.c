/*
 * tc_depth.c — JSON to exact depth values; see tc_depth.h.
 */
#include "tc_depth.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define MAX_EXACT_ID 9007199254740992.0 /* 2^53: every integer up to here is exact in a double */

/* Reads a whole non-negative JSON number as an exact integer. */
static int json_id(const cJSON *item, uint64_t *out)
{
    if (!cJSON_IsNumber(item))
        return -1;
    double v = item->valuedouble;
    if (!(v >= 0.0 && v <= MAX_EXACT_ID))
        return -1;
    uint64_t id = (uint64_t)v;
    if ((double)id != v)
        return -1; /* a fraction */
    *out = id;
    return 0;
}

static int read_id(const cJSON *obj, const char *key, uint64_t *out, char *err, size_t err_len)
{
    if (json_id(cJSON_GetObjectItemCaseSensitive(obj, key), out) != 0) {
        snprintf(err, err_len, "\"%s\" is missing or not a whole number in 0..2^53", key);
        return -1;
    }
    return 0;
}

/* Parses one decimal string of a level. */
static int read_decimal(const cJSON *item, dec_t *out, const char *what, char *err, size_t err_len)
{
    if (!cJSON_IsString(item)) {
        snprintf(err, err_len, "%s is not a string", what);
        return -1;
    }
    const char *s = item->valuestring;
    dec_err_t e = dec_parse(s, strlen(s), 0, out);
    if (e != DEC_OK) {
        snprintf(err, err_len, "%s \"%.40s\": %s", what, s, dec_strerror(e));
        return -1;
    }
    return 0;
}

/* Parses [["price","qty"],…] into `list`. */
static int read_levels(const cJSON *obj, const char *key, tc_levels_t *list, char *err,
                       size_t err_len)
{
    const cJSON *array = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsArray(array)) {
        snprintf(err, err_len, "\"%s\" is missing or not an array", key);
        return -1;
    }
    const cJSON *pair;
    size_t index = 0;
    cJSON_ArrayForEach(pair, array)
    {
        char what[48];
        dec_t price, qty;
        if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2) {
            snprintf(err, err_len, "%s[%zu] is not a [price, quantity] pair", key, index);
            return -1;
        }
        snprintf(what, sizeof what, "%s[%zu] price", key, index);
        if (read_decimal(cJSON_GetArrayItem(pair, 0), &price, what, err, err_len) != 0)
            return -1;
        snprintf(what, sizeof what, "%s[%zu] quantity", key, index);
        if (read_decimal(cJSON_GetArrayItem(pair, 1), &qty, what, err, err_len) != 0)
            return -1;
        if (tc_levels_push(list, price, qty) != 0) {
            snprintf(err, err_len, "out of memory reading %s", key);
            return -1;
        }
        index++;
    }
    return 0;
}

void tc_depth_event_free(tc_depth_event_t *ev)
{
    tc_levels_free(&ev->bids);
    tc_levels_free(&ev->asks);
}

static tc_parse_t parse_event_object(const cJSON *data, const char *symbol, bool need_pu,
                                     tc_depth_event_t *ev, char *err, size_t err_len)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(data, "e");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "depthUpdate") != 0)
        return TC_PARSE_OTHER;
    const cJSON *sym = cJSON_GetObjectItemCaseSensitive(data, "s");
    if (!cJSON_IsString(sym) || strcmp(sym->valuestring, symbol) != 0) {
        if (cJSON_IsString(sym))
            snprintf(err, err_len, "depthUpdate for symbol %.40s, expected %s", sym->valuestring,
                     symbol);
        else
            snprintf(err, err_len, "depthUpdate whose \"s\" is missing or not a string");
        return TC_PARSE_BAD;
    }
    memset(ev, 0, sizeof *ev);
    if (read_id(data, "U", &ev->first_id, err, err_len) != 0 ||
        read_id(data, "u", &ev->last_id, err, err_len) != 0)
        return TC_PARSE_BAD;
    if (ev->first_id > ev->last_id) {
        snprintf(err, err_len, "U %llu > u %llu", (unsigned long long)ev->first_id,
                 (unsigned long long)ev->last_id);
        return TC_PARSE_BAD;
    }
    if (cJSON_GetObjectItemCaseSensitive(data, "pu") != NULL) {
        if (read_id(data, "pu", &ev->prev_last_id, err, err_len) != 0)
            return TC_PARSE_BAD;
        ev->has_prev_last_id = true;
    } else if (need_pu) {
        snprintf(err, err_len, "futures depthUpdate without \"pu\"");
        return TC_PARSE_BAD;
    }
    if (read_levels(data, "b", &ev->bids, err, err_len) != 0 ||
        read_levels(data, "a", &ev->asks, err, err_len) != 0) {
        tc_depth_event_free(ev);
        return TC_PARSE_BAD;
    }
    return TC_PARSE_DEPTH;
}

tc_parse_t tc_depth_parse_event(const char *json, size_t len, const char *symbol, bool need_pu,
                                tc_depth_event_t *ev, char *err, size_t err_len)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (root == NULL || !cJSON_IsObject(root)) {
        snprintf(err, err_len, "not a JSON object");
        cJSON_Delete(root);
        return TC_PARSE_BAD;
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (cJSON_GetObjectItemCaseSensitive(root, "stream") == NULL || !cJSON_IsObject(data))
        data = root; /* a raw stream (/ws/…) or a control reply */
    tc_parse_t result = parse_event_object(data, symbol, need_pu, ev, err, err_len);
    cJSON_Delete(root);
    return result;
}

/* Checks that `list` is strictly best first with no zero quantity. */
static int check_side(const tc_levels_t *list, bool is_bids, const char *key, char *err,
                      size_t err_len)
{
    for (size_t i = 0; i < list->n; i++) {
        if (dec_is_zero(list->v[i].qty)) {
            snprintf(err, err_len, "%s[%zu] has quantity zero", key, i);
            return -1;
        }
        if (i == 0)
            continue;
        int cmp = dec_cmp(list->v[i - 1].price, list->v[i].price);
        if (is_bids ? cmp <= 0 : cmp >= 0) {
            snprintf(err, err_len, "%s[%zu] is not strictly worse than %s[%zu]", key, i, key,
                     i - 1);
            return -1;
        }
    }
    return 0;
}

void tc_book_json_free(tc_book_json_t *book)
{
    tc_levels_free(&book->bids);
    tc_levels_free(&book->asks);
}

int tc_depth_parse_book(const char *json, size_t len, const char *id_key, const char *symbol,
                        tc_book_json_t *book, char *err, size_t err_len)
{
    memset(book, 0, sizeof *book);
    cJSON *root = cJSON_ParseWithLength(json, len);
    int rc = -1;
    if (root == NULL || !cJSON_IsObject(root)) {
        snprintf(err, err_len, "not a JSON object");
        goto done;
    }
    if (symbol != NULL) {
        const cJSON *sym = cJSON_GetObjectItemCaseSensitive(root, "symbol");
        if (!cJSON_IsString(sym) || strcmp(sym->valuestring, symbol) != 0) {
            snprintf(err, err_len, "\"symbol\" is not %s", symbol);
            goto done;
        }
    }
    if (read_id(root, id_key, &book->update_id, err, err_len) != 0 ||
        read_levels(root, "bids", &book->bids, err, err_len) != 0 ||
        read_levels(root, "asks", &book->asks, err, err_len) != 0 ||
        check_side(&book->bids, true, "bids", err, err_len) != 0 ||
        check_side(&book->asks, false, "asks", err, err_len) != 0)
        goto done;
    rc = 0;
done:
    cJSON_Delete(root);
    if (rc != 0)
        tc_book_json_free(book);
    return rc;
}
