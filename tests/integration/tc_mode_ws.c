/*
 * tc_mode_ws.c — `bookcast-testclient ws`: connect to a WebSocket URL, send the given text
 * messages, and write one line per event, so an integration test can assert on exactly what the
 * sim sent and when:
 *
 *     <recv_ns> open
 *     <recv_ns> text <payload as received>
 *     <recv_ns> binary <length>
 *     <recv_ns> close <code> <reason>       the server's close frame
 *     <recv_ns> error [http <status>: ]<text>  it never opened (refused, TLS, handshake status)
 *     <recv_ns> closed                      the socket ended after it had opened
 *
 * With --connect-count N > 1 the connections are opened one after another (the next starts when
 * the previous has opened or failed), every line carries "[i] " (i = 1..N) after the time, and
 * every opened connection stays open; without --duration-ms the run ends once all N attempts
 * have an outcome. That is what a test of the per-IP connection-attempt limit needs.
 */
#include "tc_args.h"
#include "tc_modes.h"
#include "tc_net.h"
#include "tc_out.h"
#include "tc_ws.h"

#include "log.h"
#include "now.h"
#include "signals.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define WS_TICK_MS 5
#define WS_CLOSE_GRACE_MS 1000 /* how long the server gets to answer our close frame */
#define WS_MAX_CONNECTIONS 10000

typedef struct ws_run ws_run_t;

typedef struct {
    ws_run_t *run;
    int index; /* 1-based */
    tc_ws_t *ws;
    bool resolved; /* opened or failed */
    size_t next_send;
    int64_t next_send_ms;
} ws_slot_t;

struct ws_run {
    /* options */
    tc_url_t url;
    const char **sends;
    size_t send_count;
    int64_t send_interval_ms;
    int64_t duration_ms;
    int64_t max_frames;
    int connect_count;
    /* state */
    tc_net_t *net;
    tc_out_t out;
    ws_slot_t *slots;
    int started;
    int opened;
    int64_t text_frames;
    int64_t start_ms;
    bool closing;
    int64_t close_deadline_ms;
};

/* "<ns> " or "<ns> [i] " in front of every line. */
static void line_head(const ws_slot_t *slot, int64_t recv_ns, const char *kind, char *buf,
                      size_t len)
{
    if (slot->run->connect_count > 1)
        snprintf(buf, len, "%" PRId64 " [%d] %s", recv_ns, slot->index, kind);
    else
        snprintf(buf, len, "%" PRId64 " %s", recv_ns, kind);
}

static void write_line(ws_slot_t *slot, int64_t recv_ns, const char *kind, const char *rest,
                       size_t rest_len)
{
    char head[96];
    line_head(slot, recv_ns, kind, head, sizeof head);
    if (rest == NULL)
        tc_out_line(&slot->run->out, "%s", head);
    else
        tc_out_payload(&slot->run->out, head, rest, rest_len);
}

/* Queues the sends that are due: all of them with no interval, else the next one. */
static void send_due(ws_slot_t *slot, int64_t now_ms)
{
    ws_run_t *run = slot->run;
    while (slot->next_send < run->send_count && now_ms >= slot->next_send_ms &&
           tc_ws_is_open(slot->ws)) {
        const char *msg = run->sends[slot->next_send++];
        if (tc_ws_send_text(slot->ws, msg, strlen(msg)) != 0)
            log_error("connection %d: could not queue --send message", slot->index);
        if (run->send_interval_ms > 0) {
            slot->next_send_ms = now_ms + run->send_interval_ms;
            break;
        }
    }
}

static void on_open(void *arg, tc_ws_t *ws, int64_t recv_ns)
{
    ws_slot_t *slot = arg;
    slot->ws = ws;
    slot->resolved = true;
    slot->run->opened++;
    write_line(slot, recv_ns, "open", NULL, 0);
    slot->next_send_ms = now_monotonic_ms();
    send_due(slot, slot->next_send_ms);
}

static void on_text(void *arg, tc_ws_t *ws, int64_t recv_ns, const char *payload, size_t len)
{
    (void)ws;
    ws_slot_t *slot = arg;
    ws_run_t *run = slot->run;
    if (run->max_frames > 0 && run->text_frames >= run->max_frames)
        return; /* the run is closing; print exactly --max-frames frames */
    run->text_frames++;
    write_line(slot, recv_ns, "text", payload, len);
}

static void on_binary(void *arg, tc_ws_t *ws, int64_t recv_ns, size_t len)
{
    (void)ws;
    char rest[32];
    int n = snprintf(rest, sizeof rest, "%zu", len);
    write_line(arg, recv_ns, "binary", rest, (size_t)n);
}

static void on_peer_close(void *arg, tc_ws_t *ws, int64_t recv_ns, int code, const char *reason,
                          size_t reason_len)
{
    (void)ws;
    char rest[160];
    int shown = (int)(reason_len > 123 ? 123 : reason_len); /* a close reason is <= 123 bytes */
    int n = shown > 0 ? snprintf(rest, sizeof rest, "%d %.*s", code, shown, reason)
                      : snprintf(rest, sizeof rest, "%d", code);
    write_line(arg, recv_ns, "close", rest, (size_t)n);
}

static void on_error(void *arg, tc_ws_t *ws, int64_t recv_ns, int http_status, const char *text)
{
    (void)ws;
    ws_slot_t *slot = arg;
    slot->resolved = true;
    char rest[600];
    int n = http_status > 0 ? snprintf(rest, sizeof rest, "http %d: %s", http_status, text)
                            : snprintf(rest, sizeof rest, "%s", text);
    write_line(slot, recv_ns, "error", rest, (size_t)n);
    log_warn("connection %d failed: %s", slot->index, rest);
}

static void on_closed(void *arg, tc_ws_t *ws, int64_t recv_ns)
{
    (void)ws;
    write_line(arg, recv_ns, "closed", NULL, 0);
}

static const tc_ws_events_t WS_EVENTS = {
    .on_open = on_open,
    .on_text = on_text,
    .on_binary = on_binary,
    .on_peer_close = on_peer_close,
    .on_error = on_error,
    .on_closed = on_closed,
};

static void start_next(ws_run_t *run)
{
    ws_slot_t *slot = &run->slots[run->started++];
    slot->run = run;
    slot->index = run->started;
    slot->ws = tc_ws_open(run->net, &run->url, &WS_EVENTS, slot);
    if (slot->ws == NULL) {
        slot->resolved = true; /* out of memory, already reported */
        run->connect_count = run->started;
    }
}

static bool all_ended(const ws_run_t *run)
{
    for (int i = 0; i < run->started; i++)
        if (run->slots[i].ws != NULL && !tc_ws_has_ended(run->slots[i].ws))
            return false;
    return true;
}

static bool all_resolved(const ws_run_t *run)
{
    for (int i = 0; i < run->started; i++)
        if (!run->slots[i].resolved)
            return false;
    return run->started == run->connect_count;
}

static void begin_closing(ws_run_t *run, int64_t now_ms)
{
    run->closing = true;
    run->close_deadline_ms = now_ms + WS_CLOSE_GRACE_MS;
    for (int i = 0; i < run->started; i++)
        if (run->slots[i].ws != NULL)
            tc_ws_close(run->slots[i].ws, LWS_CLOSE_STATUS_NORMAL);
}

/* Why the run should end now, or NULL to go on. */
static const char *stop_reason(const ws_run_t *run, int64_t now_ms)
{
    if (signals_stop_requested())
        return "signal";
    if (run->duration_ms > 0 && now_ms - run->start_ms >= run->duration_ms)
        return "duration";
    if (run->max_frames > 0 && run->text_frames >= run->max_frames)
        return "max-frames";
    if (run->started == run->connect_count && all_ended(run))
        return "connections ended";
    if (run->connect_count > 1 && run->duration_ms == 0 && all_resolved(run))
        return "all connection attempts done";
    return NULL;
}

static void ws_tick(void *arg)
{
    ws_run_t *run = arg;
    int64_t now_ms = now_monotonic_ms();
    if (run->closing) {
        if (all_ended(run) || now_ms >= run->close_deadline_ms)
            tc_net_stop(run->net);
        return;
    }
    const char *why = stop_reason(run, now_ms);
    if (why != NULL) {
        log_info("ending the run: %s", why);
        begin_closing(run, now_ms);
        return;
    }
    if (run->started < run->connect_count &&
        (run->started == 0 || run->slots[run->started - 1].resolved))
        start_next(run);
    for (int i = 0; i < run->started; i++)
        if (run->slots[i].ws != NULL)
            send_due(&run->slots[i], now_ms);
}

static void usage(FILE *f)
{
    fprintf(
        f, "usage: bookcast-testclient ws --url ws[s]://HOST:PORT/PATH [--ca FILE] [--no-tls]\n"
           "         [--send JSON]... [--send-interval-ms N] [--duration-ms N] [--max-frames N]\n"
           "         [--connect-count N] [--out FILE]\n"
           "Connects, sends each --send message after the open (all at once, or one per\n"
           "--send-interval-ms), and writes one line per event to --out (default stdout):\n"
           "  <recv_ns> open | text <payload> | binary <len> | close <code> <reason>\n"
           "  | error [http <status>: ]<text> | closed\n"
           "Ends after --duration-ms (0: until closed), --max-frames text messages, or when the\n"
           "connection ends. --connect-count N opens N connections one after another, lines\n"
           "prefixed \"[i] \"; without --duration-ms it ends when all N attempts have an outcome.\n"
           "Exit status: 0 a connection opened, 1 none did, 2 usage.\n");
}

/* Parses the options into *run. Returns -1 to run, else the exit status. */
static int parse_options(ws_run_t *run, int argc, char **argv, const char **ca_file,
                         const char **out_path)
{
    static const struct option OPTIONS[] = {
        {"url", required_argument, NULL, 'u'},
        {"ca", required_argument, NULL, 'c'},
        {"no-tls", no_argument, NULL, 'n'},
        {"send", required_argument, NULL, 's'},
        {"send-interval-ms", required_argument, NULL, 'i'},
        {"duration-ms", required_argument, NULL, 'd'},
        {"max-frames", required_argument, NULL, 'm'},
        {"connect-count", required_argument, NULL, 'k'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *url_text = NULL;
    bool no_tls = false;
    int64_t count = 1;
    char err[256];
    int opt;
    run->sends = calloc((size_t)argc, sizeof *run->sends);
    if (run->sends == NULL) {
        log_error("out of memory reading the options");
        return TC_EXIT_FAILED;
    }
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", OPTIONS, NULL)) != -1) {
        switch (opt) {
        case 'u':
            url_text = optarg;
            break;
        case 'c':
            *ca_file = optarg;
            break;
        case 'n':
            no_tls = true;
            break;
        case 's':
            run->sends[run->send_count++] = optarg;
            break;
        case 'i':
            if (tc_arg_i64("--send-interval-ms", optarg, 0, 3600000, &run->send_interval_ms))
                return TC_EXIT_USAGE;
            break;
        case 'd':
            if (tc_arg_i64("--duration-ms", optarg, 0, INT64_MAX / 2, &run->duration_ms))
                return TC_EXIT_USAGE;
            break;
        case 'm':
            if (tc_arg_i64("--max-frames", optarg, 0, INT64_MAX, &run->max_frames))
                return TC_EXIT_USAGE;
            break;
        case 'k':
            if (tc_arg_i64("--connect-count", optarg, 1, WS_MAX_CONNECTIONS, &count))
                return TC_EXIT_USAGE;
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
        tc_arg_error("ws: unexpected argument \"%s\"", argv[optind]);
        return TC_EXIT_USAGE;
    }
    if (url_text == NULL) {
        tc_arg_error("ws: --url is required");
        usage(stderr);
        return TC_EXIT_USAGE;
    }
    if (tc_url_parse(url_text, &run->url, err, sizeof err) != 0) {
        tc_arg_error("ws: %s", err);
        return TC_EXIT_USAGE;
    }
    if (!run->url.websocket) {
        tc_arg_error("ws: --url must be ws:// or wss://");
        return TC_EXIT_USAGE;
    }
    if (tc_arg_check_tls(&run->url, *ca_file, no_tls) != 0)
        return TC_EXIT_USAGE;
    run->connect_count = (int)count;
    return -1;
}

int tc_mode_ws(int argc, char **argv)
{
    ws_run_t run;
    memset(&run, 0, sizeof run);
    const char *ca_file = NULL;
    const char *out_path = NULL;
    int status = parse_options(&run, argc, argv, &ca_file, &out_path);
    if (status >= 0) {
        free(run.sends);
        return status;
    }
    run.slots = calloc((size_t)run.connect_count, sizeof *run.slots);
    if (run.slots == NULL)
        log_error("out of memory for %d connections", run.connect_count);
    if (run.slots == NULL || tc_out_open(&run.out, out_path) != 0) {
        free(run.slots);
        free(run.sends);
        return TC_EXIT_FAILED;
    }
    run.net = tc_net_new(run.url.tls ? ca_file : NULL);
    status = TC_EXIT_FAILED;
    if (run.net != NULL) {
        run.start_ms = now_monotonic_ms();
        if (tc_net_run(run.net, WS_TICK_MS, ws_tick, &run) == 0 && run.opened > 0)
            status = TC_EXIT_OK;
        tc_net_destroy(&run.net);
    }
    if (run.out.newlines_escaped > 0)
        log_warn("%" PRIu64 " newline(s) inside frames were written as \\n",
                 run.out.newlines_escaped);
    log_info("%d of %d connection(s) opened, %" PRId64 " text frame(s)", run.opened,
             run.connect_count, run.text_frames);
    if (tc_out_close(&run.out) != 0)
        status = TC_EXIT_FAILED;
    free(run.slots);
    free(run.sends);
    return status;
}
