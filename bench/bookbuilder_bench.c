/*
 * bookbuilder_bench.c — what the bookbuilder's data path costs: throughput, latency and memory.
 *
 * Usage: bookcast-bookbuilder-bench <results file> [seconds [part]]
 *
 * Every part runs unless one is named: memory, depth, mixed, throughput (depth and mixed) or
 * latency (one part alone is what a profiler should watch).
 *
 * No network and no collector: real Binance frames (the hftbacktest capture of USD-M BTCUSDT,
 * usdm_btcusdt_20240808.gz, converted by tests/integration/capture.c into the frames a collector
 * would have sent) are loaded into memory first, then given to builder_on_frame in this process,
 * exactly as the live loop hands over a frame it has just received. The builder is configured
 * with the production defaults (docs/config.md) and its clock is the wall clock, as in the
 * live process.
 *
 *   throughput  one core, back to back: the depth-only stream (CONN_UP, the REST snapshot and
 *               every @depth@0ms frame) replayed for `seconds`, then the whole capture (depth,
 *               trades, bookTicker). A book can only be replayed from its snapshot, so each pass
 *               starts a new builder; only the builder_on_frame calls are timed. Publishing
 *               counts messages and body bytes and sends nothing. CPU time (the process's) is
 *               measured over the same calls, so "per core" can be checked against wall time.
 *   latency     the depth-only stream paced at 20,000 frames/s for 5 s (busy-waiting on the
 *               monotonic clock): frame arrival → last publish of that frame, as the builder
 *               records it (builder_latency), first with the counting publisher, then with a real
 *               ZeroMQ PUB socket (bus_send, two parts, non-blocking, as the live process) read
 *               by a SUB socket in a thread of its own, where the arrival → receive time of
 *               every message is measured too. Also from the frame's scheduled time, which adds
 *               the wait behind a slower frame or a timer tick that arrival time hides.
 *   memory      1,000 spot books of 1,000 levels a side (synthetic: one diff event, then a
 *               snapshot with 1,000 bids and 1,000 asks), RSS and heap in use per book. Run
 *               first, before anything else has allocated and freed memory that new books could
 *               reuse without growing RSS.
 */
#include "builder.h"
#include "bus.h"
#include "capture.h"
#include "framefile.h"
#include "log.h"
#include "now.h"
#include "parse.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define DATA_DIR BOOKCAST_SOURCE_DIR "/tests/data/binance-real-data"
#define CAPTURE_SYMBOL "BTCUSDT"

/* The captures measured: the USD-M file (@depth@0ms, every change, up to ~1,200 levels a
   message) for every figure, the spot file (@depth@100ms, Binance's usual diff stream) for the
   depth throughput too. */
typedef struct {
    const char *file;
    market_t market;
    const char *label; /* prefix of its figures */
} capture_t;
static const capture_t usdm_capture = {"usdm_btcusdt_20240808.gz", MARKET_USDM, "depth_only"};
static const capture_t spot_capture = {"spot_btcusdt_20240808.gz", MARKET_SPOT, "spot_depth_only"};
static const capture_t *capture = &usdm_capture; /* the one loaded now */

#define PACED_RATE 20000 /* frames per second */
#define PACED_SECONDS 5
#define MEMORY_BOOKS 1000
#define MEMORY_LEVELS 1000       /* per side */
#define DATA_HWM 100000          /* bookbuilder.data_hwm's default */
#define ARRIVALS_SIZE (1u << 21) /* a power of two, above the messages of one paced run */

/* ---- output ---------------------------------------------------------------------------- */

static FILE *results;

/* One "name value unit" line, to stdout and the results file. */
static void figure(const char *name, double value, int decimals, const char *unit)
{
    printf("%s %.*f %s\n", name, decimals, value, unit);
    fprintf(results, "%s %.*f %s\n", name, decimals, value, unit);
}

/* A "# …" line, to both. */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("# %s\n", line);
    fprintf(results, "# %s\n", line);
}

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t realtime_clock(void *arg)
{
    (void)arg;
    return now_realtime_ns();
}

static void latency_merge(latency_t *into, const latency_t *from)
{
    for (size_t b = 0; b < LATENCY_BUCKETS; b++)
        into->counts[b] += from->counts[b];
    into->total += from->total;
    if (from->max_ns > into->max_ns)
        into->max_ns = from->max_ns;
}

/* p50, p99, p99.9 and max of h in microseconds, and how many `what` it holds. */
static void latency_figures(const char *prefix, const latency_t *h, const char *what)
{
    char name[128];
    static const struct {
        const char *suffix;
        double q;
    } quantiles[] = {{"p50", 0.50}, {"p99", 0.99}, {"p99_9", 0.999}};
    for (size_t i = 0; i < sizeof quantiles / sizeof quantiles[0]; i++) {
        snprintf(name, sizeof name, "%s_%s", prefix, quantiles[i].suffix);
        figure(name, (double)latency_quantile(h, quantiles[i].q) / 1e3, 2, "us");
    }
    snprintf(name, sizeof name, "%s_max", prefix);
    figure(name, (double)h->max_ns / 1e3, 2, "us");
    snprintf(name, sizeof name, "%s_samples", prefix);
    figure(name, (double)h->total, 0, what);
}

/* ---- the builder's configuration and publisher ----------------------------------------- */

static char capture_symbol[] = CAPTURE_SYMBOL;
static char *capture_symbols[] = {capture_symbol};

/* The defaults of docs/config.md, following the capture's symbol on USD-M, or every spot
   symbol. */
static builder_config_t production_config(bool all_spot)
{
    builder_config_t c = {
        .max_levels = 1000,
        .min_levels = 0,
        .buffer_max_events = 10000,
        .reorder_window_ms = 1000,
        .reorder_max_events = 64,
        .depth_levels = 20,
        .depth_interval_ms = 100,
        .bbo_check = true,
        .snapshot_timeout_ms = 30000,
        .snapshot_retry_base_ms = 250,
        .snapshot_retry_max_ms = 30000,
        .snapshot_inflight_max = 4,
        .max_books = 10000,
    };
    if (all_spot) {
        c.markets[MARKET_SPOT - 1] = (builder_market_t){.enabled = true, .all_symbols = true};
    } else {
        c.markets[capture->market - 1] =
            (builder_market_t){.enabled = true, .symbols = capture_symbols, .symbol_count = 1};
    }
    return c;
}

/* What the publish callback sees. With pub set, each message is also sent as the live process
   sends it, and its frame's arrival time is left in `arrivals` for the subscriber to read. */
typedef struct {
    uint64_t messages, bytes;
    zsock_t *pub;
    uint64_t sent, send_failures;
    int64_t arrival_ns; /* of the frame being processed; 0 during a timer tick */
    _Atomic int64_t *arrivals;
} sink_t;

static void sink_publish(void *arg, const char *topic, const char *body, size_t len)
{
    sink_t *s = arg;
    s->messages++;
    s->bytes += len;
    if (!s->pub)
        return;
    atomic_store_explicit(&s->arrivals[s->sent & (ARRIVALS_SIZE - 1)], s->arrival_ns,
                          memory_order_relaxed);
    if (bus_send(s->pub, topic, body, len) != 0)
        s->send_failures++;
    else
        s->sent++;
}

static builder_t *new_builder(const builder_config_t *cfg, sink_t *sink)
{
    builder_io_t io = {.publish = sink_publish, .clock_ns = realtime_clock, .arg = sink};
    builder_t *b = builder_new(cfg, &io);
    if (!b)
        fprintf(stderr, "bookbuilder-bench: out of memory for a builder\n");
    return b;
}

/* ---- memory per book -------------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
} text_t;

static void text_printf(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_printf(text_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < t->cap - t->len)
        t->len += (size_t)n;
    else
        t->len = t->cap; /* too small: the frame will not parse, and the check after says so */
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = -1;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = -1;
        fclose(f);
    }
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* Encodes one frame into frame[cap]; 0 when it does not fit or the header is refused. */
static size_t encode(const envelope_header_t *h, const text_t *payload, unsigned char *frame,
                     size_t cap)
{
    char err[160];
    size_t n = envelope_encode(h, payload->data, payload->len, frame, cap, err, sizeof err);
    if (n == 0)
        fprintf(stderr, "bookbuilder-bench: %s\n", err);
    return n;
}

/* Book i: a diff event (which creates the book and asks for a snapshot), then the snapshot it
   straddles (U = lastUpdateId + 1), so the book is synced with MEMORY_LEVELS levels a side. */
static int feed_synthetic_book(builder_t *b, unsigned i, text_t *payload, unsigned char *frame,
                               size_t cap)
{
    char symbol[16];
    snprintf(symbol, sizeof symbol, "SYM%04u", i);
    envelope_header_t h;
    envelope_header_init(&h, ENVELOPE_WS_TEXT, MARKET_SPOT);
    h.instance_id = 1;
    h.conn_id = 1;
    h.seq = 2 + i;
    h.recv_ts_ns = now_realtime_ns();
    payload->len = 0;
    text_printf(payload,
                "{\"stream\":\"sym%04u@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":"
                "1723100000000,\"s\":\"%s\",\"U\":1001,\"u\":1001,\"b\":[[\"1000.00\","
                "\"2.000\"]],\"a\":[]}}",
                i, symbol);
    size_t n = encode(&h, payload, frame, cap);
    if (n == 0)
        return -1;
    builder_on_frame(b, frame, n, now_realtime_ns());

    envelope_header_init(&h, ENVELOPE_SNAPSHOT, MARKET_SPOT);
    h.instance_id = 1;
    h.conn_id = ENVELOPE_CONN_NONE;
    h.seq = 1 + i;
    h.recv_ts_ns = now_realtime_ns();
    h.request_id = 1 + i;
    h.http_status = 200;
    snprintf(h.symbol, sizeof h.symbol, "%s", symbol);
    payload->len = 0;
    text_printf(payload, "{\"lastUpdateId\":1000,\"bids\":[");
    for (unsigned j = 0; j < MEMORY_LEVELS; j++) {
        unsigned cents = 100000 - j;
        text_printf(payload, "%s[\"%u.%02u\",\"1.000\"]", j ? "," : "", cents / 100, cents % 100);
    }
    text_printf(payload, "],\"asks\":[");
    for (unsigned j = 0; j < MEMORY_LEVELS; j++) {
        unsigned cents = 100001 + j;
        text_printf(payload, "%s[\"%u.%02u\",\"1.000\"]", j ? "," : "", cents / 100, cents % 100);
    }
    text_printf(payload, "]}");
    n = encode(&h, payload, frame, cap);
    if (n == 0)
        return -1;
    builder_on_frame(b, frame, n, now_realtime_ns());
    return 0;
}

static int run_memory(void)
{
    builder_config_t cfg = production_config(true);
    sink_t sink = {0};
    builder_t *b = new_builder(&cfg, &sink);
    text_t payload = {.cap = 128 * 1024};
    payload.data = malloc(payload.cap);
    size_t cap = ENVELOPE_MAX_HEADER_SIZE + payload.cap;
    unsigned char *frame = malloc(cap);
    int rc = -1;
    if (!b || !payload.data || !frame)
        goto done;
    /* The first book also grows what every book shares (the parser's level buffers, the output
       buffer that holds a whole book's JSON): measured from after it. */
    if (feed_synthetic_book(b, 0, &payload, frame, cap) != 0)
        goto done;
    long rss0 = rss_bytes();
    size_t heap0 = mallinfo2().uordblks;
    for (unsigned i = 1; i <= MEMORY_BOOKS; i++)
        if (feed_synthetic_book(b, i, &payload, frame, cap) != 0)
            goto done;
    long rss1 = rss_bytes();
    size_t heap1 = mallinfo2().uordblks;
    size_t states[3];
    builder_book_states(b, states);
    builder_book_view_t view;
    if (states[SYNC_SYNCED] != MEMORY_BOOKS + 1 ||
        builder_book(b, MARKET_SPOT, "SYM0000", &view) != 0 ||
        book_depth(view.book, BOOK_BID) != MEMORY_LEVELS ||
        book_depth(view.book, BOOK_ASK) != MEMORY_LEVELS) {
        fprintf(stderr, "bookbuilder-bench: memory: %zu of %d books synced with %d levels\n",
                states[SYNC_SYNCED], MEMORY_BOOKS + 1, MEMORY_LEVELS);
        goto done;
    }
    note("memory: %d spot books, %d levels a side, synced from a snapshot and one diff event",
         MEMORY_BOOKS, MEMORY_LEVELS);
    if (rss0 < 0 || rss1 < 0) {
        fprintf(stderr, "bookbuilder-bench: cannot read /proc/self/statm\n");
        goto done;
    }
    figure("memory_rss_per_book", (double)(rss1 - rss0) / MEMORY_BOOKS / 1024, 1, "KiB");
    figure("memory_heap_per_book", (double)(heap1 - heap0) / MEMORY_BOOKS / 1024, 1, "KiB");
    figure("memory_book_memory_bytes", (double)book_memory_bytes(view.book) / 1024, 1, "KiB");
    figure("memory_levels_payload_per_book",
           (double)(2 * MEMORY_LEVELS * sizeof(book_level_t)) / 1024, 1, "KiB");
    rc = 0;
done:
    builder_destroy(&b);
    free(payload.data);
    free(frame);
    return rc;
}

/* ---- the capture, in memory ------------------------------------------------------------- */

typedef struct {
    const unsigned char *data;
    size_t len;
} frame_t;

typedef struct {
    unsigned char *bytes; /* every frame, back to back */
    frame_t *all;         /* the whole capture, in order */
    size_t all_count;
    frame_t *depth; /* CONN_UP, the snapshot and the diff-depth frames, in order, numbered as a
                       collector subscribed to the depth stream alone would number them */
    unsigned char *depth_bytes;
    size_t depth_count;
    size_t depth_messages;
    size_t median_depth_bytes, median_depth_levels, max_depth_levels;
    uint64_t depth_payload_bytes, depth_levels;
} corpus_t;

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* gzip -dc path > out_path */
static int decompress(const char *path, const char *out_path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
    FILE *in = popen(cmd, "r");
    FILE *out = fopen(out_path, "wb");
    int rc = in && out ? 0 : -1;
    char buf[1 << 16];
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = -1;
    if (out && fclose(out) != 0)
        rc = -1;
    if (in && pclose(in) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "bookbuilder-bench: cannot decompress %s into %s\n", path, out_path);
    return rc;
}

static int read_frames(const char *path, corpus_t *c)
{
    char err[512];
    framefile_reader_t *r = framefile_reader_open(path, err, sizeof err);
    if (!r) {
        fprintf(stderr, "bookbuilder-bench: %s\n", err);
        return -1;
    }
    size_t used = 0, cap = 0, count = 0, count_cap = 0;
    size_t *offsets = NULL, *lengths = NULL;
    int got, rc = 0;
    const void *frame;
    size_t len;
    while ((got = framefile_reader_next(r, &frame, &len, err, sizeof err)) == 1) {
        if (used + len > cap) {
            size_t grown_cap = cap ? cap * 2 : 1 << 24;
            while (grown_cap < used + len)
                grown_cap *= 2;
            unsigned char *grown = realloc(c->bytes, grown_cap);
            if (!grown) {
                rc = -1;
                break;
            }
            c->bytes = grown;
            cap = grown_cap;
        }
        if (count == count_cap) {
            count_cap = count_cap ? count_cap * 2 : 1 << 16;
            size_t *o = realloc(offsets, count_cap * sizeof *o);
            if (o)
                offsets = o;
            size_t *l = realloc(lengths, count_cap * sizeof *l);
            if (l)
                lengths = l;
            if (!o || !l) {
                rc = -1;
                break;
            }
        }
        memcpy(c->bytes + used, frame, len);
        offsets[count] = used;
        lengths[count++] = len;
        used += len;
    }
    if (got < 0) {
        fprintf(stderr, "bookbuilder-bench: %s\n", err);
        rc = -1;
    }
    framefile_reader_destroy(&r);
    if (rc == 0) {
        c->all = calloc(count, sizeof *c->all);
        c->depth = calloc(count, sizeof *c->depth);
        rc = c->all && c->depth ? 0 : -1;
    }
    for (size_t i = 0; rc == 0 && i < count; i++)
        c->all[i] = (frame_t){c->bytes + offsets[i], lengths[i]};
    c->all_count = rc == 0 ? count : 0;
    free(offsets);
    free(lengths);
    return rc;
}

/* Picks the depth-only stream out of the capture and measures its messages, with the
   bookbuilder's own parser (untimed). */
/* The depth-only frames get their own contiguous seq per connection: without the trade and
   bookTicker frames in between, the original numbers would have gaps, which the bookbuilder
   rightly treats as lost frames. */
static int renumber_depth(corpus_t *c)
{
    size_t total = 0;
    for (size_t i = 0; i < c->depth_count; i++)
        total += c->depth[i].len;
    c->depth_bytes = malloc(total ? total : 1);
    if (!c->depth_bytes)
        return -1;
    uint64_t next_seq[2] = {1, 1}; /* connection 0 (the snapshot), connection 1 */
    unsigned char *at = c->depth_bytes;
    for (size_t i = 0; i < c->depth_count; i++) {
        envelope_header_t h;
        const void *payload;
        size_t plen;
        char err[160];
        if (envelope_decode(c->depth[i].data, c->depth[i].len, &h, &payload, &plen, err,
                            sizeof err) != 0 ||
            h.conn_id > 1) {
            fprintf(stderr, "bookbuilder-bench: depth frame %zu: cannot renumber\n", i);
            return -1;
        }
        h.seq = next_seq[h.conn_id]++;
        size_t n = envelope_encode(&h, payload, plen, at, c->depth[i].len, err, sizeof err);
        if (n != c->depth[i].len) {
            fprintf(stderr, "bookbuilder-bench: depth frame %zu: %s\n", i, err);
            return -1;
        }
        c->depth[i] = (frame_t){at, n};
        at += n;
    }
    return 0;
}

static int classify(corpus_t *c)
{
    parse_t *parser = parse_new(20000);
    size_t *sizes = calloc(c->all_count, sizeof *sizes);
    size_t *levels = calloc(c->all_count, sizeof *levels);
    int rc = parser && sizes && levels ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < c->all_count; i++) {
        envelope_header_t h;
        const void *payload;
        size_t plen;
        char err[160];
        if (envelope_decode(c->all[i].data, c->all[i].len, &h, &payload, &plen, err, sizeof err) !=
            0) {
            fprintf(stderr, "bookbuilder-bench: frame %zu: %s\n", i, err);
            rc = -1;
            break;
        }
        bool keep = h.kind == ENVELOPE_CONN_UP || h.kind == ENVELOPE_SNAPSHOT;
        if (h.kind == ENVELOPE_WS_TEXT) {
            event_t ev;
            if (parse_frame(parser, h.market, payload, plen, &ev, err, sizeof err) != PARSE_OK) {
                fprintf(stderr, "bookbuilder-bench: frame %zu does not parse: %s\n", i, err);
                rc = -1;
                break;
            }
            if (ev.kind == EVENT_DEPTH) {
                keep = true;
                sizes[c->depth_messages] = plen;
                levels[c->depth_messages] = ev.u.depth.bid_count + ev.u.depth.ask_count;
                if (levels[c->depth_messages] > c->max_depth_levels)
                    c->max_depth_levels = levels[c->depth_messages];
                c->depth_payload_bytes += plen;
                c->depth_levels += levels[c->depth_messages];
                c->depth_messages++;
            }
        }
        if (keep)
            c->depth[c->depth_count++] = c->all[i];
    }
    if (rc == 0)
        rc = renumber_depth(c);
    if (rc == 0 && c->depth_messages == 0) {
        fprintf(stderr, "bookbuilder-bench: the capture holds no depth frames\n");
        rc = -1;
    }
    if (rc == 0) {
        qsort(sizes, c->depth_messages, sizeof *sizes, cmp_size);
        qsort(levels, c->depth_messages, sizeof *levels, cmp_size);
        c->median_depth_bytes = sizes[c->depth_messages / 2];
        c->median_depth_levels = levels[c->depth_messages / 2];
    }
    free(sizes);
    free(levels);
    parse_destroy(&parser);
    return rc;
}

static void corpus_free(corpus_t *c)
{
    free(c->bytes);
    free(c->all);
    free(c->depth);
    free(c->depth_bytes);
    memset(c, 0, sizeof *c);
}

/* The capture converted (capture.c, as bookcast-capture-frames does) into a temporary frame
   file, then read whole into memory. */
static int load_corpus(corpus_t *c)
{
    const char *tmp = getenv("TMPDIR");
    char text_path[512], frames_path[512];
    snprintf(text_path, sizeof text_path, "%s/bookcast-bench-text-XXXXXX", tmp ? tmp : "/tmp");
    snprintf(frames_path, sizeof frames_path, "%s/bookcast-bench-frames-XXXXXX",
             tmp ? tmp : "/tmp");
    int fd1 = mkstemp(text_path), fd2 = mkstemp(frames_path);
    if (fd1 < 0 || fd2 < 0) {
        fprintf(stderr, "bookbuilder-bench: cannot create temporary files: %s\n", strerror(errno));
        if (fd1 >= 0)
            unlink(text_path);
        if (fd2 >= 0)
            unlink(frames_path);
        return -1;
    }
    close(fd1);
    close(fd2);
    char data_path[512];
    snprintf(data_path, sizeof data_path, "%s/%s", DATA_DIR, capture->file);
    int rc = decompress(data_path, text_path);
    if (rc == 0) {
        capture_options_t opt = {
            .market = capture->market, .instance_id = 1, .symbol = CAPTURE_SYMBOL};
        char err[512];
        rc = capture_hftbacktest(&opt, text_path, frames_path, NULL, err, sizeof err);
        if (rc != 0)
            fprintf(stderr, "bookbuilder-bench: %s\n", err);
    }
    if (rc == 0)
        rc = read_frames(frames_path, c);
    unlink(text_path);
    unlink(frames_path);
    if (rc == 0)
        rc = classify(c);
    if (rc != 0)
        corpus_free(c);
    return rc;
}

/* ---- throughput ------------------------------------------------------------------------- */

typedef struct {
    uint64_t passes, frames, messages_out, bytes_out;
    int64_t wall_ns, cpu_ns;
    int64_t best_pass_ns;     /* the fastest pass: the least disturbed by other processes */
    builder_counters_t first; /* of the first pass, for the checks */
} throughput_t;

/* The book after a pass: synced, never resynced, its top always equal to bookTicker. */
static int check_book(builder_t *b, const char *what)
{
    builder_book_view_t v;
    const builder_counters_t *k = builder_counters(b);
    if (builder_book(b, capture->market, CAPTURE_SYMBOL, &v) != 0 || v.state != SYNC_SYNCED ||
        v.resyncs != 0 || k->bbo_mismatches != 0 || k->snapshots_applied != 1) {
        fprintf(stderr,
                "bookbuilder-bench: %s: the book did not stay synced (resyncs %" PRIu64
                ", bookTicker mismatches %" PRIu64 ", snapshots applied %" PRIu64 ")\n",
                what, v.resyncs, k->bbo_mismatches, k->snapshots_applied);
        return -1;
    }
    return 0;
}

static int run_throughput(const frame_t *frames, size_t count, int seconds, const char *what,
                          throughput_t *t)
{
    builder_config_t cfg = production_config(false);
    memset(t, 0, sizeof *t);
    sink_t sink = {0};
    while (t->wall_ns < (int64_t)seconds * 1000000000) {
        builder_t *b = new_builder(&cfg, &sink);
        if (!b)
            return -1;
        int64_t w0 = now_monotonic_ns(), c0 = cpu_ns();
        for (size_t i = 0; i < count; i++)
            builder_on_frame(b, frames[i].data, frames[i].len, now_realtime_ns());
        t->cpu_ns += cpu_ns() - c0;
        int64_t pass_ns = now_monotonic_ns() - w0;
        t->wall_ns += pass_ns;
        if (t->best_pass_ns == 0 || pass_ns < t->best_pass_ns)
            t->best_pass_ns = pass_ns;
        t->frames += count;
        if (t->passes++ == 0)
            t->first = *builder_counters(b);
        int bad = check_book(b, what);
        builder_destroy(&b);
        if (bad)
            return -1;
    }
    t->messages_out = sink.messages;
    t->bytes_out = sink.bytes;
    return 0;
}

static void throughput_figures(const char *prefix, const throughput_t *t, uint64_t counted,
                               const char *unit)
{
    char name[128];
    double wall = (double)t->wall_ns / 1e9, cpu = (double)t->cpu_ns / 1e9;
    snprintf(name, sizeof name, "%s_rate", prefix);
    figure(name, (double)counted / wall, 0, unit);
    snprintf(name, sizeof name, "%s_rate_per_cpu_second", prefix);
    figure(name, (double)counted / cpu, 0, unit);
    snprintf(name, sizeof name, "%s_rate_best_pass", prefix);
    figure(name, (double)counted / (double)t->passes / ((double)t->best_pass_ns / 1e9), 0, unit);
    snprintf(name, sizeof name, "%s_ns_per_frame", prefix);
    figure(name, (double)t->wall_ns / (double)t->frames, 0, "ns");
    snprintf(name, sizeof name, "%s_published", prefix);
    figure(name, (double)t->bytes_out / wall / 1e6, 1, "MB/s");
    snprintf(name, sizeof name, "%s_published_messages", prefix);
    figure(name, (double)t->messages_out / wall, 0, "msgs/s");
    snprintf(name, sizeof name, "%s_cpu_share", prefix);
    figure(name, cpu / wall * 100, 1, "percent_of_one_core");
    snprintf(name, sizeof name, "%s_timed", prefix);
    figure(name, wall, 2, "s");
    snprintf(name, sizeof name, "%s_passes", prefix);
    figure(name, (double)t->passes, 0, "passes");
}

/* ---- paced latency ---------------------------------------------------------------------- */

/* A SUB socket in a thread of its own: counts what the PUB sends and measures each message's
   frame arrival → receive. Messages on "probe" only prove the subscription is live. */
typedef struct {
    char endpoint[128];
    _Atomic int64_t *arrivals;
    atomic_bool stop, ready, failed;
    atomic_uint_fast64_t received;
    latency_t latency;
} reader_t;

static void *reader_main(void *arg)
{
    reader_t *r = arg;
    zsock_t *sub = zsock_new(ZMQ_SUB);
    if (!sub || zsock_connect(sub, "%s", r->endpoint) != 0) {
        atomic_store(&r->failed, true);
        zsock_destroy(&sub);
        return NULL;
    }
    zsock_set_rcvhwm(sub, DATA_HWM);
    zsock_set_subscribe(sub, "");
    zsock_set_rcvtimeo(sub, 100);
    void *s = zsock_resolve(sub);
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    bool probe = false, in_message = false;
    while (!atomic_load(&r->stop)) {
        if (zmq_msg_recv(&msg, s, 0) < 0) {
            if (zmq_errno() == EAGAIN || zmq_errno() == EINTR)
                continue;
            atomic_store(&r->failed, true);
            break;
        }
        if (!in_message) { /* the topic */
            probe = zmq_msg_size(&msg) == 5 && memcmp(zmq_msg_data(&msg), "probe", 5) == 0;
            in_message = zmq_msg_more(&msg);
            continue;
        }
        if (zmq_msg_more(&msg))
            continue;
        in_message = false;
        if (probe) {
            atomic_store(&r->ready, true);
            continue;
        }
        int64_t now = now_realtime_ns();
        uint64_t k = atomic_load_explicit(&r->received, memory_order_relaxed);
        int64_t arrival =
            atomic_load_explicit(&r->arrivals[k & (ARRIVALS_SIZE - 1)], memory_order_relaxed);
        if (arrival) /* 0: published by a timer tick, not by a frame */
            latency_record(&r->latency, now - arrival);
        atomic_store_explicit(&r->received, k + 1, memory_order_release);
    }
    zmq_msg_close(&msg);
    zsock_destroy(&sub);
    return NULL;
}

typedef struct {
    latency_t builder;   /* arrival → the frame's last publish, as the builder records it */
    latency_t scheduled; /* the frame's scheduled time → its last publish */
    uint64_t frames, late_frames;
    double seconds;
    long preempted; /* involuntary context switches of the process during the run */
} paced_t;

/* The depth-only stream at `rate` frames/s for `seconds`, a new builder (untimed, the schedule
   restarting after it) each time the capture is used up. Timer ticks run every
   depth_interval_ms, as in the live loop. */
static int run_paced(const corpus_t *c, sink_t *sink, int rate, int seconds, paced_t *p)
{
    builder_config_t cfg = production_config(false);
    memset(p, 0, sizeof *p);
    const int64_t period_ns = 1000000000 / rate, tick_ns = cfg.depth_interval_ms * 1000000;
    const uint64_t target = (uint64_t)rate * (uint64_t)seconds;
    int64_t started = now_monotonic_ns();
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    while (p->frames < target) {
        builder_t *b = new_builder(&cfg, sink);
        if (!b)
            return -1;
        int64_t next = now_monotonic_ns(), next_tick = next + tick_ns;
        for (size_t i = 0; i < c->depth_count && p->frames < target; i++, p->frames++) {
            int64_t now = now_monotonic_ns();
            if (now >= next_tick) {
                sink->arrival_ns = 0;
                builder_tick(b, now_realtime_ns());
                next_tick += tick_ns;
            }
            while ((now = now_monotonic_ns()) < next)
                ;
            if (now - next > period_ns)
                p->late_frames++;
            uint64_t before = sink->messages;
            int64_t arrival = now_realtime_ns();
            sink->arrival_ns = arrival;
            builder_on_frame(b, c->depth[i].data, c->depth[i].len, arrival);
            if (sink->messages != before)
                latency_record(&p->scheduled, now_monotonic_ns() - next);
            next += period_ns;
        }
        latency_merge(&p->builder, builder_latency(b));
        /* A run can end before the last pass reached the snapshot. */
        int bad =
            builder_counters(b)->frames_by_kind[ENVELOPE_SNAPSHOT] ? check_book(b, "paced") : 0;
        builder_destroy(&b);
        if (bad)
            return -1;
    }
    p->seconds = (double)(now_monotonic_ns() - started) / 1e9;
    getrusage(RUSAGE_SELF, &ru1);
    p->preempted = ru1.ru_nivcsw - ru0.ru_nivcsw;
    return 0;
}

static void paced_figures(const char *prefix, const paced_t *p)
{
    char name[128];
    snprintf(name, sizeof name, "%s_arrival_to_publish", prefix);
    latency_figures(name, &p->builder, "frames");
    snprintf(name, sizeof name, "%s_scheduled_to_publish", prefix);
    latency_figures(name, &p->scheduled, "frames");
    snprintf(name, sizeof name, "%s_rate", prefix);
    figure(name, (double)p->frames / p->seconds, 0, "frames/s");
    snprintf(name, sizeof name, "%s_frames_behind_schedule", prefix);
    figure(name, (double)p->late_frames, 0, "frames");
    snprintf(name, sizeof name, "%s_involuntary_context_switches", prefix);
    figure(name, (double)p->preempted, 0, "switches");
}

/* The paced run with every message sent on a real PUB socket bound at endpoint_pattern and
   read by a SUB in another thread. */
static int run_paced_zmq(const corpus_t *c, const char *endpoint_pattern, const char *prefix)
{
    int rc = -1;
    reader_t *r = calloc(1, sizeof *r);
    _Atomic int64_t *arrivals = calloc(ARRIVALS_SIZE, sizeof *arrivals);
    zsock_t *pub = zsock_new(ZMQ_PUB);
    pthread_t thread;
    bool started = false;
    if (!r || !arrivals || !pub)
        goto done;
    zsock_set_sndhwm(pub, DATA_HWM);
    zsock_set_linger(pub, 0);
    int port = zsock_bind(pub, "%s", endpoint_pattern);
    if (port < 0) {
        fprintf(stderr, "bookbuilder-bench: cannot bind %s: %s\n", endpoint_pattern,
                zmq_strerror(zmq_errno()));
        goto done;
    }
    snprintf(r->endpoint, sizeof r->endpoint, "%s", zsock_endpoint(pub));
    r->arrivals = arrivals;
    if (pthread_create(&thread, NULL, reader_main, r) != 0)
        goto done;
    started = true;
    /* A subscription takes effect a little after connect: probe until one arrives. */
    for (int i = 0; i < 500 && !atomic_load(&r->ready) && !atomic_load(&r->failed); i++) {
        bus_send(pub, "probe", "p", 1);
        usleep(10000);
    }
    if (!atomic_load(&r->ready)) {
        fprintf(stderr, "bookbuilder-bench: the subscriber on %s never received\n", r->endpoint);
        goto done;
    }
    sink_t sink = {.pub = pub, .arrivals = arrivals};
    paced_t p;
    if (run_paced(c, &sink, PACED_RATE, PACED_SECONDS, &p) != 0)
        goto done;
    for (int i = 0; i < 300 && atomic_load(&r->received) < sink.sent; i++)
        usleep(10000);
    uint64_t received = atomic_load(&r->received);
    note("%s: PUB bound on %s (sndhwm %d), one SUB in another thread, bus_send "
         "(topic, body; non-blocking) per message",
         prefix, r->endpoint, DATA_HWM);
    paced_figures(prefix, &p);
    if (received != sink.sent || sink.send_failures) {
        /* Lost messages shift the subscriber's index into arrivals: its times are wrong. */
        fprintf(stderr,
                "bookbuilder-bench: %s: %" PRIu64 " of %" PRIu64 " messages received, %" PRIu64
                " sends failed; subscriber latency not reported\n",
                prefix, received, sink.sent, sink.send_failures);
    } else {
        char name[128];
        snprintf(name, sizeof name, "%s_arrival_to_subscriber", prefix);
        latency_figures(name, &r->latency, "msgs");
        snprintf(name, sizeof name, "%s_subscriber_received", prefix);
        figure(name, (double)received, 0, "msgs");
    }
    rc = 0;
done:
    if (started) {
        atomic_store(&r->stop, true);
        pthread_join(thread, NULL);
    }
    zsock_destroy(&pub);
    free(arrivals);
    free(r);
    return rc;
}

/* ---- spot ------------------------------------------------------------------------------- */

/* Depth throughput on the spot capture: @depth@100ms, the diff stream most books follow. */
static int run_spot_depth(int seconds)
{
    capture = &spot_capture;
    corpus_t c = {0};
    int rc = load_corpus(&c);
    if (rc == 0) {
        note("input: %s (spot %s @depth@100ms, @trade, @bookTicker), %zu frames, %zu depth "
             "messages",
             capture->file, CAPTURE_SYMBOL, c.all_count, c.depth_messages);
        figure("spot_depth_message_median_size", (double)c.median_depth_bytes, 0, "bytes");
        figure("spot_depth_message_mean_levels", (double)c.depth_levels / (double)c.depth_messages,
               1, "levels");
        throughput_t t;
        rc = run_throughput(c.depth, c.depth_count, seconds, "spot depth only", &t);
        if (rc == 0) {
            throughput_figures(capture->label, &t, t.passes * c.depth_messages, "msgs/s");
            figure("spot_depth_only_cpu_ns_per_level",
                   (double)t.cpu_ns / (double)(t.passes * c.depth_levels), 1, "ns");
        }
        corpus_free(&c);
    }
    capture = &usdm_capture;
    return rc;
}

/* ---- main ------------------------------------------------------------------------------- */

/* Whether `part` runs when only `only` was asked for ("" runs everything; "throughput" is
   depth and mixed). */
static bool wanted(const char *only, const char *part)
{
    if (only[0] == '\0' || strcmp(only, part) == 0)
        return true;
    return strcmp(only, "throughput") == 0 &&
           (strcmp(part, "depth") == 0 || strcmp(part, "mixed") == 0);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: bookcast-bookbuilder-bench <results file> [seconds "
                        "[memory|throughput|depth|mixed|latency]]\n");
        return 2;
    }
    int seconds = argc > 2 ? atoi(argv[2]) : 10;
    if (seconds < 1)
        seconds = 10;
    const char *only = argc > 3 ? argv[3] : "";
    results = fopen(argv[1], "w");
    if (!results) {
        perror(argv[1]);
        return 1;
    }
    zsys_handler_set(NULL);
    /* The builder logs every book it syncs; a pass per few milliseconds would flood stderr. */
    log_options_t lo;
    log_options_default(&lo);
    lo.level = LOG_WARN;
    log_open("bookcast-bookbuilder-bench", &lo);

    char command[1024];
    size_t at = 0;
    for (int i = 0; i < argc && at < sizeof command; i++)
        at += (size_t)snprintf(command + at, sizeof command - at, "%s%s", i ? " " : "", argv[i]);
    note("command: %s", command);
    /* Wall-clock figures mean little on a busy machine: say how busy it was. */
    double load[3] = {0};
    if (getloadavg(load, 3) == 3)
        note("load average at start: %.2f %.2f %.2f on %ld CPUs", load[0], load[1], load[2],
             sysconf(_SC_NPROCESSORS_ONLN));

    int rc = 0;
    if (wanted(only, "memory") && run_memory() != 0)
        rc = 1;
    if (wanted(only, "depth") && run_spot_depth(seconds) != 0)
        rc = 1;
    if (!wanted(only, "depth") && !wanted(only, "mixed") && !wanted(only, "latency"))
        goto done;

    corpus_t c = {0};
    if (load_corpus(&c) != 0) {
        rc = 1;
        goto done;
    }
    note("input: %s (USD-M %s @depth@0ms, @trade, @bookTicker), %zu frames, %zu depth "
         "messages",
         capture->file, CAPTURE_SYMBOL, c.all_count, c.depth_messages);
    figure("depth_message_median_size", (double)c.median_depth_bytes, 0, "bytes");
    figure("depth_message_mean_size", (double)c.depth_payload_bytes / (double)c.depth_messages, 0,
           "bytes");
    figure("depth_message_median_levels", (double)c.median_depth_levels, 0, "levels");
    figure("depth_message_mean_levels", (double)c.depth_levels / (double)c.depth_messages, 1,
           "levels");
    figure("depth_message_max_levels", (double)c.max_depth_levels, 0, "levels");

    throughput_t t;
    if (wanted(only, "depth")) {
        if (run_throughput(c.depth, c.depth_count, seconds, "depth only", &t) == 0) {
            note("throughput, depth only: CONN_UP + snapshot + %zu depth frames per pass, a new "
                 "builder per pass, only builder_on_frame timed, publish counts bytes",
                 c.depth_messages);
            throughput_figures("depth_only", &t, t.passes * c.depth_messages, "msgs/s");
            figure("depth_only_cpu_ns_per_level",
                   (double)t.cpu_ns / (double)(t.passes * c.depth_levels), 1, "ns");
            figure("depth_only_applied_per_pass", (double)t.first.depth_applied, 0, "events");
        } else {
            rc = 1;
        }
    }
    if (wanted(only, "mixed")) {
        if (run_throughput(c.all, c.all_count, seconds, "mixed", &t) == 0) {
            note("throughput, whole capture: %zu frames per pass (depth, trade, bookTicker)",
                 c.all_count);
            throughput_figures("mixed", &t, t.frames, "frames/s");
            figure("mixed_bbo_checks_per_pass", (double)t.first.bbo_checks, 0, "checks");
        } else {
            rc = 1;
        }
    }

    if (wanted(only, "latency")) {
        sink_t sink = {0};
        paced_t p;
        if (run_paced(&c, &sink, PACED_RATE, PACED_SECONDS, &p) == 0) {
            note("latency: depth-only frames paced at %d/s for %d s, arrival = now just before "
                 "builder_on_frame, publish counts bytes",
                 PACED_RATE, PACED_SECONDS);
            paced_figures("paced", &p);
        } else {
            rc = 1;
        }
        /* tcp is the live transport, with ZeroMQ's I/O thread on both ends; inproc hands the
           message straight to the reader thread, without either. */
        if (run_paced_zmq(&c, "tcp://127.0.0.1:*", "paced_zmq_tcp") != 0)
            rc = 1;
        if (run_paced_zmq(&c, "inproc://bookcast-bookbuilder-bench", "paced_zmq_inproc") != 0)
            rc = 1;
    }
    corpus_free(&c);
done:
    fclose(results);
    log_close();
    return rc;
}
