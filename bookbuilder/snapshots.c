/*
 * snapshots.c — answers to the snapshot service's requests. See snapshots.h.
 *
 * Requests are rare (a client joining), so they are read with cJSON; answers are written with
 * jbuf like everything else the bookbuilder sends, in the same decimal form as the bus.
 */
#include "snapshots.h"

#include "sync.h"

#include <cjson/cJSON.h>
#include <string.h>

static void error_answer(jbuf_t *out, const char *why)
{
    jbuf_reset(out);
    jbuf_raw(out, "{\"error\":");
    jbuf_string(out, why);
    jbuf_char(out, '}');
}

static void side(jbuf_t *out, const builder_book_view_t *v, book_side_t s, size_t depth)
{
    size_t n = book_depth(v->book, s);
    if (depth && n > depth)
        n = depth;
    jbuf_char(out, '[');
    for (size_t i = 0; i < n; i++) {
        const book_level_t *l = book_level(v->book, s, i);
        if (i)
            jbuf_char(out, ',');
        jbuf_char(out, '[');
        jbuf_dec(out, l->price, v->price_places);
        jbuf_char(out, ',');
        jbuf_dec(out, l->qty, v->qty_places);
        jbuf_char(out, ']');
    }
    jbuf_char(out, ']');
}

/* Where the side stops being complete (the snapshot cut it): levels beyond are exact in
   themselves, but levels the exchange has not changed since the snapshot are missing there.
   null when the side is complete. */
static void complete_to(jbuf_t *out, const builder_book_view_t *v, book_side_t s, const char *key)
{
    dec_t price;
    jbuf_raw(out, key);
    if (v->state == SYNC_SYNCED && v->book && book_complete_to(v->book, s, &price))
        jbuf_dec(out, price, v->price_places);
    else
        jbuf_raw(out, "null");
}

static void book_fields(jbuf_t *out, market_t m, const char *symbol, const builder_book_view_t *v)
{
    jbuf_raw(out, "\"market\":\"");
    jbuf_raw(out, market_name(m));
    jbuf_raw(out, "\",\"symbol\":");
    jbuf_string(out, symbol);
    jbuf_raw(out, ",\"state\":\"");
    jbuf_raw(out, sync_state_name(v->state));
    jbuf_raw(out, "\",\"reason\":\"");
    jbuf_raw(out, sync_reason_name(v->reason));
    jbuf_raw(out, "\",\"seq\":");
    jbuf_u64(out, v->book_seq);
    jbuf_raw(out, ",\"update_id\":");
    jbuf_u64(out, v->update_id);
    jbuf_raw(out, ",\"resyncs\":");
    jbuf_u64(out, v->resyncs);
}

static void book_answer(const builder_t *b, const cJSON *req, jbuf_t *out)
{
    const cJSON *market = cJSON_GetObjectItemCaseSensitive(req, "market");
    const cJSON *symbol = cJSON_GetObjectItemCaseSensitive(req, "symbol");
    const cJSON *depth = cJSON_GetObjectItemCaseSensitive(req, "depth");
    market_t m;
    if (!cJSON_IsString(market) || market_parse(market->valuestring, &m) != 0) {
        error_answer(out, "\"market\" must be \"spot\", \"usdm\" or \"coinm\"");
        return;
    }
    if (!cJSON_IsString(symbol) || strlen(symbol->valuestring) > 32) {
        error_answer(out, "\"symbol\" must be a symbol such as \"BTCUSDT\"");
        return;
    }
    size_t levels = 0;
    if (depth) {
        if (!cJSON_IsNumber(depth) || depth->valuedouble < 0 || depth->valuedouble > 1e6 ||
            depth->valuedouble != (double)(size_t)depth->valuedouble) {
            error_answer(out, "\"depth\" must be a whole number of levels (0 = all)");
            return;
        }
        levels = (size_t)depth->valuedouble;
    }
    char sym[33];
    size_t n = strlen(symbol->valuestring);
    for (size_t i = 0; i <= n; i++) {
        char c = symbol->valuestring[i];
        sym[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    builder_book_view_t v;
    if (builder_book(b, m, sym, &v) != 0) {
        error_answer(out, "unknown book");
        return;
    }
    jbuf_reset(out);
    jbuf_raw(out, "{\"op\":\"book\",");
    book_fields(out, m, sym, &v);
    jbuf_raw(out, ",\"bids\":");
    if (v.state == SYNC_SYNCED)
        side(out, &v, BOOK_BID, levels);
    else
        jbuf_raw(out, "[]");
    jbuf_raw(out, ",\"asks\":");
    if (v.state == SYNC_SYNCED)
        side(out, &v, BOOK_ASK, levels);
    else
        jbuf_raw(out, "[]");
    complete_to(out, &v, BOOK_BID, ",\"bids_complete_to\":");
    complete_to(out, &v, BOOK_ASK, ",\"asks_complete_to\":");
    jbuf_char(out, '}');
}

typedef struct {
    jbuf_t *out;
    size_t count;
} list_ctx_t;

static void list_one(void *arg, market_t m, const char *symbol, const builder_book_view_t *v)
{
    list_ctx_t *ctx = arg;
    if (ctx->count++)
        jbuf_char(ctx->out, ',');
    jbuf_char(ctx->out, '{');
    book_fields(ctx->out, m, symbol, v);
    jbuf_char(ctx->out, '}');
}

/* The request as one JSON value with nothing but whitespace after it: cJSON alone stops at the
   end of the first value and would answer "{…} junk" as if it were the object. */
static cJSON *parse_request(const char *request, size_t len)
{
    const char *end = NULL;
    cJSON *req = cJSON_ParseWithLengthOpts(request, len, &end, false);
    if (!req)
        return NULL;
    for (; end < request + len; end++) {
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
            cJSON_Delete(req);
            return NULL;
        }
    }
    return req;
}

void snapshots_answer(const builder_t *builder, const char *request, size_t len, jbuf_t *out)
{
    cJSON *req = parse_request(request, len);
    if (!req || !cJSON_IsObject(req)) {
        cJSON_Delete(req);
        error_answer(out, "a request is a JSON object: {\"op\":\"book\",…} or {\"op\":\"list\"}");
        return;
    }
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, "op");
    if (cJSON_IsString(op) && strcmp(op->valuestring, "book") == 0) {
        book_answer(builder, req, out);
    } else if (cJSON_IsString(op) && strcmp(op->valuestring, "list") == 0) {
        jbuf_reset(out);
        jbuf_raw(out, "{\"op\":\"list\",\"books\":[");
        list_ctx_t ctx = {out, 0};
        builder_each_book(builder, list_one, &ctx);
        jbuf_raw(out, "]}");
    } else {
        error_answer(out, "\"op\" must be \"book\" or \"list\"");
    }
    cJSON_Delete(req);
}
