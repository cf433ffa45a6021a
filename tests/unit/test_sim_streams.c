/*
 * test_sim_streams.c — the stream layer folded from hand-made updates and trades.
 *
 * Every event the streams emit is written as one line of text (times relative to the epoch, so
 * "E=+100" is epoch + 100 ms), and the tests compare those lines: what a subscriber would see,
 * readable in the test itself. The determinism tests replay one generated market through streams
 * ticked every millisecond, every ten seconds and never, and compare the lines.
 */
#include "streams.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define EPOCH 1722470400000LL /* 2024-08-01T00:00:00Z, a Thursday */

/* ---- symbols ---- */

static dec_t D(const char *s)
{
    dec_t d = {0};
    assert_int_equal(dec_parse(s, strlen(s), DEC_ALLOW_NEGATIVE, &d), DEC_OK);
    return d;
}

static sim_symbol_t make_symbol(market_t market, const char *name, const char *base,
                                const char *tick, bool perpetual)
{
    sim_symbol_t s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", name);
    for (size_t i = 0; name[i] && i < SIM_SYMBOL_MAX; i++)
        s.lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    snprintf(s.base, sizeof s.base, "%s", base);
    s.market = market;
    s.perpetual = perpetual;
    s.tick_size = D(tick);
    s.step_size = D("0.001");
    s.price_decimals = 8;
    s.qty_decimals = 8;
    s.initial_price = D("100");
    s.ladder_levels = 10;
    s.seed = 42;
    return s;
}

static sim_symbol_t spot_symbol(void)
{
    return make_symbol(MARKET_SPOT, "BTCUSDT", "BTC", "0.01", false);
}

static sim_symbol_t usdm_symbol(void)
{
    return make_symbol(MARKET_USDM, "BTCUSDT", "BTC", "0.1", true);
}

/* ---- recorder: every event as a line ---- */

typedef struct {
    char **lines;
    size_t count, cap;
} recorder_t;

static void rec_add(recorder_t *r, char *line)
{
    if (r->count == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->lines = realloc(r->lines, r->cap * sizeof *r->lines);
        assert_non_null(r->lines);
    }
    r->lines[r->count++] = line;
}

static void rec_free(recorder_t *r)
{
    for (size_t i = 0; i < r->count; i++)
        free(r->lines[i]);
    free(r->lines);
    memset(r, 0, sizeof *r);
}

static void put_dec(FILE *f, dec_t d)
{
    char buf[DEC_STRLEN];
    dec_format(d, buf);
    fputs(buf, f);
}

static void put_levels(FILE *f, const char *name, const sim_level_t *lv, size_t n)
{
    fprintf(f, " %s=[", name);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        put_dec(f, lv[i].price);
        fputc(':', f);
        put_dec(f, lv[i].qty);
    }
    fputc(']', f);
}

static long long rel(int64_t wall)
{
    return (long long)(wall - EPOCH);
}

#define LINE_BEGIN                                                                                 \
    char *line = NULL;                                                                             \
    size_t len = 0;                                                                                \
    FILE *f = open_memstream(&line, &len);                                                         \
    assert_non_null(f)
#define LINE_END                                                                                   \
    fclose(f);                                                                                     \
    rec_add((recorder_t *)ctx, line)

static void on_diff(void *ctx, const sim_depth_event_t *ev, sim_depth_speed_t speed)
{
    LINE_BEGIN;
    bool fut = ev->symbol->market != MARKET_SPOT;
    fprintf(f, "depth@%u E=%+lld", sim_depth_speed_ms(speed), rel(ev->event_time_ms));
    if (fut)
        fprintf(f, " T=%+lld", rel(ev->transact_time_ms));
    fprintf(f, " U=%llu u=%llu", (unsigned long long)ev->first_update_id,
            (unsigned long long)ev->last_update_id);
    if (fut)
        fprintf(f, " pu=%llu", (unsigned long long)ev->prev_last_update_id);
    put_levels(f, "b", ev->bids, ev->bid_count);
    put_levels(f, "a", ev->asks, ev->ask_count);
    LINE_END;
}

static void on_partial_spot(void *ctx, const sim_partial_depth_t *ev, sim_partial_t p,
                            sim_depth_speed_t speed)
{
    LINE_BEGIN;
    fprintf(f, "depth%u@%u lastUpdateId=%llu", sim_partial_levels(p), sim_depth_speed_ms(speed),
            (unsigned long long)ev->last_update_id);
    put_levels(f, "b", ev->bids, ev->bid_count);
    put_levels(f, "a", ev->asks, ev->ask_count);
    LINE_END;
}

static void on_partial_futures(void *ctx, const sim_depth_event_t *ev, sim_partial_t p,
                               sim_depth_speed_t speed)
{
    LINE_BEGIN;
    fprintf(f, "depth%u@%u E=%+lld T=%+lld U=%llu u=%llu pu=%llu", sim_partial_levels(p),
            sim_depth_speed_ms(speed), rel(ev->event_time_ms), rel(ev->transact_time_ms),
            (unsigned long long)ev->first_update_id, (unsigned long long)ev->last_update_id,
            (unsigned long long)ev->prev_last_update_id);
    put_levels(f, "b", ev->bids, ev->bid_count);
    put_levels(f, "a", ev->asks, ev->ask_count);
    LINE_END;
}

static void on_book_ticker(void *ctx, const sim_book_ticker_t *ev)
{
    LINE_BEGIN;
    fprintf(f, "bookTicker u=%llu E=%+lld T=%+lld b=", (unsigned long long)ev->update_id,
            rel(ev->event_time_ms), rel(ev->transact_time_ms));
    put_dec(f, ev->bid_price);
    fputc(':', f);
    put_dec(f, ev->bid_qty);
    fputs(" a=", f);
    put_dec(f, ev->ask_price);
    fputc(':', f);
    put_dec(f, ev->ask_qty);
    LINE_END;
}

static void on_trade(void *ctx, const sim_trade_event_t *ev)
{
    LINE_BEGIN;
    fprintf(f, "trade E=%+lld T=%+lld t=%llu p=", rel(ev->event_time_ms), rel(ev->trade.time_ms),
            (unsigned long long)ev->trade.trade_id);
    put_dec(f, ev->trade.price);
    fputs(" q=", f);
    put_dec(f, ev->trade.qty);
    fprintf(f, " m=%d", ev->trade.buyer_is_maker);
    LINE_END;
}

static void on_agg(void *ctx, const sim_agg_trade_t *ev)
{
    LINE_BEGIN;
    fprintf(f, "aggTrade E=%+lld a=%llu f=%llu l=%llu T=%+lld p=", rel(ev->event_time_ms),
            (unsigned long long)ev->agg_id, (unsigned long long)ev->first_trade_id,
            (unsigned long long)ev->last_trade_id, rel(ev->trade_time_ms));
    put_dec(f, ev->price);
    fputs(" q=", f);
    put_dec(f, ev->qty);
    fprintf(f, " m=%d", ev->buyer_is_maker);
    LINE_END;
}

static void on_kline(void *ctx, const sim_kline_t *ev, sim_kline_interval_t interval)
{
    LINE_BEGIN;
    assert_string_equal(ev->interval, sim_kline_interval_name(interval));
    fprintf(f, "kline_%s E=%+lld t=%+lld T=%+lld", ev->interval, rel(ev->event_time_ms),
            rel(ev->open_time_ms), rel(ev->close_time_ms));
    if (ev->has_trades)
        fprintf(f, " f=%llu L=%llu", (unsigned long long)ev->first_trade_id,
                (unsigned long long)ev->last_trade_id);
    else
        fputs(" f=-1 L=-1", f);
    fputs(" o=", f);
    put_dec(f, ev->open);
    fputs(" h=", f);
    put_dec(f, ev->high);
    fputs(" l=", f);
    put_dec(f, ev->low);
    fputs(" c=", f);
    put_dec(f, ev->close);
    fputs(" v=", f);
    put_dec(f, ev->volume);
    fputs(" q=", f);
    put_dec(f, ev->quote_volume);
    fprintf(f, " n=%llu x=%d V=", (unsigned long long)ev->trade_count, ev->closed);
    put_dec(f, ev->taker_buy_volume);
    fputs(" Q=", f);
    put_dec(f, ev->taker_buy_quote_volume);
    LINE_END;
}

static void on_mark(void *ctx, const sim_mark_price_t *ev, sim_mark_speed_t speed)
{
    LINE_BEGIN;
    fprintf(f, "markPrice%s E=%+lld p=", speed == SIM_MARK_1S ? "@1s" : "", rel(ev->event_time_ms));
    put_dec(f, ev->mark_price);
    fputs(" i=", f);
    put_dec(f, ev->index_price);
    fputs(" P=", f);
    put_dec(f, ev->estimated_settle_price);
    fputs(" r=", f);
    put_dec(f, ev->funding_rate);
    fprintf(f, " T=%+lld", ev->next_funding_time_ms ? rel(ev->next_funding_time_ms) : 0LL);
    LINE_END;
}

static sim_streams_sink_t sink_for(recorder_t *r)
{
    return (sim_streams_sink_t){
        .ctx = r,
        .diff_depth = on_diff,
        .partial_depth_spot = on_partial_spot,
        .partial_depth_futures = on_partial_futures,
        .book_ticker = on_book_ticker,
        .trade = on_trade,
        .agg_trade = on_agg,
        .kline = on_kline,
        .mark_price = on_mark,
    };
}

/* ---- a tiny true book for the tests ---- */

#define TBOOK_MAX 512

typedef struct {
    sim_level_t bids[TBOOK_MAX];
    size_t bid_count;
    sim_level_t asks[TBOOK_MAX];
    size_t ask_count;
} tbook_t;

static dec_t tbook_set(tbook_t *b, sim_side_t side, dec_t price, dec_t qty)
{
    sim_level_t *lv = side == SIM_BID ? b->bids : b->asks;
    size_t *n = side == SIM_BID ? &b->bid_count : &b->ask_count;
    size_t i = 0;
    while (i < *n &&
           (side == SIM_BID ? lv[i].price.units > price.units : lv[i].price.units < price.units))
        i++;
    dec_t prev = {0};
    if (i < *n && lv[i].price.units == price.units) {
        prev = lv[i].qty;
        if (qty.units == 0) {
            memmove(lv + i, lv + i + 1, (*n - i - 1) * sizeof *lv);
            (*n)--;
        } else {
            lv[i].qty = qty;
        }
    } else if (qty.units != 0) {
        assert_true(*n < TBOOK_MAX);
        memmove(lv + i + 1, lv + i, (*n - i) * sizeof *lv);
        lv[i] = (sim_level_t){price, qty};
        (*n)++;
    }
    return prev;
}

static sim_book_view_t tbook_view(const tbook_t *b, uint64_t id)
{
    return (sim_book_view_t){b->bids, b->bid_count, b->asks, b->ask_count, id};
}

/* ---- fixture: one symbol, one book, one or more streams fed alike ---- */

#define MAX_STREAMS 3

typedef struct {
    sim_symbol_t symbol;
    tbook_t book;
    sim_streams_t *streams[MAX_STREAMS];
    recorder_t rec[MAX_STREAMS];
    size_t n;
} fixture_t;

static fixture_t *fixture_new(sim_symbol_t symbol, size_t n)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->symbol = symbol;
    fx->n = n;
    sim_streams_interest_t all = sim_streams_interest_all();
    for (size_t i = 0; i < n; i++) {
        fx->streams[i] = sim_streams_new(&fx->symbol, EPOCH);
        assert_non_null(fx->streams[i]);
        sim_streams_sink_t sink = sink_for(&fx->rec[i]);
        sim_streams_set_sink(fx->streams[i], &sink);
        sim_streams_set_interest(fx->streams[i], &all);
    }
    return fx;
}

static void fixture_free(fixture_t *fx)
{
    for (size_t i = 0; i < fx->n; i++) {
        sim_streams_destroy(&fx->streams[i]);
        assert_null(fx->streams[i]);
        rec_free(&fx->rec[i]);
    }
    free(fx);
}

static void interest(fixture_t *fx, const sim_streams_interest_t *in)
{
    for (size_t i = 0; i < fx->n; i++)
        sim_streams_set_interest(fx->streams[i], in);
}

/* An update from text like "b100:5 a101:0" (side, price, new quantity), applied to the book. */
static void upd(fixture_t *fx, int64_t t, uint64_t first, uint64_t last, const char *changes)
{
    sim_update_t u;
    memset(&u, 0, sizeof u);
    u.first_id = first;
    u.last_id = last;
    u.time_ms = t;
    const char *p = changes;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        assert_true(u.change_count < SIM_UPDATE_MAX_CHANGES);
        sim_change_t *c = &u.changes[u.change_count++];
        c->side = *p == 'b' ? SIM_BID : SIM_ASK;
        p++;
        const char *colon = strchr(p, ':');
        assert_non_null(colon);
        assert_int_equal(dec_parse(p, (size_t)(colon - p), 0, &c->price), DEC_OK);
        p = colon + 1;
        size_t n = strcspn(p, " ");
        assert_int_equal(dec_parse(p, n, 0, &c->qty), DEC_OK);
        p += n;
        c->prev_qty = tbook_set(&fx->book, c->side, c->price, c->qty);
    }
    sim_book_view_t view = tbook_view(&fx->book, last);
    for (size_t i = 0; i < fx->n; i++)
        sim_streams_on_update(fx->streams[i], &u, &view);
}

static void trd(fixture_t *fx, int64_t t, uint64_t id, uint64_t taker, const char *price,
                const char *qty, bool buyer_is_maker)
{
    sim_trade_t tr = {
        .trade_id = id,
        .taker_order_id = taker,
        .time_ms = t,
        .price = D(price),
        .qty = D(qty),
        .buyer_is_maker = buyer_is_maker,
    };
    for (size_t i = 0; i < fx->n; i++)
        sim_streams_on_trade(fx->streams[i], &tr);
}

static void tick(fixture_t *fx, int64_t now)
{
    for (size_t i = 0; i < fx->n; i++)
        sim_streams_tick(fx->streams[i], now);
}

static void initial_book(fixture_t *fx, uint64_t id)
{
    sim_book_view_t view = tbook_view(&fx->book, id);
    for (size_t i = 0; i < fx->n; i++)
        assert_int_equal(sim_streams_set_initial_book(fx->streams[i], &view), 0);
}

static sim_streams_interest_t only_depth(sim_depth_speed_t speed)
{
    return (sim_streams_interest_t){.diff_depth = 1u << speed};
}

/* The recorded lines of stream 0 that start with `prefix`, joined by '\n'. */
static char *lines_with(const fixture_t *fx, const char *prefix)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    bool first = true;
    for (size_t i = 0; i < fx->rec[0].count; i++) {
        if (strncmp(fx->rec[0].lines[i], prefix, strlen(prefix)) != 0)
            continue;
        if (!first)
            fputc('\n', f);
        fputs(fx->rec[0].lines[i], f);
        first = false;
    }
    fclose(f);
    return out;
}

static size_t count_lines(const fixture_t *fx, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->rec[0].count; i++)
        n += strncmp(fx->rec[0].lines[i], prefix, strlen(prefix)) == 0;
    return n;
}

static void expect_lines(const fixture_t *fx, const char *prefix, const char *expected)
{
    char *got = lines_with(fx, prefix);
    if (strcmp(got, expected) != 0)
        print_error("expected:\n%s\ngot:\n%s\n", expected, got);
    assert_string_equal(got, expected);
    free(got);
}

/* ================= diff depth ================= */

static void spot_diff_window_spans_its_updates_with_first_U_and_last_u(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = only_depth(SIM_SPEED_100MS);
    interest(fx, &in);
    upd(fx, 10, 101, 101, "b99:1");
    upd(fx, 50, 102, 102, "a101:2");
    upd(fx, 99, 103, 103, "b98:3");
    tick(fx, 99);
    assert_int_equal(fx->rec[0].count, 0); /* the window [0,100) is still open */
    upd(fx, 100, 104, 104, "a102:4");      /* belongs to [100,200) */
    expect_lines(fx, "depth", "depth@100 E=+100 U=101 u=103 b=[99:1,98:3] a=[101:2]");
    tick(fx, 200);
    expect_lines(fx, "depth",
                 "depth@100 E=+100 U=101 u=103 b=[99:1,98:3] a=[101:2]\n"
                 "depth@100 E=+200 U=104 u=104 b=[] a=[102:4]");
    fixture_free(fx);
}

static void spot_plain_depth_uses_1000ms_windows(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = only_depth(SIM_SPEED_1000MS);
    interest(fx, &in);
    assert_int_equal(sim_depth_speed_default(MARKET_SPOT), SIM_SPEED_1000MS);
    upd(fx, 0, 1, 1, "b99:1");
    upd(fx, 999, 2, 2, "b99:2");
    upd(fx, 1000, 3, 3, "b99:3");
    tick(fx, 2500);
    expect_lines(fx, "depth",
                 "depth@1000 E=+1000 U=1 u=2 b=[99:2] a=[]\n"
                 "depth@1000 E=+2000 U=3 u=3 b=[99:3] a=[]");
    fixture_free(fx);
}

static void futures_diff_E_is_window_end_and_T_is_last_update_time(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(usdm_symbol(), 1);
    sim_streams_interest_t in = only_depth(SIM_SPEED_250MS);
    interest(fx, &in);
    assert_int_equal(sim_depth_speed_default(MARKET_USDM), SIM_SPEED_250MS);
    upd(fx, 30, 1000, 1004, "b99:1");
    upd(fx, 170, 1010, 1012, "a101:1");
    tick(fx, 250);
    expect_lines(fx, "depth", "depth@250 E=+250 T=+170 U=1000 u=1012 pu=999 b=[99:1] a=[101:1]");
    fixture_free(fx);
}

static void futures_pu_chain_holds_across_empty_windows(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(usdm_symbol(), 1);
    sim_streams_interest_t in = {.diff_depth = (1u << SIM_SPEED_100MS) | (1u << SIM_SPEED_500MS)};
    interest(fx, &in);
    initial_book(fx, 900);
    upd(fx, 10, 1000, 1004, "b99:1");
    upd(fx, 420, 1020, 1030, "b99:2"); /* windows [100,400) are empty at 100 ms */
    upd(fx, 1730, 1100, 1101, "b99:3");
    tick(fx, 3000);
    expect_lines(fx, "depth@100",
                 "depth@100 E=+100 T=+10 U=1000 u=1004 pu=900 b=[99:1] a=[]\n"
                 "depth@100 E=+500 T=+420 U=1020 u=1030 pu=1004 b=[99:2] a=[]\n"
                 "depth@100 E=+1800 T=+1730 U=1100 u=1101 pu=1030 b=[99:3] a=[]");
    expect_lines(fx, "depth@500",
                 "depth@500 E=+500 T=+420 U=1000 u=1030 pu=900 b=[99:2] a=[]\n"
                 "depth@500 E=+2000 T=+1730 U=1100 u=1101 pu=1030 b=[99:3] a=[]");
    fixture_free(fx);
}

static void futures_pu_chain_holds_for_a_subscriber_that_joins_late(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(usdm_symbol(), 1);
    sim_streams_interest_t none = {0};
    interest(fx, &none);
    upd(fx, 10, 1000, 1004, "b99:1");
    upd(fx, 260, 1010, 1015, "b98:1");
    upd(fx, 310, 1020, 1025, "b97:1"); /* the subscriber arrives after this update */
    tick(fx, 320);
    sim_streams_interest_t in = only_depth(SIM_SPEED_250MS);
    interest(fx, &in);
    upd(fx, 400, 1030, 1031, "b96:1");
    tick(fx, 750);
    /* The first event it sees covers the whole window, updates before it joined included, and
       its pu is the u the window before ended with: a snapshot taken at 1015 chains on. */
    expect_lines(fx, "depth",
                 "depth@250 E=+500 T=+400 U=1010 u=1031 pu=1004 "
                 "b=[98:1,97:1,96:1] a=[]");
    fixture_free(fx);
}

static void futures_first_pu_is_the_initial_book_id_or_first_id_minus_one(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(usdm_symbol(), 2);
    sim_book_view_t view = tbook_view(&fx->book, 777);
    assert_int_equal(sim_streams_set_initial_book(fx->streams[0], &view), 0);
    sim_streams_interest_t in = only_depth(SIM_SPEED_0MS);
    interest(fx, &in);
    upd(fx, 5, 1000, 1002, "b99:1");
    assert_int_equal(sim_streams_set_initial_book(fx->streams[1], &view), -1); /* too late */
    expect_lines(fx, "depth", "depth@0 E=+5 T=+5 U=1000 u=1002 pu=777 b=[99:1] a=[]");
    assert_int_equal(fx->rec[1].count, 1);
    assert_string_equal(fx->rec[1].lines[0],
                        "depth@0 E=+5 T=+5 U=1000 u=1002 pu=999 b=[99:1] a=[]");
    fixture_free(fx);
}

static void diff_keeps_the_last_quantity_per_price_within_a_window(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = only_depth(SIM_SPEED_100MS);
    interest(fx, &in);
    upd(fx, 1, 1, 1, "b99:1 a101:1");
    upd(fx, 2, 2, 2, "b99:5");
    upd(fx, 3, 3, 3, "b99:2 a101:7");
    tick(fx, 100);
    expect_lines(fx, "depth", "depth@100 E=+100 U=1 u=3 b=[99:2] a=[101:7]");
    fixture_free(fx);
}

static void diff_sends_removed_levels_as_zero(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = only_depth(SIM_SPEED_100MS);
    interest(fx, &in);
    upd(fx, 1, 1, 1, "b99:1 b98:1");
    tick(fx, 100);
    upd(fx, 110, 2, 2, "b99:0");  /* removed */
    upd(fx, 120, 3, 3, "a105:1"); /* added … */
    upd(fx, 130, 4, 4, "a105:0"); /* … and removed in the same window */
    tick(fx, 200);
    expect_lines(fx, "depth",
                 "depth@100 E=+100 U=1 u=1 b=[99:1,98:1] a=[]\n"
                 "depth@100 E=+200 U=2 u=4 b=[99:0] a=[105:0]");
    fixture_free(fx);
}

static void diff_levels_are_best_first(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = only_depth(SIM_SPEED_100MS);
    interest(fx, &in);
    upd(fx, 1, 1, 1, "b97:1 a103:1 b99:1");
    upd(fx, 2, 2, 2, "a101:1 b98:1 a102:1 b96.5:1 a100.01:1");
    tick(fx, 100);
    expect_lines(fx, "depth",
                 "depth@100 E=+100 U=1 u=2 b=[99:1,98:1,97:1,96.5:1] "
                 "a=[100.01:1,101:1,102:1,103:1]");
    fixture_free(fx);
}

static void futures_0ms_sends_one_event_per_update(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(usdm_symbol(), 1);
    sim_streams_interest_t in = only_depth(SIM_SPEED_0MS);
    interest(fx, &in);
    initial_book(fx, 10);
    upd(fx, 3, 20, 25, "b99:1");
    upd(fx, 3, 30, 31, "a101:1 a101:2");
    upd(fx, 57, 40, 40, "b99:0");
    tick(fx, 1000);
    expect_lines(fx, "depth",
                 "depth@0 E=+3 T=+3 U=20 u=25 pu=10 b=[99:1] a=[]\n"
                 "depth@0 E=+3 T=+3 U=30 u=31 pu=25 b=[] a=[101:2]\n"
                 "depth@0 E=+57 T=+57 U=40 u=40 pu=31 b=[99:0] a=[]");
    fixture_free(fx);
}

static void spot_has_no_futures_speeds(void **state)
{
    (void)state;
    assert_false(sim_depth_speed_valid(MARKET_SPOT, SIM_SPEED_0MS));
    assert_false(sim_depth_speed_valid(MARKET_SPOT, SIM_SPEED_250MS));
    assert_false(sim_depth_speed_valid(MARKET_USDM, SIM_SPEED_1000MS));
    assert_true(sim_depth_speed_valid(MARKET_COINM, SIM_SPEED_0MS));
    assert_false(sim_partial_speed_valid(MARKET_USDM, SIM_SPEED_0MS));
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = only_depth(SIM_SPEED_0MS);
    in.diff_depth |= 1u << SIM_SPEED_250MS;
    interest(fx, &in);
    upd(fx, 3, 1, 1, "b99:1");
    tick(fx, 5000);
    assert_int_equal(fx->rec[0].count, 0);
    fixture_free(fx);
}

/* ================= partial depth ================= */

static void spot_partial_depth_sends_top_n_at_every_window_end(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    tbook_set(&fx->book, SIM_BID, D("99"), D("1"));
    tbook_set(&fx->book, SIM_BID, D("98"), D("2"));
    tbook_set(&fx->book, SIM_BID, D("97"), D("3"));
    tbook_set(&fx->book, SIM_ASK, D("101"), D("4"));
    initial_book(fx, 500);
    sim_streams_interest_t in = {.partial_depth[SIM_PARTIAL_5] = 1u << SIM_SPEED_100MS};
    interest(fx, &in);
    upd(fx, 150, 501, 501, "a102:5");
    tick(fx, 300);
    expect_lines(fx, "depth",
                 "depth5@100 lastUpdateId=500 b=[99:1,98:2,97:3] a=[101:4]\n"
                 "depth5@100 lastUpdateId=501 b=[99:1,98:2,97:3] a=[101:4,102:5]\n"
                 "depth5@100 lastUpdateId=501 b=[99:1,98:2,97:3] a=[101:4,102:5]");
    fixture_free(fx);
}

static void partial_depth_cuts_to_n_levels(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    char bids[256] = "", asks[256] = "";
    for (int i = 0; i < 25; i++) {
        char one[32];
        snprintf(one, sizeof one, "b%d:1 ", 90 - i);
        strcat(bids, one);
        snprintf(one, sizeof one, "a%d:1 ", 110 + i);
        strcat(asks, one);
    }
    sim_streams_interest_t in = {
        .partial_depth = {1u << SIM_SPEED_1000MS, 1u << SIM_SPEED_1000MS, 1u << SIM_SPEED_1000MS}};
    interest(fx, &in);
    upd(fx, 1, 1, 1, bids);
    upd(fx, 2, 2, 2, asks);
    tick(fx, 1000);
    assert_int_equal(fx->rec[0].count, 3);
    const char *heads[3] = {"depth5@1000 lastUpdateId=2 b=[90:1,89:1,88:1,87:1,86:1] a=",
                            "depth10@1000 lastUpdateId=2 b=[90:1,89:1,88:1,87:1,86:1,85:1,84:1,"
                            "83:1,82:1,81:1] a=",
                            "depth20@1000 lastUpdateId=2 b=[90:1,89:1,88:1,87:1,86:1,85:1,84:1,"
                            "83:1,82:1,81:1,80:1,79:1,78:1,77:1,76:1,75:1,74:1,73:1,72:1,71:1] a="};
    for (int i = 0; i < 3; i++)
        assert_memory_equal(fx->rec[0].lines[i], heads[i], strlen(heads[i]));
    assert_non_null(strstr(fx->rec[0].lines[2], "a=[110:1,"));
    assert_non_null(strstr(fx->rec[0].lines[2], ",129:1]"));
    fixture_free(fx);
}

static void futures_partial_depth_has_window_ids_and_skips_empty_windows(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(usdm_symbol(), 1);
    sim_streams_interest_t in = {.partial_depth[SIM_PARTIAL_5] = 1u << SIM_SPEED_250MS};
    interest(fx, &in);
    initial_book(fx, 900);
    upd(fx, 10, 1000, 1004, "b99:1 a101:1");
    upd(fx, 20, 1006, 1008, "b98:2");
    upd(fx, 800, 1050, 1051, "b99:0");
    tick(fx, 2000);
    expect_lines(fx, "depth",
                 "depth5@250 E=+250 T=+20 U=1000 u=1008 pu=900 b=[99:1,98:2] a=[101:1]\n"
                 "depth5@250 E=+1000 T=+800 U=1050 u=1051 pu=1008 b=[98:2] a=[101:1]");
    fixture_free(fx);
}

static void snapshot_streams_wait_for_a_known_book(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(usdm_symbol(), 1);
    sim_streams_interest_t in = {.mark_price = 1u << SIM_MARK_1S};
    interest(fx, &in);
    tick(fx, 2500); /* no initial book, no update: nothing to show */
    assert_int_equal(fx->rec[0].count, 0);
    upd(fx, 2600, 10, 10, "b99:1 a101:1");
    tick(fx, 3000);
    assert_int_equal(fx->rec[0].count, 1);
    assert_memory_equal(fx->rec[0].lines[0], "markPrice@1s E=+3000 p=100 ", 27);
    fixture_free(fx);
}

/* ================= bookTicker ================= */

static void book_ticker_only_when_the_top_changes_with_that_updates_u(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(usdm_symbol(), 1);
    tbook_set(&fx->book, SIM_BID, D("99"), D("1"));
    tbook_set(&fx->book, SIM_BID, D("98"), D("1"));
    tbook_set(&fx->book, SIM_ASK, D("101"), D("1"));
    tbook_set(&fx->book, SIM_ASK, D("102"), D("1"));
    initial_book(fx, 10);
    sim_streams_interest_t in = {.book_ticker = true};
    interest(fx, &in);
    upd(fx, 5, 11, 12, "b98:3");        /* below the top */
    upd(fx, 6, 13, 15, "b99:2");        /* best bid quantity */
    upd(fx, 7, 16, 16, "a100.5:4");     /* better ask */
    upd(fx, 8, 17, 18, "a102:0 b97:1"); /* deep */
    upd(fx, 9, 19, 19, "a100.5:0");     /* best ask removed: 101 is best again */
    expect_lines(fx, "bookTicker",
                 "bookTicker u=15 E=+6 T=+6 b=99:2 a=101:1\n"
                 "bookTicker u=16 E=+7 T=+7 b=99:2 a=100.5:4\n"
                 "bookTicker u=19 E=+9 T=+9 b=99:2 a=101:1");
    fixture_free(fx);
}

/* ================= trades ================= */

static void trade_T_is_wall_trade_time_and_E_lags_it_by_at_most_1ms(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = {.trade = true};
    interest(fx, &in);
    int lags[2] = {0, 0};
    for (int i = 0; i < 40; i++)
        trd(fx, 1000 + i, 500 + (uint64_t)i, 9, "100", "1", i % 2);
    assert_int_equal(fx->rec[0].count, 40);
    for (int i = 0; i < 40; i++) {
        long long e, t;
        unsigned long long id;
        assert_int_equal(sscanf(fx->rec[0].lines[i], "trade E=%lld T=%lld t=%llu", &e, &t, &id), 3);
        assert_int_equal(t, 1000 + i);
        assert_int_equal(id, 500 + (unsigned long long)i);
        assert_true(e - t == 0 || e - t == 1);
        lags[e - t]++;
    }
    assert_true(lags[0] > 0 && lags[1] > 0); /* both occur, as in the captures */
    fixture_free(fx);
}

static void spot_agg_trade_groups_one_taker_order_at_one_price(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = {.agg_trade = true};
    interest(fx, &in);
    trd(fx, 100, 10, 7, "100", "1", false); /* taker 7 sweeps 100, 100, 100.01 */
    trd(fx, 100, 11, 7, "100", "2", false);
    trd(fx, 100, 12, 7, "100.01", "0.5", false);
    trd(fx, 100, 13, 8, "100.01", "0.25", false); /* another taker at the same price */
    trd(fx, 100, 14, 9, "99.99", "3", true);
    tick(fx, 101);
    expect_lines(fx, "aggTrade",
                 "aggTrade E=+100 a=1000042 f=10 l=11 T=+100 p=100 q=3 m=0\n"
                 "aggTrade E=+100 a=1000043 f=12 l=12 T=+100 p=100.01 q=0.5 m=0\n"
                 "aggTrade E=+100 a=1000044 f=13 l=13 T=+100 p=100.01 q=0.25 m=0\n"
                 "aggTrade E=+100 a=1000045 f=14 l=14 T=+100 p=99.99 q=3 m=1");
    fixture_free(fx);
}

static void spot_agg_trade_is_sent_at_the_end_of_its_millisecond(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = {.agg_trade = true};
    interest(fx, &in);
    trd(fx, 100, 10, 7, "100", "1", false);
    tick(fx, 100);
    assert_int_equal(fx->rec[0].count, 0); /* more fills of taker 7 may come at 100 */
    trd(fx, 100, 11, 7, "100", "1", false);
    tick(fx, 101);
    expect_lines(fx, "aggTrade", "aggTrade E=+100 a=1000042 f=10 l=11 T=+100 p=100 q=2 m=0");
    fixture_free(fx);
}

static void futures_agg_trade_aggregates_same_price_and_side_within_100ms(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(usdm_symbol(), 1);
    sim_streams_interest_t in = {.agg_trade = true};
    interest(fx, &in);
    trd(fx, 0, 1, 1, "100", "1", false);
    trd(fx, 40, 2, 2, "100", "1", false); /* another taker: still one aggregate */
    trd(fx, 99, 3, 3, "100", "1", false);
    trd(fx, 100, 4, 4, "100", "1", false);  /* 100 ms after the first: a new one */
    trd(fx, 120, 5, 5, "100", "1", true);   /* other side: closes the one of 4 at 120 */
    trd(fx, 130, 6, 6, "100.1", "2", true); /* other price */
    tick(fx, 1000);
    expect_lines(fx, "aggTrade",
                 "aggTrade E=+100 a=1000042 f=1 l=3 T=+0 p=100 q=3 m=0\n"
                 "aggTrade E=+120 a=1000043 f=4 l=4 T=+100 p=100 q=1 m=0\n"
                 "aggTrade E=+130 a=1000044 f=5 l=5 T=+120 p=100 q=1 m=1\n"
                 "aggTrade E=+230 a=1000045 f=6 l=6 T=+130 p=100.1 q=2 m=1");
    fixture_free(fx);
}

/* ================= klines ================= */

static sim_streams_interest_t only_kline(sim_kline_interval_t i)
{
    return (sim_streams_interest_t){.kline = 1u << i};
}

static void kline_sums_ohlcv_and_exact_quote_volume(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = only_kline(SIM_KLINE_1M);
    interest(fx, &in);
    /* 1.23456789 × 0.12345678 = 0.1524157763907942: twice, exact, is 0.30483155278…, where
       truncating each trade first would give 0.30483154. */
    trd(fx, 1000, 1, 1, "1.23456789", "0.12345678", false);
    trd(fx, 1200, 2, 2, "1.23456789", "0.12345678", true);
    trd(fx, 1300, 3, 3, "0.00000638", "177", false); /* the LRCBTC capture: q 0.00112926 */
    trd(fx, 1400, 4, 4, "2", "1", true);
    tick(fx, 2000);
    expect_lines(fx, "kline",
                 "kline_1m E=+2000 t=+0 T=+59999 f=1 L=4 o=1.23456789 h=2 l=0.00000638 c=2 "
                 "v=178.24691356 q=2.30596081 n=4 x=0 V=177.12345678 Q=0.15354503");
    fixture_free(fx);
}

static void coinm_kline_quote_volume_is_base_volume(void **state)
{
    (void)state;
    sim_symbol_t eth = make_symbol(MARKET_COINM, "ETHUSD_PERP", "ETH", "0.01", true);
    fixture_t *fx = fixture_new(eth, 1);
    sim_streams_interest_t in = only_kline(SIM_KLINE_1M);
    interest(fx, &in);
    trd(fx, 10, 1, 1, "1992.17", "60", false); /* 60 × 10 USD / 1992.17 = 0.30117911624… */
    tick(fx, 250);
    expect_lines(fx, "kline",
                 "kline_1m E=+250 t=+0 T=+59999 f=1 L=1 o=1992.17 h=1992.17 l=1992.17 "
                 "c=1992.17 v=60 q=0.30117911 n=1 x=0 V=60 Q=0.30117911");
    fixture_free(fx);

    sim_symbol_t btc = make_symbol(MARKET_COINM, "BTCUSD_PERP", "BTC", "0.1", true);
    fx = fixture_new(btc, 1);
    interest(fx, &in);
    trd(fx, 10, 1, 1, "61800.3", "3", true); /* 3 × 100 USD / 61800.3 = 0.00485434… */
    tick(fx, 250);
    expect_lines(fx, "kline",
                 "kline_1m E=+250 t=+0 T=+59999 f=1 L=1 o=61800.3 h=61800.3 l=61800.3 "
                 "c=61800.3 v=3 q=0.00485434 n=1 x=0 V=0 Q=0");
    fixture_free(fx);
}

static void kline_empty_candle_has_minus_one_ids_and_the_previous_close(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = only_kline(SIM_KLINE_1M);
    interest(fx, &in);
    tick(fx, 60000); /* no trade ever: the initial price */
    trd(fx, 60500, 1, 1, "105", "1", false);
    tick(fx, 180000);
    expect_lines(fx, "kline",
                 "kline_1m E=+60000 t=+0 T=+59999 f=-1 L=-1 o=100 h=100 l=100 c=100 v=0 q=0 n=0 "
                 "x=1 V=0 Q=0\n"
                 "kline_1m E=+62000 t=+60000 T=+119999 f=1 L=1 o=105 h=105 l=105 c=105 v=1 "
                 "q=105 n=1 x=0 V=1 Q=105\n"
                 "kline_1m E=+120000 t=+60000 T=+119999 f=1 L=1 o=105 h=105 l=105 c=105 v=1 "
                 "q=105 n=1 x=1 V=1 Q=105\n"
                 "kline_1m E=+180000 t=+120000 T=+179999 f=-1 L=-1 o=105 h=105 l=105 c=105 v=0 "
                 "q=0 n=0 x=1 V=0 Q=0");
    fixture_free(fx);
}

static void kline_closes_exactly_once_at_the_boundary(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = only_kline(SIM_KLINE_1M);
    interest(fx, &in);
    trd(fx, 59999, 1, 1, "101", "1", false);
    tick(fx, 59999);
    assert_int_equal(fx->rec[0].count, 0);
    tick(fx, 60000);
    tick(fx, 60000);
    trd(fx, 60000, 2, 2, "102", "1", false); /* the next candle's first trade */
    tick(fx, 61999);
    expect_lines(fx, "kline",
                 "kline_1m E=+60000 t=+0 T=+59999 f=1 L=1 o=101 h=101 l=101 c=101 v=1 q=101 n=1 "
                 "x=1 V=1 Q=101");
    tick(fx, 62000);
    expect_lines(fx, "kline_1m E=+62000",
                 "kline_1m E=+62000 t=+60000 T=+119999 f=2 L=2 o=102 "
                 "h=102 l=102 c=102 v=1 q=102 n=1 x=0 V=1 Q=102");
    fixture_free(fx);
}

static void kline_is_sent_each_cadence_window_only_when_it_changed(void **state)
{
    (void)state;
    /* Spot: 2000 ms, 1000 ms for 1s candles. */
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = {.kline = (1u << SIM_KLINE_1S) | (1u << SIM_KLINE_5M)};
    interest(fx, &in);
    trd(fx, 100, 1, 1, "100", "1", false);
    trd(fx, 1500, 2, 2, "100", "1", false);
    trd(fx, 7100, 3, 3, "100", "1", false);
    tick(fx, 10000);
    /* 5m: the windows [0,2000) and [6000,8000) had trades; the others send nothing. */
    assert_int_equal(count_lines(fx, "kline_5m"), 2);
    assert_int_equal(count_lines(fx, "kline_5m E=+2000 t=+0 T=+299999 f=1 L=2 "), 1);
    assert_int_equal(count_lines(fx, "kline_5m E=+8000 t=+0 T=+299999 f=1 L=3 "), 1);
    /* 1s candles close every second, with or without trades: ten closes and no x=false. */
    assert_int_equal(count_lines(fx, "kline_1s"), 10);
    char *got = lines_with(fx, "kline_1s");
    assert_null(strstr(got, "x=0"));
    assert_non_null(strstr(got, "kline_1s E=+8000 t=+7000 T=+7999 f=3 L=3"));
    free(got);
    fixture_free(fx);

    /* Futures: 250 ms. */
    fx = fixture_new(usdm_symbol(), 1);
    in = only_kline(SIM_KLINE_1M);
    interest(fx, &in);
    trd(fx, 10, 1, 1, "100", "1", false);
    trd(fx, 240, 2, 2, "100", "1", false);
    trd(fx, 260, 3, 3, "100", "1", false);
    tick(fx, 1000);
    expect_lines(fx, "kline",
                 "kline_1m E=+250 t=+0 T=+59999 f=1 L=2 o=100 h=100 l=100 c=100 v=2 q=200 n=2 "
                 "x=0 V=2 Q=200\n"
                 "kline_1m E=+500 t=+0 T=+59999 f=1 L=3 o=100 h=100 l=100 c=100 v=3 q=300 n=3 "
                 "x=0 V=3 Q=300");
    fixture_free(fx);
}

static void kline_bounds_follow_the_utc_calendar(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = {.kline = (1u << SIM_KLINE_1W) | (1u << SIM_KLINE_1MO) |
                                          (1u << SIM_KLINE_3D)};
    interest(fx, &in);
    trd(fx, 10, 1, 1, "100", "1", false);
    tick(fx, 2000);
    /* 2024-08-01 is a Thursday: the week opened on Monday 07-29; August has 31 days; 3d candles
       count from 1970-01-01 (19936 days before, 19936 = 3 × 6645 + 1). */
    expect_lines(fx, "kline_3d",
                 "kline_3d E=+2000 t=-86400000 T=+172799999 f=1 L=1 o=100 h=100 "
                 "l=100 c=100 v=1 q=100 n=1 x=0 V=1 Q=100");
    expect_lines(fx, "kline_1w",
                 "kline_1w E=+2000 t=-259200000 T=+345599999 f=1 L=1 o=100 h=100 "
                 "l=100 c=100 v=1 q=100 n=1 x=0 V=1 Q=100");
    expect_lines(fx, "kline_1M",
                 "kline_1M E=+2000 t=+0 T=+2678399999 f=1 L=1 o=100 h=100 "
                 "l=100 c=100 v=1 q=100 n=1 x=0 V=1 Q=100");
    tick(fx, 2678400000LL);
    expect_lines(fx, "kline_1M E=+2678400000",
                 "kline_1M E=+2678400000 t=+0 T=+2678399999 f=1 L=1 o=100 h=100 l=100 c=100 v=1 "
                 "q=100 n=1 x=1 V=1 Q=100");
    fixture_free(fx);
}

static void kline_intervals_parse_and_futures_have_no_1s(void **state)
{
    (void)state;
    sim_kline_interval_t i;
    assert_int_equal(sim_kline_interval_parse("1M", &i), 0);
    assert_int_equal(i, SIM_KLINE_1MO);
    assert_int_equal(sim_kline_interval_parse("1m", &i), 0);
    assert_int_equal(i, SIM_KLINE_1M);
    assert_int_equal(sim_kline_interval_parse("2m", &i), -1);
    assert_string_equal(sim_kline_interval_name(SIM_KLINE_12H), "12h");
    assert_true(sim_kline_interval_valid(MARKET_SPOT, SIM_KLINE_1S));
    assert_false(sim_kline_interval_valid(MARKET_USDM, SIM_KLINE_1S));
    fixture_t *fx = fixture_new(usdm_symbol(), 1);
    sim_streams_interest_t in = only_kline(SIM_KLINE_1S);
    interest(fx, &in);
    trd(fx, 10, 1, 1, "100", "1", false);
    tick(fx, 5000);
    assert_int_equal(fx->rec[0].count, 0);
    fixture_free(fx);
}

/* ================= markPrice ================= */

static void mark_price_every_3s_and_every_1s(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(usdm_symbol(), 1);
    sim_streams_interest_t in = {.mark_price = (1u << SIM_MARK_3S) | (1u << SIM_MARK_1S)};
    interest(fx, &in);
    tbook_set(&fx->book, SIM_BID, D("100"), D("1"));
    tbook_set(&fx->book, SIM_ASK, D("100.3"), D("1"));
    initial_book(fx, 1);
    tick(fx, 6000);
    const char *expect_e[] = {"markPrice@1s E=+1000 ", "markPrice@1s E=+2000 ",
                              "markPrice E=+3000 ",    "markPrice@1s E=+3000 ",
                              "markPrice@1s E=+4000 ", "markPrice@1s E=+5000 ",
                              "markPrice E=+6000 ",    "markPrice@1s E=+6000 "};
    assert_int_equal(fx->rec[0].count, 8);
    for (int i = 0; i < 8; i++) {
        const char *line = fx->rec[0].lines[i];
        assert_memory_equal(line, expect_e[i], strlen(expect_e[i]));
        /* mid 100.15 rounded down to the 0.1 tick; index within a tick; P = index */
        assert_non_null(strstr(line, " p=100.1 i="));
        const char *ip = strstr(line, " i=") + 3;
        assert_true(strncmp(ip, "100 ", 4) == 0 || strncmp(ip, "100.1 ", 6) == 0 ||
                    strncmp(ip, "100.2 ", 6) == 0);
        char index[16] = "", settle[16] = "";
        assert_int_equal(sscanf(ip, "%15s P=%15s", index, settle), 2);
        assert_string_equal(index, settle);
    }
    /* both speeds show the same values at the same time */
    assert_string_equal(strchr(fx->rec[0].lines[2], 'E'), strchr(fx->rec[0].lines[3], 'E'));
    fixture_free(fx);
}

static void mark_price_funding_is_small_and_due_at_the_next_8h_boundary(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(usdm_symbol(), 1);
    sim_streams_interest_t in = {.mark_price = 1u << SIM_MARK_3S};
    interest(fx, &in);
    tbook_set(&fx->book, SIM_BID, D("100"), D("1"));
    tbook_set(&fx->book, SIM_ASK, D("100.2"), D("1"));
    initial_book(fx, 1);
    const long long h8 = 8 * 3600 * 1000LL;
    tick(fx, h8 - 3000);
    tick(fx, h8);
    size_t n = fx->rec[0].count;
    assert_int_equal(n, (size_t)(h8 / 3000));
    for (size_t i = 0; i < n; i++) {
        const char *line = fx->rec[0].lines[i];
        long long e, t;
        char r[24];
        assert_int_equal(sscanf(line, "markPrice E=%lld", &e), 1);
        assert_int_equal(sscanf(strstr(line, " r="), " r=%23s T=%lld", r, &t), 2);
        /* at 00:00 exactly the next funding is 08:00; at 08:00 it is 16:00 */
        assert_int_equal(t, e < h8 ? h8 : 2 * h8);
        dec_t rate = D(r);
        assert_true(rate.units >= -10000 && rate.units <= 30000); /* -0.0001 … 0.0003 */
    }
    fixture_free(fx);

    sim_symbol_t quarterly = make_symbol(MARKET_COINM, "BTCUSD_251226", "BTC", "0.1", false);
    fx = fixture_new(quarterly, 1);
    interest(fx, &in);
    upd(fx, 1, 10, 10, "b100:1 a100.2:1");
    tick(fx, 3000);
    /* a delivery contract has no funding: render.c writes "r":"" and "T":0 */
    assert_int_equal(fx->rec[0].count, 1);
    assert_memory_equal(fx->rec[0].lines[0], "markPrice E=+3000 p=100.1 i=", 28);
    const char *tail = " r=0 T=+0";
    const char *line = fx->rec[0].lines[0];
    assert_string_equal(line + strlen(line) - strlen(tail), tail);
    fixture_free(fx);
}

static void mark_price_funding_rate_changes_between_periods_and_can_be_negative(void **state)
{
    (void)state;
    bool negative = false, positive = false;
    for (int64_t seed = 1; seed <= 40 && !(negative && positive); seed++) {
        sim_symbol_t s = usdm_symbol();
        s.seed = (uint64_t)seed;
        fixture_t *fx = fixture_new(s, 1);
        sim_streams_interest_t in = {.mark_price = 1u << SIM_MARK_3S};
        interest(fx, &in);
        upd(fx, 1, 10, 10, "b100:1 a100.2:1");
        tick(fx, 3000);
        const char *r = strstr(fx->rec[0].lines[0], " r=");
        negative |= r[3] == '-';
        positive |= r[3] != '-' && strncmp(r, " r=0 ", 5) != 0;
        fixture_free(fx);
    }
    assert_true(negative);
    assert_true(positive);
}

/* ================= determinism ================= */

typedef struct {
    uint64_t s;
} prng_t;

static uint64_t prng_next(prng_t *p)
{
    p->s ^= p->s << 13;
    p->s ^= p->s >> 7;
    p->s ^= p->s << 17;
    return p->s;
}

/* A random market over [0, end_ms): updates near the mid, trades of 1-3 fills per taker order,
   nothing in [20 s, 33 s) and [58 s, 63 s). Stream i is ticked every tick_ms[i] ms (0: never, only
   at the end). */
static void run_market(fixture_t *fx, int64_t end_ms, const int64_t *tick_ms, int64_t switch_ms,
                       const sim_streams_interest_t *after_switch, size_t *marks)
{
    prng_t rng = {0x9E3779B97F4A7C15ULL};
    bool futures = fx->symbol.market != MARKET_SPOT;
    uint64_t id = 1000, trade_id = 1, taker = 1;
    int64_t mid_ticks = 10000; /* price = mid_ticks × 0.01 (spot) or × 0.1 (futures) */
    const char *fmt = futures ? "%lld.%01lld" : "%lld.%02lld";
    long long scale = futures ? 10 : 100;
    for (int64_t t = 0; t < end_ms; t++) {
        for (size_t i = 0; i < fx->n; i++)
            if (tick_ms[i] && t % tick_ms[i] == 0)
                sim_streams_tick(fx->streams[i], t);
        if (t == switch_ms) {
            for (size_t i = 0; i < fx->n; i++)
                marks[i] = fx->rec[i].count;
            sim_streams_set_interest(fx->streams[fx->n - 1], after_switch);
        }
        /* Quiet spells: a stream ticked rarely (or never) then closes many windows of every
           kind in one call, and the interest switch falls where no trade has rolled the
           candles nobody watched. */
        if ((t >= 20000 && t < 33000) || (t >= 58000 && t < 63000))
            continue;
        uint64_t r = prng_next(&rng);
        if (r % 40 == 0) { /* an update */
            char changes[256] = "";
            int n = 1 + (int)(prng_next(&rng) % 3);
            for (int k = 0; k < n; k++) {
                bool bid = prng_next(&rng) & 1;
                long long p = mid_ticks + (bid ? -1 : 1) * (1 + (long long)(prng_next(&rng) % 8));
                long long q = (long long)(prng_next(&rng) % 4);
                char one[64];
                char price[32];
                snprintf(price, sizeof price, fmt, p / scale, p % scale);
                snprintf(one, sizeof one, "%c%s:%lld ", bid ? 'b' : 'a', price, q);
                strcat(changes, one);
            }
            uint64_t first = id + (futures ? prng_next(&rng) % 5 : 0);
            uint64_t last = first + (futures ? prng_next(&rng) % 3 : 0);
            id = last + 1;
            upd(fx, t, first, last, changes);
        } else if (r % 97 == 1) { /* a taker order */
            int fills = 1 + (int)(prng_next(&rng) % 3);
            bool sell = prng_next(&rng) & 1;
            long long p = mid_ticks + (sell ? -1 : 1);
            for (int k = 0; k < fills; k++) {
                char price[32];
                snprintf(price, sizeof price, fmt, p / scale, p % scale);
                trd(fx, t, trade_id++, taker, price, k == 1 ? "0.5" : "1", sell);
                if (prng_next(&rng) & 1)
                    p += sell ? -1 : 1;
            }
            taker++;
            if (prng_next(&rng) % 4 == 0)
                mid_ticks += (prng_next(&rng) & 1) ? 1 : -1;
        }
    }
    for (size_t i = 0; i < fx->n; i++)
        sim_streams_tick(fx->streams[i], end_ms);
}

static void assert_same_events(const recorder_t *a, size_t from_a, const recorder_t *b,
                               size_t from_b)
{
    assert_int_equal(a->count - from_a, b->count - from_b);
    for (size_t i = 0; i < a->count - from_a; i++) {
        if (strcmp(a->lines[from_a + i], b->lines[from_b + i]) != 0)
            print_error("event %zu differs:\n%s\n%s\n", i, a->lines[from_a + i],
                        b->lines[from_b + i]);
        assert_string_equal(a->lines[from_a + i], b->lines[from_b + i]);
    }
}

static void same_events_whether_ticked_every_ms_every_10s_or_never(sim_symbol_t symbol)
{
    fixture_t *fx = fixture_new(symbol, 3);
    initial_book(fx, 999);
    const int64_t ticks[3] = {1, 10000, 0};
    size_t marks[3];
    sim_streams_interest_t all = sim_streams_interest_all();
    run_market(fx, 65000, ticks, -1, &all, marks);
    assert_true(fx->rec[0].count > 1000);
    assert_same_events(&fx->rec[0], 0, &fx->rec[1], 0);
    assert_same_events(&fx->rec[0], 0, &fx->rec[2], 0);
    fixture_free(fx);
}

static void spot_events_do_not_depend_on_how_often_tick_is_called(void **state)
{
    (void)state;
    same_events_whether_ticked_every_ms_every_10s_or_never(spot_symbol());
}

static void futures_events_do_not_depend_on_how_often_tick_is_called(void **state)
{
    (void)state;
    same_events_whether_ticked_every_ms_every_10s_or_never(usdm_symbol());
    same_events_whether_ticked_every_ms_every_10s_or_never(
        make_symbol(MARKET_COINM, "ETHUSD_PERP", "ETH", "0.1", true));
}

/* ================= interest ================= */

static void interest_filters_emission_but_not_accumulation(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(usdm_symbol(), 2);
    sim_streams_interest_t none = {0};
    sim_streams_set_interest(fx->streams[1], &none);
    initial_book(fx, 1);
    trd(fx, 10, 1, 1, "100", "1", false); /* before anyone listens … */
    upd(fx, 20, 10, 12, "b99:1");
    tick(fx, 30);
    assert_int_equal(fx->rec[1].count, 0);
    size_t mark = fx->rec[0].count;
    sim_streams_interest_t all = sim_streams_interest_all();
    sim_streams_set_interest(fx->streams[1], &all);
    trd(fx, 40, 2, 2, "100", "2", false);
    upd(fx, 50, 20, 21, "a101:1");
    tick(fx, 70000);
    /* … is in what the late subscriber gets: the 1000 ms window holds both updates, the kline
       both trades, the aggTrade both fills and its id follows the one nobody saw. */
    assert_same_events(&fx->rec[0], mark, &fx->rec[1], 0);
    char *got = NULL;
    for (size_t i = 0; i < fx->rec[1].count; i++) {
        if (strncmp(fx->rec[1].lines[i], "depth@500 ", 10) == 0) {
            got = fx->rec[1].lines[i];
            break;
        }
    }
    assert_non_null(got);
    assert_string_equal(got, "depth@500 E=+500 T=+50 U=10 u=21 pu=1 b=[99:1] a=[101:1]");
    fixture_free(fx);
}

static void a_late_subscriber_sees_the_same_events_as_one_that_was_always_there(void **state)
{
    (void)state;
    const sim_symbol_t symbols[2] = {spot_symbol(), usdm_symbol()};
    for (int s = 0; s < 2; s++) {
        fixture_t *fx = fixture_new(symbols[s], 2);
        sim_streams_interest_t none = {0};
        sim_streams_set_interest(fx->streams[1], &none);
        initial_book(fx, 999);
        const int64_t ticks[2] = {7, 7};
        size_t marks[2];
        sim_streams_interest_t all = sim_streams_interest_all();
        run_market(fx, 130000, ticks, 61234, &all, marks);
        assert_int_equal(marks[1], 0);
        assert_same_events(&fx->rec[0], marks[0], &fx->rec[1], 0);
        fixture_free(fx);
    }
}

/* ================= misuse ================= */

static void a_late_input_is_counted_and_folded_at_the_time_reached(void **state)
{
    (void)state;
    fixture_t *fx = fixture_new(spot_symbol(), 1);
    sim_streams_interest_t in = only_depth(SIM_SPEED_100MS);
    interest(fx, &in);
    tick(fx, 1000);
    upd(fx, 500, 1, 1, "b99:1");
    tick(fx, 1100);
    expect_lines(fx, "depth", "depth@100 E=+1100 U=1 u=1 b=[99:1] a=[]");
    assert_int_equal(sim_streams_late_inputs(fx->streams[0]), 1);
    assert_int_equal(sim_streams_dropped_levels(fx->streams[0]), 0);
    fixture_free(fx);
}

static void new_refuses_a_null_symbol_and_destroy_is_null_safe(void **state)
{
    (void)state;
    assert_null(sim_streams_new(NULL, EPOCH));
    sim_streams_t *s = NULL;
    sim_streams_destroy(&s);
    sim_streams_destroy(NULL);
    sim_streams_tick(NULL, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spot_diff_window_spans_its_updates_with_first_U_and_last_u),
        cmocka_unit_test(spot_plain_depth_uses_1000ms_windows),
        cmocka_unit_test(futures_diff_E_is_window_end_and_T_is_last_update_time),
        cmocka_unit_test(futures_pu_chain_holds_across_empty_windows),
        cmocka_unit_test(futures_pu_chain_holds_for_a_subscriber_that_joins_late),
        cmocka_unit_test(futures_first_pu_is_the_initial_book_id_or_first_id_minus_one),
        cmocka_unit_test(diff_keeps_the_last_quantity_per_price_within_a_window),
        cmocka_unit_test(diff_sends_removed_levels_as_zero),
        cmocka_unit_test(diff_levels_are_best_first),
        cmocka_unit_test(futures_0ms_sends_one_event_per_update),
        cmocka_unit_test(spot_has_no_futures_speeds),
        cmocka_unit_test(spot_partial_depth_sends_top_n_at_every_window_end),
        cmocka_unit_test(partial_depth_cuts_to_n_levels),
        cmocka_unit_test(futures_partial_depth_has_window_ids_and_skips_empty_windows),
        cmocka_unit_test(snapshot_streams_wait_for_a_known_book),
        cmocka_unit_test(book_ticker_only_when_the_top_changes_with_that_updates_u),
        cmocka_unit_test(trade_T_is_wall_trade_time_and_E_lags_it_by_at_most_1ms),
        cmocka_unit_test(spot_agg_trade_groups_one_taker_order_at_one_price),
        cmocka_unit_test(spot_agg_trade_is_sent_at_the_end_of_its_millisecond),
        cmocka_unit_test(futures_agg_trade_aggregates_same_price_and_side_within_100ms),
        cmocka_unit_test(kline_sums_ohlcv_and_exact_quote_volume),
        cmocka_unit_test(coinm_kline_quote_volume_is_base_volume),
        cmocka_unit_test(kline_empty_candle_has_minus_one_ids_and_the_previous_close),
        cmocka_unit_test(kline_closes_exactly_once_at_the_boundary),
        cmocka_unit_test(kline_is_sent_each_cadence_window_only_when_it_changed),
        cmocka_unit_test(kline_bounds_follow_the_utc_calendar),
        cmocka_unit_test(kline_intervals_parse_and_futures_have_no_1s),
        cmocka_unit_test(mark_price_every_3s_and_every_1s),
        cmocka_unit_test(mark_price_funding_is_small_and_due_at_the_next_8h_boundary),
        cmocka_unit_test(mark_price_funding_rate_changes_between_periods_and_can_be_negative),
        cmocka_unit_test(spot_events_do_not_depend_on_how_often_tick_is_called),
        cmocka_unit_test(futures_events_do_not_depend_on_how_often_tick_is_called),
        cmocka_unit_test(interest_filters_emission_but_not_accumulation),
        cmocka_unit_test(a_late_subscriber_sees_the_same_events_as_one_that_was_always_there),
        cmocka_unit_test(a_late_input_is_counted_and_folded_at_the_time_reached),
        cmocka_unit_test(new_refuses_a_null_symbol_and_destroy_is_null_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
