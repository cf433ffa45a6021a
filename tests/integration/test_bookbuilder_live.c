/*
 * test_bookbuilder_live.c — the whole pipeline against the sim, one short behaviour per test:
 * bookcast-sim, three bookcast-collectors and bookcast-bookbuilder, started for each test on
 * free loopback ports (pipeline.h), with the test as a subscriber of the data bus, a client of
 * the snapshot service and the listener of the status heartbeats.
 *
 * Each test ends by stopping the collectors and the bookbuilder with SIGTERM and asserting that
 * every one of them exits 0, and that the bus carried no seq gap on any topic.
 */
#include "pipeline.h"

#include "now.h"

#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define SYNC_TIMEOUT_MS 20000

/* The book messages of one book, in arrival order, kept for the Clone check. */
typedef struct {
    uint64_t *seqs;
    char **bodies;
    size_t n, cap;
} kept_t;

typedef struct {
    pipeline_t *p;
    int64_t started_ms;
    pthread_mutex_t lock;
    kept_t kept[PIPELINE_BOOKS];
} live_t;

static int book_of(market_t market, const char *symbol)
{
    for (size_t i = 0; i < PIPELINE_SYMBOLS; i++)
        if (strcmp(pipeline_symbol(market, i), symbol) == 0)
            return (int)((market - 1) * PIPELINE_SYMBOLS + i);
    return -1;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* On the bus reader's thread: keeps every book message. */
static void keep_book_messages(void *arg, const pipeline_msg_t *msg)
{
    live_t *l = arg;
    if (strcmp(msg->channel, "book") != 0)
        return;
    int b = book_of(msg->market, msg->symbol);
    if (b < 0)
        return;
    pthread_mutex_lock(&l->lock);
    kept_t *k = &l->kept[b];
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 256;
        uint64_t *seqs = realloc(k->seqs, cap * sizeof *seqs);
        if (seqs)
            k->seqs = seqs;
        char **bodies = realloc(k->bodies, cap * sizeof *bodies);
        if (bodies)
            k->bodies = bodies;
        if (seqs && bodies)
            k->cap = cap;
    }
    if (k->n < k->cap) {
        k->seqs[k->n] = msg->seq;
        k->bodies[k->n] = strdup(msg->body);
        k->n++;
    }
    pthread_mutex_unlock(&l->lock);
}

static int setup(void **state)
{
    live_t *l = calloc(1, sizeof *l);
    assert_non_null(l);
    pthread_mutex_init(&l->lock, NULL);
    *state = l;
    l->started_ms = now_monotonic_ms();
    pipeline_opts_t opts = {.on_message = keep_book_messages, .arg = l};
    l->p = pipeline_start(&opts);
    assert_non_null(l->p);
    if (!pipeline_wait_all_synced(l->p, SYNC_TIMEOUT_MS))
        fail_msg("not every book synced within %d ms", SYNC_TIMEOUT_MS);
    fprintf(stderr, "every book synced %lld ms after the start\n",
            (long long)(now_monotonic_ms() - l->started_ms));
    return 0;
}

static int teardown(void **state)
{
    live_t *l = *state;
    if (!l)
        return 0;
    pipeline_destroy(&l->p);
    for (int b = 0; b < PIPELINE_BOOKS; b++) {
        for (size_t i = 0; i < l->kept[b].n; i++)
            free(l->kept[b].bodies[i]);
        free(l->kept[b].bodies);
        free(l->kept[b].seqs);
    }
    pthread_mutex_destroy(&l->lock);
    free(l);
    *state = NULL;
    return 0;
}

static void assert_no_bus_errors(live_t *l)
{
    char first[1600];
    size_t n = pipeline_bus_errors(l->p, first, sizeof first);
    if (n)
        fail_msg("%zu errors on the data bus: %s", n, first);
}

/* SIGTERM to the collectors, then to the bookbuilder: each must exit 0. */
static void stop_cleanly(live_t *l)
{
    assert_int_equal(pipeline_stop_collectors(l->p), 0);
    assert_int_equal(pipeline_stop_bookbuilder(l->p), 0);
    assert_no_bus_errors(l);
}

static void check_every_book_against_the_truth(live_t *l)
{
    for (market_t m = MARKET_SPOT; m <= MARKET_COINM; m++)
        for (size_t i = 0; i < PIPELINE_SYMBOLS; i++) {
            pipeline_check_t c;
            const char *symbol = pipeline_symbol(m, i);
            if (pipeline_check_book(l->p, m, symbol, &c) != 0)
                fail_msg("%s", c.detail);
            if (!c.synced)
                fail_msg("%s %s is not synced at the check", market_name(m), symbol);
            if (!c.equal)
                fail_msg("%s", c.detail);
            fprintf(stderr,
                    "%s %s equals the truth at %" PRIu64 ": %zu/%zu levels held, %zu/%zu in "
                    "the range compared\n",
                    market_name(m), symbol, c.update_id, c.held[0], c.held[1], c.covered[0],
                    c.covered[1]);
        }
}

/* Statuses of (market, symbol) since history index `from` that left the synced state. */
static size_t resyncs_since(live_t *l, market_t market, const char *symbol, size_t from)
{
    size_t n = 0;
    pipeline_status_t st;
    for (size_t i = from; pipeline_status_at(l->p, i, &st); i++)
        if (st.market == market && strcmp(st.symbol, symbol) == 0 &&
            strcmp(st.state, "synced") != 0)
            n++;
    return n;
}

static double counter(const cJSON *heartbeat, const char *group, const char *key)
{
    const cJSON *counters = cJSON_GetObjectItemCaseSensitive(heartbeat, "counters");
    const cJSON *g = group ? cJSON_GetObjectItemCaseSensitive(counters, group) : counters;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(g, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static double bad_input_total(const cJSON *heartbeat)
{
    const cJSON *counters = cJSON_GetObjectItemCaseSensitive(heartbeat, "counters");
    const cJSON *bad = cJSON_GetObjectItemCaseSensitive(counters, "bad_input");
    double total = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, bad) if (cJSON_IsNumber(v)) total += v->valuedouble;
    return total;
}

/* ---- the tests ---------------------------------------------------------------------------- */

static void every_book_syncs_and_the_snapshot_service_lists_it_synced(void **state)
{
    live_t *l = *state;
    cJSON *list = pipeline_snapshot_request(l->p, "{\"op\":\"list\"}", 5000);
    assert_non_null(list);
    const cJSON *books = cJSON_GetObjectItemCaseSensitive(list, "books");
    assert_true(cJSON_IsArray(books));
    assert_int_equal(cJSON_GetArraySize(books), PIPELINE_BOOKS);
    for (market_t m = MARKET_SPOT; m <= MARKET_COINM; m++)
        for (size_t i = 0; i < PIPELINE_SYMBOLS; i++) {
            const char *symbol = pipeline_symbol(m, i);
            const cJSON *found = NULL, *b;
            cJSON_ArrayForEach(b, books)
            {
                const cJSON *bm = cJSON_GetObjectItemCaseSensitive(b, "market");
                const cJSON *bs = cJSON_GetObjectItemCaseSensitive(b, "symbol");
                if (cJSON_IsString(bm) && cJSON_IsString(bs) &&
                    strcmp(bm->valuestring, market_name(m)) == 0 &&
                    strcmp(bs->valuestring, symbol) == 0)
                    found = b;
            }
            if (!found)
                fail_msg("the list has no %s %s", market_name(m), symbol);
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(found, "state");
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(found, "update_id");
            const cJSON *seq = cJSON_GetObjectItemCaseSensitive(found, "seq");
            assert_true(cJSON_IsString(st));
            if (strcmp(st->valuestring, "synced") != 0)
                fail_msg("the list says %s %s is %s", market_name(m), symbol, st->valuestring);
            assert_true(cJSON_IsNumber(id) && id->valuedouble > 0);
            assert_true(cJSON_IsNumber(seq) && seq->valuedouble >= 1);

            /* The book itself: both sides, not crossed. */
            cJSON *book = pipeline_snapshot_book(l->p, m, symbol);
            assert_non_null(book);
            tc_levels_t bids = {0}, asks = {0};
            assert_int_equal(
                pipeline_levels_parse(cJSON_GetObjectItemCaseSensitive(book, "bids"), &bids), 0);
            assert_int_equal(
                pipeline_levels_parse(cJSON_GetObjectItemCaseSensitive(book, "asks"), &asks), 0);
            assert_true(bids.n > 0 && asks.n > 0);
            assert_true(bids.v[0].price.units < asks.v[0].price.units);
            tc_levels_free(&bids);
            tc_levels_free(&asks);
            cJSON_Delete(book);
        }
    cJSON_Delete(list);
    stop_cleanly(l);
}

static void every_topic_counts_seq_from_one_without_gaps(void **state)
{
    live_t *l = *state;
    sleep_ms(5000); /* a few seconds of traffic on every topic */
    assert_no_bus_errors(l);
    static const char *const channels[] = {"book", "bbo", "depth20", "trade", "status"};
    for (market_t m = MARKET_SPOT; m <= MARKET_COINM; m++)
        for (size_t i = 0; i < PIPELINE_SYMBOLS; i++)
            for (size_t c = 0; c < sizeof channels / sizeof channels[0]; c++) {
                char topic[96];
                snprintf(topic, sizeof topic, "%s.%s.%s", channels[c], market_name(m),
                         pipeline_symbol(m, i));
                if (pipeline_topic_last_seq(l->p, topic) == 0)
                    fail_msg("nothing on %s", topic);
            }
    stop_cleanly(l);
    size_t topics = pipeline_topic_count(l->p);
    uint64_t total = 0;
    for (size_t i = 0; i < topics; i++) {
        char name[96];
        uint64_t messages, last;
        assert_true(pipeline_topic_at(l->p, i, name, sizeof name, &messages, &last));
        assert_int_equal(messages, last); /* from seq 1, every one of them */
        total += messages;
    }
    fprintf(stderr, "%zu topics, %" PRIu64 " messages, every seq from 1 without a gap\n", topics,
            total);
}

/* The Clone pattern: a subscriber's book, built from the book messages up to the seq the
   snapshot service stamps its answer with, is that answer. */
static void book_messages_replayed_equal_the_snapshot_service(void **state)
{
    live_t *l = *state;
    sleep_ms(3000);
    for (market_t m = MARKET_SPOT; m <= MARKET_COINM; m++)
        for (size_t i = 0; i < PIPELINE_SYMBOLS; i++) {
            const char *symbol = pipeline_symbol(m, i);
            cJSON *answer = pipeline_snapshot_book(l->p, m, symbol);
            assert_non_null(answer);
            const cJSON *seqv = cJSON_GetObjectItemCaseSensitive(answer, "seq");
            const cJSON *idv = cJSON_GetObjectItemCaseSensitive(answer, "update_id");
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(answer, "state");
            assert_true(cJSON_IsNumber(seqv) && cJSON_IsNumber(idv) && cJSON_IsString(st));
            assert_string_equal(st->valuestring, "synced");
            uint64_t seq = (uint64_t)seqv->valuedouble;
            char topic[96];
            snprintf(topic, sizeof topic, "book.%s.%s", market_name(m), symbol);
            assert_true(pipeline_wait_topic_seq(l->p, topic, seq, 5000));

            pipeline_model_t model;
            pipeline_model_init(&model, PIPELINE_MAX_LEVELS);
            int b = book_of(m, symbol);
            size_t applied = 0;
            char err[200];
            pthread_mutex_lock(&l->lock);
            for (size_t k = 0; k < l->kept[b].n && l->kept[b].seqs[k] <= seq; k++) {
                cJSON *msg = cJSON_Parse(l->kept[b].bodies[k]);
                int rc = msg ? pipeline_model_apply(&model, msg, err, sizeof err) : -1;
                cJSON_Delete(msg);
                if (rc != 0) {
                    pthread_mutex_unlock(&l->lock);
                    fail_msg("%s: message %zu cannot be applied: %s", topic, k, err);
                }
                applied++;
            }
            pthread_mutex_unlock(&l->lock);
            assert_int_equal(model.seq, seq);
            assert_int_equal(model.update_id, (uint64_t)idv->valuedouble);

            tc_levels_t bids = {0}, asks = {0};
            assert_int_equal(
                pipeline_levels_parse(cJSON_GetObjectItemCaseSensitive(answer, "bids"), &bids), 0);
            assert_int_equal(
                pipeline_levels_parse(cJSON_GetObjectItemCaseSensitive(answer, "asks"), &asks), 0);
            const tc_levels_t *mine[2] = {&model.book.bids.levels, &model.book.asks.levels};
            const tc_levels_t *theirs[2] = {&bids, &asks};
            for (int s = 0; s < 2; s++) {
                if (mine[s]->n != theirs[s]->n)
                    fail_msg("%s at seq %" PRIu64 ": %zu %s levels from the bus, %zu from the "
                             "service",
                             topic, seq, mine[s]->n, s ? "ask" : "bid", theirs[s]->n);
                for (size_t k = 0; k < mine[s]->n; k++)
                    if (mine[s]->v[k].price.units != theirs[s]->v[k].price.units ||
                        mine[s]->v[k].qty.units != theirs[s]->v[k].qty.units)
                        fail_msg("%s at seq %" PRIu64 ": %s level %zu differs", topic, seq,
                                 s ? "ask" : "bid", k);
            }
            fprintf(stderr,
                    "%s: %zu messages up to seq %" PRIu64 " rebuild the service's book "
                    "(%zu bids, %zu asks)\n",
                    topic, applied, seq, bids.n, asks.n);
            tc_levels_free(&bids);
            tc_levels_free(&asks);
            pipeline_model_free(&model);
            cJSON_Delete(answer);
        }
    stop_cleanly(l);
}

static void gap_fault_resyncs_with_reason_gap_then_equals_the_truth(void **state)
{
    live_t *l = *state;
    size_t from = pipeline_status_count(l->p);
    assert_int_equal(pipeline_fault(l->p, MARKET_SPOT, "name=gap&symbol=BTCUSDT"), 200);
    size_t at = from;
    if (!pipeline_wait_status(l->p, MARKET_SPOT, "BTCUSDT", "resyncing", "gap", &at, 5000))
        fail_msg("spot BTCUSDT did not go resyncing with reason gap");
    if (!pipeline_wait_status(l->p, MARKET_SPOT, "BTCUSDT", "synced", NULL, &at, 15000))
        fail_msg("spot BTCUSDT did not sync again");
    /* Nothing else was touched. */
    for (market_t m = MARKET_SPOT; m <= MARKET_COINM; m++)
        for (size_t i = 0; i < PIPELINE_SYMBOLS; i++) {
            const char *symbol = pipeline_symbol(m, i);
            if (m == MARKET_SPOT && strcmp(symbol, "BTCUSDT") == 0)
                continue;
            if (resyncs_since(l, m, symbol, from))
                fail_msg("%s %s resynced too", market_name(m), symbol);
        }
    check_every_book_against_the_truth(l);
    stop_cleanly(l);
}

static void dropped_connections_resync_with_reason_disconnect_then_recover(void **state)
{
    live_t *l = *state;
    size_t from = pipeline_status_count(l->p);
    assert_int_equal(pipeline_fault(l->p, MARKET_SPOT, "name=drop&market=all"), 200);
    for (market_t m = MARKET_SPOT; m <= MARKET_COINM; m++)
        for (size_t i = 0; i < PIPELINE_SYMBOLS; i++) {
            size_t at = from;
            const char *symbol = pipeline_symbol(m, i);
            if (!pipeline_wait_status(l->p, m, symbol, "resyncing", "disconnect", &at, 10000))
                fail_msg("%s %s did not go resyncing with reason disconnect", market_name(m),
                         symbol);
        }
    if (!pipeline_wait_all_synced(l->p, SYNC_TIMEOUT_MS))
        fail_msg("not every book synced again");
    check_every_book_against_the_truth(l);
    stop_cleanly(l);
}

/* Fires one connection fault on every connection of every market and waits until the
   bookbuilder's heartbeat has counted `want` more bad inputs; returns the heartbeat. */
static cJSON *fault_and_count(live_t *l, const char *fault, double want)
{
    cJSON *before = pipeline_heartbeat(l->p, PIPELINE_BOOKBUILDER_STATUS);
    assert_non_null(before);
    double total0 = bad_input_total(before);
    cJSON_Delete(before);
    char query[64];
    snprintf(query, sizeof query, "name=%s&market=all", fault);
    assert_int_equal(pipeline_fault(l->p, MARKET_SPOT, query), 200);
    int64_t deadline = now_monotonic_ms() + 10000;
    for (;;) {
        cJSON *hb = pipeline_heartbeat(l->p, PIPELINE_BOOKBUILDER_STATUS);
        assert_non_null(hb);
        double got = bad_input_total(hb) - total0;
        if (got >= want)
            return hb;
        cJSON_Delete(hb);
        if (now_monotonic_ms() > deadline)
            fail_msg("after %s the heartbeat counted %.0f bad inputs, not %.0f", fault, got, want);
        sleep_ms(100);
    }
}

static void bad_frames_are_counted_in_the_heartbeat_and_never_crash_it(void **state)
{
    live_t *l = *state;
    uint64_t beats = pipeline_heartbeat_count(l->p, PIPELINE_BOOKBUILDER_STATUS, NULL);
    cJSON *hb = pipeline_heartbeat(l->p, PIPELINE_BOOKBUILDER_STATUS);
    assert_non_null(hb);
    double malformed0 = counter(hb, "bad_input", "malformed_json");
    double wrong0 = counter(hb, "bad_input", "wrong_type");
    assert_true(malformed0 >= 0 && wrong0 >= 0);
    cJSON_Delete(hb);

    /* Four connections (spot, USD-M /public and /market, COIN-M) each get the fault. One at a
       time: a truncation cuts the next frame sent, which would be the next fault's frame. */
    hb = fault_and_count(l, "malformed", 4);
    cJSON_Delete(hb);
    hb = fault_and_count(l, "truncated", 4);
    double malformed = counter(hb, "bad_input", "malformed_json") - malformed0;
    cJSON_Delete(hb);
    hb = fault_and_count(l, "wrong_types", 4);
    double wrong = counter(hb, "bad_input", "wrong_type") - wrong0;
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(hb, "counters"), "bad_input"));
    fprintf(stderr, "bad input counted: %s\n", text ? text : "?");
    free(text);
    cJSON_Delete(hb);
    /* The USD-M /market connection carries no depth stream: its depth-shaped junk is refused
       for its stream's event type rather than as malformed or mistyped. */
    if (malformed < 6)
        fail_msg("%.0f frames counted as malformed_json after malformed and truncated", malformed);
    if (wrong < 3)
        fail_msg("%.0f frames counted as wrong_type after wrong_types", wrong);

    assert_true(pipeline_bookbuilder_alive(l->p));
    if (!pipeline_wait_all_synced(l->p, SYNC_TIMEOUT_MS))
        fail_msg("not every book synced after the bad frames");
    /* Still beating, and still right. */
    assert_true(pipeline_heartbeat_count(l->p, PIPELINE_BOOKBUILDER_STATUS, NULL) > beats);
    check_every_book_against_the_truth(l);
    stop_cleanly(l);
}

static void sigterm_exits_zero_after_a_stopped_heartbeat(void **state)
{
    live_t *l = *state;
    assert_int_equal(pipeline_stop_collectors(l->p), 0);
    assert_true(pipeline_bookbuilder_alive(l->p));
    assert_int_equal(pipeline_stop_bookbuilder(l->p), 0);
    bool stopped = false;
    int64_t deadline = now_monotonic_ms() + 3000;
    while (now_monotonic_ms() < deadline) {
        pipeline_heartbeat_count(l->p, PIPELINE_BOOKBUILDER_STATUS, &stopped);
        if (stopped)
            break;
        sleep_ms(20);
    }
    if (!stopped)
        fail_msg("no heartbeat with state \"stopped\" from the bookbuilder");
    cJSON *last = pipeline_heartbeat(l->p, PIPELINE_BOOKBUILDER_STATUS);
    assert_non_null(last);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(last, "state");
    assert_true(cJSON_IsString(st));
    assert_string_equal(st->valuestring, "stopped");
    cJSON_Delete(last);
    for (market_t m = MARKET_SPOT; m <= MARKET_COINM; m++) {
        char topic[64];
        snprintf(topic, sizeof topic, "status.collector.%s", market_name(m));
        bool col_stopped = false;
        pipeline_heartbeat_count(l->p, topic, &col_stopped);
        if (!col_stopped)
            fail_msg("no heartbeat with state \"stopped\" on %s", topic);
    }
    assert_no_bus_errors(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(every_book_syncs_and_the_snapshot_service_lists_it_synced,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(every_topic_counts_seq_from_one_without_gaps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(book_messages_replayed_equal_the_snapshot_service, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(gap_fault_resyncs_with_reason_gap_then_equals_the_truth,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            dropped_connections_resync_with_reason_disconnect_then_recover, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_frames_are_counted_in_the_heartbeat_and_never_crash_it,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(sigterm_exits_zero_after_a_stopped_heartbeat, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
