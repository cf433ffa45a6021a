/*
 * capture.c — hftbacktest and cryptofeed captures of Binance as frame files, and the check of
 * such files.
 *
 * Why convert instead of teaching the bookbuilder these formats. The bookbuilder's replay reads
 * frame files, the format a recording of our own collector has; feeding it real data through the
 * same path tests the code that runs in production, and the conversion stays out of it.
 *
 * What a frame claims and where it comes from:
 *   - WS_TEXT: the payload of a capture line, untouched; conn 1, seq counting after the CONN_UP;
 *     recv_ts_ns the line's local receive time (exact: hftbacktest has integer ns, cryptofeed's
 *     decimal seconds are converted digit by digit, never through a double, which would round
 *     the 7th fractional digit of a 2021 time).
 *   - SNAPSHOT: the REST body; conn ENVELOPE_CONN_NONE with its own seq, request_id counting
 *     from 1, http_status 200 (the captures only kept successful bodies, and a body is checked
 *     to be a depth snapshot before it is labelled as one).
 *   - CONN_UP: one, before the first WS_TEXT, listing the connection's streams (cryptofeed: the
 *     url's streams= parameter; hftbacktest records no url, so the distinct "stream" values of
 *     the whole input, which needs a first pass before anything is written).
 * No CONN_DOWN is written: a capture stops where the recording stopped, not where the
 * connection ended, and a capture that continues it (hftbacktest's next day) follows on the same
 * connection. Feeding
 * both days as one input (`gzip -dc day1.gz day2.gz | … -`) does exactly that.
 *
 * Strict parsing. A capture line that does not fit its format is an error with file and line,
 * never skipped: a replay test that passes on a capture missing lines proves little. Empty lines
 * are accepted only at the end of a file (cryptofeed's files end with one).
 *
 * Two passes over a pipe. The hftbacktest input usually arrives from `gzip -dc`; a pipe cannot
 * be rewound, so the first pass copies it to a tmpfile() and the second reads the copy. A
 * regular file is simply read twice.
 */
#include "capture.h"
#include "errmsg.h"
#include "framefile.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest stream name a control payload accepts (docs/frames.md, "Control payloads"). */
#define STREAM_NAME_MAX 128
#define NS_PER_SECOND INT64_C(1000000000)

/* Where the payloads of the two hftbacktest line kinds start. */
static const char SNAPSHOT_PREFIX[] = "{\"lastUpdateId\":";
static const char STREAM_PREFIX[] = "{\"stream\":\"";
static const char DATA_AFTER_STREAM[] = "\",\"data\":";

static bool starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

/* ---- lines --------------------------------------------------------------------------------- */

typedef struct {
    FILE *fp;
    bool owns_fp;        /* false for stdin */
    const char *name;    /* the path, or "stdin", for messages */
    off_t start;         /* where reading began: stdin may come positioned inside a file */
    FILE *copy;          /* when not NULL, every line read is also written here */
    char *line;          /* the current line, without its newline, NUL-terminated */
    size_t cap;          /* getline's allocation */
    size_t len;          /* bytes of the current line */
    uint64_t line_no;    /* 1-based number of the current line */
    uint64_t blank_line; /* the first empty line not yet followed by a non-empty one, or 0 */
} lines_t;

static int lines_open(lines_t *lr, const char *path, char *err, size_t err_len)
{
    memset(lr, 0, sizeof *lr);
    if (strcmp(path, "-") == 0) {
        lr->fp = stdin;
        lr->name = "stdin";
        off_t at = ftello(stdin); /* -1 on a pipe */
        lr->start = at > 0 ? at : 0;
        return 0;
    }
    lr->name = path;
    lr->fp = fopen(path, "rb");
    if (lr->fp == NULL) {
        errmsg_set(err, err_len, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    lr->owns_fp = true;
    struct stat st;
    if (fstat(fileno(lr->fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        errmsg_set(err, err_len, "%s is a directory, not a capture file", path);
        fclose(lr->fp);
        lr->fp = NULL;
        return -1;
    }
    return 0;
}

static bool lines_seekable(const lines_t *lr)
{
    struct stat st;
    return fstat(fileno(lr->fp), &st) == 0 && S_ISREG(st.st_mode);
}

/* Reads the next non-empty line. Returns 1, 0 at the end of the input, -1 with err set. */
static int lines_next(lines_t *lr, char *err, size_t err_len)
{
    for (;;) {
        errno = 0;
        ssize_t n = getline(&lr->line, &lr->cap, lr->fp);
        if (n < 0) {
            if (ferror(lr->fp)) {
                errmsg_set(err, err_len, "%s: read error after line %" PRIu64 ": %s", lr->name,
                           lr->line_no, strerror(errno ? errno : EIO));
                return -1;
            }
            if (errno == ENOMEM) {
                errmsg_set(err, err_len, "%s:%" PRIu64 ": out of memory for the line", lr->name,
                           lr->line_no + 1);
                return -1;
            }
            return 0; /* empty lines at the very end are fine */
        }
        lr->line_no++;
        if (lr->copy != NULL && fwrite(lr->line, 1, (size_t)n, lr->copy) != (size_t)n) {
            errmsg_set(err, err_len,
                       "%s:%" PRIu64 ": cannot copy the input to a temporary file: %s (set TMPDIR "
                       "to a directory with room)",
                       lr->name, lr->line_no, strerror(errno));
            return -1;
        }
        size_t len = (size_t)n;
        if (len > 0 && lr->line[len - 1] == '\n')
            lr->line[--len] = '\0';
        if (len == 0) {
            if (lr->blank_line == 0)
                lr->blank_line = lr->line_no;
            continue;
        }
        if (lr->blank_line != 0) {
            errmsg_set(err, err_len,
                       "%s:%" PRIu64
                       ": empty line in the middle of the file (only its end may have "
                       "empty lines)",
                       lr->name, lr->blank_line);
            return -1;
        }
        lr->len = len;
        return 1;
    }
}

/* Starts reading again from the beginning of fp, which replaces the current file (and is then
   owned by lr); fp NULL rewinds the current file. */
static int lines_restart(lines_t *lr, FILE *fp, char *err, size_t err_len)
{
    if (fp != NULL) {
        if (lr->owns_fp)
            fclose(lr->fp);
        lr->fp = fp;
        lr->owns_fp = true;
        lr->start = 0;
    }
    if (fseeko(lr->fp, lr->start, SEEK_SET) != 0) {
        errmsg_set(err, err_len, "%s: cannot read it a second time: %s", lr->name, strerror(errno));
        return -1;
    }
    clearerr(lr->fp);
    lr->line_no = 0;
    lr->blank_line = 0;
    lr->copy = NULL;
    return 0;
}

static void lines_close(lines_t *lr)
{
    if (lr->fp != NULL && lr->owns_fp)
        fclose(lr->fp); /* read-only: nothing to lose */
    free(lr->line);
    memset(lr, 0, sizeof *lr);
}

/* ---- fields -------------------------------------------------------------------------------- */

/* "<1..19 digits>", > 0 and <= INT64_MAX, into *ns. */
static int parse_ns(const char *s, size_t len, int64_t *ns, char *why, size_t why_len)
{
    if (len == 0 || len > 19) {
        errmsg_set(why, why_len, "receive time \"%.*s\" is not 1 to 19 digits of nanoseconds",
                   (int)(len > 40 ? 40 : len), s);
        return -1;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i])) {
            errmsg_set(why, why_len, "receive time \"%.*s\" is not a number of nanoseconds",
                       (int)len, s);
            return -1;
        }
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot overflow a uint64 */
    }
    if (v == 0 || v > INT64_MAX) {
        errmsg_set(why, why_len, "receive time %.*s ns is not in 1..%" PRId64, (int)len, s,
                   INT64_MAX);
        return -1;
    }
    *ns = (int64_t)v;
    return 0;
}

/* "<seconds>[.<1..9 digits>]" since the epoch into exact nanoseconds, > 0. */
static int parse_seconds(const char *s, size_t len, int64_t *ns, char *why, size_t why_len)
{
    const char *dot = memchr(s, '.', len);
    size_t int_len = dot ? (size_t)(dot - s) : len;
    size_t frac_len = dot ? len - int_len - 1 : 0;
    bool ok = int_len >= 1 && int_len <= 10 && (dot == NULL || (frac_len >= 1 && frac_len <= 9));
    int64_t sec = 0, frac = 0;
    for (size_t i = 0; ok && i < int_len; i++) {
        ok = isdigit((unsigned char)s[i]);
        sec = sec * 10 + (s[i] - '0');
    }
    for (size_t i = 0; ok && i < 9; i++) {
        char c = i < frac_len ? dot[1 + i] : '0';
        ok = isdigit((unsigned char)c);
        frac = frac * 10 + (c - '0');
    }
    if (!ok) {
        errmsg_set(why, why_len,
                   "time \"%.*s\" is not <seconds>[.<1 to 9 digits>] (nanoseconds must be exact)",
                   (int)(len > 40 ? 40 : len), s);
        return -1;
    }
    if (sec > (INT64_MAX - frac) / NS_PER_SECOND || sec * NS_PER_SECOND + frac == 0) {
        errmsg_set(why, why_len, "time %.*s s is not in the range of an int64 of ns after 1970",
                   (int)len, s);
        return -1;
    }
    *ns = sec * NS_PER_SECOND + frac;
    return 0;
}

/* A stream name as docs/frames.md allows it in a control payload, and without the characters
   that would need JSON escaping (it is taken from the JSON text without unescaping). */
static bool stream_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > STREAM_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
            return false;
    }
    return true;
}

/* The value of query parameter `key` in url (borrowed, not decoded), or NULL. */
static const char *query_param(const char *url, size_t url_len, const char *key, size_t *len)
{
    const char *q = memchr(url, '?', url_len);
    if (q == NULL)
        return NULL;
    const char *end = url + url_len;
    size_t key_len = strlen(key);
    for (const char *p = q + 1; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *param_end = amp ? amp : end;
        if ((size_t)(param_end - p) > key_len && memcmp(p, key, key_len) == 0 &&
            p[key_len] == '=') {
            *len = (size_t)(param_end - p) - key_len - 1;
            return p + key_len + 1;
        }
        p = param_end + 1;
    }
    return NULL;
}

typedef struct {
    char **names;
    size_t count;
    size_t cap;
} streams_t;

/* Adds the stream name unless it is already there: first appearance decides the order. */
static int streams_add(streams_t *s, const char *name, size_t len, bool dedupe)
{
    for (size_t i = 0; dedupe && i < s->count; i++) {
        if (strlen(s->names[i]) == len && memcmp(s->names[i], name, len) == 0)
            return 0;
    }
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        char **bigger = realloc(s->names, cap * sizeof *bigger);
        if (bigger == NULL)
            return -1;
        s->names = bigger;
        s->cap = cap;
    }
    s->names[s->count] = strndup(name, len);
    if (s->names[s->count] == NULL)
        return -1;
    s->count++;
    return 0;
}

static void streams_free(streams_t *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->names[i]);
    free(s->names);
    memset(s, 0, sizeof *s);
}

/* A REST body that is a depth snapshot, whole (not cut off). */
static int check_snapshot_body(const char *body, size_t len, char *why, size_t why_len)
{
    if (!starts_with(body, len, SNAPSHOT_PREFIX) || body[len - 1] != '}') {
        errmsg_set(why, why_len, "body is not a whole depth snapshot ({\"lastUpdateId\":…})");
        return -1;
    }
    return 0;
}

/* ---- output -------------------------------------------------------------------------------- */

typedef struct {
    const capture_options_t *opt;
    framefile_writer_t *out;
    const char *out_path; /* as given; "-" for stdout */
    char *tmp_path;       /* out_path + ".tmp", renamed to out_path at the end; NULL for stdout */
    uint8_t *buf;         /* the frame being encoded */
    size_t cap;
    uint64_t ws_seq;   /* last seq of connection 1 */
    uint64_t rest_seq; /* last seq of ENVELOPE_CONN_NONE */
    uint64_t request_id;
    capture_counts_t counts;
} emitter_t;

static int emitter_open(emitter_t *e, const capture_options_t *opt, const char *out_path, char *err,
                        size_t err_len)
{
    memset(e, 0, sizeof *e);
    e->opt = opt;
    e->out_path = out_path;
    const char *path = out_path;
    if (strcmp(out_path, "-") != 0) {
        if (asprintf(&e->tmp_path, "%s.tmp", out_path) < 0) {
            e->tmp_path = NULL;
            errmsg_set(err, err_len, "out of memory");
            return -1;
        }
        path = e->tmp_path;
    }
    e->out = framefile_writer_open(path, false, err, err_len);
    if (e->out == NULL) {
        free(e->tmp_path);
        e->tmp_path = NULL;
        return -1;
    }
    return 0;
}

/* Encodes h + payload and writes the frame. */
static int emit(emitter_t *e, const envelope_header_t *h, const void *payload, size_t len,
                char *why, size_t why_len)
{
    size_t size = envelope_encoded_size(h, len);
    if (size == 0) {
        errmsg_set(why, why_len, "a payload of %zu bytes exceeds the frame maximum of %u", len,
                   (unsigned)ENVELOPE_MAX_PAYLOAD);
        return -1;
    }
    if (size > e->cap) {
        uint8_t *bigger = realloc(e->buf, size);
        if (bigger == NULL) {
            errmsg_set(why, why_len, "out of memory for a %zu-byte frame", size);
            return -1;
        }
        e->buf = bigger;
        e->cap = size;
    }
    size_t n = envelope_encode(h, payload, len, e->buf, e->cap, why, why_len);
    if (n == 0)
        return -1;
    if (framefile_writer_write(e->out, e->buf, n, why, why_len) != 0)
        return -1;
    e->counts.frames++;
    e->counts.bytes += FRAMEFILE_LENGTH_SIZE + n;
    e->counts.by_kind[h->kind]++;
    return 0;
}

static int emit_conn_up(emitter_t *e, int64_t ns, const streams_t *streams, char *why,
                        size_t why_len)
{
    envelope_control_t ctl = {
        .url = CAPTURE_CONN_UP_URL,
        .streams = streams->names,
        .stream_count = streams->count,
    };
    char *payload = envelope_control_format(ENVELOPE_CONN_UP, &ctl, why, why_len);
    if (payload == NULL)
        return -1;
    envelope_header_t h;
    envelope_header_init(&h, ENVELOPE_CONN_UP, e->opt->market);
    h.instance_id = e->opt->instance_id;
    h.conn_id = 1;
    h.seq = ++e->ws_seq;
    h.recv_ts_ns = ns;
    int rc = emit(e, &h, payload, strlen(payload), why, why_len);
    free(payload);
    return rc;
}

static int emit_ws_text(emitter_t *e, int64_t ns, const char *payload, size_t len, char *why,
                        size_t why_len)
{
    envelope_header_t h;
    envelope_header_init(&h, ENVELOPE_WS_TEXT, e->opt->market);
    h.instance_id = e->opt->instance_id;
    h.conn_id = 1;
    h.seq = ++e->ws_seq;
    h.recv_ts_ns = ns;
    return emit(e, &h, payload, len, why, why_len);
}

static int emit_snapshot(emitter_t *e, int64_t ns, const char *symbol, const char *body, size_t len,
                         char *why, size_t why_len)
{
    envelope_header_t h;
    envelope_header_init(&h, ENVELOPE_SNAPSHOT, e->opt->market);
    h.instance_id = e->opt->instance_id;
    h.conn_id = ENVELOPE_CONN_NONE;
    h.seq = ++e->rest_seq;
    h.recv_ts_ns = ns;
    snprintf(h.symbol, sizeof h.symbol, "%s", symbol);
    h.request_id = ++e->request_id;
    h.http_status = 200;
    return emit(e, &h, body, len, why, why_len);
}

/* Flushes and moves the finished file into place. Releases everything either way. */
static int emitter_finish(emitter_t *e, capture_counts_t *counts, char *err, size_t err_len)
{
    int rc = framefile_writer_flush(e->out, err, err_len);
    framefile_writer_destroy(&e->out);
    if (rc == 0 && e->tmp_path != NULL && rename(e->tmp_path, e->out_path) != 0) {
        errmsg_set(err, err_len, "cannot rename %s to %s: %s", e->tmp_path, e->out_path,
                   strerror(errno));
        rc = -1;
    }
    if (rc != 0 && e->tmp_path != NULL)
        (void)unlink(e->tmp_path); /* the reason is already in err */
    if (rc == 0 && counts != NULL)
        *counts = e->counts;
    free(e->tmp_path);
    free(e->buf);
    memset(e, 0, sizeof *e);
    return rc;
}

/* Drops the unfinished output. */
static void emitter_abort(emitter_t *e)
{
    framefile_writer_destroy(&e->out);
    if (e->tmp_path != NULL)
        (void)unlink(e->tmp_path); /* a leftover .tmp is harmless; nothing to report */
    free(e->tmp_path);
    free(e->buf);
    memset(e, 0, sizeof *e);
}

static int check_options(const capture_options_t *opt, bool need_symbol, char *err, size_t err_len)
{
    if (opt == NULL || opt->market < MARKET_SPOT || opt->market > MARKET_COINM) {
        errmsg_set(err, err_len, "no market (spot, usdm or coinm)");
        return -1;
    }
    if (opt->instance_id == 0) {
        errmsg_set(err, err_len, "instance id 0: frames need a nonzero instance id");
        return -1;
    }
    if (!need_symbol)
        return 0;
    size_t n = opt->symbol ? strlen(opt->symbol) : 0;
    bool ok = n >= 1 && n <= ENVELOPE_SYMBOL_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = isupper((unsigned char)opt->symbol[i]) || isdigit((unsigned char)opt->symbol[i]) ||
             opt->symbol[i] == '_';
    if (!ok) {
        errmsg_set(err, err_len, "symbol \"%s\" is not [A-Z0-9_]{1,%d} (as sent to Binance)",
                   opt->symbol ? opt->symbol : "", ENVELOPE_SYMBOL_MAX);
        return -1;
    }
    return 0;
}

/* ---- hftbacktest ---------------------------------------------------------------------------- */

typedef struct {
    int64_t ns;
    bool snapshot;       /* else a combined-stream frame */
    const char *payload; /* into the line */
    size_t payload_len;
    const char *stream; /* combined-stream frames: the stream name, into the line */
    size_t stream_len;
} hft_line_t;

/* "<ns> <payload>", the payload a combined-stream frame or a depth snapshot body. */
static int parse_hft_line(const char *line, size_t len, const char *symbol, hft_line_t *out,
                          char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    const char *space = memchr(line, ' ', len);
    if (space == NULL || space + 1 == line + len) {
        errmsg_set(why, why_len, "not \"<receive ns> <payload>\"");
        return -1;
    }
    if (parse_ns(line, (size_t)(space - line), &out->ns, why, why_len) != 0)
        return -1;
    out->payload = space + 1;
    out->payload_len = (size_t)(line + len - out->payload);
    const char *p = out->payload;
    size_t n = out->payload_len;
    if (p[n - 1] != '}') {
        errmsg_set(why, why_len, "payload does not end with '}' (a line cut short?)");
        return -1;
    }
    if (starts_with(p, n, SNAPSHOT_PREFIX)) {
        out->snapshot = true;
        /* Futures bodies name their symbol: a wrong --symbol would label every book wrongly. */
        static const char key[] = "\"symbol\":\"";
        const char *named = memmem(p, n, key, sizeof key - 1);
        if (named != NULL) {
            named += sizeof key - 1;
            size_t sym_len = strlen(symbol);
            if ((size_t)(p + n - named) <= sym_len || memcmp(named, symbol, sym_len) != 0 ||
                named[sym_len] != '"') {
                errmsg_set(why, why_len, "the snapshot body names another symbol than %s", symbol);
                return -1;
            }
        }
        return 0;
    }
    if (!starts_with(p, n, STREAM_PREFIX)) {
        errmsg_set(why, why_len,
                   "payload is neither a combined-stream frame ({\"stream\":…) nor a depth "
                   "snapshot ({\"lastUpdateId\":…)");
        return -1;
    }
    out->stream = p + strlen(STREAM_PREFIX);
    const char *quote = memchr(out->stream, '"', (size_t)(p + n - out->stream));
    out->stream_len = quote ? (size_t)(quote - out->stream) : 0;
    if (quote == NULL || !stream_name_ok(out->stream, out->stream_len) ||
        !starts_with(quote, (size_t)(p + n - quote), DATA_AFTER_STREAM)) {
        errmsg_set(why, why_len,
                   "combined-stream frame without a plain stream name followed by \"data\"");
        return -1;
    }
    return 0;
}

int capture_hftbacktest(const capture_options_t *opt, const char *in_path, const char *out_path,
                        capture_counts_t *counts, char *err, size_t err_len)
{
    if (in_path == NULL || out_path == NULL) {
        errmsg_set(err, err_len, "hftbacktest: no input or no output path");
        return -1;
    }
    if (check_options(opt, true, err, err_len) != 0)
        return -1;
    lines_t in;
    if (lines_open(&in, in_path, err, err_len) != 0)
        return -1;

    int rc = -1;
    char why[512];
    streams_t streams = {0};
    emitter_t e = {0};
    bool emitting = false;
    FILE *copy = NULL;
    if (!lines_seekable(&in)) {
        copy = tmpfile();
        if (copy == NULL) {
            errmsg_set(err, err_len,
                       "%s: cannot create a temporary file to read the input twice: %s (set "
                       "TMPDIR to a writable directory)",
                       in.name, strerror(errno));
            goto done;
        }
        in.copy = copy;
    }

    /* Pass 1: every line checked, and the streams of the CONN_UP. */
    hft_line_t hl;
    int got;
    while ((got = lines_next(&in, err, err_len)) == 1) {
        if (parse_hft_line(in.line, in.len, opt->symbol, &hl, why, sizeof why) != 0) {
            errmsg_set(err, err_len, "%s:%" PRIu64 ": %s", in.name, in.line_no, why);
            goto done;
        }
        if (!hl.snapshot && streams_add(&streams, hl.stream, hl.stream_len, true) != 0) {
            errmsg_set(err, err_len, "%s:%" PRIu64 ": out of memory", in.name, in.line_no);
            goto done;
        }
    }
    if (got < 0)
        goto done;
    if (copy != NULL && fflush(copy) != 0) {
        errmsg_set(err, err_len,
                   "%s: cannot copy the input to a temporary file: %s (set TMPDIR to "
                   "a directory with room)",
                   in.name, strerror(errno));
        goto done;
    }
    int restarted = lines_restart(&in, copy, err, err_len);
    copy = NULL; /* owned by `in` now, even when the restart failed */
    if (restarted != 0)
        goto done;

    /* Pass 2: the frames. */
    if (emitter_open(&e, opt, out_path, err, err_len) != 0)
        goto done;
    emitting = true;
    while ((got = lines_next(&in, err, err_len)) == 1) {
        int emitted;
        if (parse_hft_line(in.line, in.len, opt->symbol, &hl, why, sizeof why) != 0)
            emitted = -1;
        else if (hl.snapshot)
            emitted =
                emit_snapshot(&e, hl.ns, opt->symbol, hl.payload, hl.payload_len, why, sizeof why);
        else if (e.ws_seq == 0 && emit_conn_up(&e, hl.ns, &streams, why, sizeof why) != 0)
            emitted = -1;
        else
            emitted = emit_ws_text(&e, hl.ns, hl.payload, hl.payload_len, why, sizeof why);
        if (emitted != 0) {
            errmsg_set(err, err_len, "%s:%" PRIu64 ": %s", in.name, in.line_no, why);
            goto done;
        }
    }
    if (got < 0)
        goto done;
    emitting = false;
    rc = emitter_finish(&e, counts, err, err_len);
done:
    if (emitting)
        emitter_abort(&e);
    if (copy != NULL)
        fclose(copy);
    streams_free(&streams);
    lines_close(&in);
    return rc;
}

/* ---- cryptofeed ----------------------------------------------------------------------------- */

/* The lines of the two captures, for messages. */
#define WS_SHAPE "<seconds>: <frame>"
#define HTTP_SHAPE "<url> -> <seconds>: <body>"

/* The next event of one side of the merge. */
typedef struct {
    bool have;
    int64_t ns;
    const char *payload; /* into the side's current line */
    size_t payload_len;
    const char *symbol; /* REST: the upper-cased symbol */
    char symbol_buf[ENVELOPE_SYMBOL_MAX + 1];
} pending_t;

/* "<seconds>: <text>" at line (a line or its tail, NUL-terminated); `shape` names the whole
   line's format in the reason. */
static int parse_timed(const char *line, size_t len, const char *shape, pending_t *out, char *why,
                       size_t why_len)
{
    const char *colon = memchr(line, ':', len);
    if (colon == NULL || colon + 2 >= line + len || colon[1] != ' ') {
        errmsg_set(why, why_len, "not \"%s\"", shape);
        return -1;
    }
    if (parse_seconds(line, (size_t)(colon - line), &out->ns, why, why_len) != 0)
        return -1;
    out->payload = colon + 2;
    out->payload_len = (size_t)(line + len - out->payload);
    out->have = true;
    return 0;
}

/* "<url> -> <seconds>: <body>", the symbol in the url's symbol= parameter. */
static int parse_http_line(const char *line, size_t len, pending_t *out, char *why, size_t why_len)
{
    static const char arrow[] = " -> ";
    const char *a = memmem(line, len, arrow, sizeof arrow - 1);
    if (a == NULL || a == line || memchr(line, ' ', (size_t)(a - line)) != NULL) {
        errmsg_set(why, why_len, "not \"%s\"", HTTP_SHAPE);
        return -1;
    }
    size_t sym_len;
    const char *sym = query_param(line, (size_t)(a - line), "symbol", &sym_len);
    bool ok = sym != NULL && sym_len >= 1 && sym_len <= ENVELOPE_SYMBOL_MAX;
    for (size_t i = 0; ok && i < sym_len; i++) {
        char c = (char)toupper((unsigned char)sym[i]);
        ok = isupper((unsigned char)c) || isdigit((unsigned char)c) || c == '_';
        out->symbol_buf[i] = c;
    }
    if (!ok) {
        errmsg_set(why, why_len, "url has no symbol=[A-Za-z0-9_]{1,%d} parameter",
                   ENVELOPE_SYMBOL_MAX);
        return -1;
    }
    out->symbol_buf[sym_len] = '\0';
    out->symbol = out->symbol_buf;
    const char *rest = a + sizeof arrow - 1;
    if (parse_timed(rest, (size_t)(line + len - rest), HTTP_SHAPE, out, why, why_len) != 0)
        return -1;
    return check_snapshot_body(out->payload, out->payload_len, why, why_len);
}

/* The first line of the WebSocket capture: "<url> <-> <connect seconds>". */
static int parse_ws_header(const char *line, size_t len, int64_t *connect_ns, streams_t *streams,
                           char *why, size_t why_len)
{
    static const char arrows[] = " <-> ";
    const char *a = memmem(line, len, arrows, sizeof arrows - 1);
    if (a == NULL || a == line || memchr(line, ' ', (size_t)(a - line)) != NULL) {
        errmsg_set(why, why_len, "not \"<url> <-> <connect time>\"");
        return -1;
    }
    const char *t = a + sizeof arrows - 1;
    if (parse_seconds(t, (size_t)(line + len - t), connect_ns, why, why_len) != 0)
        return -1;
    size_t list_len = 0;
    const char *list = query_param(line, (size_t)(a - line), "streams", &list_len);
    if (list == NULL || list_len == 0)
        return 0; /* a connection opened without streams in its url */
    for (const char *p = list, *end = list + list_len; p <= end;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *name_end = slash ? slash : end;
        if (!stream_name_ok(p, (size_t)(name_end - p))) {
            errmsg_set(why, why_len, "streams= of the url holds \"%.*s\", not a stream name",
                       (int)(name_end - p > 60 ? 60 : name_end - p), p);
            return -1;
        }
        if (streams_add(streams, p, (size_t)(name_end - p), false) != 0) {
            errmsg_set(why, why_len, "out of memory");
            return -1;
        }
        p = name_end + 1;
    }
    return 0;
}

/* Reads the next line of a side into *next (have = false at its end). */
static int advance(lines_t *lr, bool http, pending_t *next, char *err, size_t err_len)
{
    next->have = false;
    int got = lines_next(lr, err, err_len);
    if (got <= 0)
        return got;
    char why[512];
    int rc = http ? parse_http_line(lr->line, lr->len, next, why, sizeof why)
                  : parse_timed(lr->line, lr->len, WS_SHAPE, next, why, sizeof why);
    if (rc != 0) {
        errmsg_set(err, err_len, "%s:%" PRIu64 ": %s", lr->name, lr->line_no, why);
        return -1;
    }
    return 1;
}

int capture_cryptofeed(const capture_options_t *opt, const char *ws_path, const char *http_path,
                       const char *out_path, capture_counts_t *counts, char *err, size_t err_len)
{
    if (ws_path == NULL || http_path == NULL || out_path == NULL) {
        errmsg_set(err, err_len, "cryptofeed: a WebSocket file, a REST file and an output path");
        return -1;
    }
    if (check_options(opt, false, err, err_len) != 0)
        return -1;
    if (strcmp(ws_path, "-") == 0 && strcmp(http_path, "-") == 0) {
        errmsg_set(err, err_len, "cryptofeed: only one of the two inputs can be stdin");
        return -1;
    }
    lines_t ws, http;
    memset(&http, 0, sizeof http);
    if (lines_open(&ws, ws_path, err, err_len) != 0)
        return -1;
    int rc = -1;
    bool emitting = false;
    emitter_t e = {0};
    streams_t streams = {0};
    char why[512];
    if (lines_open(&http, http_path, err, err_len) != 0)
        goto done;

    int got = lines_next(&ws, err, err_len);
    if (got == 0)
        errmsg_set(err, err_len, "%s: empty, expected a first line \"<url> <-> <connect time>\"",
                   ws.name);
    if (got <= 0)
        goto done;
    int64_t connect_ns;
    if (parse_ws_header(ws.line, ws.len, &connect_ns, &streams, why, sizeof why) != 0) {
        errmsg_set(err, err_len, "%s:%" PRIu64 ": %s", ws.name, ws.line_no, why);
        goto done;
    }
    if (emitter_open(&e, opt, out_path, err, err_len) != 0)
        goto done;
    emitting = true;

    /* The CONN_UP is the first event of the WebSocket side, at the connect time. */
    pending_t next_ws = {.have = true, .ns = connect_ns};
    pending_t next_http;
    bool conn_up_pending = true;
    if (advance(&http, true, &next_http, err, err_len) < 0)
        goto done;
    while (next_ws.have || next_http.have) {
        if (next_ws.have && (!next_http.have || next_ws.ns <= next_http.ns)) {
            int emitted = conn_up_pending ? emit_conn_up(&e, next_ws.ns, &streams, why, sizeof why)
                                          : emit_ws_text(&e, next_ws.ns, next_ws.payload,
                                                         next_ws.payload_len, why, sizeof why);
            if (emitted != 0) {
                errmsg_set(err, err_len, "%s:%" PRIu64 ": %s", ws.name, ws.line_no, why);
                goto done;
            }
            conn_up_pending = false;
            if (advance(&ws, false, &next_ws, err, err_len) < 0)
                goto done;
        } else {
            if (emit_snapshot(&e, next_http.ns, next_http.symbol, next_http.payload,
                              next_http.payload_len, why, sizeof why) != 0) {
                errmsg_set(err, err_len, "%s:%" PRIu64 ": %s", http.name, http.line_no, why);
                goto done;
            }
            if (advance(&http, true, &next_http, err, err_len) < 0)
                goto done;
        }
    }
    emitting = false;
    rc = emitter_finish(&e, counts, err, err_len);
done:
    if (emitting)
        emitter_abort(&e);
    streams_free(&streams);
    lines_close(&http);
    lines_close(&ws);
    return rc;
}

/* ---- check ---------------------------------------------------------------------------------- */

typedef struct {
    uint64_t instance_id;
    uint32_t conn_id;
    uint64_t last_seq;
    bool down; /* its CONN_DOWN was seen: nothing may follow on it */
} conn_state_t;

int capture_check(const char *path, capture_counts_t *counts, char *err, size_t err_len)
{
    capture_counts_t local;
    if (counts == NULL)
        counts = &local;
    memset(counts, 0, sizeof *counts);
    if (path == NULL) {
        errmsg_set(err, err_len, "check: no file");
        return -1;
    }
    framefile_reader_t *r = framefile_reader_open(path, err, err_len);
    if (r == NULL)
        return -1;
    const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
    conn_state_t *conns = NULL;
    size_t conn_count = 0, conn_cap = 0;
    int rc = -1;
    const void *frame;
    size_t len;
    int got;
    char why[512];
    while ((got = framefile_reader_next(r, &frame, &len, err, err_len)) == 1) {
        envelope_header_t h;
        const void *payload;
        size_t payload_len;
        if (envelope_decode(frame, len, &h, &payload, &payload_len, why, sizeof why) != 0)
            goto bad_frame;
        if (h.kind == ENVELOPE_CONN_UP || h.kind == ENVELOPE_CONN_DOWN ||
            h.kind == ENVELOPE_OVERFLOW) {
            envelope_control_t *ctl =
                envelope_control_parse(h.kind, payload, payload_len, why, sizeof why);
            if (ctl == NULL)
                goto bad_frame;
            envelope_control_destroy(&ctl);
        }

        conn_state_t *c = NULL;
        for (size_t i = 0; i < conn_count && c == NULL; i++) {
            if (conns[i].instance_id == h.instance_id && conns[i].conn_id == h.conn_id)
                c = &conns[i];
        }
        if (c == NULL) {
            if (h.seq != 1) {
                errmsg_set(why, sizeof why,
                           "first frame of instance %#" PRIx64 " connection %" PRIu32
                           " has seq %" PRIu64 ", not 1",
                           h.instance_id, h.conn_id, h.seq);
                goto bad_frame;
            }
            if (h.conn_id != ENVELOPE_CONN_NONE && h.kind != ENVELOPE_CONN_UP) {
                errmsg_set(why, sizeof why, "connection %" PRIu32 " starts with %s, not CONN_UP",
                           h.conn_id, envelope_kind_name(h.kind));
                goto bad_frame;
            }
            if (conn_count == conn_cap) {
                size_t cap = conn_cap ? 2 * conn_cap : 8;
                conn_state_t *bigger = realloc(conns, cap * sizeof *bigger);
                if (bigger == NULL) {
                    errmsg_set(why, sizeof why, "out of memory");
                    goto bad_frame;
                }
                conns = bigger;
                conn_cap = cap;
            }
            c = &conns[conn_count++];
            *c = (conn_state_t){.instance_id = h.instance_id, .conn_id = h.conn_id};
        } else if (c->down) {
            errmsg_set(why, sizeof why, "%s on connection %" PRIu32 " after its CONN_DOWN",
                       envelope_kind_name(h.kind), h.conn_id);
            goto bad_frame;
        } else if (h.seq != c->last_seq + 1) {
            errmsg_set(why, sizeof why,
                       "connection %" PRIu32 " jumps from seq %" PRIu64 " to %" PRIu64, h.conn_id,
                       c->last_seq, h.seq);
            goto bad_frame;
        }
        c->last_seq = h.seq;
        c->down = h.kind == ENVELOPE_CONN_DOWN;

        counts->frames++;
        counts->bytes += FRAMEFILE_LENGTH_SIZE + len;
        counts->by_kind[h.kind]++;
        continue;
    bad_frame:
        errmsg_set(err, err_len, "%s: record at byte offset %" PRIu64 " (frame %" PRIu64 "): %s",
                   name, framefile_reader_offset(r), counts->frames + 1, why);
        goto done;
    }
    if (got == 0)
        rc = 0;
done:
    free(conns);
    framefile_reader_destroy(&r);
    return rc;
}
