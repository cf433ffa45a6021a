/*
 * test_sim_faults.c — proves that every fault of docs/sim.md, fired once through the control API
 * (GET /_sim/fault), does to a client exactly what the manual says, and nothing more: the
 * connection faults (drop, rotation_storm, no_ping, ignore_pongs, malformed, truncated,
 * wrong_types, oversized), the stream faults (gap, break_pu, duplicate, reorder, stall) and the
 * snapshot faults (snapshot_stale, _5xx, _429, _418, _slow), plus the control API's answers to
 * bad requests (400 with a reason, 404 when nothing matched) and /_sim/clear.
 *
 * Each test watches a live connection before and after the fault, so what it asserts is the
 * change the fault made: one frame that does not parse among frames that do, one broken link in
 * an update-id chain that is otherwise whole, one connection closed while a neighbour on another
 * market or connection id stays up. Connection faults name the connection by its id from
 * /_sim/status, so a fault cannot pass by hitting something else. no_ping is observed with the
 * bare WebSocket reader (rawws.h), because libwebsockets answers pings without telling anyone:
 * pings stop arriving while the connection, kept alive by unsolicited pongs (allowed on
 * futures), keeps delivering data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rawws.h"
#include "session.h"
#include "simproc.h"
#include "simtest.h"

#include "now.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_PAYLOAD 300
#define WARMUP_TIMEOUT_MS 5000

#define CHECK(events, cond, ...)                                                                   \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            simtest_dump((events), DUMP_PAYLOAD);                                                  \
            fail_msg(__VA_ARGS__);                                                                 \
        }                                                                                          \
    } while (0)

typedef struct {
    simproc_t *sim;
    tc_evlist_t events; /* the current test's events, freed after it even when it fails */
} group_t;

/* The current test's (empty) event list. */
static tc_evlist_t *events(void *state)
{
    group_t *g = state;
    tc_evlist_free(&g->events);
    return &g->events;
}

static int free_events(void **state)
{
    group_t *g = *state;
    tc_evlist_free(&g->events);
    return 0;
}

static int start_group(void **state, const char *const *args)
{
    group_t *g = calloc(1, sizeof *g);
    if (g == NULL)
        return -1;
    g->sim = simproc_start(args);
    if (g->sim == NULL) {
        free(g);
        return -1;
    }
    *state = g;
    return 0;
}

static int faults_setup(void **state)
{
    static const char *const args[] = {"--trade-rate", "10", NULL};
    return start_group(state, args);
}

static int ping_setup(void **state)
{
    static const char *const args[] = {"--ping-interval-ms", "200", "--pong-timeout-ms", "800",
                                       NULL};
    return start_group(state, args);
}

static int stop_group(void **state)
{
    group_t *g = *state;
    tc_evlist_free(&g->events);
    int rc = simproc_stop(&g->sim);
    free(g);
    if (rc != 0)
        fprintf(stderr, "bookcast-sim exited with %d\n", rc);
    return rc == 0 ? 0 : -1;
}

/* Every test starts with no fault pending (a stream fault on a speed nobody reads stays armed). */
static int clear_faults(void **state)
{
    group_t *g = *state;
    return simtest_clear(g->sim) == 200 ? 0 : -1;
}

static const char *ws(const group_t *g, market_t market, const char *path, char *buf, size_t len)
{
    return simtest_ws_url(g->sim, market, path, buf, len);
}

/* ---- running a fault against live connections ---------------------------------------------- */

/* The id of the connection of `market` at `path`, read from /_sim/status inside the session. */
static uint64_t conn_id(tc_session_t *s, const group_t *g, market_t market, const char *path)
{
    char u[256];
    tc_get_result_t r;
    uint64_t id = 0;
    tc_session_get(s, simtest_http_url(g->sim, market, "/_sim/status", u, sizeof u),
                   SIMTEST_GET_TIMEOUT_MS, &r);
    cJSON *root = cJSON_ParseWithLength(r.body, r.body_len);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "connections"))
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "path");
        if (cJSON_IsString(p) && strcmp(p->valuestring, path) == 0 && simtest_u64(c, "id", &id))
            break;
    }
    cJSON_Delete(root);
    tc_get_result_free(&r);
    if (id == 0)
        fail_msg("no connection at %s in /_sim/status", path);
    return id;
}

/* Fires /_sim/fault?<query> on `market`'s listener inside the session; asserts `want` status.
   Returns the number of events recorded before the request went out: what the fault does may
   reach a connection before its answer does, so "after the fault" means from that index on. The
   session time the request went out goes to *sent_ms when not NULL. */
static size_t fire(tc_session_t *s, const tc_evlist_t *ev, const group_t *g, market_t market,
                   const char *query, int want, int64_t *sent_ms)
{
    char path[512], u[600];
    snprintf(path, sizeof path, "/_sim/fault?%s", query);
    size_t before = ev->n;
    if (sent_ms != NULL)
        *sent_ms = tc_session_now_ms(s);
    tc_get_result_t r;
    tc_session_get(s, simtest_http_url(g->sim, market, path, u, sizeof u), SIMTEST_GET_TIMEOUT_MS,
                   &r);
    int status = r.status;
    if (status != want) {
        simtest_dump(ev, DUMP_PAYLOAD);
        fail_msg("%s answered %d %s, expected %d", path, status, r.body, want);
    }
    tc_get_result_free(&r);
    return before;
}

/* Runs until connection `conn` has `texts` more text events than it has now (or timeout). */
static void collect(tc_session_t *s, const tc_evlist_t *ev, int conn, size_t texts,
                    int64_t timeout_ms)
{
    simtest_want_t want = {.conn = conn, .texts = tc_evlist_count(ev, TC_EV_TEXT, conn) + texts};
    tc_session_run_until(s, timeout_ms, simtest_until_texts, &want);
}

/* One connection at market/path, `warmup` texts, the fault (with conn=<id> when by_conn), then
   `after` more texts. Returns the index of the fault's answer in *ev. */
static size_t fault_on_stream(const group_t *g, market_t market, const char *path,
                              const char *fault, bool by_conn, size_t warmup, size_t after,
                              tc_evlist_t *ev)
{
    char u[256], query[256];
    tc_session_opts_t o = {.url = ws(g, market, path, u, sizeof u), .ca_file = simproc_ca(g->sim)};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    collect(s, ev, 0, warmup, WARMUP_TIMEOUT_MS);
    CHECK(ev, tc_evlist_count(ev, TC_EV_TEXT, 0) >= warmup, "no data before the fault");
    if (by_conn)
        snprintf(query, sizeof query, "%s&conn=%" PRIu64, fault, conn_id(s, g, market, path));
    else
        snprintf(query, sizeof query, "%s", fault);
    size_t at = fire(s, ev, g, market, query, 200, NULL);
    collect(s, ev, 0, after, 8000);
    tc_session_end(&s);
    return at;
}

/* Text events of `conn` that cJSON cannot parse, from index `from`; the first into *first. */
static size_t unparsable(const tc_evlist_t *ev, int conn, size_t from, const tc_event_t **first)
{
    size_t n = 0;
    *first = NULL;
    for (size_t i = from; i < ev->n; i++) {
        if (ev->v[i].kind != TC_EV_TEXT || ev->v[i].conn != conn)
            continue;
        cJSON *root = simtest_json(&ev->v[i]);
        if (root == NULL && n++ == 0)
            *first = &ev->v[i];
        cJSON_Delete(root);
    }
    return n;
}

/* ---- connection faults --------------------------------------------------------------------- */

static void drop_ends_the_connection_without_a_close_frame(void **state)
{
    group_t *g = *state;
    char u0[256], u1[256];
    const char *path = "/ws/btcusdt@depth@100ms";
    const char *urls[2] = {ws(g, MARKET_SPOT, path, u0, sizeof u0),
                           ws(g, MARKET_SPOT, "/ws/ethusdt@depth@100ms", u1, sizeof u1)};
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {
        .urls = urls, .connections = 2, .all_at_once = true, .ca_file = simproc_ca(g->sim)};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    collect(s, ev, 0, 2, WARMUP_TIMEOUT_MS);
    char query[128];
    snprintf(query, sizeof query, "name=drop&conn=%" PRIu64, conn_id(s, g, MARKET_SPOT, path));
    size_t at = fire(s, ev, g, MARKET_SPOT, query, 200, NULL);
    /* Until the dropped connection has ended and the neighbour delivered 5 more frames. */
    for (int i = 0; i < 300 && tc_evlist_find(ev, TC_EV_CLOSED, 0, 0) == NULL; i++)
        tc_session_run_until(s, 10, NULL, NULL);
    collect(s, ev, 1, 5, 3000);
    tc_session_end(&s);
    const tc_event_t *closed = tc_evlist_find(ev, TC_EV_CLOSED, 0, at);
    CHECK(ev, closed != NULL, "the dropped connection did not end");
    CHECK(ev, tc_evlist_count(ev, TC_EV_PEER_CLOSE, 0) == 0,
          "a dropped connection must end without a close frame");
    size_t neighbour = 0;
    for (size_t i = (size_t)(closed - ev->v); i < ev->n; i++)
        neighbour += ev->v[i].kind == TC_EV_TEXT && ev->v[i].conn == 1;
    CHECK(ev, neighbour >= 5 && tc_evlist_count(ev, TC_EV_CLOSED, 1) == 0,
          "the other connection must keep delivering");
    tc_evlist_free(ev);
}

static void rotation_storm_closes_every_connection_of_every_market_with_1001(void **state)
{
    group_t *g = *state;
    char u[4][256];
    const char *urls[4] = {
        ws(g, MARKET_SPOT, "/ws/btcusdt@depth@100ms", u[0], sizeof u[0]),
        ws(g, MARKET_SPOT, "/stream?streams=ethusdt@trade", u[1], sizeof u[1]),
        ws(g, MARKET_USDM, "/public/ws/btcusdt@depth@100ms", u[2], sizeof u[2]),
        ws(g, MARKET_COINM, "/ws/btcusd_perp@depth@100ms", u[3], sizeof u[3]),
    };
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {
        .urls = urls, .connections = 4, .all_at_once = true, .ca_file = simproc_ca(g->sim)};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    for (int i = 0; i < 500 && tc_evlist_count(ev, TC_EV_OPEN, -1) < 4; i++)
        tc_session_run_until(s, 10, NULL, NULL);
    CHECK(ev, tc_evlist_count(ev, TC_EV_OPEN, -1) == 4, "all four connections must open");
    /* Fired on the spot listener: a storm reaches every market anyway. */
    fire(s, ev, g, MARKET_SPOT, "name=rotation_storm", 200, NULL);
    tc_session_run_until(s, 3000, NULL, NULL); /* ends early once all four have ended */
    tc_session_end(&s);
    for (int c = 0; c < 4; c++) {
        const tc_event_t *close = tc_evlist_find(ev, TC_EV_PEER_CLOSE, c, 0);
        CHECK(ev, close != NULL, "connection %d (%s) got no close frame", c, urls[c]);
        CHECK(ev, close->code == 1001 && strcmp(close->data, "server rotation") == 0,
              "connection %d: close %d \"%s\", expected 1001 \"server rotation\"", c, close->code,
              close->data);
        CHECK(ev, tc_evlist_find(ev, TC_EV_CLOSED, c, 0) != NULL, "connection %d stayed open", c);
    }
    tc_evlist_free(ev);
}

static void malformed_sends_one_text_that_is_not_json(void **state)
{
    tc_evlist_t *ev = events(*state);
    size_t at = fault_on_stream(*state, MARKET_SPOT, "/ws/btcusdt@depth@100ms", "name=malformed",
                                true, 2, 6, ev);
    const tc_event_t *bad;
    CHECK(ev, unparsable(ev, 0, 0, &bad) == 1, "expected exactly one text cJSON cannot parse");
    CHECK(ev, (size_t)(bad - ev->v) >= at, "the malformed text came before the fault");
    tc_evlist_free(ev);
}

/* Two connections read the same two streams; the fault truncates connection A's next frame, which
   connection B receives whole. */
static void truncated_sends_the_first_half_of_a_well_formed_frame(void **state)
{
    group_t *g = *state;
    char u0[256], u1[256];
    const char *path_a = "/ws/btcusdt@depth@100ms/ethusdt@depth@100ms";
    const char *urls[2] = {
        ws(g, MARKET_SPOT, path_a, u0, sizeof u0),
        ws(g, MARKET_SPOT, "/ws/ethusdt@depth@100ms/btcusdt@depth@100ms", u1, sizeof u1)};
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {
        .urls = urls, .connections = 2, .all_at_once = true, .ca_file = simproc_ca(g->sim)};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    collect(s, ev, 0, 2, WARMUP_TIMEOUT_MS);
    collect(s, ev, 1, 2, WARMUP_TIMEOUT_MS);
    char query[128];
    snprintf(query, sizeof query, "name=truncated&conn=%" PRIu64,
             conn_id(s, g, MARKET_SPOT, path_a));
    fire(s, ev, g, MARKET_SPOT, query, 200, NULL);
    collect(s, ev, 0, 6, 5000);
    collect(s, ev, 1, 4, 3000);
    tc_session_end(&s);
    const tc_event_t *cut, *none;
    CHECK(ev, unparsable(ev, 0, 0, &cut) == 1, "expected one unparsable text on connection A");
    CHECK(ev, unparsable(ev, 1, 0, &none) == 0, "connection B must get whole frames");
    const tc_event_t *whole = NULL;
    for (size_t i = 0; i < ev->n && whole == NULL; i++)
        if (ev->v[i].kind == TC_EV_TEXT && ev->v[i].conn == 1 && ev->v[i].len > cut->len &&
            memcmp(ev->v[i].data, cut->data, cut->len) == 0)
            whole = &ev->v[i];
    CHECK(ev, whole != NULL, "the cut text is no prefix of any frame connection B received");
    CHECK(ev, whole->len / 2 == cut->len,
          "the cut text has %zu of the frame's %zu bytes; \"cut in half\" is %zu", cut->len,
          whole->len, whole->len / 2);
    tc_evlist_free(ev);
}

static void wrong_types_sends_a_depth_event_with_wrong_json_types(void **state)
{
    tc_evlist_t *ev = events(*state);
    size_t at = fault_on_stream(*state, MARKET_USDM, "/public/ws/btcusdt@depth@100ms",
                                "name=wrong_types", true, 2, 6, ev);
    size_t wrong = 0, well = 0;
    for (size_t i = 0; i < ev->n; i++) {
        if (ev->v[i].kind != TC_EV_TEXT)
            continue;
        cJSON *root = simtest_json(&ev->v[i]);
        CHECK(ev, root != NULL, "every text must still be JSON");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "e");
        CHECK(ev, cJSON_IsString(e) && strcmp(e->valuestring, "depthUpdate") == 0,
              "every text must be a depth event");
        bool typed = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "E")) &&
                     cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "s")) &&
                     cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "U")) &&
                     cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "u")) &&
                     cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "pu")) &&
                     cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "b")) &&
                     cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "a"));
        bool u_is_string = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "U"));
        cJSON_Delete(root);
        if (typed) {
            well++;
            continue;
        }
        CHECK(ev, i >= at, "a wrongly typed event came before the fault");
        CHECK(ev, u_is_string, "the wrongly typed event must carry U as a string");
        wrong++;
    }
    CHECK(ev, wrong == 1 && well >= 7,
          "expected one wrongly typed event among well-typed ones, "
          "got %zu wrong, %zu right",
          wrong, well);
    tc_evlist_free(ev);
}

static void oversized_sends_one_frame_of_exactly_the_given_bytes(void **state)
{
    tc_evlist_t *ev = events(*state);
    fault_on_stream(*state, MARKET_COINM, "/ws/btcusd_perp@depth@100ms",
                    "name=oversized&bytes=300000", true, 2, 4, ev);
    size_t big = 0, parsed = 0;
    for (size_t i = 0; i < ev->n; i++) {
        if (ev->v[i].kind != TC_EV_TEXT || ev->v[i].len < 100000)
            continue;
        big++;
        CHECK(ev, ev->v[i].len == 300000, "the oversized frame has %zu bytes, expected 300000",
              ev->v[i].len);
        cJSON *root = simtest_json(&ev->v[i]);
        parsed += root != NULL;
        cJSON_Delete(root);
    }
    CHECK(ev, big == 1 && parsed == 1, "expected one valid JSON frame of 300000 bytes");
    tc_evlist_free(ev);
}

static void oversized_defaults_to_2_mib(void **state)
{
    tc_evlist_t *ev = events(*state);
    fault_on_stream(*state, MARKET_SPOT, "/ws/btcusdt@depth@100ms", "name=oversized", true, 2, 4,
                    ev);
    size_t big = 0;
    for (size_t i = 0; i < ev->n; i++)
        if (ev->v[i].kind == TC_EV_TEXT && ev->v[i].len > 100000) {
            big++;
            CHECK(ev, ev->v[i].len == 2097152, "the frame has %zu bytes, expected 2097152",
                  ev->v[i].len);
        }
    CHECK(ev, big == 1, "expected one oversized frame, got %zu", big);
    tc_evlist_free(ev);
}

/* ---- stream faults ------------------------------------------------------------------------- */

#define CHAIN_MAX 256

/* The depth events of connection 0 after the warm-up, with the number of links that break the
   market's chain rule: spot U == prev u + 1, futures pu == prev u. */
typedef struct {
    simtest_depth_t d[CHAIN_MAX];
    size_t n;
    size_t breaks;
    size_t first_break; /* index of the first event that breaks its link */
} chain_t;

static void read_chain(const tc_evlist_t *ev, const char *symbol, bool futures, chain_t *c)
{
    c->n = simtest_depth_events(ev, 0, symbol, 0, c->d, CHAIN_MAX);
    c->breaks = 0;
    c->first_break = 0;
    for (size_t i = 1; i < c->n; i++) {
        bool ok = futures ? c->d[i].pu == c->d[i - 1].u : c->d[i].U == c->d[i - 1].u + 1;
        if (!ok && c->breaks++ == 0)
            c->first_break = i;
    }
}

static void gap_makes_spot_U_jump_past_the_previous_u_plus_1(void **state)
{
    tc_evlist_t *ev = events(*state);
    fault_on_stream(*state, MARKET_SPOT, "/ws/btcusdt@depth@100ms", "name=gap&symbol=BTCUSDT",
                    false, 3, 5, ev);
    chain_t c;
    read_chain(ev, "BTCUSDT", false, &c);
    CHECK(ev, c.breaks == 1, "expected one broken link, got %zu", c.breaks);
    const simtest_depth_t *a = &c.d[c.first_break - 1], *b = &c.d[c.first_break];
    CHECK(ev, b->U > a->u + 1, "U %" PRIu64 " after u %" PRIu64 " must jump forward", b->U, a->u);
    tc_evlist_free(ev);
}

static void gap_breaks_the_futures_pu_chain(void **state)
{
    tc_evlist_t *ev = events(*state);
    fault_on_stream(*state, MARKET_COINM, "/ws/btcusd_perp@depth@100ms",
                    "name=gap&symbol=BTCUSD_PERP", false, 3, 5, ev);
    chain_t c;
    read_chain(ev, "BTCUSD_PERP", true, &c);
    CHECK(ev, c.breaks == 1, "expected one broken pu link, got %zu", c.breaks);
    const simtest_depth_t *a = &c.d[c.first_break - 1], *b = &c.d[c.first_break];
    CHECK(ev, b->pu > a->u, "after a gap pu (%" PRIu64 ") names a lost event after u %" PRIu64,
          b->pu, a->u);
    tc_evlist_free(ev);
}

/* The faulted event's pu is wrong, yet nothing is lost: U goes on past the previous u and the
   next event chains on the faulted one's u. */
static void break_pu_sends_a_wrong_pu_while_update_ids_go_on(void **state)
{
    tc_evlist_t *ev = events(*state);
    fault_on_stream(*state, MARKET_USDM, "/public/ws/btcusdt@depth@100ms",
                    "name=break_pu&symbol=BTCUSDT", false, 3, 5, ev);
    chain_t c;
    read_chain(ev, "BTCUSDT", true, &c);
    CHECK(ev, c.breaks == 1, "expected one broken pu link, got %zu", c.breaks);
    size_t k = c.first_break;
    CHECK(ev, k + 1 < c.n, "no event after the faulted one");
    CHECK(ev, c.d[k].U > c.d[k - 1].u, "U must go on past the previous u");
    CHECK(ev, c.d[k + 1].pu == c.d[k].u, "the next event must chain on the faulted one");
    tc_evlist_free(ev);
}

static void duplicate_sends_the_same_diff_event_twice(void **state)
{
    tc_evlist_t *ev = events(*state);
    fault_on_stream(*state, MARKET_SPOT, "/ws/btcusdt@depth@100ms", "name=duplicate&symbol=BTCUSDT",
                    false, 3, 5, ev);
    const tc_event_t *prev = NULL;
    size_t repeats = 0;
    for (size_t i = 0; i < ev->n; i++) {
        if (ev->v[i].kind != TC_EV_TEXT)
            continue;
        if (prev != NULL && prev->len == ev->v[i].len &&
            memcmp(prev->data, ev->v[i].data, prev->len) == 0)
            repeats++;
        prev = &ev->v[i];
    }
    CHECK(ev, repeats == 1, "expected one frame sent twice in a row, got %zu", repeats);
    chain_t c;
    read_chain(ev, "BTCUSDT", false, &c);
    CHECK(ev, c.breaks == 1 && c.d[c.first_break].U == c.d[c.first_break - 1].U,
          "the only break in the chain must be the repeat");
    tc_evlist_free(ev);
}

static void reorder_makes_u_go_down_once(void **state)
{
    tc_evlist_t *ev = events(*state);
    fault_on_stream(*state, MARKET_SPOT, "/ws/btcusdt@depth@100ms", "name=reorder&symbol=BTCUSDT",
                    false, 3, 5, ev);
    chain_t c;
    read_chain(ev, "BTCUSDT", false, &c);
    size_t downs = 0;
    for (size_t i = 1; i < c.n; i++)
        downs += c.d[i].u < c.d[i - 1].u;
    CHECK(ev, downs == 1, "u must go down exactly once, went down %zu times", downs);
    /* Nothing lost: sorted by U, the events chain again. */
    for (size_t i = 1; i < c.n; i++)
        for (size_t j = i; j > 0 && c.d[j].U < c.d[j - 1].U; j--) {
            simtest_depth_t t = c.d[j];
            c.d[j] = c.d[j - 1];
            c.d[j - 1] = t;
        }
    for (size_t i = 1; i < c.n; i++)
        CHECK(ev, c.d[i].U == c.d[i - 1].u + 1, "in U order the events must chain (event %zu)", i);
    tc_evlist_free(ev);
}

static size_t count_depth(const tc_evlist_t *ev, const char *symbol)
{
    size_t n = 0;
    for (size_t i = 0; i < ev->n; i++) {
        simtest_depth_t d;
        n += ev->v[i].kind == TC_EV_TEXT && simtest_depth(&ev->v[i], &d) &&
             strcmp(d.symbol, symbol) == 0;
    }
    return n;
}

static void stall_silences_one_symbol_while_another_flows(void **state)
{
    group_t *g = *state;
    char u[256];
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {
        .url = ws(g, MARKET_SPOT, "/ws/btcusdt@depth@100ms/ethusdt@depth@100ms", u, sizeof u),
        .ca_file = simproc_ca(g->sim)};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    simtest_want_t warm = {.conn = 0, .texts = 3, .symbol = "BTCUSDT"};
    tc_session_run_until(s, WARMUP_TIMEOUT_MS, simtest_until_texts, &warm);
    int64_t fault_ms;
    size_t at = fire(s, ev, g, MARKET_SPOT, "name=stall&symbol=BTCUSDT&ms=1500", 200, &fault_ms);
    tc_session_run_until(s, 2500, NULL, NULL);
    /* Two BTCUSDT events after the stall, to see it resume. */
    simtest_want_t resumed = {
        .conn = 0, .texts = count_depth(ev, "BTCUSDT") + 2, .symbol = "BTCUSDT"};
    tc_session_run_until(s, 3000, simtest_until_texts, &resumed);
    tc_session_end(&s);
    /* The longest silence of BTCUSDT after the fault, and ETHUSDT frames inside it. */
    int64_t last_btc = fault_ms, gap = 0, gap_from = 0, gap_to = 0;
    simtest_depth_t before_stall = {0}, after_stall = {0};
    for (size_t i = 0; i < ev->n; i++) {
        simtest_depth_t d;
        if (ev->v[i].kind != TC_EV_TEXT || !simtest_depth(&ev->v[i], &d) ||
            strcmp(d.symbol, "BTCUSDT") != 0)
            continue;
        if (i < at) {
            before_stall = d;
            continue;
        }
        if (ev->v[i].t_ms - last_btc > gap) {
            gap = ev->v[i].t_ms - last_btc;
            gap_from = last_btc;
            gap_to = ev->v[i].t_ms;
            after_stall = d;
        }
        last_btc = ev->v[i].t_ms;
    }
    CHECK(ev, gap >= 1200 && gap <= 3000,
          "BTCUSDT's longest silence after a 1500 ms stall is %" PRId64 " ms", gap);
    size_t eth_inside = 0;
    for (size_t i = 0; i < ev->n; i++) {
        simtest_depth_t d;
        if (ev->v[i].kind == TC_EV_TEXT && ev->v[i].t_ms > gap_from && ev->v[i].t_ms < gap_to &&
            simtest_depth(&ev->v[i], &d) && strcmp(d.symbol, "ETHUSDT") == 0)
            eth_inside++;
    }
    /* A 100 ms window holds an update with probability 1 - e^-2 at the default 20 updates a
       second, so 12+ windows give 5 events all but surely. */
    CHECK(ev, eth_inside >= 5, "ETHUSDT delivered %zu frames during BTCUSDT's silence", eth_inside);
    CHECK(ev, tc_evlist_count(ev, TC_EV_CLOSED, 0) == 0, "the connection must stay up");
    CHECK(ev, after_stall.U > before_stall.u + 1,
          "the stalled events are lost: U after the stall must jump (%" PRIu64 " after %" PRIu64
          ")",
          after_stall.U, before_stall.u);
    tc_evlist_free(ev);
}

/* ---- snapshot faults ------------------------------------------------------------------------ */

static int depth_get(tc_session_t *s, const group_t *g, market_t market, const char *path,
                     tc_get_result_t *r)
{
    char u[300];
    tc_session_get(s, simtest_http_url(g->sim, market, path, u, sizeof u), SIMTEST_GET_TIMEOUT_MS,
                   r);
    return r->status;
}

/* A snapshot fetched after the fault predates the first event a client buffered; the next one
   (the fault took one request) does not. */
static void check_stale(group_t *g, market_t market, const char *ws_path, const char *rest_path)
{
    char u[256];
    tc_evlist_t *ev = events(g);
    tc_session_opts_t o = {.url = ws(g, market, ws_path, u, sizeof u),
                           .ca_file = simproc_ca(g->sim)};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    collect(s, ev, 0, 2, WARMUP_TIMEOUT_MS);
    simtest_depth_t first;
    CHECK(ev, simtest_depth_events(ev, 0, NULL, 0, &first, 1) == 1, "no depth event buffered");
    fire(s, ev, g, market, "name=snapshot_stale", 200, NULL);
    tc_get_result_t stale, fresh;
    int st1 = depth_get(s, g, market, rest_path, &stale);
    int st2 = depth_get(s, g, market, rest_path, &fresh);
    tc_session_end(&s);
    uint64_t stale_id = 0, fresh_id = 0;
    cJSON *a = cJSON_Parse(stale.body), *b = cJSON_Parse(fresh.body);
    bool ids =
        simtest_u64(a, "lastUpdateId", &stale_id) && simtest_u64(b, "lastUpdateId", &fresh_id);
    cJSON_Delete(a);
    cJSON_Delete(b);
    tc_get_result_free(&stale);
    tc_get_result_free(&fresh);
    CHECK(ev, st1 == 200 && st2 == 200 && ids, "the snapshots must be served (%d, %d)", st1, st2);
    CHECK(ev, stale_id < first.U,
          "the stale snapshot's lastUpdateId %" PRIu64 " must be older than the first buffered "
          "U %" PRIu64,
          stale_id, first.U);
    CHECK(ev, fresh_id >= first.U, "the next snapshot (%" PRIu64 ") must be fresh again", fresh_id);
    tc_evlist_free(ev);
}

static void snapshot_stale_is_older_than_the_buffered_events(void **state)
{
    check_stale(*state, MARKET_SPOT, "/ws/btcusdt@depth@100ms",
                "/api/v3/depth?symbol=BTCUSDT&limit=1000");
    check_stale(*state, MARKET_USDM, "/public/ws/btcusdt@depth@100ms",
                "/fapi/v1/depth?symbol=BTCUSDT&limit=1000");
}

/* Fires `fault` on market and GETs the depth path; returns the status. */
static int snapshot_after(const group_t *g, market_t market, const char *fault, const char *path,
                          tc_get_result_t *r)
{
    assert_int_equal(simtest_fault(g->sim, market, fault), 200);
    return simtest_get(g->sim, market, path, r);
}

static void snapshot_5xx_answers_503_with_an_html_body(void **state)
{
    tc_get_result_t r;
    int status = snapshot_after(*state, MARKET_SPOT, "name=snapshot_5xx",
                                "/api/v3/depth?symbol=BTCUSDT&limit=100", &r);
    bool html = strstr(r.header[TC_HDR_CONTENT_TYPE], "text/html") != NULL &&
                strncmp(r.body, "<html", 5) == 0;
    char body[200];
    snprintf(body, sizeof body, "%.150s", r.body);
    tc_get_result_free(&r);
    if (status != 503 || !html)
        fail_msg("expected 503 with an HTML body, got %d %s", status, body);
}

/* Injected 429/418: Binance's -1003 body and Retry-After: 5 (docs/sim.md). */
static void check_rate_fault(const group_t *g, market_t market, const char *fault, const char *path,
                             int want)
{
    tc_get_result_t r;
    int status = snapshot_after(g, market, fault, path, &r);
    cJSON *body = cJSON_Parse(r.body);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(body, "code");
    bool is_1003 = cJSON_IsNumber(code) && code->valuedouble == -1003;
    cJSON_Delete(body);
    char retry[64];
    snprintf(retry, sizeof retry, "%.60s",
             r.header_present[TC_HDR_RETRY_AFTER] ? r.header[TC_HDR_RETRY_AFTER] : "(absent)");
    char text[200];
    snprintf(text, sizeof text, "%.150s", r.body);
    tc_get_result_free(&r);
    if (status != want || !is_1003 || strcmp(retry, "5") != 0)
        fail_msg("%s: %d %s, Retry-After %s; expected %d, -1003, Retry-After 5", fault, status,
                 text, retry, want);
    /* The fault took one request: the next is served. */
    status = simtest_get(g->sim, market, path, &r);
    tc_get_result_free(&r);
    if (status != 200)
        fail_msg("%s: the request after the faulted one got %d", fault, status);
}

static void snapshot_429_answers_429_with_retry_after(void **state)
{
    check_rate_fault(*state, MARKET_SPOT, "name=snapshot_429",
                     "/api/v3/depth?symbol=BTCUSDT&limit=100", 429);
    check_rate_fault(*state, MARKET_USDM, "name=snapshot_429",
                     "/fapi/v1/depth?symbol=BTCUSDT&limit=100", 429);
}

static void snapshot_418_answers_418_with_retry_after(void **state)
{
    check_rate_fault(*state, MARKET_SPOT, "name=snapshot_418",
                     "/api/v3/depth?symbol=BTCUSDT&limit=100", 418);
    check_rate_fault(*state, MARKET_COINM, "name=snapshot_418",
                     "/dapi/v1/depth?symbol=BTCUSD_PERP&limit=100", 418);
}

static void snapshot_slow_arrives_after_ms(void **state)
{
    tc_get_result_t r;
    int status = snapshot_after(*state, MARKET_USDM, "name=snapshot_slow&ms=800",
                                "/fapi/v1/depth?symbol=BTCUSDT&limit=100", &r);
    int64_t elapsed = r.elapsed_ms;
    bool snapshot = strncmp(r.body, "{\"lastUpdateId\":", 16) == 0;
    tc_get_result_free(&r);
    if (status != 200 || !snapshot || elapsed < 800)
        fail_msg("snapshot_slow ms=800: %d after %" PRId64 " ms; expected the snapshot after "
                 ">= 800 ms",
                 status, elapsed);
}

static void snapshot_fault_count_takes_that_many_requests(void **state)
{
    group_t *g = *state;
    assert_int_equal(simtest_fault(g->sim, MARKET_SPOT, "name=snapshot_5xx&count=2"), 200);
    int statuses[3];
    for (int i = 0; i < 3; i++) {
        tc_get_result_t r;
        statuses[i] = simtest_get(g->sim, MARKET_SPOT, "/api/v3/depth?symbol=ETHUSDT&limit=5", &r);
        tc_get_result_free(&r);
    }
    if (statuses[0] != 503 || statuses[1] != 503 || statuses[2] != 200)
        fail_msg("count=2: %d %d %d, expected 503 503 200", statuses[0], statuses[1], statuses[2]);
}

static void clear_cancels_pending_faults(void **state)
{
    group_t *g = *state;
    assert_int_equal(simtest_fault(g->sim, MARKET_SPOT, "name=snapshot_5xx&count=3"), 200);
    assert_int_equal(simtest_clear(g->sim), 200);
    tc_get_result_t r;
    int status = simtest_get(g->sim, MARKET_SPOT, "/api/v3/depth?symbol=BTCUSDT&limit=5", &r);
    tc_get_result_free(&r);
    if (status != 200)
        fail_msg("after /_sim/clear the snapshot got %d", status);
}

/* ---- the control API's refusals -------------------------------------------------------------- */

/* GET /_sim/fault?<query>: the status and {"error": reason} must match; the reason must contain
   `needle`. */
static void check_refusal(const group_t *g, const char *query, int want, const char *needle)
{
    char path[256];
    snprintf(path, sizeof path, "/_sim/fault?%s", query);
    tc_get_result_t r;
    int status = simtest_get(g->sim, MARKET_SPOT, path, &r);
    cJSON *root = cJSON_ParseWithLength(r.body, r.body_len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, want == 404 ? "result" : "error");
    bool ok = status == want && cJSON_IsString(e) && strstr(e->valuestring, needle) != NULL;
    char body[300];
    snprintf(body, sizeof body, "%.250s", r.body);
    cJSON_Delete(root);
    tc_get_result_free(&r);
    if (!ok)
        fail_msg("%s: %d %s; expected %d with a reason naming \"%s\"", path, status, body, want,
                 needle);
}

static void unknown_fault_is_refused_with_400_and_a_reason(void **state)
{
    check_refusal(*state, "name=meteor", 400, "meteor");
}

static void unknown_fault_argument_is_refused_with_400_and_a_reason(void **state)
{
    check_refusal(*state, "name=gap&symbl=BTCUSDT", 400, "symbl");
}

static void fault_without_a_name_is_refused_with_400(void **state)
{
    check_refusal(*state, "symbol=BTCUSDT", 400, "name");
}

static void fault_argument_out_of_range_is_refused_with_400(void **state)
{
    check_refusal(*state, "name=gap&count=0", 400, "count");
    check_refusal(*state, "name=oversized&bytes=x", 400, "bytes");
    check_refusal(*state, "name=gap&market=mars", 400, "market");
}

static void fault_that_matches_nothing_answers_404(void **state)
{
    check_refusal(*state, "name=gap&symbol=NOSUCHUSDT", 404, "nothing matched");
    check_refusal(*state, "name=drop&conn=999999999", 404, "nothing matched");
}

/* ---- ping faults (--ping-interval-ms 200 --pong-timeout-ms 800) ----------------------------- */

typedef struct {
    size_t pings, texts, closes, pongs_sent;
    bool ended;
} raw_count_t;

/* Reads frames for `ms`: pings are answered when `answer`, and an unsolicited pong goes out
   every 200 ms when `unsolicited`. Pings seen in the first `grace_ms` are not counted. */
static void raw_watch(rawws_t *raw, int64_t ms, int64_t grace_ms, bool answer, bool unsolicited,
                      raw_count_t *n)
{
    memset(n, 0, sizeof *n);
    int64_t start = now_monotonic_ms(), end = start + ms, next_pong = start;
    while (!n->ended && now_monotonic_ms() < end) {
        int64_t now = now_monotonic_ms();
        if (unsolicited && now >= next_pong) {
            if (rawws_send(raw, RAWWS_OP_PONG, "keepalive", 9) == 0)
                n->pongs_sent++;
            next_pong = now + 200;
        }
        int64_t wait = (unsolicited ? next_pong : end) - now;
        rawws_frame_t f;
        int rc = rawws_read(raw, wait > 0 ? wait : 1, &f);
        if (rc < 0) {
            n->ended = true;
            break;
        }
        if (rc == 0)
            continue;
        if (f.opcode == RAWWS_OP_PING) {
            if (now_monotonic_ms() - start >= grace_ms)
                n->pings++;
            if (answer)
                rawws_send(raw, RAWWS_OP_PONG, f.payload, f.len);
        } else if (f.opcode == RAWWS_OP_TEXT) {
            n->texts++;
        } else if (f.opcode == RAWWS_OP_CLOSE) {
            n->closes++;
            n->ended = true;
        }
        rawws_frame_free(&f);
    }
}

/* no_ping on a USD-M connection: pings stop. The client keeps the connection alive with
   unsolicited pongs (futures accept them), so the silence is observed for longer than the pong
   deadline while data keeps flowing. */
static void no_ping_stops_the_server_pings(void **state)
{
    group_t *g = *state;
    const char *path = "/public/ws/btcusdt@depth@100ms";
    rawws_answer_t a;
    rawws_t *raw = rawws_open("127.0.0.1", simproc_port(g->sim, MARKET_USDM), path,
                              simproc_ca(g->sim), 5000, &a);
    if (raw == NULL)
        fail_msg("no WebSocket: %d %s", a.status, a.error);
    raw_count_t before, after;
    raw_watch(raw, 1000, 0, true, false, &before);
    uint64_t id = simtest_conn_id(g->sim, MARKET_USDM, path);
    char query[128];
    snprintf(query, sizeof query, "name=no_ping&conn=%" PRIu64, id);
    int status = id ? simtest_fault(g->sim, MARKET_USDM, query) : 0;
    /* A ping already on its way when the fault landed is not the fault's failure. */
    raw_watch(raw, 1500, 100, true, true, &after);
    rawws_close(&raw);
    if (before.pings < 3 || before.ended)
        fail_msg("before the fault: %zu pings in 1 s at a 200 ms interval (ended: %d)",
                 before.pings, before.ended);
    if (status != 200)
        fail_msg("the fault on connection %" PRIu64 " answered %d", id, status);
    if (after.pings != 0)
        fail_msg("%zu pings arrived after no_ping", after.pings);
    if (after.ended || after.texts < 5)
        fail_msg("after no_ping the connection must stay up and deliver (%zu texts, ended %d, "
                 "%zu closes)",
                 after.texts, after.ended, after.closes);
}

static void ignore_pongs_closes_the_connection_at_the_pong_deadline(void **state)
{
    group_t *g = *state;
    char u0[256], u1[256];
    const char *path = "/public/ws/btcusdt@depth@100ms";
    const char *urls[2] = {ws(g, MARKET_USDM, path, u0, sizeof u0),
                           ws(g, MARKET_USDM, "/public/ws/ethusdt@depth@100ms", u1, sizeof u1)};
    tc_evlist_t *ev = events(*state);
    tc_session_opts_t o = {
        .urls = urls, .connections = 2, .all_at_once = true, .ca_file = simproc_ca(g->sim)};
    tc_session_t *s = tc_session_start(&o, ev);
    assert_non_null(s);
    collect(s, ev, 0, 2, WARMUP_TIMEOUT_MS);
    tc_session_run_until(s, 500, NULL, NULL); /* a few ping rounds, answered */
    CHECK(ev, tc_evlist_count(ev, TC_EV_CLOSED, -1) == 0, "closed before the fault");
    char query[128];
    snprintf(query, sizeof query, "name=ignore_pongs&conn=%" PRIu64,
             conn_id(s, g, MARKET_USDM, path));
    int64_t fault_ms;
    size_t at = fire(s, ev, g, MARKET_USDM, query, 200, &fault_ms);
    for (int i = 0; i < 300 && tc_evlist_find(ev, TC_EV_CLOSED, 0, at) == NULL; i++)
        tc_session_run_until(s, 10, NULL, NULL);
    tc_session_run_until(s, 300, NULL, NULL);
    tc_session_end(&s);
    const tc_event_t *close = tc_evlist_find(ev, TC_EV_PEER_CLOSE, 0, at);
    CHECK(ev, close != NULL, "no close frame after ignore_pongs");
    int64_t after = close->t_ms - fault_ms;
    CHECK(ev, after >= 500 && after <= 2500,
          "closed %" PRId64 " ms after the fault; the deadline is 800 ms after the last pong",
          after);
    CHECK(ev, tc_evlist_count(ev, TC_EV_CLOSED, 1) == 0,
          "the other connection, whose pongs count, must stay open");
    tc_evlist_free(ev);
}

/* ---- main ---------------------------------------------------------------------------------------
 */

#define T(f) cmocka_unit_test_setup_teardown(f, clear_faults, free_events)

int main(void)
{
    const struct CMUnitTest fault_tests[] = {
        T(drop_ends_the_connection_without_a_close_frame),
        T(rotation_storm_closes_every_connection_of_every_market_with_1001),
        T(malformed_sends_one_text_that_is_not_json),
        T(truncated_sends_the_first_half_of_a_well_formed_frame),
        T(wrong_types_sends_a_depth_event_with_wrong_json_types),
        T(oversized_sends_one_frame_of_exactly_the_given_bytes),
        T(oversized_defaults_to_2_mib),
        T(gap_makes_spot_U_jump_past_the_previous_u_plus_1),
        T(gap_breaks_the_futures_pu_chain),
        T(break_pu_sends_a_wrong_pu_while_update_ids_go_on),
        T(duplicate_sends_the_same_diff_event_twice),
        T(reorder_makes_u_go_down_once),
        T(stall_silences_one_symbol_while_another_flows),
        T(snapshot_stale_is_older_than_the_buffered_events),
        T(snapshot_5xx_answers_503_with_an_html_body),
        T(snapshot_429_answers_429_with_retry_after),
        T(snapshot_418_answers_418_with_retry_after),
        T(snapshot_slow_arrives_after_ms),
        T(snapshot_fault_count_takes_that_many_requests),
        T(clear_cancels_pending_faults),
        T(unknown_fault_is_refused_with_400_and_a_reason),
        T(unknown_fault_argument_is_refused_with_400_and_a_reason),
        T(fault_without_a_name_is_refused_with_400),
        T(fault_argument_out_of_range_is_refused_with_400),
        T(fault_that_matches_nothing_answers_404),
    };
    const struct CMUnitTest ping_tests[] = {
        T(no_ping_stops_the_server_pings),
        T(ignore_pongs_closes_the_connection_at_the_pong_deadline),
    };
    if (getenv("CMOCKA_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("CMOCKA_TEST_FILTER"));
    int failed = 0;
    failed += cmocka_run_group_tests_name("faults", fault_tests, faults_setup, stop_group);
    failed += cmocka_run_group_tests_name("ping faults", ping_tests, ping_setup, stop_group);
    return failed ? 1 : 0;
}
