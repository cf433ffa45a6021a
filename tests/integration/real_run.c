/*
 * real_run.c — one real capture through the bookbuilder, checked frame by frame. See real_run.h.
 *
 * Why in process rather than reading the program's output: the properties worth checking on real
 * data hold at a moment — a deletion is of an unknown level only against the book as it was just
 * before that event, a bookTicker equals the top only at its update id — and only the builder's
 * own book at that moment can say. The program's output is compared with the in-process one byte
 * for byte by the test, so what is found here holds for the program too.
 *
 * Ids in the input are read through cJSON, whose numbers are doubles: every id used is checked to
 * be an integer below 2^53, where a double is exact (Binance's ids are around 10^12).
 */
#include "real_run.h"

#include "book.h"
#include "framefile.h"

#include <cjson/cJSON.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECKPOINT_FRAMES 5000 /* the stream is compared with the whole book this often */
#define EXACT_DOUBLE_LIMIT 9007199254740992.0 /* 2^53 */

/* ---- configuration ------------------------------------------------------------------------- */

/* The deployment's defaults (common/config_schema.c) except where real captures need more room
   or stricter rules: books of up to 5000 levels a side, a buffer that never fills while the
   capture's single snapshot is on its way, and no reorder window, so that an event out of the
   update-id chain is a gap at once (Binance's rules as written; a capture of one connection has
   no reason to reorder). The snapshot timeout stays at the default 30 s: each capture's snapshot
   arrives within a second of the first buffered event, so the recording's clock never times a
   request out. */
#define MAX_LEVELS 5000
#define MIN_LEVELS 0 /* the default: no resync for a thinning cut side */
#define BUFFER_MAX_EVENTS 100000
#define REORDER_WINDOW_MS 0
#define REORDER_MAX_EVENTS 64
#define DEPTH_LEVELS 20
#define DEPTH_INTERVAL_MS 100
#define SNAPSHOT_TIMEOUT_MS 30000
#define SNAPSHOT_RETRY_BASE_MS 250
#define SNAPSHOT_RETRY_MAX_MS 30000
#define SNAPSHOT_INFLIGHT_MAX 4
#define MAX_BOOKS 1000

#define STR_(x) #x
#define STR(x) STR_(x)

const char *const REAL_PROGRAM_SETTINGS[] = {
    "markets.spot.enabled=true",
    "markets.usdm.enabled=true",
    "markets.coinm.enabled=true",
    "markets.spot.symbols=ALL",
    "markets.usdm.symbols=ALL",
    "markets.coinm.symbols=ALL",
    "bookbuilder.max_levels=" STR(MAX_LEVELS),
    "bookbuilder.min_levels=" STR(MIN_LEVELS),
    "bookbuilder.buffer_max_events=" STR(BUFFER_MAX_EVENTS),
    "bookbuilder.reorder_window_ms=" STR(REORDER_WINDOW_MS),
    "bookbuilder.reorder_max_events=" STR(REORDER_MAX_EVENTS),
    "bookbuilder.depth_levels=" STR(DEPTH_LEVELS),
    "bookbuilder.depth_interval_ms=" STR(DEPTH_INTERVAL_MS),
    "bookbuilder.live_klines=false",
    "bookbuilder.bbo_check=true",
    "bookbuilder.snapshot_timeout_ms=" STR(SNAPSHOT_TIMEOUT_MS),
    "bookbuilder.snapshot_retry_base_ms=" STR(SNAPSHOT_RETRY_BASE_MS),
    "bookbuilder.snapshot_retry_max_ms=" STR(SNAPSHOT_RETRY_MAX_MS),
    "bookbuilder.snapshot_inflight_max=" STR(SNAPSHOT_INFLIGHT_MAX),
    "bookbuilder.max_books=" STR(MAX_BOOKS),
    NULL,
};

void real_builder_config(builder_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (int m = 0; m < BUILDER_MARKETS; m++)
        cfg->markets[m] = (builder_market_t){.enabled = true, .all_symbols = true};
    cfg->max_levels = MAX_LEVELS;
    cfg->min_levels = MIN_LEVELS;
    cfg->buffer_max_events = BUFFER_MAX_EVENTS;
    cfg->reorder_window_ms = REORDER_WINDOW_MS;
    cfg->reorder_max_events = REORDER_MAX_EVENTS;
    cfg->depth_levels = DEPTH_LEVELS;
    cfg->depth_interval_ms = DEPTH_INTERVAL_MS;
    cfg->live_klines = false;
    cfg->raw_tap = false;
    cfg->bbo_check = true;
    cfg->snapshot_timeout_ms = SNAPSHOT_TIMEOUT_MS;
    cfg->snapshot_retry_base_ms = SNAPSHOT_RETRY_BASE_MS;
    cfg->snapshot_retry_max_ms = SNAPSHOT_RETRY_MAX_MS;
    cfg->snapshot_inflight_max = SNAPSHOT_INFLIGHT_MAX;
    cfg->max_books = MAX_BOOKS;
}

/* ---- small helpers ------------------------------------------------------------------------- */

static void problem(real_run_t *r, real_problem_t kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(real_run_t *r, real_problem_t kind, const char *fmt, ...)
{
    real_problems_t *p = &r->problems[kind];
    if (p->count < REAL_PROBLEMS_KEPT) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->first[p->count], sizeof p->first[p->count], fmt, ap);
        va_end(ap);
    }
    p->count++;
}

/* Makes room for `need` elements of `size` bytes in *v. */
static int reserve(void **v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *bigger = realloc(*v, n * size);
    if (!bigger)
        return -1;
    *v = bigger;
    *cap = n;
    return 0;
}

/* qsort and bsearch, which must not be given a null array even when it is empty. */
static void sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(v, n, size, cmp);
}

static const void *find(const void *key, const void *v, size_t n, size_t size,
                        int (*cmp)(const void *, const void *))
{
    return n ? bsearch(key, v, n, size, cmp) : NULL;
}

#define PUSH(r, list, item)                                                                        \
    do {                                                                                           \
        if (reserve((void **)&(list).v, &(list).cap, (list).n + 1, sizeof *(list).v) != 0)         \
            problem((r), REAL_P_INPUT, "out of memory");                                           \
        else                                                                                       \
            (list).v[(list).n++] = (item);                                                         \
    } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* An integer member that a double holds exactly. */
static bool json_id(const cJSON *o, const char *key, uint64_t *out)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble >= EXACT_DOUBLE_LIMIT)
        return false;
    uint64_t v = (uint64_t)n->valuedouble;
    if ((double)v != n->valuedouble)
        return false;
    *out = v;
    return true;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(s) ? s->valuestring : NULL;
}

/* A decimal string member in 10^-8 units. */
static bool json_dec(const cJSON *o, const char *key, int64_t *units)
{
    const char *s = json_str(o, key);
    return s && real_dec(s, units) == 0;
}

/* [price, qty] of a level array element, both strings. */
static bool json_level(const cJSON *level, const char **price, const char **qty)
{
    if (!cJSON_IsArray(level) || cJSON_GetArraySize(level) != 2)
        return false;
    const cJSON *p = cJSON_GetArrayItem(level, 0), *q = cJSON_GetArrayItem(level, 1);
    if (!cJSON_IsString(p) || !cJSON_IsString(q))
        return false;
    *price = p->valuestring;
    *qty = q->valuestring;
    return true;
}

static real_symbol_t *sym_get(real_run_t *r, const char *symbol)
{
    for (size_t i = 0; i < r->sym_count; i++)
        if (strcmp(r->syms[i]->symbol, symbol) == 0)
            return r->syms[i];
    if (strlen(symbol) > ENVELOPE_SYMBOL_MAX ||
        reserve((void **)&r->syms, &r->sym_cap, r->sym_count + 1, sizeof *r->syms) != 0)
        return NULL;
    real_symbol_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    strcpy(s->symbol, symbol);
    r->syms[r->sym_count++] = s;
    return s;
}

/* The top of a book in units. */
static real_top_t top_of(const book_t *book, uint64_t u)
{
    real_top_t t = {.u = u};
    const book_level_t *bid = book_level(book, BOOK_BID, 0);
    const book_level_t *ask = book_level(book, BOOK_ASK, 0);
    if (bid) {
        t.has_bid = true;
        t.bid = bid->price.units;
        t.bid_qty = bid->qty.units;
    }
    if (ask) {
        t.has_ask = true;
        t.ask = ask->price.units;
        t.ask_qty = ask->qty.units;
    }
    return t;
}

/* 10^-8 units as a decimal with 8 places. */
static void units_text(int64_t units, char buf[32])
{
    snprintf(buf, 32, "%" PRId64 ".%08" PRId64, units / 100000000, units % 100000000);
}

static void top_text(const real_top_t *t, char *buf, size_t len)
{
    char bid[32], bid_qty[32], ask[32], ask_qty[32];
    units_text(t->bid, bid);
    units_text(t->bid_qty, bid_qty);
    units_text(t->ask, ask);
    units_text(t->ask_qty, ask_qty);
    snprintf(buf, len, "bid %s@%s ask %s@%s", t->has_bid ? bid : "none", t->has_bid ? bid_qty : "-",
             t->has_ask ? ask : "none", t->has_ask ? ask_qty : "-");
}

/* ---- the builder's io ---------------------------------------------------------------------- */

static void on_publish(void *arg, const char *topic, const char *body, size_t len)
{
    real_run_t *r = arg;
    size_t tlen = strlen(topic);
    if (reserve((void **)&r->out, &r->out_cap, r->out_len + tlen + len + 2, 1) != 0 ||
        reserve((void **)&r->msgs, &r->msg_cap, r->msg_count + 1, sizeof *r->msgs) != 0) {
        problem(r, REAL_P_INPUT, "out of memory keeping the published messages");
        return;
    }
    real_msg_t *m = &r->msgs[r->msg_count++];
    m->topic = r->out_len;
    m->topic_len = tlen;
    memcpy(r->out + r->out_len, topic, tlen);
    r->out_len += tlen;
    r->out[r->out_len++] = ' ';
    m->body = r->out_len;
    m->body_len = len;
    memcpy(r->out + r->out_len, body, len);
    r->out_len += len;
    r->out[r->out_len++] = '\n';
}

static int on_request_snapshot(void *arg, market_t market, const char *symbol, unsigned limit,
                               uint64_t request_id)
{
    real_run_t *r = arg;
    (void)limit;
    real_symbol_t *s = sym_get(r, symbol);
    if (market != r->market || !s)
        problem(r, REAL_P_STATUS, "frame %" PRIu64 ": snapshot request %" PRIu64 " for %s %s",
                r->frame_no, request_id, market_name(market), symbol);
    else
        s->snapshot_requests++;
    return 0;
}

/* ---- the input ----------------------------------------------------------------------------- */

static int cmp_unknown(const void *pa, const void *pb)
{
    const real_unknown_t *a = pa, *b = pb;
    if (a->side != b->side)
        return a->side - b->side;
    return (a->price > b->price) - (a->price < b->price);
}

/* The deletions in one side of a diff event of levels the synced book does not hold. A price
   that the same event also gives a quantity is left out: its deletion is not the last word. */
static void find_unknown_deletes(real_run_t *r, const cJSON *levels, book_side_t side,
                                 const book_t *book)
{
    real_frame_t *f = &r->cur;
    int n = cJSON_GetArraySize(levels);
    for (int i = 0; i < n; i++) {
        const char *ps, *qs;
        int64_t price, qty;
        if (!json_level(cJSON_GetArrayItem(levels, i), &ps, &qs) || real_dec(ps, &price) != 0 ||
            real_dec(qs, &qty) != 0) {
            problem(r, REAL_P_INPUT, "frame %" PRIu64 ": a level that is not [price, qty]",
                    r->frame_no);
            return;
        }
        if (qty != 0 || book_qty_at(book, side, (dec_t){price}).units != 0)
            continue;
        bool set_too = false;
        for (int j = 0; j < n && !set_too; j++) {
            const char *pj, *qj;
            int64_t pu, qu;
            set_too = j != i && json_level(cJSON_GetArrayItem(levels, j), &pj, &qj) &&
                      real_dec(pj, &pu) == 0 && pu == price && real_dec(qj, &qu) == 0 && qu != 0;
        }
        if (set_too)
            continue;
        if (reserve((void **)&f->unknown, &f->unknown_cap, f->unknown_count + 1,
                    sizeof *f->unknown) != 0) {
            problem(r, REAL_P_INPUT, "out of memory");
            return;
        }
        f->unknown[f->unknown_count++] = (real_unknown_t){(int)side, price};
    }
}

static void read_depth(real_run_t *r, builder_t *b, real_symbol_t *s, const cJSON *data,
                       int64_t recv_ns)
{
    real_frame_t *f = &r->cur;
    s->has_depth = true;
    if (s->depth_events++ == 0) {
        s->first_depth_frame = r->frame_no;
        s->first_depth_ns = recv_ns;
    }
    const cJSON *bids = cJSON_GetObjectItemCaseSensitive(data, "b");
    const cJSON *asks = cJSON_GetObjectItemCaseSensitive(data, "a");
    if (!json_id(data, "u", &f->u) || !cJSON_IsArray(bids) || !cJSON_IsArray(asks)) {
        problem(r, REAL_P_INPUT, "frame %" PRIu64 ": a depth event without u, b or a", r->frame_no);
        return;
    }
    f->depth = true;
    builder_book_view_t v;
    if (builder_book(b, r->market, s->symbol, &v) != 0 || v.state != SYNC_SYNCED)
        return;
    f->synced_before = true;
    f->id_before = v.update_id;
    find_unknown_deletes(r, bids, BOOK_BID, v.book);
    find_unknown_deletes(r, asks, BOOK_ASK, v.book);
    sort(f->unknown, f->unknown_count, sizeof *f->unknown, cmp_unknown);
}

static void read_ticker(real_run_t *r, real_symbol_t *s, const cJSON *data)
{
    real_top_t t = {.has_bid = true, .has_ask = true};
    if (!json_id(data, "u", &t.u) || !json_dec(data, "b", &t.bid) ||
        !json_dec(data, "B", &t.bid_qty) || !json_dec(data, "a", &t.ask) ||
        !json_dec(data, "A", &t.ask_qty)) {
        problem(r, REAL_P_INPUT, "frame %" PRIu64 ": a bookTicker without u, b, B, a or A",
                r->frame_no);
        return;
    }
    PUSH(r, s->tickers, t);
}

static void read_trade(real_run_t *r, real_symbol_t *s, const cJSON *data, bool agg)
{
    real_trade_t t;
    const char *p = json_str(data, "p"), *q = json_str(data, "q");
    if (!json_id(data, agg ? "a" : "t", &t.id) || !p || !q || strlen(p) >= REAL_DEC_STRLEN ||
        strlen(q) >= REAL_DEC_STRLEN) {
        problem(r, REAL_P_INPUT, "frame %" PRIu64 ": a trade without its id, p or q", r->frame_no);
        return;
    }
    strcpy(t.price, p);
    strcpy(t.qty, q);
    PUSH(r, s->trades_in[agg], t);
}

/* Reads the frame before the builder sees it. */
static void read_input(real_run_t *r, builder_t *b, const envelope_header_t *h, const char *payload,
                       size_t len)
{
    real_frame_t *f = &r->cur;
    f->sym = NULL;
    f->depth = false;
    f->synced_before = false;
    f->unknown_count = 0;
    f->update_seen = false;
    if (h->kind == ENVELOPE_SNAPSHOT) {
        real_symbol_t *s = sym_get(r, h->symbol);
        if (!s)
            return;
        if (s->snapshot_frames++ == 0) {
            s->first_snapshot_frame = r->frame_no;
            s->first_snapshot_ns = h->recv_ts_ns;
        }
        f->sym = s;
        return;
    }
    if (h->kind != ENVELOPE_WS_TEXT)
        return;
    cJSON *root = cJSON_ParseWithLength(payload, len);
    const char *stream = json_str(root, "stream");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const char *at = stream ? strchr(stream, '@') : NULL;
    if (!at || !cJSON_IsObject(data)) {
        /* Not a stream event: a reply to a subscription. Nothing the books depend on. */
        cJSON_Delete(root);
        return;
    }
    char symbol[ENVELOPE_SYMBOL_MAX + 1];
    size_t n = (size_t)(at - stream);
    if (n == 0 || n > ENVELOPE_SYMBOL_MAX) {
        problem(r, REAL_P_INPUT, "frame %" PRIu64 ": stream \"%s\"", r->frame_no, stream);
        cJSON_Delete(root);
        return;
    }
    for (size_t i = 0; i < n; i++)
        symbol[i] = (char)toupper((unsigned char)stream[i]);
    symbol[n] = '\0';
    real_symbol_t *s = sym_get(r, symbol);
    const char *kind = at + 1;
    if (s) {
        f->sym = s;
        if (strncmp(kind, "depth", 5) == 0 && (kind[5] == '\0' || kind[5] == '@'))
            read_depth(r, b, s, data, h->recv_ts_ns);
        else if (strcmp(kind, "bookTicker") == 0)
            read_ticker(r, s, data);
        else if (strcmp(kind, "trade") == 0 || strcmp(kind, "aggTrade") == 0)
            read_trade(r, s, data, kind[0] == 'a');
    }
    cJSON_Delete(root);
}

/* ---- the output ---------------------------------------------------------------------------- */

static bool is_unknown_delete(const real_frame_t *f, book_side_t side, int64_t price)
{
    real_unknown_t key = {(int)side, price};
    return find(&key, f->unknown, f->unknown_count, sizeof key, cmp_unknown) != NULL;
}

/* A book message: applied to the symbol's independent book. */
static void take_book(real_run_t *r, real_symbol_t *s, const cJSON *msg)
{
    uint64_t seq, last_id;
    const char *type = json_str(msg, "type");
    const cJSON *sides[2] = {cJSON_GetObjectItemCaseSensitive(msg, "bids"),
                             cJSON_GetObjectItemCaseSensitive(msg, "asks")};
    if (!json_id(msg, "seq", &seq) || !json_id(msg, "last_id", &last_id) || !type ||
        !cJSON_IsArray(sides[0]) || !cJSON_IsArray(sides[1])) {
        problem(r, REAL_P_INPUT, "frame %" PRIu64 ": book.%s message without seq, last_id, type",
                r->frame_no, s->symbol);
        return;
    }
    if (seq != s->book_seq + 1)
        problem(r, REAL_P_MODEL,
                "frame %" PRIu64 ": %s book message seq %" PRIu64 " after %" PRIu64, r->frame_no,
                s->symbol, seq, s->book_seq);
    s->book_seq = seq;
    bool snapshot = strcmp(type, "snapshot") == 0;
    if (!snapshot && strcmp(type, "update") != 0) {
        problem(r, REAL_P_INPUT, "frame %" PRIu64 ": book message of type %s", r->frame_no, type);
        return;
    }
    if (!snapshot && !s->model_loaded)
        problem(r, REAL_P_MODEL, "frame %" PRIu64 ": %s book update before any book snapshot",
                r->frame_no, s->symbol);
    real_frame_t *f = &r->cur;
    bool this_event = !snapshot && f->sym == s && f->depth && last_id == f->u;
    if (this_event)
        f->update_seen = true;
    if (snapshot)
        real_book_clear(&s->model);
    for (int side = 0; side < 2; side++) {
        const cJSON *level;
        cJSON_ArrayForEach(level, sides[side])
        {
            const char *p, *q;
            int64_t price;
            int rc = -1;
            if (json_level(level, &p, &q) && real_dec(p, &price) == 0)
                rc = snapshot ? real_book_append(&s->model, (real_side_t)side, p, q)
                              : real_book_set(&s->model, (real_side_t)side, p, q);
            if (rc != 0) {
                problem(r, REAL_P_INPUT, "frame %" PRIu64 ": %s book message: a bad level",
                        r->frame_no, s->symbol);
                continue;
            }
            if (this_event && is_unknown_delete(f, (book_side_t)side, price))
                problem(r, REAL_P_UNKNOWN,
                        "frame %" PRIu64 ": %s event u=%" PRIu64 " deletes %s %s, a level the "
                        "book did not hold, and the published update lists it as [%s,%s]",
                        r->frame_no, s->symbol, f->u, side ? "ask" : "bid", p, p, q);
        }
        if (snapshot && real_book_sort_side(&s->model, (real_side_t)side) != 0)
            problem(r, REAL_P_MODEL, "frame %" PRIu64 ": %s book snapshot lists a price twice",
                    r->frame_no, s->symbol);
    }
    if (snapshot)
        s->model_loaded = true;
    if (real_book_crossed(&s->model))
        problem(r, REAL_P_CROSSED,
                "frame %" PRIu64 ": %s book stream crossed after seq %" PRIu64 " (last_id %" PRIu64
                "): bid %s >= ask %s",
                r->frame_no, s->symbol, seq, last_id,
                real_book_level(&s->model, REAL_BID, 0)->price,
                real_book_level(&s->model, REAL_ASK, 0)->price);
}

/* A bbo message: not crossed, and the top of the book the stream has built. */
static void take_bbo(real_run_t *r, real_symbol_t *s, const cJSON *msg)
{
    r->bbo_messages++;
    const char *keys[2][2] = {{"bid", "bid_qty"}, {"ask", "ask_qty"}};
    int64_t price[2] = {0, 0};
    bool has[2] = {false, false};
    for (int side = 0; side < 2; side++) {
        const char *p = json_str(msg, keys[side][0]), *q = json_str(msg, keys[side][1]);
        const real_level_t *top = real_book_level(&s->model, (real_side_t)side, 0);
        has[side] = p != NULL;
        if (p && real_dec(p, &price[side]) != 0)
            problem(r, REAL_P_INPUT, "frame %" PRIu64 ": bbo.%s %s \"%s\"", r->frame_no, s->symbol,
                    keys[side][0], p);
        bool same =
            top ? p && q && strcmp(top->price, p) == 0 && strcmp(top->qty, q) == 0 : !p && !q;
        if (!same)
            problem(r, REAL_P_MODEL,
                    "frame %" PRIu64 ": bbo.%s %s %s@%s, the book stream's best is %s@%s",
                    r->frame_no, s->symbol, keys[side][0], p ? p : "null", q ? q : "null",
                    top ? top->price : "none", top ? top->qty : "none");
    }
    if (has[0] && has[1] && price[0] >= price[1])
        problem(r, REAL_P_CROSSED, "frame %" PRIu64 ": bbo.%s crossed: bid %s >= ask %s",
                r->frame_no, s->symbol, json_str(msg, "bid"), json_str(msg, "ask"));
}

/* A depth<N> message: not crossed, and the top N levels of the book the stream has built. */
static void take_depth(real_run_t *r, real_symbol_t *s, const cJSON *msg)
{
    r->depth_messages++;
    const cJSON *sides[2] = {cJSON_GetObjectItemCaseSensitive(msg, "bids"),
                             cJSON_GetObjectItemCaseSensitive(msg, "asks")};
    int64_t best[2] = {0, 0};
    for (int side = 0; side < 2; side++) {
        int n = cJSON_GetArraySize(sides[side]);
        size_t want = real_book_depth(&s->model, (real_side_t)side);
        if (want > DEPTH_LEVELS)
            want = DEPTH_LEVELS;
        if ((size_t)n != want)
            problem(r, REAL_P_MODEL,
                    "tick before frame %" PRIu64 ": depth.%s has %d %s, the book stream %zu",
                    r->frame_no, s->symbol, n, side ? "asks" : "bids", want);
        for (int i = 0; i < n && (size_t)i < want; i++) {
            const char *p, *q;
            const real_level_t *l = real_book_level(&s->model, (real_side_t)side, (size_t)i);
            if (!json_level(cJSON_GetArrayItem(sides[side], i), &p, &q) ||
                (i == 0 && real_dec(p, &best[side]) != 0)) {
                problem(r, REAL_P_INPUT, "frame %" PRIu64 ": depth.%s: a bad level", r->frame_no,
                        s->symbol);
                break;
            }
            if (strcmp(p, l->price) != 0 || strcmp(q, l->qty) != 0) {
                problem(r, REAL_P_MODEL,
                        "tick before frame %" PRIu64 ": depth.%s level %d [%s,%s], the book "
                        "stream [%s,%s]",
                        r->frame_no, s->symbol, i, p, q, l->price, l->qty);
                break;
            }
        }
    }
    if (cJSON_GetArraySize(sides[0]) > 0 && cJSON_GetArraySize(sides[1]) > 0 && best[0] >= best[1])
        problem(r, REAL_P_CROSSED, "tick before frame %" PRIu64 ": depth.%s crossed", r->frame_no,
                s->symbol);
}

static void take_status(real_run_t *r, real_symbol_t *s, const cJSON *msg)
{
    const char *state = json_str(msg, "state"), *reason = json_str(msg, "reason");
    uint64_t resyncs;
    if (!state || !reason || !json_id(msg, "resyncs", &resyncs)) {
        problem(r, REAL_P_INPUT, "frame %" PRIu64 ": status.%s without state, reason, resyncs",
                r->frame_no, s->symbol);
        return;
    }
    if (s->status_count < REAL_STATUS_KEPT) {
        real_status_t *st = &s->status[s->status_count];
        snprintf(st->state, sizeof st->state, "%s", state);
        snprintf(st->reason, sizeof st->reason, "%s", reason);
        st->resyncs = resyncs;
        st->frame = r->frame_no;
    }
    s->status_count++;
}

static void take_trade(real_run_t *r, real_symbol_t *s, const cJSON *msg)
{
    const char *type = json_str(msg, "type"), *p = json_str(msg, "price"),
               *q = json_str(msg, "qty");
    real_trade_t t;
    if (!type || !p || !q || !json_id(msg, "id", &t.id) || strlen(p) >= REAL_DEC_STRLEN ||
        strlen(q) >= REAL_DEC_STRLEN) {
        problem(r, REAL_P_INPUT, "frame %" PRIu64 ": trade.%s without type, id, price, qty",
                r->frame_no, s->symbol);
        return;
    }
    strcpy(t.price, p);
    strcpy(t.qty, q);
    PUSH(r, s->trades_out[strcmp(type, "agg_trade") == 0], t);
}

/* Reads the messages published since the last call: "<channel>.<market>.<SYMBOL>". */
static void take_messages(real_run_t *r)
{
    for (; r->msgs_taken < r->msg_count; r->msgs_taken++) {
        const real_msg_t *m = &r->msgs[r->msgs_taken];
        char topic[128];
        snprintf(topic, sizeof topic, "%.*s", (int)m->topic_len, r->out + m->topic);
        char *dot1 = strchr(topic, '.');
        char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
        if (!dot2) {
            problem(r, REAL_P_INPUT, "frame %" PRIu64 ": topic %s", r->frame_no, topic);
            continue;
        }
        *dot1 = *dot2 = '\0';
        real_symbol_t *s = sym_get(r, dot2 + 1);
        cJSON *msg = cJSON_ParseWithLength(r->out + m->body, m->body_len);
        if (!s || !msg || strcmp(dot1 + 1, market_name(r->market)) != 0) {
            problem(r, REAL_P_INPUT, "frame %" PRIu64 ": message on %s.%s.%s is not JSON",
                    r->frame_no, topic, dot1 + 1, dot2 + 1);
            cJSON_Delete(msg);
            continue;
        }
        if (strcmp(topic, "book") == 0)
            take_book(r, s, msg);
        else if (strcmp(topic, "bbo") == 0)
            take_bbo(r, s, msg);
        else if (strcmp(topic, "depth" STR(DEPTH_LEVELS)) == 0)
            take_depth(r, s, msg);
        else if (strcmp(topic, "status") == 0)
            take_status(r, s, msg);
        else if (strcmp(topic, "trade") == 0)
            take_trade(r, s, msg);
        else if (strcmp(topic, "kline") != 0)
            problem(r, REAL_P_INPUT, "frame %" PRIu64 ": message on channel %s", r->frame_no,
                    topic);
        cJSON_Delete(msg);
    }
}

/* ---- after each frame ---------------------------------------------------------------------- */

static void after_frame(real_run_t *r, builder_t *b)
{
    real_frame_t *f = &r->cur;
    real_symbol_t *s = f->sym;
    builder_book_view_t v;
    if (!s || builder_book(b, r->market, s->symbol, &v) != 0 || v.state != SYNC_SYNCED)
        return;
    if (s->tops.n == 0 || s->tops.v[s->tops.n - 1].u != v.update_id) {
        real_top_t t = top_of(v.book, v.update_id);
        if (s->tops.n && t.u < s->tops.v[s->tops.n - 1].u)
            problem(r, REAL_P_STATUS,
                    "frame %" PRIu64 ": %s update id went back from %" PRIu64 " to %" PRIu64,
                    r->frame_no, s->symbol, s->tops.v[s->tops.n - 1].u, t.u);
        if (t.has_bid && t.has_ask && t.bid >= t.ask)
            problem(r, REAL_P_CROSSED, "frame %" PRIu64 ": %s book crossed at update id %" PRIu64,
                    r->frame_no, s->symbol, t.u);
        PUSH(r, s->tops, t);
    }
    if (!f->depth || !f->synced_before)
        return;
    if (f->u <= f->id_before) {
        s->events_stale++;
        return;
    }
    if (v.update_id != f->u)
        return; /* not applied while the book stays synced: the status check reports it */
    s->events_applied_synced++;
    s->unknown_deletes += f->unknown_count;
    if (!f->update_seen)
        problem(r, REAL_P_MODEL,
                "frame %" PRIu64 ": %s event u=%" PRIu64 " applied, no book "
                "update with that last_id published",
                r->frame_no, s->symbol, f->u);
    for (size_t i = 0; i < f->unknown_count; i++) {
        const real_unknown_t *d = &f->unknown[i];
        if (book_qty_at(v.book, (book_side_t)d->side, (dec_t){d->price}).units == 0)
            continue;
        char price[32];
        units_text(d->price, price);
        problem(r, REAL_P_UNKNOWN,
                "frame %" PRIu64 ": %s event u=%" PRIu64 " deletes %s %s, a level the book did "
                "not hold, and the book holds it afterwards",
                r->frame_no, s->symbol, f->u, d->side ? "ask" : "bid", price);
    }
}

/* The independent book of every synced symbol equals the builder's, level by level, as the
   strings the builder would write now. */
static void checkpoint(real_run_t *r, builder_t *b)
{
    r->checkpoints++;
    for (size_t i = 0; i < r->sym_count; i++) {
        real_symbol_t *s = r->syms[i];
        builder_book_view_t v;
        if (!s->has_depth || builder_book(b, r->market, s->symbol, &v) != 0 ||
            v.state != SYNC_SYNCED)
            continue;
        if (!s->model_loaded || v.book_seq != s->book_seq) {
            problem(r, REAL_P_MODEL,
                    "frame %" PRIu64 ": %s book seq %" PRIu64 ", the stream's %" PRIu64 "%s",
                    r->frame_no, s->symbol, v.book_seq, s->book_seq,
                    s->model_loaded ? "" : " (no snapshot message)");
            continue;
        }
        for (int side = 0; side < 2; side++) {
            size_t n = book_depth(v.book, (book_side_t)side);
            if (n != real_book_depth(&s->model, (real_side_t)side)) {
                problem(r, REAL_P_MODEL, "frame %" PRIu64 ": %s %s: %zu levels, the stream %zu",
                        r->frame_no, s->symbol, side ? "asks" : "bids", n,
                        real_book_depth(&s->model, (real_side_t)side));
                continue;
            }
            for (size_t k = 0; k < n; k++) {
                const book_level_t *l = book_level(v.book, (book_side_t)side, k);
                const real_level_t *m = real_book_level(&s->model, (real_side_t)side, k);
                char price[DEC_STRLEN], qty[DEC_STRLEN];
                dec_format_fixed(l->price, v.price_places, price);
                dec_format_fixed(l->qty, v.qty_places, qty);
                r->levels_compared++;
                if (strcmp(price, m->price) != 0 || strcmp(qty, m->qty) != 0) {
                    problem(r, REAL_P_MODEL,
                            "frame %" PRIu64 ": %s %s level %zu: book [%s,%s], stream [%s,%s]",
                            r->frame_no, s->symbol, side ? "ask" : "bid", k, price, qty, m->price,
                            m->qty);
                    break;
                }
            }
        }
    }
}

/* ---- at the end ---------------------------------------------------------------------------- */

static int cmp_top(const void *pa, const void *pb)
{
    const real_top_t *a = pa, *b = pb;
    return (a->u > b->u) - (a->u < b->u);
}

/* Every bookTicker whose u is an update id the book was at, compared with the book's top then. */
static void compare_tops(real_run_t *r, real_symbol_t *s)
{
    sort(s->tickers.v, s->tickers.n, sizeof *s->tickers.v, cmp_top);
    for (size_t i = 0; i < s->tickers.n; i++) {
        const real_top_t *t = &s->tickers.v[i];
        const real_top_t *top = find(t, s->tops.v, s->tops.n, sizeof *t, cmp_top);
        if (!top)
            continue;
        s->comparisons++;
        if (top->has_bid && top->has_ask && top->bid == t->bid && top->bid_qty == t->bid_qty &&
            top->ask == t->ask && top->ask_qty == t->ask_qty)
            continue;
        s->top_mismatches++;
        char book[160], ticker[160];
        top_text(top, book, sizeof book);
        top_text(t, ticker, sizeof ticker);
        problem(r, REAL_P_TOP, "%s update id %" PRIu64 ": book %s, bookTicker %s", s->symbol, t->u,
                book, ticker);
    }
}

static int cmp_trade(const void *pa, const void *pb)
{
    const real_trade_t *a = pa, *b = pb;
    return (a->id > b->id) - (a->id < b->id);
}

/* The published trades of one kind are the input's, each once, with the same price and qty. */
static void compare_trades(real_run_t *r, real_symbol_t *s, int agg)
{
    const char *kind = agg ? "aggTrade" : "trade";
    real_trades_t *in = &s->trades_in[agg], *out = &s->trades_out[agg];
    sort(in->v, in->n, sizeof *in->v, cmp_trade);
    sort(out->v, out->n, sizeof *out->v, cmp_trade);
    size_t kept = 0; /* the input as a set: a trade the exchange sent twice counts once */
    for (size_t i = 0; i < in->n; i++)
        if (kept == 0 || in->v[kept - 1].id != in->v[i].id)
            in->v[kept++] = in->v[i];
    in->n = kept;
    for (size_t i = 1; i < out->n; i++)
        if (out->v[i].id == out->v[i - 1].id)
            problem(r, REAL_P_TRADE, "%s %s id %" PRIu64 " published more than once", s->symbol,
                    kind, out->v[i].id);
    size_t i = 0, j = 0;
    while (i < in->n || j < out->n) {
        if (j >= out->n || (i < in->n && in->v[i].id < out->v[j].id)) {
            problem(r, REAL_P_TRADE, "%s %s id %" PRIu64 " never published", s->symbol, kind,
                    in->v[i].id);
            i++;
        } else if (i >= in->n || out->v[j].id < in->v[i].id) {
            problem(r, REAL_P_TRADE, "%s %s id %" PRIu64 " published, not in the input", s->symbol,
                    kind, out->v[j].id);
            j++;
        } else {
            if (strcmp(in->v[i].price, out->v[j].price) != 0 ||
                strcmp(in->v[i].qty, out->v[j].qty) != 0)
                problem(r, REAL_P_TRADE, "%s %s id %" PRIu64 ": %s@%s in, %s@%s out", s->symbol,
                        kind, in->v[i].id, in->v[i].qty, in->v[i].price, out->v[j].qty,
                        out->v[j].price);
            i++;
            for (uint64_t id = out->v[j].id; j < out->n && out->v[j].id == id; j++)
                ;
        }
    }
}

/* A book's course: syncing/start, then synced/start at its first snapshot, one request. */
static void check_course(real_run_t *r, builder_t *b, real_symbol_t *s)
{
    builder_book_view_t v;
    if (!s->has_depth) {
        if (s->status_count || s->snapshot_requests)
            problem(r, REAL_P_STATUS, "%s has no depth stream yet a status or a request",
                    s->symbol);
        return;
    }
    if (builder_book(b, r->market, s->symbol, &v) != 0) {
        problem(r, REAL_P_STATUS, "%s: the builder has no book", s->symbol);
        return;
    }
    if (v.state != SYNC_SYNCED || v.resyncs != 0)
        problem(r, REAL_P_STATUS, "%s ends %s (%s) after %" PRIu64 " resyncs", s->symbol,
                sync_state_name(v.state), sync_reason_name(v.reason), v.resyncs);
    if (s->snapshot_requests != 1)
        problem(r, REAL_P_STATUS, "%s: %" PRIu64 " snapshot requests", s->symbol,
                s->snapshot_requests);
    if (s->snapshot_frames == 0)
        problem(r, REAL_P_STATUS, "%s: the input has no snapshot", s->symbol);
    for (size_t i = 0; i < s->status_count && i < REAL_STATUS_KEPT; i++) {
        const real_status_t *st = &s->status[i];
        bool want_synced = i == 1;
        bool ok = i < 2 && strcmp(st->state, want_synced ? "synced" : "syncing") == 0 &&
                  strcmp(st->reason, "start") == 0 && st->resyncs == 0 &&
                  (!want_synced || st->frame == s->first_snapshot_frame);
        if (!ok)
            problem(r, REAL_P_STATUS,
                    "%s status %zu at frame %" PRIu64 ": %s/%s, resyncs %" PRIu64
                    " (first snapshot at frame %" PRIu64 ")",
                    s->symbol, i + 1, st->frame, st->state, st->reason, st->resyncs,
                    s->first_snapshot_frame);
    }
    if (s->status_count != 2)
        problem(r, REAL_P_STATUS, "%s: %zu status messages, not syncing then synced", s->symbol,
                s->status_count);
}

/* ---- the run ------------------------------------------------------------------------------- */

int real_run(real_run_t *r, char *err, size_t err_len)
{
    double started = now_s();
    builder_config_t cfg;
    real_builder_config(&cfg);
    builder_io_t io = {.publish = on_publish, .request_snapshot = on_request_snapshot, .arg = r};
    builder_t *b = builder_new(&cfg, &io);
    framefile_reader_t *fr = framefile_reader_open(r->frames_path, err, err_len);
    if (!b || !fr) {
        if (!b)
            snprintf(err, err_len, "builder_new: out of memory");
        builder_destroy(&b);
        framefile_reader_destroy(&fr);
        return -1;
    }
    /* The clock and the ticks as replay_file() runs them. */
    int64_t clock_ns = 0, next_tick_ns = 0;
    const void *frame;
    size_t len;
    int got;
    while ((got = framefile_reader_next(fr, &frame, &len, err, err_len)) == 1) {
        r->frame_no++;
        envelope_header_t h;
        const void *payload;
        size_t plen;
        char why[160];
        bool decoded = envelope_decode(frame, len, &h, &payload, &plen, why, sizeof why) == 0;
        if (!decoded)
            problem(r, REAL_P_INPUT, "frame %" PRIu64 ": %s", r->frame_no, why);
        else if (h.recv_ts_ns > clock_ns)
            clock_ns = h.recv_ts_ns;
        if (clock_ns >= next_tick_ns) {
            r->cur.sym = NULL;
            r->cur.depth = false;
            next_tick_ns = clock_ns + builder_tick(b, clock_ns) * 1000000;
            take_messages(r);
        }
        if (decoded)
            read_input(r, b, &h, payload, plen);
        builder_on_frame(b, frame, len, clock_ns);
        take_messages(r);
        if (decoded)
            after_frame(r, b);
        if (r->frame_no % CHECKPOINT_FRAMES == 0)
            checkpoint(r, b);
    }
    r->frames = r->frame_no;
    if (got == 0) {
        checkpoint(r, b);
        for (size_t i = 0; i < r->sym_count; i++) {
            real_symbol_t *s = r->syms[i];
            check_course(r, b, s);
            compare_tops(r, s);
            compare_trades(r, s, 0);
            compare_trades(r, s, 1);
        }
        r->counters = *builder_counters(b);
        r->builder_books = builder_book_count(b);
        builder_book_states(b, r->states);
    }
    framefile_reader_destroy(&fr);
    builder_destroy(&b);
    r->seconds = now_s() - started;
    return got == 0 ? 0 : -1;
}

void real_run_free(real_run_t *r)
{
    for (size_t i = 0; i < r->sym_count; i++) {
        real_symbol_t *s = r->syms[i];
        for (int k = 0; k < 2; k++) {
            free(s->trades_in[k].v);
            free(s->trades_out[k].v);
        }
        free(s->tickers.v);
        free(s->tops.v);
        real_book_free(&s->model);
        free(s);
    }
    free(r->syms);
    free(r->out);
    free(r->msgs);
    free(r->cur.unknown);
    r->syms = NULL;
    r->out = NULL;
    r->msgs = NULL;
    r->cur.unknown = NULL;
    r->sym_count = r->sym_cap = r->out_len = r->out_cap = r->msg_count = r->msg_cap = 0;
    r->cur.unknown_cap = r->cur.unknown_count = 0;
}
