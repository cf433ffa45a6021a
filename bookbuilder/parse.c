/*
 * parse.c — Binance payloads to typed events in one pass over the bytes.
 *
 * Why a pull scanner and tables. Every depth update of every symbol passes through here, and
 * the budget is about a microsecond for a 900-byte USD-M update. A tree parser (cJSON) spends
 * 7 µs on the same message, most of it in malloc and in building nodes that are read once. So
 * the payload is walked in place with jscan: each member's key is looked up in a small table
 * for the event kind (name, JSON type, where the value goes), the value is converted straight
 * into the event (decimals with dec_parse, integers with jscan_to_u64/i64), and unknown
 * members are skipped, validated but not converted. Levels, the bulk of a depth message, go
 * into two arrays owned by the parse_t, which grow by doubling to max_levels and then stay: no
 * allocation once the largest message has been seen.
 *
 * One pass. Binance writes "stream" before "data", so the kind is known when the data begins
 * and the data is converted as it is scanned. When "data" comes first (any JSON writer may
 * reorder keys), its span is validated and remembered with jscan_value, and once "stream" has
 * named the kind it is scanned again with a second jscan_t over that span: correct for any key
 * order, and costing nothing when Binance's order is kept. A second "stream" or "data" in the
 * wrapper is refused, because the data may already have been read for the first one.
 *
 * Why tables rather than one function per kind. Each kind is a list of (key, type, offset)
 * and a mask of required keys per market, so "which fields does a USD-M bookTicker need" is
 * one line, the missing-field report names the key, and the conversion and error wording of
 * each JSON type live in one place. A lookup compares the key's length and first byte before
 * memcmp; a kind has at most 16 keys, so a linear scan beats hashing.
 *
 * All or nothing. The first fault found in document order ends the parse with a reason and a
 * detail naming its path ("data.b[3][0]: more than 8 decimal places …"); the event is only
 * meaningful on PARSE_OK. Error paths format text; the success path never does.
 *
 * Rejected: cJSON (time, above); a walk that collects every key first and checks the kind's
 * rules afterwards (a second pass over the levels); one hand-written function per kind (ten
 * copies of the same conversions and error wording, easy to let drift apart).
 */
#include "parse.h"

#include "jscan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Levels a side a new parser holds before growing: a typical diff update fits; the first
   1000-level snapshot grows it three times, and later ones reuse that. */
#define INITIAL_LEVELS 128

/* Longest key any table names ("lastUpdateId"): a longer key is unknown without a lookup. */
#define KEY_MAX 16

/* A decimal written with escapes ("\u0031") is unescaped into a buffer of this size first. The
   longest decimal Binance can write is 21 bytes; a longer one (leading zeros) is refused. */
#define DEC_TEXT_MAX 48

enum { SIDE_BID = 0, SIDE_ASK = 1 };

struct parse_t {
    size_t max_levels;
    parse_level_t *levels[2];     /* SIDE_BID, SIDE_ASK */
    parse_level_text_t *texts[2]; /* where each level is written in the payload */
    size_t capacity[2];
    uint8_t places[2][2]; /* [side][0 price, 1 qty]: the most fractional digits of the side */

    /* State of the call in progress. */
    char *detail;
    size_t detail_len;
    size_t offset_base; /* offset of the scanned span in the payload, for JSON errors */
    const char *symbol; /* the stream's symbol, upper case; NULL for a snapshot */
    size_t symbol_len;
    const char *stream; /* the stream name, for error details */
};

/* ---- errors ------------------------------------------------------------------------------- */

static const char *const err_names[PARSE_ERR_COUNT] = {
    [PARSE_OK] = "ok",
    [PARSE_ERR_JSON] = "malformed_json",
    [PARSE_ERR_SHAPE] = "bad_shape",
    [PARSE_ERR_UNKNOWN_STREAM] = "unknown_stream",
    [PARSE_ERR_MISSING_FIELD] = "missing_field",
    [PARSE_ERR_WRONG_TYPE] = "wrong_type",
    [PARSE_ERR_BAD_VALUE] = "bad_value",
    [PARSE_ERR_SYMBOL] = "symbol_mismatch",
    [PARSE_ERR_TOO_MANY_LEVELS] = "too_many_levels",
    [PARSE_ERR_NO_MEMORY] = "out_of_memory",
};

const char *parse_err_name(parse_err_t err)
{
    if ((unsigned)err >= PARSE_ERR_COUNT || err_names[err] == NULL)
        return "unknown";
    return err_names[err];
}

static parse_err_t fail(parse_t *self, parse_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static parse_err_t fail(parse_t *self, parse_err_t err, const char *fmt, ...)
{
    if (self->detail != NULL && self->detail_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(self->detail, self->detail_len, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* The scanner's own reason, with the offset in the whole payload. */
static parse_err_t json_error(parse_t *self, const jscan_t *s)
{
    size_t offset = 0;
    const char *why = jscan_error(s, &offset);
    return fail(self, PARSE_ERR_JSON, "malformed JSON at byte %zu: %s", self->offset_base + offset,
                why ? why : "unexpected input");
}

static const char *type_name(int type)
{
    switch (type) {
    case JSCAN_OBJECT:
        return "an object";
    case JSCAN_ARRAY:
        return "an array";
    case JSCAN_STRING:
        return "a string";
    case JSCAN_NUMBER:
        return "a number";
    case JSCAN_TRUE:
    case JSCAN_FALSE:
        return "a boolean";
    case JSCAN_NULL:
        return "null";
    }
    return "nothing";
}

/* ---- the parser ---------------------------------------------------------------------------- */

parse_t *parse_new(size_t max_levels)
{
    if (max_levels == 0 || max_levels > SIZE_MAX / sizeof(parse_level_t))
        return NULL;
    parse_t *self = calloc(1, sizeof *self);
    if (self == NULL)
        return NULL;
    self->max_levels = max_levels;
    size_t initial = max_levels < INITIAL_LEVELS ? max_levels : INITIAL_LEVELS;
    for (int side = 0; side < 2; side++) {
        self->levels[side] = malloc(initial * sizeof(parse_level_t));
        self->texts[side] = malloc(initial * sizeof(parse_level_text_t));
        if (self->levels[side] == NULL || self->texts[side] == NULL) {
            parse_destroy(&self);
            return NULL;
        }
        self->capacity[side] = initial;
    }
    return self;
}

void parse_destroy(parse_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    parse_t *self = *self_p;
    free(self->levels[SIDE_BID]);
    free(self->levels[SIDE_ASK]);
    free(self->texts[SIDE_BID]);
    free(self->texts[SIDE_ASK]);
    free(self);
    *self_p = NULL;
}

static void begin_call(parse_t *self, char *detail, size_t detail_len)
{
    self->detail = detail;
    self->detail_len = detail_len;
    self->offset_base = 0;
    self->symbol = NULL;
    self->symbol_len = 0;
    self->stream = "";
    memset(self->places, 0, sizeof self->places);
    if (detail != NULL && detail_len > 0)
        detail[0] = '\0';
}

/* Doubles a side's capacity, up to max_levels. */
static int grow_side(parse_t *self, int side)
{
    size_t capacity = self->capacity[side];
    size_t wanted = capacity <= self->max_levels / 2 ? capacity * 2 : self->max_levels;
    parse_level_t *grown = realloc(self->levels[side], wanted * sizeof(parse_level_t));
    if (grown == NULL)
        return -1;
    self->levels[side] = grown;
    parse_level_text_t *texts = realloc(self->texts[side], wanted * sizeof(parse_level_text_t));
    if (texts == NULL)
        return -1; /* capacity stays: both arrays hold at least that many */
    self->texts[side] = texts;
    self->capacity[side] = wanted;
    return 0;
}

/* ---- values ------------------------------------------------------------------------------- */

/* The key's name, unescaped when it was written with escapes. False when it is longer than
   any known key (so unknown). */
static bool key_name(const jscan_value_t *key, char buf[KEY_MAX + 1], const char **name,
                     size_t *len)
{
    if (!key->escaped) {
        *name = key->start;
        *len = key->len;
        return true;
    }
    long n = jscan_string_copy(key, buf, KEY_MAX + 1);
    if (n < 0)
        return false;
    *name = buf;
    *len = (size_t)n;
    return true;
}

static bool name_is(const char *name, size_t len, const char *lit, size_t lit_len)
{
    return len == lit_len && memcmp(name, lit, len) == 0;
}
#define NAME_IS(name, len, lit) name_is(name, len, lit, sizeof(lit) - 1)

/* The fractional digits of a decimal dec_parse accepted: at most 8, so only the last 9 bytes
   can hold the point. `guess` (the previous value of the same column: a symbol's prices share
   their decimals) is checked first, one comparison instead of a loop in the usual case. */
static uint8_t decimal_places(const char *text, size_t len, uint8_t guess)
{
    if (guess > 0 && guess < len && text[len - 1 - guess] == '.')
        return guess;
    size_t limit = len < DEC_PLACES + 1 ? len : DEC_PLACES + 1;
    for (size_t i = 1; i <= limit; i++)
        if (text[len - i] == '.')
            return (uint8_t)(i - 1);
    return 0;
}

/* A decimal string; `positive` for prices (> 0), else a quantity (>= 0: dec_parse refuses a
   sign without DEC_ALLOW_NEGATIVE). *places holds a guess on entry (see decimal_places) and
   the fractional digits written on return. On failure *why is a static reason. */
static parse_err_t decode_decimal(const jscan_value_t *v, bool positive, dec_t *out,
                                  uint8_t *places, const char **why)
{
    if (v->type != JSCAN_STRING) {
        *why = "expected a decimal string";
        return PARSE_ERR_WRONG_TYPE;
    }
    const char *text = v->start;
    size_t len = v->len;
    char unescaped[DEC_TEXT_MAX];
    if (v->escaped) {
        long n = jscan_string_copy(v, unescaped, sizeof unescaped);
        if (n < 0) {
            *why = "not a decimal number: too long";
            return PARSE_ERR_BAD_VALUE;
        }
        text = unescaped;
        len = (size_t)n;
    }
    dec_err_t derr = dec_parse(text, len, 0, out);
    if (derr != DEC_OK) {
        *why = (derr == DEC_ERR_SIGN && len > 0 && text[0] == '-') ? "negative, must be >= 0"
                                                                   : dec_strerror(derr);
        return PARSE_ERR_BAD_VALUE;
    }
    if (positive && out->units == 0) {
        *why = "a price must be greater than 0";
        return PARSE_ERR_BAD_VALUE;
    }
    *places = decimal_places(text, len, *places);
    return PARSE_OK;
}

/* ---- levels ------------------------------------------------------------------------------- */

/* The two decimals of a level, and where they are written (for copying them out unchanged;
   length 0 when escaped, then they are formatted instead). */
static parse_err_t decode_level(parse_t *self, const jscan_value_t *price, const jscan_value_t *qty,
                                const char *path, const char *name, size_t n, parse_level_t *level,
                                parse_level_text_t *text, uint8_t *price_places,
                                uint8_t *qty_places)
{
    const char *why;
    parse_err_t err = decode_decimal(price, true, &level->price, price_places, &why);
    if (err != PARSE_OK)
        return fail(self, err, "%s%s[%zu][0]: %s", path, name, n, why);
    err = decode_decimal(qty, false, &level->qty, qty_places, &why);
    if (err != PARSE_OK)
        return fail(self, err, "%s%s[%zu][1]: %s", path, name, n, why);
    /* Escaped text, or text too long to count in a byte ("000…1" is a valid decimal), is
       formatted from the value instead. */
    bool plain =
        !price->escaped && !qty->escaped && price->len <= UINT8_MAX && qty->len <= UINT8_MAX;
    *text = (parse_level_text_t){
        .price = price->start,
        .qty = qty->start,
        .price_len = plain ? (uint8_t)price->len : 0,
        .qty_len = plain ? (uint8_t)qty->len : 0,
    };
    return PARSE_OK;
}

/* The level as Binance writes it, ["61800.20","0.025"]: read and converted in one pass over
   its bytes (dec_scan), the scanner then told where it ends. Anything else — whitespace, escapes,
   a sign, a price of 0, more than 8 decimals — returns false with nothing consumed, and the
   general path reads it and gives the verdict. What this accepts is valid JSON: two strings of
   digits and one point each. */
static bool fast_level(jscan_t *s, parse_level_t *level, parse_level_text_t *text,
                       uint8_t *price_places, uint8_t *qty_places)
{
    const char *p = s->p, *end = s->end;
    if (end - p < 9 || p[0] != '[' || p[1] != '"')
        return false;
    const char *price = p + 2;
    size_t n = dec_scan(price, end, &level->price, price_places);
    if (n == 0 || level->price.units == 0)
        return false;
    const char *q = price + n;
    if (end - q < 5 || q[0] != '"' || q[1] != ',' || q[2] != '"')
        return false;
    const char *qty = q + 3;
    size_t m = dec_scan(qty, end, &level->qty, qty_places);
    if (m == 0)
        return false;
    q = qty + m;
    if (end - q < 2 || q[0] != '"' || q[1] != ']')
        return false;
    if (jscan_value_consumed(s, q + 2) != 0)
        return false;
    *text = (parse_level_text_t){price, qty, (uint8_t)n, (uint8_t)m};
    return true;
}

/* One [price, quantity] level at the cursor into *level; *price_places and *qty_places guess
   the decimals on entry and hold them on return (see decimal_places). */
static parse_err_t read_level(parse_t *self, jscan_t *s, const char *path, const char *name,
                              size_t n, parse_level_t *level, parse_level_text_t *text,
                              uint8_t *price_places, uint8_t *qty_places)
{
    if (fast_level(s, level, text, price_places, qty_places))
        return PARSE_OK;
    jscan_value_t price, qty;
    /* No peek on the hot path: when '[' is missing, a copy taken before says what is there. */
    jscan_t before = *s;
    if (jscan_array_begin(s) < 0) {
        int type = jscan_peek(&before);
        if (type < 0 || type == JSCAN_ARRAY)
            return json_error(self, type < 0 ? &before : s);
        return fail(self, PARSE_ERR_WRONG_TYPE,
                    "%s%s[%zu]: expected a [price, quantity] array, found %s", path, name, n,
                    type_name(type));
    }
    /* Exactly two items, then the two decimals. */
    int item = jscan_array_next(s);
    if (item == 1) {
        if (jscan_value(s, &price) < 0)
            return json_error(self, s);
        item = jscan_array_next(s);
    }
    if (item == 1) {
        if (jscan_value(s, &qty) < 0)
            return json_error(self, s);
        item = jscan_array_next(s);
        if (item == 1)
            return fail(self, PARSE_ERR_SHAPE,
                        "%s%s[%zu]: a level is [price, quantity], found more than 2 elements", path,
                        name, n);
        if (item == 0)
            return decode_level(self, &price, &qty, path, name, n, level, text, price_places,
                                qty_places);
    }
    if (item < 0)
        return json_error(self, s);
    return fail(self, PARSE_ERR_SHAPE,
                "%s%s[%zu]: a level is [price, quantity], found fewer than 2 elements", path, name,
                n);
}

/* An array of [price, quantity] levels into the side's buffer. The path of the array in error
   details is path + name: "data.b", "bids". */
static parse_err_t read_levels(parse_t *self, jscan_t *s, int side, const char *path,
                               const char *name, size_t *count_out)
{
    int type = jscan_peek(s);
    if (type < 0)
        return json_error(self, s);
    if (type != JSCAN_ARRAY)
        return fail(self, PARSE_ERR_WRONG_TYPE, "%s%s: expected an array of levels, found %s", path,
                    name, type_name(type));
    if (jscan_array_begin(s) < 0)
        return json_error(self, s);

    parse_level_t *levels = self->levels[side];
    parse_level_text_t *texts = self->texts[side];
    uint8_t price_places = 0, qty_places = 0; /* the most seen */
    uint8_t price_last = 0, qty_last = 0;     /* the last seen: the guess for the next level */
    size_t n = 0;
    int more;
    while ((more = jscan_array_next(s)) == 1) {
        if (n == self->capacity[side]) {
            if (n == self->max_levels)
                return fail(self, PARSE_ERR_TOO_MANY_LEVELS, "%s%s: more than %zu levels", path,
                            name, self->max_levels);
            if (grow_side(self, side) < 0)
                return fail(self, PARSE_ERR_NO_MEMORY, "%s%s: no memory for %zu levels", path, name,
                            n + 1);
            levels = self->levels[side];
            texts = self->texts[side];
        }
        parse_err_t err =
            read_level(self, s, path, name, n, &levels[n], &texts[n], &price_last, &qty_last);
        if (err != PARSE_OK)
            return err;
        if (price_last > price_places)
            price_places = price_last;
        if (qty_last > qty_places)
            qty_places = qty_last;
        n++;
    }
    if (more < 0)
        return json_error(self, s);
    self->places[side][0] = price_places;
    self->places[side][1] = qty_places;
    *count_out = n;
    return PARSE_OK;
}

/* ---- field tables ------------------------------------------------------------------------- */

typedef enum {
    FT_EVENT_TYPE,       /* "e": when present, must name the event the stream carries */
    FT_SYMBOL,           /* "s": when present, must name the stream's symbol */
    FT_TIME,             /* integer milliseconds >= 0, into int64_t */
    FT_UPDATE_ID,        /* integer >= 1, into uint64_t */
    FT_ID,               /* integer >= 0 (trade ids, counts, pu), into uint64_t */
    FT_TRADE_ID_OR_NONE, /* integer >= -1 (kline f, L: -1 without trades), into uint64_t,
                            -1 as UINT64_MAX */
    FT_PRICE,            /* decimal string > 0, into parse_dec_t */
    FT_QTY,              /* decimal string >= 0, into parse_dec_t */
    FT_BOOL,             /* true/false, into bool */
    FT_INTERVAL,         /* kline interval string, into char[PARSE_INTERVAL_MAX + 1] */
    FT_BIDS,             /* levels, into the bid buffer; count into depth_event_t */
    FT_ASKS,             /* levels, into the ask buffer */
    FT_KLINE,            /* the "k" object of a kline */
} field_type_t;

typedef struct {
    const char *name;
    uint8_t len;
    field_type_t type;
    size_t offset; /* of the destination in the output struct */
} field_t;

typedef struct {
    const char *event_type; /* the "e" value this kind carries */
    const field_t *fields;
    size_t count;
} schema_t;

/* The members of a field_t / schema_t, for brace-enclosed table entries. */
#define FIELD(name, type, st, member) name, sizeof(name) - 1, type, offsetof(st, member)
#define NOWHERE(name, type) name, sizeof(name) - 1, type, 0
#define SCHEMA(event, table) event, table, sizeof(table) / sizeof(table[0])
#define BIT(i) (1u << (i))

/* Diff depth, and futures partial depth: Binance's depthUpdate. */
enum { DD_e, DD_E, DD_T, DD_s, DD_U, DD_u, DD_pu, DD_b, DD_a };
static const field_t depth_diff_fields[] = {
    [DD_e] = {NOWHERE("e", FT_EVENT_TYPE)},
    [DD_E] = {FIELD("E", FT_TIME, depth_event_t, event_ms)},
    [DD_T] = {FIELD("T", FT_TIME, depth_event_t, txn_ms)},
    [DD_s] = {NOWHERE("s", FT_SYMBOL)},
    [DD_U] = {FIELD("U", FT_UPDATE_ID, depth_event_t, first_id)},
    [DD_u] = {FIELD("u", FT_UPDATE_ID, depth_event_t, last_id)},
    [DD_pu] = {FIELD("pu", FT_ID, depth_event_t, prev_id)},
    [DD_b] = {FIELD("b", FT_BIDS, depth_event_t, bid_count)},
    [DD_a] = {FIELD("a", FT_ASKS, depth_event_t, ask_count)},
};
static const schema_t depth_diff_schema = {SCHEMA("depthUpdate", depth_diff_fields)};
static const uint32_t depth_diff_spot_required =
    BIT(DD_E) | BIT(DD_U) | BIT(DD_u) | BIT(DD_b) | BIT(DD_a);
static const uint32_t depth_diff_futures_required =
    BIT(DD_E) | BIT(DD_T) | BIT(DD_U) | BIT(DD_u) | BIT(DD_pu) | BIT(DD_b) | BIT(DD_a);

/* REST snapshot body, and spot partial depth. lastUpdateId lands in last_id. */
enum { DB_lastUpdateId, DB_E, DB_T, DB_bids, DB_asks };
static const field_t depth_body_fields[] = {
    [DB_lastUpdateId] = {FIELD("lastUpdateId", FT_UPDATE_ID, depth_event_t, last_id)},
    [DB_E] = {FIELD("E", FT_TIME, depth_event_t, event_ms)},
    [DB_T] = {FIELD("T", FT_TIME, depth_event_t, txn_ms)},
    [DB_bids] = {FIELD("bids", FT_BIDS, depth_event_t, bid_count)},
    [DB_asks] = {FIELD("asks", FT_ASKS, depth_event_t, ask_count)},
};
static const schema_t depth_body_schema = {SCHEMA(NULL, depth_body_fields)};
static const uint32_t depth_body_spot_required = BIT(DB_lastUpdateId) | BIT(DB_bids) | BIT(DB_asks);
static const uint32_t depth_body_futures_required =
    BIT(DB_lastUpdateId) | BIT(DB_E) | BIT(DB_T) | BIT(DB_bids) | BIT(DB_asks);

/* @trade. Spot adds "M" (ignore), futures "X" (MARKET, …): both ignored. */
enum { TR_e, TR_E, TR_T, TR_s, TR_t, TR_p, TR_q, TR_m };
static const field_t trade_fields[] = {
    [TR_e] = {NOWHERE("e", FT_EVENT_TYPE)},
    [TR_E] = {FIELD("E", FT_TIME, trade_event_t, event_ms)},
    [TR_T] = {FIELD("T", FT_TIME, trade_event_t, trade_ms)},
    [TR_s] = {NOWHERE("s", FT_SYMBOL)},
    [TR_t] = {FIELD("t", FT_ID, trade_event_t, id)},
    [TR_p] = {FIELD("p", FT_PRICE, trade_event_t, price)},
    [TR_q] = {FIELD("q", FT_QTY, trade_event_t, qty)},
    [TR_m] = {FIELD("m", FT_BOOL, trade_event_t, buyer_is_maker)},
};
static const schema_t trade_schema = {SCHEMA("trade", trade_fields)};
static const uint32_t trade_required =
    BIT(TR_E) | BIT(TR_T) | BIT(TR_t) | BIT(TR_p) | BIT(TR_q) | BIT(TR_m);

/* @aggTrade. USD-M adds "nq" (ignored). */
enum { AG_e, AG_E, AG_T, AG_s, AG_a, AG_p, AG_q, AG_f, AG_l, AG_m };
static const field_t agg_trade_fields[] = {
    [AG_e] = {NOWHERE("e", FT_EVENT_TYPE)},
    [AG_E] = {FIELD("E", FT_TIME, trade_event_t, event_ms)},
    [AG_T] = {FIELD("T", FT_TIME, trade_event_t, trade_ms)},
    [AG_s] = {NOWHERE("s", FT_SYMBOL)},
    [AG_a] = {FIELD("a", FT_ID, trade_event_t, id)},
    [AG_p] = {FIELD("p", FT_PRICE, trade_event_t, price)},
    [AG_q] = {FIELD("q", FT_QTY, trade_event_t, qty)},
    [AG_f] = {FIELD("f", FT_ID, trade_event_t, first_trade_id)},
    [AG_l] = {FIELD("l", FT_ID, trade_event_t, last_trade_id)},
    [AG_m] = {FIELD("m", FT_BOOL, trade_event_t, buyer_is_maker)},
};
static const schema_t agg_trade_schema = {SCHEMA("aggTrade", agg_trade_fields)};
static const uint32_t agg_trade_required =
    BIT(AG_E) | BIT(AG_T) | BIT(AG_a) | BIT(AG_p) | BIT(AG_q) | BIT(AG_f) | BIT(AG_l) | BIT(AG_m);

/* @bookTicker: spot has neither "e" nor "E"; futures add e, E, T (T ignored), COIN-M "ps". */
enum { BT_e, BT_E, BT_s, BT_u, BT_b, BT_B, BT_a, BT_A };
static const field_t book_ticker_fields[] = {
    [BT_e] = {NOWHERE("e", FT_EVENT_TYPE)},
    [BT_E] = {FIELD("E", FT_TIME, book_ticker_event_t, event_ms)},
    [BT_s] = {NOWHERE("s", FT_SYMBOL)},
    [BT_u] = {FIELD("u", FT_UPDATE_ID, book_ticker_event_t, update_id)},
    [BT_b] = {FIELD("b", FT_PRICE, book_ticker_event_t, bid)},
    [BT_B] = {FIELD("B", FT_QTY, book_ticker_event_t, bid_qty)},
    [BT_a] = {FIELD("a", FT_PRICE, book_ticker_event_t, ask)},
    [BT_A] = {FIELD("A", FT_QTY, book_ticker_event_t, ask_qty)},
};
static const schema_t book_ticker_schema = {SCHEMA("bookTicker", book_ticker_fields)};
static const uint32_t book_ticker_spot_required =
    BIT(BT_u) | BIT(BT_b) | BIT(BT_B) | BIT(BT_a) | BIT(BT_A);
static const uint32_t book_ticker_futures_required = book_ticker_spot_required | BIT(BT_E);

/* @kline_<i>: the envelope, then the "k" object. "B" (ignore) and unknown keys are skipped. */
enum { KL_e, KL_E, KL_s, KL_k };
static const field_t kline_fields[] = {
    [KL_e] = {NOWHERE("e", FT_EVENT_TYPE)},
    [KL_E] = {FIELD("E", FT_TIME, kline_event_t, event_ms)},
    [KL_s] = {NOWHERE("s", FT_SYMBOL)},
    [KL_k] = {NOWHERE("k", FT_KLINE)},
};
static const schema_t kline_schema = {SCHEMA("kline", kline_fields)};
static const uint32_t kline_required = BIT(KL_E) | BIT(KL_k);

enum { K_t, K_T, K_s, K_i, K_f, K_L, K_o, K_c, K_h, K_l, K_v, K_n, K_x, K_q, K_V, K_Q };
static const field_t kline_k_fields[] = {
    [K_t] = {FIELD("t", FT_TIME, kline_event_t, open_ms)},
    [K_T] = {FIELD("T", FT_TIME, kline_event_t, close_ms)},
    [K_s] = {NOWHERE("s", FT_SYMBOL)},
    [K_i] = {FIELD("i", FT_INTERVAL, kline_event_t, interval)},
    [K_f] = {FIELD("f", FT_TRADE_ID_OR_NONE, kline_event_t, first_trade_id)},
    [K_L] = {FIELD("L", FT_TRADE_ID_OR_NONE, kline_event_t, last_trade_id)},
    [K_o] = {FIELD("o", FT_PRICE, kline_event_t, open)},
    [K_c] = {FIELD("c", FT_PRICE, kline_event_t, close)},
    [K_h] = {FIELD("h", FT_PRICE, kline_event_t, high)},
    [K_l] = {FIELD("l", FT_PRICE, kline_event_t, low)},
    [K_v] = {FIELD("v", FT_QTY, kline_event_t, volume)},
    [K_n] = {FIELD("n", FT_ID, kline_event_t, trade_count)},
    [K_x] = {FIELD("x", FT_BOOL, kline_event_t, closed)},
    [K_q] = {FIELD("q", FT_QTY, kline_event_t, quote_volume)},
    [K_V] = {FIELD("V", FT_QTY, kline_event_t, taker_buy_volume)},
    [K_Q] = {FIELD("Q", FT_QTY, kline_event_t, taker_buy_quote_volume)},
};
static const schema_t kline_k_schema = {SCHEMA(NULL, kline_k_fields)};
static const uint32_t kline_k_required = (BIT(K_Q + 1) - 1) & ~BIT(K_s);

/* @markPrice: index, settlement, funding fields are ignored. */
enum { MP_e, MP_E, MP_s, MP_p };
static const field_t mark_price_fields[] = {
    [MP_e] = {NOWHERE("e", FT_EVENT_TYPE)},
    [MP_E] = {FIELD("E", FT_TIME, mark_price_event_t, event_ms)},
    [MP_s] = {NOWHERE("s", FT_SYMBOL)},
    [MP_p] = {FIELD("p", FT_PRICE, mark_price_event_t, mark_price)},
};
static const schema_t mark_price_schema = {SCHEMA("markPriceUpdate", mark_price_fields)};
static const uint32_t mark_price_required = BIT(MP_E) | BIT(MP_p);

/* A kind has at most 32 keys: the required masks are uint32_t. */
_Static_assert(sizeof kline_k_fields / sizeof kline_k_fields[0] <= 32, "too many keys");

static const field_t *find_field(const schema_t *schema, const char *name, size_t len)
{
    if (len == 0)
        return NULL;
    for (size_t i = 0; i < schema->count; i++) {
        const field_t *f = &schema->fields[i];
        if (f->len == len && f->name[0] == name[0] && memcmp(f->name, name, len) == 0)
            return f;
    }
    return NULL;
}

static parse_err_t walk_object(parse_t *self, jscan_t *s, const schema_t *schema, uint32_t required,
                               const char *path, void *out, uint32_t *seen_p);

/* A string value, unescaped if needed, into buf (cap bytes). -1 when it does not fit. */
static long string_text(const jscan_value_t *v, char *buf, size_t cap, const char **text)
{
    if (!v->escaped) {
        *text = v->start;
        return (long)v->len;
    }
    long n = jscan_string_copy(v, buf, cap);
    *text = buf;
    return n;
}

/* Reads the value of field f into out. */
static parse_err_t read_field(parse_t *self, jscan_t *s, const schema_t *schema, const field_t *f,
                              const char *path, void *out)
{
    char *dest = (char *)out + f->offset;
    jscan_value_t v;

    switch (f->type) {
    case FT_BIDS:
    case FT_ASKS:
        return read_levels(self, s, f->type == FT_BIDS ? SIDE_BID : SIDE_ASK, path, f->name,
                           (size_t *)(void *)dest);
    case FT_KLINE: {
        int type = jscan_peek(s);
        if (type < 0)
            return json_error(self, s);
        if (type != JSCAN_OBJECT)
            return fail(self, PARSE_ERR_WRONG_TYPE, "%sk: expected an object, found %s", path,
                        type_name(type));
        uint32_t seen;
        return walk_object(self, s, &kline_k_schema, kline_k_required, "data.k.", out, &seen);
    }
    default:
        break;
    }

    if (jscan_value(s, &v) < 0)
        return json_error(self, s);

    switch (f->type) {
    case FT_EVENT_TYPE:
    case FT_SYMBOL:
    case FT_INTERVAL: {
        if (v.type != JSCAN_STRING)
            return fail(self, PARSE_ERR_WRONG_TYPE, "%s%s: expected a string, found %s", path,
                        f->name, type_name(v.type));
        char buf[PARSE_SYMBOL_MAX + 1];
        const char *text;
        long n = string_text(&v, buf, sizeof buf, &text);
        if (f->type == FT_EVENT_TYPE) {
            size_t want = strlen(schema->event_type);
            if (n < 0 || !name_is(text, (size_t)n, schema->event_type, want))
                return fail(self, PARSE_ERR_BAD_VALUE, "%s%s: \"%.*s\" where \"%s\" was expected",
                            path, f->name, n < 0 ? 0 : (int)n, text, schema->event_type);
            return PARSE_OK;
        }
        if (f->type == FT_INTERVAL) {
            if (n < 1 || n > PARSE_INTERVAL_MAX || memchr(text, '\0', (size_t)n) != NULL)
                return fail(self, PARSE_ERR_BAD_VALUE, "%s%s: not a kline interval", path, f->name);
            memcpy(dest, text, (size_t)n);
            dest[n] = '\0';
            return PARSE_OK;
        }
        /* FT_SYMBOL: compared without regard to case, as the stream name is lower case. */
        bool same = n >= 0 && (size_t)n == self->symbol_len;
        for (long i = 0; same && i < n; i++) {
            char c = text[i];
            if (c >= 'a' && c <= 'z')
                c = (char)(c - 'a' + 'A');
            same = c == self->symbol[i];
        }
        if (!same)
            return fail(self, PARSE_ERR_SYMBOL, "%s%s: \"%.*s\" on stream \"%s\"", path, f->name,
                        n < 0 ? 0 : (int)n, text, self->stream);
        return PARSE_OK;
    }
    case FT_TIME: {
        int64_t ms;
        if (v.type != JSCAN_NUMBER)
            return fail(self, PARSE_ERR_WRONG_TYPE, "%s%s: expected an integer, found %s", path,
                        f->name, type_name(v.type));
        if (jscan_to_i64(&v, &ms) < 0 || ms < 0)
            return fail(self, PARSE_ERR_BAD_VALUE,
                        "%s%s: %.*s is not a time in milliseconds (an integer >= 0)", path, f->name,
                        (int)v.len, v.start);
        memcpy(dest, &ms, sizeof ms);
        return PARSE_OK;
    }
    case FT_UPDATE_ID:
    case FT_ID: {
        uint64_t id;
        if (v.type != JSCAN_NUMBER)
            return fail(self, PARSE_ERR_WRONG_TYPE, "%s%s: expected an integer, found %s", path,
                        f->name, type_name(v.type));
        if (jscan_to_u64(&v, &id) < 0 || (f->type == FT_UPDATE_ID && id == 0))
            return fail(self, PARSE_ERR_BAD_VALUE, "%s%s: %.*s is not an integer in [%d, 2^64)",
                        path, f->name, (int)v.len, v.start, f->type == FT_UPDATE_ID ? 1 : 0);
        memcpy(dest, &id, sizeof id);
        return PARSE_OK;
    }
    case FT_TRADE_ID_OR_NONE: {
        int64_t id;
        if (v.type != JSCAN_NUMBER)
            return fail(self, PARSE_ERR_WRONG_TYPE, "%s%s: expected an integer, found %s", path,
                        f->name, type_name(v.type));
        if (jscan_to_i64(&v, &id) < 0 || id < -1)
            return fail(self, PARSE_ERR_BAD_VALUE,
                        "%s%s: %.*s is not a trade id (an integer >= 0, or -1 for none)", path,
                        f->name, (int)v.len, v.start);
        uint64_t stored = id == -1 ? UINT64_MAX : (uint64_t)id;
        memcpy(dest, &stored, sizeof stored);
        return PARSE_OK;
    }
    case FT_PRICE:
    case FT_QTY: {
        parse_dec_t d = {.places = 0};
        const char *why;
        parse_err_t err = decode_decimal(&v, f->type == FT_PRICE, &d.value, &d.places, &why);
        if (err != PARSE_OK)
            return fail(self, err, "%s%s: %s", path, f->name, why);
        memcpy(dest, &d, sizeof d);
        return PARSE_OK;
    }
    case FT_BOOL: {
        if (v.type != JSCAN_TRUE && v.type != JSCAN_FALSE)
            return fail(self, PARSE_ERR_WRONG_TYPE, "%s%s: expected true or false, found %s", path,
                        f->name, type_name(v.type));
        bool b = v.type == JSCAN_TRUE;
        memcpy(dest, &b, sizeof b);
        return PARSE_OK;
    }
    default:
        break;
    }
    return fail(self, PARSE_ERR_SHAPE, "%s%s: no reader for this field", path, f->name);
}

/* Walks the object at the cursor: known keys are read into out, unknown ones skipped (and
   validated). Fails on the first bad value, then on the first required key missing. */
static parse_err_t walk_object(parse_t *self, jscan_t *s, const schema_t *schema, uint32_t required,
                               const char *path, void *out, uint32_t *seen_p)
{
    if (jscan_object_begin(s) < 0)
        return json_error(self, s);
    uint32_t seen = 0;
    jscan_value_t key;
    int more;
    while ((more = jscan_object_next(s, &key)) == 1) {
        char buf[KEY_MAX + 1];
        const char *name;
        size_t len;
        const field_t *f = NULL;
        if (key_name(&key, buf, &name, &len))
            f = find_field(schema, name, len);
        if (f == NULL) {
            if (jscan_value(s, NULL) < 0)
                return json_error(self, s);
            continue;
        }
        parse_err_t err = read_field(self, s, schema, f, path, out);
        if (err != PARSE_OK)
            return err;
        seen |= BIT(f - schema->fields);
    }
    if (more < 0)
        return json_error(self, s);
    uint32_t missing = required & ~seen;
    if (missing != 0) {
        size_t i = 0;
        while (!(missing & BIT(i)))
            i++;
        return fail(self, PARSE_ERR_MISSING_FIELD, "%s%s: missing", path, schema->fields[i].name);
    }
    *seen_p = seen;
    return PARSE_OK;
}

/* ---- stream names ------------------------------------------------------------------------- */

typedef struct {
    event_kind_t kind;
    char interval[PARSE_INTERVAL_MAX + 1]; /* EVENT_KLINE */
} stream_kind_t;

/* Binance's kline intervals ([S-WS], binance-protocol.md §5); futures lack "1s", which no
   futures stream sends, so one list serves all markets. */
static const char *const kline_intervals[] = {"1s", "1m", "3m", "5m",  "15m", "30m", "1h", "2h",
                                              "4h", "6h", "8h", "12h", "1d",  "3d",  "1w", "1M"};

/* Update speeds a depth stream name may end with: spot @100ms and the widely used @1000ms,
   futures @0ms, @100ms, @250ms, @500ms (binance-protocol.md §3). Only subscribed streams
   arrive, so one list serves all markets. */
static bool depth_speed_ok(const char *p, size_t len)
{
    return len == 0 || NAME_IS(p, len, "@0ms") || NAME_IS(p, len, "@100ms") ||
           NAME_IS(p, len, "@250ms") || NAME_IS(p, len, "@500ms") || NAME_IS(p, len, "@1000ms");
}

static bool starts_with(const char *p, size_t len, const char *lit, size_t lit_len)
{
    return len >= lit_len && memcmp(p, lit, lit_len) == 0;
}
#define STARTS_WITH(p, len, lit) starts_with(p, len, lit, sizeof(lit) - 1)

/* The channel after '@' decides the kind. */
static bool classify_channel(const char *p, size_t len, market_t market, stream_kind_t *out)
{
    if (NAME_IS(p, len, "trade")) {
        out->kind = EVENT_TRADE;
        return true;
    }
    if (NAME_IS(p, len, "aggTrade")) {
        out->kind = EVENT_AGG_TRADE;
        return true;
    }
    if (NAME_IS(p, len, "bookTicker")) {
        out->kind = EVENT_BOOK_TICKER;
        return true;
    }
    if (STARTS_WITH(p, len, "depth")) {
        const char *rest = p + 5;
        size_t rest_len = len - 5;
        out->kind = EVENT_DEPTH;
        if (STARTS_WITH(rest, rest_len, "5")) {
            out->kind = EVENT_PARTIAL_DEPTH;
            rest += 1;
            rest_len -= 1;
        } else if (STARTS_WITH(rest, rest_len, "10") || STARTS_WITH(rest, rest_len, "20")) {
            out->kind = EVENT_PARTIAL_DEPTH;
            rest += 2;
            rest_len -= 2;
        }
        return depth_speed_ok(rest, rest_len);
    }
    if (STARTS_WITH(p, len, "kline_")) {
        const char *iv = p + 6;
        const char *at = memchr(iv, '@', len - 6);
        size_t iv_len = at ? (size_t)(at - iv) : len - 6;
        size_t rest_len = len - 6 - iv_len;
        /* "@+08:00": the same candles with UTC+8 boundaries (spot). */
        if (rest_len != 0 && !NAME_IS(iv + iv_len, rest_len, "@+08:00"))
            return false;
        for (size_t i = 0; i < sizeof kline_intervals / sizeof kline_intervals[0]; i++) {
            if (name_is(iv, iv_len, kline_intervals[i], strlen(kline_intervals[i]))) {
                out->kind = EVENT_KLINE;
                memcpy(out->interval, iv, iv_len);
                out->interval[iv_len] = '\0';
                return true;
            }
        }
        return false;
    }
    if (market != MARKET_SPOT &&
        (NAME_IS(p, len, "markPrice") || NAME_IS(p, len, "markPrice@1s"))) {
        out->kind = EVENT_MARK_PRICE;
        return true;
    }
    return false;
}

/* The "stream" value: copied into ev->stream, symbol upper-cased into ev->symbol, kind into
 *kind. */
static parse_err_t read_stream(parse_t *self, market_t market, const jscan_value_t *v, event_t *ev,
                               stream_kind_t *kind)
{
    size_t len;
    if (v->escaped) {
        long n = jscan_string_copy(v, ev->stream, sizeof ev->stream);
        if (n < 0)
            return fail(self, PARSE_ERR_UNKNOWN_STREAM, "stream: longer than %d bytes",
                        PARSE_STREAM_MAX);
        len = (size_t)n;
    } else {
        if (v->len > PARSE_STREAM_MAX)
            return fail(self, PARSE_ERR_UNKNOWN_STREAM, "stream: longer than %d bytes",
                        PARSE_STREAM_MAX);
        memcpy(ev->stream, v->start, v->len);
        ev->stream[v->len] = '\0';
        len = v->len;
    }
    self->stream = ev->stream;

    const char *at = memchr(ev->stream, '@', len);
    size_t symbol_len = at ? (size_t)(at - ev->stream) : 0;
    if (at == NULL || symbol_len == 0 || symbol_len > PARSE_SYMBOL_MAX)
        return fail(self, PARSE_ERR_UNKNOWN_STREAM,
                    "stream \"%s\": expected <symbol>@<channel> with a symbol of 1 to %d "
                    "characters",
                    ev->stream, PARSE_SYMBOL_MAX);
    for (size_t i = 0; i < symbol_len; i++) {
        char c = ev->stream[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return fail(self, PARSE_ERR_UNKNOWN_STREAM,
                        "stream \"%s\": the symbol must be [A-Za-z0-9_]", ev->stream);
        ev->symbol[i] = c;
    }
    ev->symbol[symbol_len] = '\0';
    self->symbol = ev->symbol;
    self->symbol_len = symbol_len;

    const char *channel = at + 1;
    size_t channel_len = len - symbol_len - 1;
    if (!classify_channel(channel, channel_len, market, kind))
        return fail(self, PARSE_ERR_UNKNOWN_STREAM, "stream \"%s\": unknown channel \"%.*s\"",
                    ev->stream, (int)channel_len, channel);
    return PARSE_OK;
}

/* ---- kinds -------------------------------------------------------------------------------- */

static void finish_depth(parse_t *self, depth_event_t *d)
{
    d->bids = self->levels[SIDE_BID];
    d->asks = self->levels[SIDE_ASK];
    d->bid_text = self->texts[SIDE_BID];
    d->ask_text = self->texts[SIDE_ASK];
    d->price_places = self->places[SIDE_BID][0] > self->places[SIDE_ASK][0]
                          ? self->places[SIDE_BID][0]
                          : self->places[SIDE_ASK][0];
    d->qty_places = self->places[SIDE_BID][1] > self->places[SIDE_ASK][1]
                        ? self->places[SIDE_BID][1]
                        : self->places[SIDE_ASK][1];
}

static parse_err_t parse_depth_update(parse_t *self, jscan_t *s, market_t market, depth_event_t *d)
{
    uint32_t seen;
    *d = (depth_event_t){0};
    parse_err_t err =
        walk_object(self, s, &depth_diff_schema,
                    market == MARKET_SPOT ? depth_diff_spot_required : depth_diff_futures_required,
                    "data.", d, &seen);
    if (err != PARSE_OK)
        return err;
    if (d->first_id > d->last_id)
        return fail(self, PARSE_ERR_BAD_VALUE, "data.U: %llu is above u (%llu)",
                    (unsigned long long)d->first_id, (unsigned long long)d->last_id);
    /* pu only means something on futures; a spot payload that grew one keeps spot's rules. */
    d->has_prev_id = market != MARKET_SPOT && (seen & BIT(DD_pu));
    if (!d->has_prev_id)
        d->prev_id = 0;
    if (market == MARKET_SPOT)
        d->txn_ms = 0;
    finish_depth(self, d);
    return PARSE_OK;
}

/* The data object at the cursor, for the kind the stream named. */
static parse_err_t parse_data(parse_t *self, jscan_t *s, market_t market, const stream_kind_t *kind,
                              event_t *ev)
{
    uint32_t seen;
    parse_err_t err;
    ev->kind = kind->kind;
    switch (kind->kind) {
    case EVENT_DEPTH:
        return parse_depth_update(self, s, market, &ev->u.depth);

    case EVENT_PARTIAL_DEPTH:
        if (market != MARKET_SPOT)
            return parse_depth_update(self, s, market, &ev->u.depth);
        /* Spot: {"lastUpdateId","bids","asks"}, no e/E/s. */
        ev->u.depth = (depth_event_t){0};
        err = walk_object(self, s, &depth_body_schema, depth_body_spot_required, "data.",
                          &ev->u.depth, &seen);
        if (err != PARSE_OK)
            return err;
        ev->u.depth.event_ms = 0;
        ev->u.depth.txn_ms = 0;
        finish_depth(self, &ev->u.depth);
        return PARSE_OK;

    case EVENT_TRADE: {
        trade_event_t *t = &ev->u.trade;
        *t = (trade_event_t){0};
        err = walk_object(self, s, &trade_schema, trade_required, "data.", t, &seen);
        if (err != PARSE_OK)
            return err;
        t->first_trade_id = t->last_trade_id = t->id;
        return PARSE_OK;
    }

    case EVENT_AGG_TRADE: {
        trade_event_t *t = &ev->u.trade;
        *t = (trade_event_t){0};
        err = walk_object(self, s, &agg_trade_schema, agg_trade_required, "data.", t, &seen);
        if (err != PARSE_OK)
            return err;
        if (t->first_trade_id > t->last_trade_id)
            return fail(self, PARSE_ERR_BAD_VALUE, "data.f: %llu is above l (%llu)",
                        (unsigned long long)t->first_trade_id,
                        (unsigned long long)t->last_trade_id);
        return PARSE_OK;
    }

    case EVENT_BOOK_TICKER:
        ev->u.ticker = (book_ticker_event_t){0};
        return walk_object(self, s, &book_ticker_schema,
                           market == MARKET_SPOT ? book_ticker_spot_required
                                                 : book_ticker_futures_required,
                           "data.", &ev->u.ticker, &seen);

    case EVENT_KLINE: {
        kline_event_t *k = &ev->u.kline;
        *k = (kline_event_t){0};
        err = walk_object(self, s, &kline_schema, kline_required, "data.", k, &seen);
        if (err != PARSE_OK)
            return err;
        if (strcmp(k->interval, kind->interval) != 0)
            return fail(self, PARSE_ERR_BAD_VALUE, "data.k.i: \"%s\" on stream \"%s\"", k->interval,
                        ev->stream);
        /* Binance writes f = L = -1 for a candle without trades. */
        if (k->first_trade_id == UINT64_MAX || k->last_trade_id == UINT64_MAX)
            k->first_trade_id = k->last_trade_id = 0;
        else if (k->first_trade_id > k->last_trade_id)
            return fail(self, PARSE_ERR_BAD_VALUE, "data.k.f: %llu is above k.L (%llu)",
                        (unsigned long long)k->first_trade_id,
                        (unsigned long long)k->last_trade_id);
        return PARSE_OK;
    }

    case EVENT_MARK_PRICE:
        ev->u.mark = (mark_price_event_t){0};
        return walk_object(self, s, &mark_price_schema, mark_price_required, "data.", &ev->u.mark,
                           &seen);

    case EVENT_ANSWER:
        break;
    }
    return fail(self, PARSE_ERR_UNKNOWN_STREAM, "stream \"%s\": no parser", ev->stream);
}

/* ---- entry points ------------------------------------------------------------------------- */

/* Starts scanning payload, which must hold a JSON object (`what` names it in the error). */
static parse_err_t start_object(parse_t *self, jscan_t *s, const char *payload, size_t len,
                                const char *what)
{
    if (payload == NULL)
        return fail(self, PARSE_ERR_JSON, "malformed JSON at byte 0: no payload");
    jscan_init(s, payload, len);
    int type = jscan_peek(s);
    if (type < 0)
        return json_error(self, s);
    if (type != JSCAN_OBJECT)
        return fail(self, PARSE_ERR_SHAPE, "expected %s, found %s", what, type_name(type));
    return PARSE_OK;
}

parse_err_t parse_frame(parse_t *self, market_t market, const char *payload, size_t len,
                        event_t *ev, char *detail, size_t detail_len)
{
    begin_call(self, detail, detail_len);
    jscan_t s;
    parse_err_t opened =
        start_object(self, &s, payload, len, "an object {\"stream\":…,\"data\":{…}}");
    if (opened != PARSE_OK)
        return opened;
    if (jscan_object_begin(&s) < 0)
        return json_error(self, &s);

    stream_kind_t kind = {0};
    bool have_stream = false, have_data = false, data_done = false, answer = false;
    const char *data_start = NULL;
    size_t data_len = 0;
    jscan_value_t key;
    int more;
    while ((more = jscan_object_next(&s, &key)) == 1) {
        char buf[KEY_MAX + 1];
        const char *name = "";
        size_t name_len = 0;
        if (!key_name(&key, buf, &name, &name_len))
            name_len = 0; /* too long to be a key of ours */

        if (NAME_IS(name, name_len, "stream")) {
            if (have_stream)
                return fail(self, PARSE_ERR_SHAPE, "stream: appears twice");
            have_stream = true;
            jscan_value_t v;
            if (jscan_value(&s, &v) < 0)
                return json_error(self, &s);
            if (v.type != JSCAN_STRING)
                return fail(self, PARSE_ERR_SHAPE, "stream: expected a string, found %s",
                            type_name(v.type));
            parse_err_t err = read_stream(self, market, &v, ev, &kind);
            if (err != PARSE_OK)
                return err;
        } else if (NAME_IS(name, name_len, "data")) {
            if (have_data)
                return fail(self, PARSE_ERR_SHAPE, "data: appears twice");
            have_data = true;
            int type = jscan_peek(&s);
            if (type < 0)
                return json_error(self, &s);
            if (type != JSCAN_OBJECT)
                return fail(self, PARSE_ERR_SHAPE, "data: expected an object, found %s",
                            type_name(type));
            if (have_stream) {
                parse_err_t err = parse_data(self, &s, market, &kind, ev);
                if (err != PARSE_OK)
                    return err;
                data_done = true;
            } else {
                /* The kind is not known yet: validate and remember the span. */
                jscan_value_t v;
                if (jscan_value(&s, &v) < 0)
                    return json_error(self, &s);
                data_start = v.start;
                data_len = v.len;
            }
        } else {
            if (NAME_IS(name, name_len, "result") || NAME_IS(name, name_len, "error"))
                answer = true;
            if (jscan_value(&s, NULL) < 0)
                return json_error(self, &s);
        }
    }
    if (more < 0 || jscan_end(&s) < 0)
        return json_error(self, &s);

    if (!have_stream && !have_data) {
        if (!answer)
            return fail(self, PARSE_ERR_SHAPE,
                        "expected {\"stream\":…,\"data\":{…}} or a reply {\"result\"|\"error\":…}");
        ev->kind = EVENT_ANSWER;
        ev->stream[0] = '\0';
        ev->symbol[0] = '\0';
        return PARSE_OK;
    }
    if (!have_stream)
        return fail(self, PARSE_ERR_SHAPE, "stream: missing beside \"data\"");
    if (!have_data)
        return fail(self, PARSE_ERR_SHAPE, "data: missing beside \"stream\"");
    if (!data_done) {
        jscan_t again;
        jscan_init(&again, data_start, data_len);
        self->offset_base = (size_t)(data_start - payload);
        parse_err_t err = parse_data(self, &again, market, &kind, ev);
        if (err != PARSE_OK)
            return err;
        if (jscan_end(&again) < 0)
            return json_error(self, &again);
    }
    return PARSE_OK;
}

parse_err_t parse_snapshot(parse_t *self, market_t market, const char *payload, size_t len,
                           snapshot_t *snap, char *detail, size_t detail_len)
{
    begin_call(self, detail, detail_len);
    jscan_t s;
    parse_err_t opened = start_object(
        self, &s, payload, len, "a depth body {\"lastUpdateId\":…,\"bids\":[…],\"asks\":[…]}");
    if (opened != PARSE_OK)
        return opened;

    depth_event_t d = {0};
    uint32_t seen;
    parse_err_t err =
        walk_object(self, &s, &depth_body_schema,
                    market == MARKET_SPOT ? depth_body_spot_required : depth_body_futures_required,
                    "", &d, &seen);
    if (err != PARSE_OK)
        return err;
    if (jscan_end(&s) < 0)
        return json_error(self, &s);
    finish_depth(self, &d);
    *snap = (snapshot_t){
        .last_update_id = d.last_id,
        .event_ms = d.event_ms,
        .txn_ms = d.txn_ms,
        .bids = d.bids,
        .asks = d.asks,
        .bid_count = d.bid_count,
        .ask_count = d.ask_count,
        .price_places = d.price_places,
        .qty_places = d.qty_places,
    };
    return PARSE_OK;
}
