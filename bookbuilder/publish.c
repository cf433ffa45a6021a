/*
 * publish.c — the JSON bodies of everything the bookbuilder publishes. See publish.h and
 * docs/topics.md, which shows one real example of each.
 */
#include "publish.h"

#include <string.h>

static void head(jbuf_t *b, uint64_t seq, const char *market, const char *symbol)
{
    jbuf_reset(b);
    jbuf_raw(b, "{\"seq\":");
    jbuf_u64(b, seq);
    jbuf_raw(b, ",\"market\":\"");
    jbuf_raw(b, market); /* [a-z]+ and [A-Z0-9_]+: validated upstream, no escaping needed */
    jbuf_raw(b, "\",\"symbol\":\"");
    jbuf_raw(b, symbol);
    jbuf_char(b, '"');
}

static void key_u64(jbuf_t *b, const char *key, uint64_t v)
{
    jbuf_raw(b, key);
    jbuf_u64(b, v);
}

static void key_i64(jbuf_t *b, const char *key, int64_t v)
{
    jbuf_raw(b, key);
    jbuf_i64(b, v);
}

static void level(jbuf_t *b, const publish_book_id_t *id, dec_t price, dec_t qty)
{
    jbuf_char(b, '[');
    jbuf_dec(b, price, id->price_places);
    jbuf_char(b, ',');
    jbuf_dec(b, qty, id->qty_places);
    jbuf_char(b, ']');
}

static void changes_of_side(jbuf_t *b, const publish_book_id_t *id, const sync_change_t *changes,
                            size_t count, book_side_t side)
{
    jbuf_char(b, '[');
    bool first = true;
    for (size_t i = 0; i < count; i++) {
        if (changes[i].side != side)
            continue;
        if (!first)
            jbuf_char(b, ',');
        first = false;
        const sync_change_t *c = &changes[i];
        if (c->price_len && c->qty_len && c->qty_text == c->price_text + c->price_len + 3 &&
            c->price_text[-2] == '[' && c->qty_text[c->qty_len + 1] == ']') {
            /* Read by the parser's fast path, the level was written ["price","qty"] with nothing
               else in between: the same bytes as ours, copied in one piece. */
            size_t n = (size_t)c->price_len + c->qty_len + 7;
            char *at = jbuf_extend(b, n);
            if (!at)
                return;
            memcpy(at, c->price_text - 2, n);
        } else if (c->price_len && c->qty_len) {
            /* The exchange's own strings, as it wrote them: no formatting on the hot path. */
            char *at = jbuf_extend(b, (size_t)c->price_len + c->qty_len + 7);
            if (!at)
                return;
            *at++ = '[';
            *at++ = '"';
            memcpy(at, c->price_text, c->price_len);
            at += c->price_len;
            memcpy(at, "\",\"", 3);
            at += 3;
            memcpy(at, c->qty_text, c->qty_len);
            at += c->qty_len;
            memcpy(at, "\"]", 2);
        } else {
            level(b, id, c->price, c->qty);
        }
    }
    jbuf_char(b, ']');
}

static void levels_of_side(jbuf_t *b, const publish_book_id_t *id, const book_t *book,
                           book_side_t side, size_t max)
{
    size_t n = book_depth(book, side);
    if (n > max)
        n = max;
    jbuf_char(b, '[');
    for (size_t i = 0; i < n; i++) {
        const book_level_t *l = book_level(book, side, i);
        if (i)
            jbuf_char(b, ',');
        level(b, id, l->price, l->qty);
    }
    jbuf_char(b, ']');
}

static void book_times(jbuf_t *b, const publish_book_id_t *id, const sync_applied_t *applied,
                       int64_t pub_ns)
{
    key_u64(b, ",\"first_id\":", applied->first_id);
    key_u64(b, ",\"last_id\":", applied->last_id);
    key_i64(b, ",\"event_ms\":", applied->event_ms);
    if (id->futures)
        key_i64(b, ",\"txn_ms\":", applied->txn_ms);
    key_i64(b, ",\"recv_ns\":", applied->recv_ns);
    key_i64(b, ",\"pub_ns\":", pub_ns);
}

void publish_book_update(jbuf_t *b, const publish_book_id_t *id, uint64_t seq,
                         const sync_applied_t *applied, const sync_change_t *changes, size_t count,
                         int64_t pub_ns)
{
    head(b, seq, id->market, id->symbol);
    jbuf_raw(b, ",\"type\":\"update\"");
    book_times(b, id, applied, pub_ns);
    jbuf_raw(b, ",\"bids\":");
    changes_of_side(b, id, changes, count, BOOK_BID);
    jbuf_raw(b, ",\"asks\":");
    changes_of_side(b, id, changes, count, BOOK_ASK);
    jbuf_char(b, '}');
}

void publish_book_snapshot(jbuf_t *b, const publish_book_id_t *id, uint64_t seq, const book_t *book,
                           const sync_applied_t *applied, int64_t pub_ns)
{
    head(b, seq, id->market, id->symbol);
    jbuf_raw(b, ",\"type\":\"snapshot\"");
    book_times(b, id, applied, pub_ns);
    jbuf_raw(b, ",\"bids\":");
    levels_of_side(b, id, book, BOOK_BID, SIZE_MAX);
    jbuf_raw(b, ",\"asks\":");
    levels_of_side(b, id, book, BOOK_ASK, SIZE_MAX);
    jbuf_char(b, '}');
}

static void best(jbuf_t *b, const publish_book_id_t *id, const book_t *book, book_side_t side,
                 const char *price_key, const char *qty_key)
{
    const book_level_t *l = book_level(book, side, 0);
    jbuf_raw(b, price_key);
    if (l)
        jbuf_dec(b, l->price, id->price_places);
    else
        jbuf_raw(b, "null");
    jbuf_raw(b, qty_key);
    if (l)
        jbuf_dec(b, l->qty, id->qty_places);
    else
        jbuf_raw(b, "null");
}

void publish_bbo(jbuf_t *b, const publish_book_id_t *id, uint64_t seq, const book_t *book,
                 uint64_t update_id, int64_t event_ms, int64_t recv_ns, int64_t pub_ns)
{
    head(b, seq, id->market, id->symbol);
    key_u64(b, ",\"update_id\":", update_id);
    best(b, id, book, BOOK_BID, ",\"bid\":", ",\"bid_qty\":");
    best(b, id, book, BOOK_ASK, ",\"ask\":", ",\"ask_qty\":");
    key_i64(b, ",\"event_ms\":", event_ms);
    key_i64(b, ",\"recv_ns\":", recv_ns);
    key_i64(b, ",\"pub_ns\":", pub_ns);
    jbuf_char(b, '}');
}

void publish_depth(jbuf_t *b, const publish_book_id_t *id, uint64_t seq, const book_t *book,
                   size_t levels, uint64_t update_id, int64_t pub_ns)
{
    head(b, seq, id->market, id->symbol);
    key_u64(b, ",\"update_id\":", update_id);
    key_i64(b, ",\"pub_ns\":", pub_ns);
    jbuf_raw(b, ",\"bids\":");
    levels_of_side(b, id, book, BOOK_BID, levels);
    jbuf_raw(b, ",\"asks\":");
    levels_of_side(b, id, book, BOOK_ASK, levels);
    jbuf_char(b, '}');
}

static void pdec(jbuf_t *b, const char *key, parse_dec_t d)
{
    jbuf_raw(b, key);
    jbuf_dec(b, d.value, d.places);
}

void publish_trade(jbuf_t *b, const char *market, const char *symbol, uint64_t seq,
                   event_kind_t kind, const trade_event_t *t, int64_t recv_ns, int64_t pub_ns)
{
    head(b, seq, market, symbol);
    jbuf_raw(b, kind == EVENT_AGG_TRADE ? ",\"type\":\"agg_trade\"" : ",\"type\":\"trade\"");
    key_u64(b, ",\"id\":", t->id);
    if (kind == EVENT_AGG_TRADE) {
        key_u64(b, ",\"first_trade_id\":", t->first_trade_id);
        key_u64(b, ",\"last_trade_id\":", t->last_trade_id);
    }
    pdec(b, ",\"price\":", t->price);
    pdec(b, ",\"qty\":", t->qty);
    /* m: the buyer was the maker, so the taker sold. */
    jbuf_raw(b, t->buyer_is_maker ? ",\"taker_side\":\"sell\"" : ",\"taker_side\":\"buy\"");
    key_i64(b, ",\"trade_ms\":", t->trade_ms);
    key_i64(b, ",\"event_ms\":", t->event_ms);
    key_i64(b, ",\"recv_ns\":", recv_ns);
    key_i64(b, ",\"pub_ns\":", pub_ns);
    jbuf_char(b, '}');
}

void publish_kline(jbuf_t *b, const char *market, const char *symbol, uint64_t seq,
                   const kline_event_t *k, int64_t recv_ns, int64_t pub_ns)
{
    head(b, seq, market, symbol);
    jbuf_raw(b, ",\"interval\":");
    jbuf_string(b, k->interval);
    key_i64(b, ",\"open_ms\":", k->open_ms);
    key_i64(b, ",\"close_ms\":", k->close_ms);
    pdec(b, ",\"open\":", k->open);
    pdec(b, ",\"high\":", k->high);
    pdec(b, ",\"low\":", k->low);
    pdec(b, ",\"close\":", k->close);
    pdec(b, ",\"volume\":", k->volume);
    pdec(b, ",\"quote_volume\":", k->quote_volume);
    pdec(b, ",\"taker_buy_volume\":", k->taker_buy_volume);
    pdec(b, ",\"taker_buy_quote_volume\":", k->taker_buy_quote_volume);
    key_u64(b, ",\"trades\":", k->trade_count);
    key_u64(b, ",\"first_trade_id\":", k->first_trade_id);
    key_u64(b, ",\"last_trade_id\":", k->last_trade_id);
    jbuf_raw(b, k->closed ? ",\"closed\":true" : ",\"closed\":false");
    key_i64(b, ",\"event_ms\":", k->event_ms);
    key_i64(b, ",\"recv_ns\":", recv_ns);
    key_i64(b, ",\"pub_ns\":", pub_ns);
    jbuf_char(b, '}');
}

void publish_status(jbuf_t *b, const char *market, const char *symbol, uint64_t seq,
                    const publish_status_t *st, int64_t pub_ns)
{
    head(b, seq, market, symbol);
    jbuf_raw(b, ",\"state\":");
    jbuf_string(b, st->state);
    jbuf_raw(b, ",\"reason\":");
    jbuf_string(b, st->reason);
    key_u64(b, ",\"update_id\":", st->update_id);
    key_u64(b, ",\"resyncs\":", st->resyncs);
    jbuf_raw(b, ",\"run_id\":\"");
    static const char hex[] = "0123456789abcdef";
    char id[16];
    for (int i = 0; i < 16; i++)
        id[i] = hex[(st->run_id >> (60 - 4 * i)) & 15];
    jbuf_append(b, id, sizeof id);
    jbuf_char(b, '"');
    key_i64(b, ",\"started_ns\":", st->started_ns);
    key_i64(b, ",\"pub_ns\":", pub_ns);
    jbuf_char(b, '}');
}
