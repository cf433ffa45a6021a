/*
 * tc_mode_sync.c — `bookcast-testclient sync`: one local order book kept exactly as Binance's
 * documentation says (tc_sync.h), checked against the sim's true book at the same update id.
 *
 * The run: open the diff depth stream; on the first event, GET the REST snapshot while events
 * buffer; apply the rules; every duration/checks ms, and at the end, copy the local book's top
 * levels and ask GET /_sim/book?symbol=S&update_id=<local id> for the truth, then compare
 * (tc_check.h). A lost stream resets the book and reconnects; a broken chain fetches a new
 * snapshot. Result lines (stdout or --out):
 *
 *     compare top <K> levels per side within the snapshot's price range
 *     open <ws url>
 *     snapshot lastUpdateId <id> bids <n> asks <m>
 *     retry snapshot: <reason>                   snapshot older than the buffered stream
 *     synced lastUpdateId <id> buffered <n> applied <m>
 *     ignored <reason>                           a stale duplicate after the chain started
 *     resync <reason>                            the rules (or a lost stream) forced a resync
 *     check <n> update_id <id> levels <b>/<a> equal
 *     check <n> update_id <id> MISMATCH <first difference>
 *     check <n> update_id <id> ERROR <why>       the truth could not be read
 *     check skipped: <why>
 *     error <what>                               connection and protocol errors
 *     summary checks <n> equal <e> mismatched <m> errors <x> resyncs <r> exit <status>
 *
 * Exit status: 0 every check equal and at least one ran (with --expect-resync: also at least
 * one resync, followed by an equal check); 1 it never synced because of connection errors, a
 * truth request failed, or the run ran out of memory; 2 usage; 3 a mismatch; 4 never synced, or
 * not synced at the end; 5 --expect-resync and no resync happened, or no equal check followed
 * the last one. Errors the book survives (a malformed frame, a 5xx or 429 snapshot, a lost
 * stream that reconnects) are written as "error" lines and counted in the summary, and the
 * checks decide: the book is what a test judges.
 */
#include "tc_args.h"
#include "tc_check.h"
#include "tc_depth.h"
#include "tc_http.h"
#include "tc_modes.h"
#include "tc_net.h"
#include "tc_out.h"
#include "tc_sync.h"
#include "tc_ws.h"

#include "envelope.h"
#include "log.h"
#include "now.h"
#include "signals.h"

#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define SYNC_EXIT_MISMATCH 3
#define SYNC_EXIT_NOT_SYNCED 4
#define SYNC_EXIT_NO_RESYNC 5

#define SYNC_TICK_MS 10
#define FINAL_SYNC_GRACE_MS 3000    /* at the end, how long a resyncing book may take to sync */
#define CLOSE_GRACE_MS 1000         /* how long the server gets to answer our close frame */
#define RECONNECT_DELAY_MS 500      /* after a lost stream */
#define CONNECT_RETRY_MS 1000       /* after a failed connect or snapshot request */
#define SNAPSHOT_RETRY_FIRST_MS 100 /* a too-old snapshot: retry soon, then back off */
#define SNAPSHOT_RETRY_MAX_MS 2000
#define SPOT_DEPTH_MAX 5000 /* /api/v3/depth returns at most 5000 levels (binance-protocol §4) */
#define FUTURES_DEPTH_MAX 1000 /* /fapi|dapi/v1/depth: at most 1000 */

typedef enum { PHASE_RUN, PHASE_FINAL_WAIT_SYNC, PHASE_FINAL_WAIT_CHECK, PHASE_CLOSING } phase_t;

typedef struct {
    /* options */
    market_t market;
    const char *host;
    int port;
    bool tls;
    const char *ca_file;
    const char *symbol;
    const char *speed;
    int64_t limit;
    int64_t duration_ms;
    int64_t checks;
    int64_t compare_levels;
    bool expect_resync;
    /* derived */
    tc_url_t ws_url;
    tc_url_t snapshot_url;
    size_t depth_limit;
    /* machinery */
    tc_net_t *net;
    tc_out_t out;
    tc_sync_t *sync;
    phase_t phase;
    int64_t start_ms;
    int64_t end_ms;
    int64_t phase_deadline_ms;
    /* the stream */
    tc_ws_t *ws;
    int64_t reconnect_at_ms; /* 0: none scheduled */
    uint64_t generation;     /* bumped when the stream is lost: older snapshots are void */
    /* snapshots */
    bool snapshot_inflight;
    uint64_t snapshot_generation;
    int64_t snapshot_at_ms; /* 0: none scheduled */
    int64_t snapshot_backoff_ms;
    /* checks */
    int64_t check_period_ms;
    int64_t next_check_ms;
    int64_t periodic_checks_done;
    bool check_inflight;
    int check_number;
    int check_resyncs_at_issue;
    tc_check_view_t check_view;
    bool final_check_skipped;
    /* results */
    int checks_equal;
    int checks_mismatched;
    int checks_failed;
    int resyncs;
    bool equal_after_last_resync;
    bool ever_synced;
    int connection_errors; /* failed connects and requests without a response */
    int protocol_errors;   /* malformed messages, snapshots, bad status: reported, survived */
    bool fatal;            /* out of memory: the run stopped early */
} sync_run_t;

static void close_run(sync_run_t *run, int64_t now_ms);
static void request_snapshot_now(sync_run_t *run);

/* True once the final check has been asked: the book it judges is captured, and what the stream
   does afterwards (a resync while the answer travels) must not change the verdict. */
static bool run_frozen(const sync_run_t *run)
{
    return run->phase == PHASE_FINAL_WAIT_CHECK || run->phase == PHASE_CLOSING;
}

/* ---- the stream ---- */

static void note_resync(sync_run_t *run, const char *reason)
{
    tc_out_line(&run->out, "resync %s", reason);
    run->resyncs++;
    run->equal_after_last_resync = false;
}

/* Acts on what the rules said about an event or a snapshot. */
static void handle_step(sync_run_t *run, const tc_step_result_t *step)
{
    switch (step->step) {
    case TC_STEP_BUFFERED:
    case TC_STEP_APPLIED:
        break;
    case TC_STEP_IGNORED:
        if (step->reason[0] != '\0')
            tc_out_line(&run->out, "ignored %s", step->reason);
        break;
    case TC_STEP_RESYNC:
        note_resync(run, step->reason);
        break;
    case TC_STEP_SNAPSHOT_OLD:
        tc_out_line(&run->out, "retry snapshot: %s", step->reason);
        run->snapshot_at_ms = now_monotonic_ms() + run->snapshot_backoff_ms;
        run->snapshot_backoff_ms *= 2;
        if (run->snapshot_backoff_ms > SNAPSHOT_RETRY_MAX_MS)
            run->snapshot_backoff_ms = SNAPSHOT_RETRY_MAX_MS;
        break;
    case TC_STEP_SYNCED:
        tc_out_line(&run->out, "synced lastUpdateId %" PRIu64 " buffered %zu applied %zu",
                    step->snapshot_id, step->buffered, step->applied);
        run->ever_synced = true;
        run->snapshot_backoff_ms = SNAPSHOT_RETRY_FIRST_MS;
        break;
    case TC_STEP_FAILED:
        tc_out_line(&run->out, "error %s", step->reason);
        log_error("%s", step->reason);
        run->fatal = true;
        close_run(run, now_monotonic_ms());
        return;
    }
    if (tc_sync_state(run->sync) == TC_SYNC_NEED_SNAPSHOT && !run->snapshot_inflight &&
        run->snapshot_at_ms == 0)
        request_snapshot_now(run);
}

static void on_ws_open(void *arg, tc_ws_t *ws, int64_t recv_ns)
{
    (void)ws;
    (void)recv_ns;
    sync_run_t *run = arg;
    char url[TC_URL_PATH_MAX + 300];
    tc_url_format(&run->ws_url, url, sizeof url);
    tc_out_line(&run->out, "open %s", url);
}

static void on_ws_text(void *arg, tc_ws_t *ws, int64_t recv_ns, const char *payload, size_t len)
{
    (void)ws;
    (void)recv_ns;
    sync_run_t *run = arg;
    if (run_frozen(run))
        return;
    tc_depth_event_t ev;
    char err[256];
    tc_parse_t parsed = tc_depth_parse_event(payload, len, run->symbol, run->market != MARKET_SPOT,
                                             &ev, err, sizeof err);
    if (parsed == TC_PARSE_OTHER)
        return;
    if (parsed == TC_PARSE_BAD) {
        run->protocol_errors++;
        tc_out_line(&run->out, "error malformed stream message: %s", err);
        log_error("malformed stream message (%s): %.200s", err, payload);
        return;
    }
    tc_step_result_t step;
    tc_sync_on_event(run->sync, &ev, &step);
    handle_step(run, &step);
}

static void on_ws_binary(void *arg, tc_ws_t *ws, int64_t recv_ns, size_t len)
{
    (void)ws;
    (void)recv_ns;
    sync_run_t *run = arg;
    run->protocol_errors++;
    tc_out_line(&run->out, "error unexpected %zu-byte binary message", len);
}

static void on_ws_peer_close(void *arg, tc_ws_t *ws, int64_t recv_ns, int code, const char *reason,
                             size_t reason_len)
{
    (void)ws;
    (void)recv_ns;
    sync_run_t *run = arg;
    tc_out_line(&run->out, "close %d %.*s", code, (int)(reason_len > 123 ? 123 : reason_len),
                reason);
}

/* The stream is gone: the book cannot be trusted past this point. */
static void stream_lost(sync_run_t *run, const char *why)
{
    run->ws = NULL;
    if (run_frozen(run))
        return;
    if (tc_sync_state(run->sync) != TC_SYNC_WAITING || run->ever_synced) {
        char reason[300];
        snprintf(reason, sizeof reason, "stream lost: %s", why);
        note_resync(run, reason);
    }
    tc_sync_reset(run->sync);
    run->generation++;
    run->snapshot_at_ms = 0;
    run->reconnect_at_ms = now_monotonic_ms() + RECONNECT_DELAY_MS;
}

static void on_ws_error(void *arg, tc_ws_t *ws, int64_t recv_ns, int http_status, const char *text)
{
    (void)ws;
    (void)recv_ns;
    sync_run_t *run = arg;
    run->connection_errors++;
    if (http_status > 0)
        tc_out_line(&run->out, "error websocket: http %d: %s", http_status, text);
    else
        tc_out_line(&run->out, "error websocket: %s", text);
    stream_lost(run, "connect failed");
    run->reconnect_at_ms = now_monotonic_ms() + CONNECT_RETRY_MS;
}

static void on_ws_closed(void *arg, tc_ws_t *ws, int64_t recv_ns)
{
    (void)ws;
    (void)recv_ns;
    stream_lost(arg, "connection closed");
}

static const tc_ws_events_t SYNC_WS_EVENTS = {
    .on_open = on_ws_open,
    .on_text = on_ws_text,
    .on_binary = on_ws_binary,
    .on_peer_close = on_ws_peer_close,
    .on_error = on_ws_error,
    .on_closed = on_ws_closed,
};

static void open_stream(sync_run_t *run)
{
    run->reconnect_at_ms = 0;
    run->ws = tc_ws_open(run->net, &run->ws_url, &SYNC_WS_EVENTS, run);
    if (run->ws == NULL) {
        run->fatal = true; /* out of memory, reported */
        close_run(run, now_monotonic_ms());
    }
}

/* ---- snapshots ---- */

static void on_snapshot(void *arg, tc_http_t *request, const tc_http_response_t *resp)
{
    (void)request;
    sync_run_t *run = arg;
    run->snapshot_inflight = false;
    if (run->snapshot_generation != run->generation || run_frozen(run))
        return; /* asked for a stream that has since been lost */
    int64_t now_ms = now_monotonic_ms();
    if (resp->status == 0) {
        run->connection_errors++;
        tc_out_line(&run->out, "error snapshot: %s", resp->error);
        run->snapshot_at_ms = now_ms + CONNECT_RETRY_MS;
        return;
    }
    if (resp->status != 200) {
        int64_t wait_ms = CONNECT_RETRY_MS;
        if (resp->header_present[TC_HDR_RETRY_AFTER])
            wait_ms = atoll(resp->header[TC_HDR_RETRY_AFTER]) * 1000;
        run->protocol_errors++;
        tc_out_line(&run->out, "error snapshot: http %d (retry in %" PRId64 " ms): %.200s",
                    resp->status, wait_ms, resp->body);
        run->snapshot_at_ms = now_ms + (wait_ms > 0 ? wait_ms : CONNECT_RETRY_MS);
        return;
    }
    tc_book_json_t snapshot;
    char err[256];
    if (tc_depth_parse_book(resp->body, resp->body_len, "lastUpdateId", NULL, &snapshot, err,
                            sizeof err) != 0) {
        run->protocol_errors++;
        tc_out_line(&run->out, "error malformed snapshot: %s", err);
        run->snapshot_at_ms = now_ms + CONNECT_RETRY_MS;
        return;
    }
    tc_out_line(&run->out, "snapshot lastUpdateId %" PRIu64 " bids %zu asks %zu",
                snapshot.update_id, snapshot.bids.n, snapshot.asks.n);
    tc_step_result_t step;
    tc_sync_on_snapshot(run->sync, &snapshot, run->depth_limit, &step);
    tc_book_json_free(&snapshot);
    handle_step(run, &step);
}

static void request_snapshot_now(sync_run_t *run)
{
    run->snapshot_at_ms = 0;
    run->snapshot_inflight = true;
    run->snapshot_generation = run->generation;
    if (tc_http_get(run->net, &run->snapshot_url, on_snapshot, run) == NULL) {
        run->snapshot_inflight = false;
        run->fatal = true; /* out of memory, reported */
        close_run(run, now_monotonic_ms());
    }
}

/* ---- checks ---- */

static void on_truth(void *arg, tc_http_t *request, const tc_http_response_t *resp)
{
    (void)request;
    sync_run_t *run = arg;
    run->check_inflight = false;
    const uint64_t id = run->check_view.update_id;
    tc_book_json_t truth;
    char err[256];
    if (resp->status != 200) {
        run->checks_failed++;
        if (resp->status == 0)
            tc_out_line(&run->out, "check %d update_id %" PRIu64 " ERROR %s", run->check_number, id,
                        resp->error);
        else
            tc_out_line(&run->out, "check %d update_id %" PRIu64 " ERROR http %d: %.200s",
                        run->check_number, id, resp->status, resp->body);
    } else if (tc_depth_parse_book(resp->body, resp->body_len, "update_id", run->symbol, &truth,
                                   err, sizeof err) != 0) {
        run->checks_failed++;
        tc_out_line(&run->out, "check %d update_id %" PRIu64 " ERROR malformed truth: %s",
                    run->check_number, id, err);
    } else {
        tc_check_result_t result;
        if (truth.update_id != id) {
            result.equal = false;
            snprintf(result.difference, sizeof result.difference,
                     "truth answered for update_id %" PRIu64, truth.update_id);
        } else {
            tc_check_compare(&run->check_view, &truth.bids, &truth.asks,
                             (size_t)run->compare_levels, &result);
        }
        tc_book_json_free(&truth);
        if (result.equal) {
            run->checks_equal++;
            if (run->check_resyncs_at_issue == run->resyncs)
                run->equal_after_last_resync = true;
            tc_out_line(&run->out, "check %d update_id %" PRIu64 " levels %zu/%zu equal",
                        run->check_number, id, result.bids_compared, result.asks_compared);
        } else {
            run->checks_mismatched++;
            tc_out_line(&run->out, "check %d update_id %" PRIu64 " MISMATCH %s", run->check_number,
                        id, result.difference);
        }
    }
    tc_check_view_free(&run->check_view);
}

/* Copies the local book and asks for the truth at its id. Returns false when it could not. */
static bool start_check(sync_run_t *run)
{
    if (tc_sync_state(run->sync) != TC_SYNC_SYNCED) {
        tc_out_line(&run->out, "check skipped: book not synced");
        return false;
    }
    if (run->check_inflight) {
        tc_out_line(&run->out, "check skipped: the previous check is still waiting");
        return false;
    }
    uint64_t id = tc_sync_book_id(run->sync);
    if (tc_check_capture(tc_sync_book(run->sync), id, (size_t)run->compare_levels,
                         &run->check_view) != 0) {
        log_error("out of memory copying the book for a check");
        return false;
    }
    char path[512], err[128];
    snprintf(path, sizeof path, "/_sim/book?symbol=%s&update_id=%" PRIu64, run->symbol, id);
    tc_url_t url;
    if (tc_url_make(&url, run->tls, false, run->host, run->port, path, err, sizeof err) != 0) {
        log_error("truth URL: %s", err);
        tc_check_view_free(&run->check_view);
        return false;
    }
    run->check_number++;
    run->check_inflight = true;
    run->check_resyncs_at_issue = run->resyncs;
    if (tc_http_get(run->net, &url, on_truth, run) == NULL) {
        run->check_inflight = false;
        tc_check_view_free(&run->check_view);
        return false;
    }
    return true;
}

/* ---- the loop ---- */

static void close_run(sync_run_t *run, int64_t now_ms)
{
    if (run->phase == PHASE_CLOSING)
        return;
    run->phase = PHASE_CLOSING;
    run->phase_deadline_ms = now_ms + CLOSE_GRACE_MS;
    if (run->ws != NULL)
        tc_ws_close(run->ws, LWS_CLOSE_STATUS_NORMAL);
}

static void tick_periodic_checks(sync_run_t *run, int64_t now_ms)
{
    while (run->periodic_checks_done < run->checks - 1 && now_ms >= run->next_check_ms) {
        run->periodic_checks_done++;
        run->next_check_ms += run->check_period_ms;
        start_check(run);
    }
}

static void sync_tick(void *arg)
{
    sync_run_t *run = arg;
    int64_t now_ms = now_monotonic_ms();
    if (signals_stop_requested() && run->phase == PHASE_RUN)
        run->end_ms = now_ms;
    if (!run_frozen(run)) {
        if (run->reconnect_at_ms != 0 && now_ms >= run->reconnect_at_ms)
            open_stream(run);
        if (run->snapshot_at_ms != 0 && now_ms >= run->snapshot_at_ms && !run->snapshot_inflight)
            request_snapshot_now(run);
    }
    switch (run->phase) {
    case PHASE_RUN:
        tick_periodic_checks(run, now_ms);
        if (now_ms >= run->end_ms) {
            run->phase = PHASE_FINAL_WAIT_SYNC;
            run->phase_deadline_ms = now_ms + FINAL_SYNC_GRACE_MS;
        }
        break;
    case PHASE_FINAL_WAIT_SYNC:
        if (run->check_inflight)
            break; /* let the last periodic check answer first */
        if (tc_sync_state(run->sync) == TC_SYNC_SYNCED) {
            if (start_check(run))
                run->phase = PHASE_FINAL_WAIT_CHECK;
            else
                close_run(run, now_ms);
        } else if (now_ms >= run->phase_deadline_ms) {
            tc_out_line(&run->out, "check skipped: book not synced at the end");
            run->final_check_skipped = true;
            close_run(run, now_ms);
        }
        break;
    case PHASE_FINAL_WAIT_CHECK:
        if (!run->check_inflight)
            close_run(run, now_ms);
        break;
    case PHASE_CLOSING:
        if (!run->check_inflight && !run->snapshot_inflight &&
            (run->ws == NULL || tc_ws_has_ended(run->ws) || now_ms >= run->phase_deadline_ms))
            tc_net_stop(run->net);
        else if (now_ms >= run->phase_deadline_ms + 15000)
            tc_net_stop(run->net); /* requests stuck past lws's own timeouts */
        break;
    }
}

static int exit_status(const sync_run_t *run)
{
    if (run->checks_mismatched > 0)
        return SYNC_EXIT_MISMATCH;
    if (!run->ever_synced)
        return run->connection_errors > 0 ? TC_EXIT_FAILED : SYNC_EXIT_NOT_SYNCED;
    if (run->checks_failed > 0 || run->fatal)
        return TC_EXIT_FAILED;
    if (run->final_check_skipped || run->checks_equal == 0)
        return SYNC_EXIT_NOT_SYNCED;
    if (run->expect_resync && !(run->resyncs > 0 && run->equal_after_last_resync))
        return SYNC_EXIT_NO_RESYNC;
    return TC_EXIT_OK;
}

/* ---- options ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bookcast-testclient sync --market spot|usdm|coinm --symbol SYMBOL\n"
            "         [--host 127.0.0.1] [--port N] [--ca FILE | --no-tls] [--speed 100ms]\n"
            "         [--limit 1000] [--duration-ms 5000] [--checks 5] [--compare-levels K]\n"
            "         [--expect-resync] [--out FILE]\n"
            "Keeps a local book from the diff depth stream and the REST snapshot by Binance's\n"
            "rules, and compares it with GET /_sim/book at the book's update id every\n"
            "duration/checks ms and at the end: the top K levels per side (default\n"
            "min(limit, 100)) within the snapshot's price range. --speed sets the stream suffix\n"
            "(<symbol>@depth@<speed>; \"default\" for plain @depth). Default port: spot 7443,\n"
            "usdm 7444, coinm 7445.\n"
            "Exit status: 0 all checks equal (>= 1), 1 never connected / truth unreadable,\n"
            "2 usage, 3 mismatch, 4 never synced or not synced at the end, 5 --expect-resync\n"
            "unmet (no resync, or no equal check after the last one).\n");
}

/* Builds the stream and snapshot URLs from the options. */
static int build_urls(sync_run_t *run)
{
    char lower[64], path[512], err[128];
    size_t n = strlen(run->symbol);
    if (n == 0 || n >= sizeof lower) {
        tc_arg_error("sync: --symbol must be 1..63 characters");
        return -1;
    }
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)run->symbol[i]);
    const char *ws_prefix = run->market == MARKET_USDM ? "/public/stream" : "/stream";
    const char *rest_path = run->market == MARKET_SPOT   ? "/api/v3/depth"
                            : run->market == MARKET_USDM ? "/fapi/v1/depth"
                                                         : "/dapi/v1/depth";
    bool plain_depth = strcmp(run->speed, "default") == 0 || run->speed[0] == '\0';
    snprintf(path, sizeof path, "%s?streams=%s@depth%s%s", ws_prefix, lower, plain_depth ? "" : "@",
             plain_depth ? "" : run->speed);
    if (tc_url_make(&run->ws_url, run->tls, true, run->host, run->port, path, err, sizeof err))
        goto bad;
    snprintf(path, sizeof path, "%s?symbol=%s&limit=%" PRId64, rest_path, run->symbol, run->limit);
    if (tc_url_make(&run->snapshot_url, run->tls, false, run->host, run->port, path, err,
                    sizeof err))
        goto bad;
    return 0;
bad:
    tc_arg_error("sync: %s", err);
    return -1;
}

/* Parses the options into *run. Returns -1 to run, else the exit status. */
static int parse_options(sync_run_t *run, int argc, char **argv, const char **out_path)
{
    static const struct option OPTIONS[] = {
        {"market", required_argument, NULL, 'm'},
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"ca", required_argument, NULL, 'c'},
        {"no-tls", no_argument, NULL, 'n'},
        {"symbol", required_argument, NULL, 's'},
        {"speed", required_argument, NULL, 'v'},
        {"limit", required_argument, NULL, 'l'},
        {"duration-ms", required_argument, NULL, 'd'},
        {"checks", required_argument, NULL, 'k'},
        {"compare-levels", required_argument, NULL, 'K'},
        {"expect-resync", no_argument, NULL, 'r'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *market = NULL;
    int64_t port = 0;
    bool no_tls = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", OPTIONS, NULL)) != -1) {
        switch (opt) {
        case 'm':
            market = optarg;
            break;
        case 'H':
            run->host = optarg;
            break;
        case 'p':
            if (tc_arg_i64("--port", optarg, 1, 65535, &port))
                return TC_EXIT_USAGE;
            break;
        case 'c':
            run->ca_file = optarg;
            break;
        case 'n':
            no_tls = true;
            break;
        case 's':
            run->symbol = optarg;
            break;
        case 'v':
            run->speed = optarg;
            break;
        case 'l':
            if (tc_arg_i64("--limit", optarg, 1, 5000, &run->limit))
                return TC_EXIT_USAGE;
            break;
        case 'd':
            if (tc_arg_i64("--duration-ms", optarg, 1, INT64_MAX / 4, &run->duration_ms))
                return TC_EXIT_USAGE;
            break;
        case 'k':
            if (tc_arg_i64("--checks", optarg, 1, 100000, &run->checks))
                return TC_EXIT_USAGE;
            break;
        case 'K':
            if (tc_arg_i64("--compare-levels", optarg, 1, 1000000, &run->compare_levels))
                return TC_EXIT_USAGE;
            break;
        case 'r':
            run->expect_resync = true;
            break;
        case 'o':
            *out_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return TC_EXIT_OK;
        default:
            usage(stderr);
            return TC_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        tc_arg_error("sync: unexpected argument \"%s\"", argv[optind]);
        return TC_EXIT_USAGE;
    }
    if (market == NULL || market_parse(market, &run->market) != 0) {
        tc_arg_error("sync: --market must be spot, usdm or coinm");
        return TC_EXIT_USAGE;
    }
    if (run->symbol == NULL) {
        tc_arg_error("sync: --symbol is required");
        return TC_EXIT_USAGE;
    }
    run->port = port ? (int)port : 7442 + (int)run->market;
    run->tls = !no_tls;
    if (run->tls && run->ca_file == NULL) {
        tc_arg_error("sync: --ca FILE is required (or --no-tls for a sim without TLS)");
        return TC_EXIT_USAGE;
    }
    size_t market_max = run->market == MARKET_SPOT ? SPOT_DEPTH_MAX : FUTURES_DEPTH_MAX;
    run->depth_limit = (size_t)run->limit < market_max ? (size_t)run->limit : market_max;
    if (run->compare_levels == 0)
        run->compare_levels = run->limit < 100 ? run->limit : 100;
    if (build_urls(run) != 0 || tc_arg_check_tls(&run->ws_url, run->ca_file, no_tls) != 0)
        return TC_EXIT_USAGE;
    return -1;
}

int tc_mode_sync(int argc, char **argv)
{
    sync_run_t run;
    memset(&run, 0, sizeof run);
    run.host = "127.0.0.1";
    run.speed = "100ms";
    run.limit = 1000;
    run.duration_ms = 5000;
    run.checks = 5;
    const char *out_path = NULL;
    int status = parse_options(&run, argc, argv, &out_path);
    if (status >= 0)
        return status;
    if (tc_out_open(&run.out, out_path) != 0)
        return TC_EXIT_FAILED;
    run.sync = tc_sync_new(run.market == MARKET_SPOT ? TC_RULES_SPOT : TC_RULES_FUTURES);
    if (run.sync == NULL)
        log_error("out of memory creating the order book");
    run.net = run.sync ? tc_net_new(run.tls ? run.ca_file : NULL) : NULL;
    if (run.net == NULL) {
        tc_sync_destroy(&run.sync);
        tc_out_close(&run.out);
        return TC_EXIT_FAILED;
    }
    tc_out_line(&run.out,
                "compare top %" PRId64 " levels per side within the snapshot's price range",
                run.compare_levels);
    run.start_ms = now_monotonic_ms();
    run.end_ms = run.start_ms + run.duration_ms;
    run.check_period_ms = run.duration_ms / run.checks;
    if (run.check_period_ms < 1)
        run.check_period_ms = 1;
    run.next_check_ms = run.start_ms + run.check_period_ms;
    run.snapshot_backoff_ms = SNAPSHOT_RETRY_FIRST_MS;
    open_stream(&run);
    int run_rc = tc_net_run(run.net, SYNC_TICK_MS, sync_tick, &run);
    tc_net_destroy(&run.net);
    tc_check_view_free(&run.check_view);
    tc_sync_destroy(&run.sync);
    status = run_rc == 0 ? exit_status(&run) : TC_EXIT_FAILED;
    tc_out_line(&run.out, "summary checks %d equal %d mismatched %d errors %d resyncs %d exit %d",
                run.check_number, run.checks_equal, run.checks_mismatched,
                run.checks_failed + run.connection_errors + run.protocol_errors, run.resyncs,
                status);
    if (tc_out_close(&run.out) != 0 && status == TC_EXIT_OK)
        status = TC_EXIT_FAILED;
    return status;
}
