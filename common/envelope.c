/*
 * envelope.c — encoding and validation of bookcast frames.
 *
 * A frame is a 56-byte fixed header, an optional symbol of 0..32 bytes, and the payload:
 *
 *   "BKCF" | version | kind | header_len | payload_len | market | flags | symbol_len | …
 *   … | symbol | payload
 *
 * docs/frames.md has the table. The design choices, and what they replaced:
 *
 * Binary, not JSON or a text line. The payload is already JSON from Binance and is passed on
 * untouched; wrapping it in another JSON document would mean escaping it on the way in and
 * unescaping on the way out, for every depth update. A fixed binary header costs two memcpy
 * calls and a few comparisons, and its fields (sequence numbers, nanosecond times, 64-bit ids)
 * keep their exact values without a number parser in the path. Integers are written byte by
 * byte in little-endian order, never by casting a struct, so the layout does not depend on
 * the compiler's padding or on the host's byte order.
 *
 * One ZeroMQ message, not a multipart message of header and payload. A recorder stores one
 * blob per frame and a replayer reads one blob back; with multipart messages the two parts
 * could be separated by a bug in any program that forwards them, and a file would need its
 * own framing for the parts. One buffer is also one allocation and one zmq_msg on each side.
 *
 * Versioned, and strict. Recorded frames outlive the code that wrote them. The version byte
 * says which layout the rest of the header has; a decoder refuses a version it does not know
 * instead of guessing. Magic, version, header_len and payload_len keep their offsets in every
 * version, so a program that only stores or forwards frames can delimit them without knowing
 * the version. Every field is checked on decode, reserved bytes must be zero and unknown flag
 * bits are refused: a valid header has exactly one encoding, and a corrupted or misframed
 * message is reported where it enters instead of as a broken book later.
 *
 * Encoder and decoder share one validation routine over the same decoded fields (wire_t), so
 * a collector cannot emit a frame that a bookbuilder refuses.
 *
 * Rejected: a fixed 32-byte symbol field (wastes 32 bytes on every WS_TEXT frame, which carry
 * no symbol); protobuf or flatbuffers (a code generator and a dependency for 15 fields);
 * per-field TLV (flexible, but leaves "which fields must be present" to every reader); a
 * checksum (TCP and local IPC already protect bytes in transit, and the likelier fault, a
 * writer that frames wrongly, is caught by the length and consistency checks).
 */
#include "envelope.h"
#include "errmsg.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Byte offsets of the version-1 header; docs/frames.md, "Byte layout". */
enum {
    OFF_MAGIC = 0,
    OFF_VERSION = 4,
    OFF_KIND = 5,
    OFF_HEADER_LEN = 6,
    OFF_PAYLOAD_LEN = 8,
    OFF_MARKET = 12,
    OFF_FLAGS = 13,
    OFF_SYMBOL_LEN = 14,
    OFF_RESERVED0 = 15,
    OFF_INSTANCE_ID = 16,
    OFF_CONN_ID = 24,
    OFF_HTTP_STATUS = 28,
    OFF_RESERVED1 = 30,
    OFF_SEQ = 32,
    OFF_RECV_TS = 40,
    OFF_REQUEST_ID = 48,
    OFF_SYMBOL = ENVELOPE_FIXED_HEADER_SIZE,
};

_Static_assert(OFF_SYMBOL == 56, "the fixed header is 56 bytes");
_Static_assert(ENVELOPE_MAX_PAYLOAD <= UINT32_MAX, "payload_len is a uint32");

/* The header as it is on the wire, widened so that the encoder sees an out-of-range enum
   value as it is (kind 300) rather than truncated to a byte. */
typedef struct {
    unsigned version;
    unsigned kind;
    unsigned market;
    unsigned flags;
    size_t header_len;
    size_t payload_len;
    size_t symbol_len;
    unsigned reserved0;
    unsigned reserved1;
    uint64_t instance_id;
    uint32_t conn_id;
    uint16_t http_status;
    uint64_t seq;
    int64_t recv_ts_ns;
    uint64_t request_id;
    const uint8_t *symbol; /* symbol_len bytes; read only after the bounds are checked */
} wire_t;

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static bool kind_known(unsigned kind)
{
    return kind >= ENVELOPE_WS_TEXT && kind <= ENVELOPE_OVERFLOW;
}

static bool kind_is_snapshot(unsigned kind)
{
    return kind == ENVELOPE_SNAPSHOT || kind == ENVELOPE_SNAPSHOT_ERROR;
}

/* Frames of these kinds come from a WebSocket connection; the others from the collector's
   REST fetcher or its outbox, under ENVELOPE_CONN_NONE. */
static bool kind_has_connection(unsigned kind)
{
    return kind == ENVELOPE_WS_TEXT || kind == ENVELOPE_CONN_UP || kind == ENVELOPE_CONN_DOWN;
}

const char *envelope_kind_name(envelope_kind_t kind)
{
    switch (kind) {
    case ENVELOPE_WS_TEXT:
        return "WS_TEXT";
    case ENVELOPE_SNAPSHOT:
        return "SNAPSHOT";
    case ENVELOPE_SNAPSHOT_ERROR:
        return "SNAPSHOT_ERROR";
    case ENVELOPE_CONN_UP:
        return "CONN_UP";
    case ENVELOPE_CONN_DOWN:
        return "CONN_DOWN";
    case ENVELOPE_OVERFLOW:
        return "OVERFLOW";
    }
    return "unknown";
}

const char *market_name(market_t market)
{
    switch (market) {
    case MARKET_SPOT:
        return "spot";
    case MARKET_USDM:
        return "usdm";
    case MARKET_COINM:
        return "coinm";
    }
    return "unknown";
}

int market_parse(const char *name, market_t *market)
{
    static const market_t all[] = {MARKET_SPOT, MARKET_USDM, MARKET_COINM};
    if (name == NULL || market == NULL)
        return -1;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, market_name(all[i])) == 0) {
            *market = all[i];
            return 0;
        }
    }
    return -1;
}

void envelope_header_init(envelope_header_t *h, envelope_kind_t kind, market_t market)
{
    memset(h, 0, sizeof *h);
    h->version = ENVELOPE_VERSION;
    h->kind = kind;
    h->market = market;
}

/* Every rule that needs no byte beyond the fixed header. Returns 0 or -1 with err set. */
static int check_fixed(const wire_t *w, char *err, size_t err_len)
{
    if (w->version != ENVELOPE_VERSION) {
        errmsg_set(err, err_len, "envelope: unsupported version %u (this build reads version %d)",
                   w->version, ENVELOPE_VERSION);
        return -1;
    }
    if (!kind_known(w->kind)) {
        errmsg_set(err, err_len, "envelope: unknown kind %u", w->kind);
        return -1;
    }
    const char *kn = envelope_kind_name((envelope_kind_t)w->kind);
    if (w->market < MARKET_SPOT || w->market > MARKET_COINM) {
        errmsg_set(err, err_len, "envelope: unknown market %u", w->market);
        return -1;
    }
    if (w->flags & ~ENVELOPE_FLAGS_KNOWN) {
        errmsg_set(err, err_len, "envelope: unknown flag bits 0x%02x",
                   w->flags & ~ENVELOPE_FLAGS_KNOWN);
        return -1;
    }
    if ((w->flags & ENVELOPE_FLAG_OVERLAP) && w->kind != ENVELOPE_WS_TEXT) {
        errmsg_set(err, err_len, "envelope: flag OVERLAP on kind %s (only WS_TEXT frames overlap)",
                   kn);
        return -1;
    }
    if (w->reserved0 != 0) {
        errmsg_set(err, err_len, "envelope: reserved byte at offset %d is 0x%02x, must be 0",
                   OFF_RESERVED0, w->reserved0);
        return -1;
    }
    if (w->reserved1 != 0) {
        errmsg_set(err, err_len, "envelope: reserved bytes at offset %d are 0x%04x, must be 0",
                   OFF_RESERVED1, w->reserved1);
        return -1;
    }
    if (w->symbol_len > ENVELOPE_SYMBOL_MAX) {
        errmsg_set(err, err_len, "envelope: symbol length %zu exceeds %d", w->symbol_len,
                   ENVELOPE_SYMBOL_MAX);
        return -1;
    }
    if (w->header_len != ENVELOPE_FIXED_HEADER_SIZE + w->symbol_len) {
        errmsg_set(err, err_len, "envelope: header length %zu but symbol length %zu makes it %zu",
                   w->header_len, w->symbol_len, ENVELOPE_FIXED_HEADER_SIZE + w->symbol_len);
        return -1;
    }
    if (w->payload_len > ENVELOPE_MAX_PAYLOAD) {
        errmsg_set(err, err_len, "envelope: payload length %zu exceeds the maximum %u",
                   w->payload_len, ENVELOPE_MAX_PAYLOAD);
        return -1;
    }
    if (w->instance_id == 0) {
        errmsg_set(err, err_len, "envelope: instance id 0 (a collector draws a nonzero one)");
        return -1;
    }
    if (kind_has_connection(w->kind) && w->conn_id == ENVELOPE_CONN_NONE) {
        errmsg_set(err, err_len, "envelope: kind %s needs a connection id >= 1", kn);
        return -1;
    }
    if (!kind_has_connection(w->kind) && w->conn_id != ENVELOPE_CONN_NONE) {
        errmsg_set(err, err_len, "envelope: kind %s must have connection id 0, not %u", kn,
                   (unsigned)w->conn_id);
        return -1;
    }
    if (w->seq == 0) {
        errmsg_set(err, err_len, "envelope: sequence 0 (sequences start at 1)");
        return -1;
    }
    if (w->kind == ENVELOPE_CONN_UP && w->seq != 1) {
        errmsg_set(err, err_len, "envelope: CONN_UP with sequence %llu, must be 1",
                   (unsigned long long)w->seq);
        return -1;
    }
    if (w->recv_ts_ns <= 0) {
        errmsg_set(err, err_len, "envelope: receive time %lld ns is not after the epoch",
                   (long long)w->recv_ts_ns);
        return -1;
    }
    if (!kind_is_snapshot(w->kind)) {
        if (w->symbol_len != 0) {
            errmsg_set(err, err_len, "envelope: kind %s must not carry a symbol (length %zu)", kn,
                       w->symbol_len);
            return -1;
        }
        if (w->request_id != 0) {
            errmsg_set(err, err_len, "envelope: kind %s must not carry a request id (got %llu)", kn,
                       (unsigned long long)w->request_id);
            return -1;
        }
        if (w->http_status != 0) {
            errmsg_set(err, err_len, "envelope: kind %s must not carry an HTTP status (got %u)", kn,
                       (unsigned)w->http_status);
            return -1;
        }
        return 0;
    }
    if (w->symbol_len == 0) {
        errmsg_set(err, err_len, "envelope: kind %s needs a symbol", kn);
        return -1;
    }
    if (w->request_id == 0) {
        errmsg_set(err, err_len, "envelope: kind %s needs a request id >= 1", kn);
        return -1;
    }
    if (w->kind == ENVELOPE_SNAPSHOT && (w->http_status < 200 || w->http_status > 299)) {
        errmsg_set(err, err_len, "envelope: HTTP status %u out of range 200..299 for SNAPSHOT",
                   (unsigned)w->http_status);
        return -1;
    }
    if (w->kind == ENVELOPE_SNAPSHOT_ERROR && w->http_status != 0 &&
        (w->http_status < 100 || w->http_status > 599)) {
        errmsg_set(err, err_len,
                   "envelope: HTTP status %u out of range (0 or 100..599) for SNAPSHOT_ERROR",
                   (unsigned)w->http_status);
        return -1;
    }
    if (w->kind == ENVELOPE_SNAPSHOT_ERROR && w->http_status == 0 && w->payload_len == 0) {
        errmsg_set(err, err_len,
                   "envelope: SNAPSHOT_ERROR with status 0 needs a reason as payload");
        return -1;
    }
    return 0;
}

/* The symbol's bytes; w->symbol must point at w->symbol_len readable bytes. */
static int check_symbol(const wire_t *w, char *err, size_t err_len)
{
    for (size_t i = 0; i < w->symbol_len; i++) {
        uint8_t c = w->symbol[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
            errmsg_set(err, err_len,
                       "envelope: symbol byte 0x%02x at index %zu is not in [A-Z0-9_]", (unsigned)c,
                       i);
            return -1;
        }
    }
    return 0;
}

size_t envelope_encoded_size(const envelope_header_t *h, size_t payload_len)
{
    if (payload_len > ENVELOPE_MAX_PAYLOAD)
        return 0;
    return ENVELOPE_FIXED_HEADER_SIZE + strnlen(h->symbol, sizeof h->symbol) + payload_len;
}

size_t envelope_encode(const envelope_header_t *h, const void *payload, size_t payload_len,
                       void *buf, size_t buf_len, char *err, size_t err_len)
{
    if (h == NULL || buf == NULL) {
        errmsg_set(err, err_len, "envelope: no header or no buffer to encode");
        return 0;
    }
    if (payload == NULL && payload_len > 0) {
        errmsg_set(err, err_len, "envelope: payload length %zu but no payload", payload_len);
        return 0;
    }
    size_t symbol_len = strnlen(h->symbol, sizeof h->symbol);
    wire_t w = {
        .version = h->version,
        .kind = (unsigned)h->kind,
        .market = (unsigned)h->market,
        .flags = h->flags,
        .header_len = ENVELOPE_FIXED_HEADER_SIZE + symbol_len,
        .payload_len = payload_len,
        .symbol_len = symbol_len,
        .instance_id = h->instance_id,
        .conn_id = h->conn_id,
        .http_status = h->http_status,
        .seq = h->seq,
        .recv_ts_ns = h->recv_ts_ns,
        .request_id = h->request_id,
        .symbol = (const uint8_t *)h->symbol,
    };
    if (check_fixed(&w, err, err_len) != 0 || check_symbol(&w, err, err_len) != 0)
        return 0;
    size_t total = w.header_len + payload_len;
    if (buf_len < total) {
        errmsg_set(err, err_len, "envelope: buffer of %zu bytes, the frame needs %zu", buf_len,
                   total);
        return 0;
    }

    uint8_t *p = buf;
    /* The payload first: it may overlap the header's bytes when a caller built it in place. */
    if (payload_len > 0)
        memmove(p + w.header_len, payload, payload_len);
    memcpy(p + OFF_MAGIC, ENVELOPE_MAGIC, 4);
    p[OFF_VERSION] = (uint8_t)w.version;
    p[OFF_KIND] = (uint8_t)w.kind;
    put_u16(p + OFF_HEADER_LEN, (uint16_t)w.header_len);
    put_u32(p + OFF_PAYLOAD_LEN, (uint32_t)w.payload_len);
    p[OFF_MARKET] = (uint8_t)w.market;
    p[OFF_FLAGS] = (uint8_t)w.flags;
    p[OFF_SYMBOL_LEN] = (uint8_t)w.symbol_len;
    p[OFF_RESERVED0] = 0;
    put_u64(p + OFF_INSTANCE_ID, w.instance_id);
    put_u32(p + OFF_CONN_ID, w.conn_id);
    put_u16(p + OFF_HTTP_STATUS, w.http_status);
    put_u16(p + OFF_RESERVED1, 0);
    put_u64(p + OFF_SEQ, w.seq);
    put_u64(p + OFF_RECV_TS, (uint64_t)w.recv_ts_ns);
    put_u64(p + OFF_REQUEST_ID, w.request_id);
    memcpy(p + OFF_SYMBOL, h->symbol, symbol_len);
    return total;
}

int envelope_decode(const void *msg, size_t msg_len, envelope_header_t *h, const void **payload,
                    size_t *payload_len, char *err, size_t err_len)
{
    if (h == NULL || payload == NULL || payload_len == NULL || (msg == NULL && msg_len > 0)) {
        errmsg_set(err, err_len, "envelope: NULL argument to decode");
        return -1;
    }
    const uint8_t *p = msg;
    /* Magic and version are checked as soon as they are there, so that a frame of another
       version is reported as such even if its header is shorter than ours. */
    if (msg_len >= 4 && memcmp(p + OFF_MAGIC, ENVELOPE_MAGIC, 4) != 0) {
        errmsg_set(err, err_len, "envelope: bad magic %02x %02x %02x %02x (expected \"%s\")", p[0],
                   p[1], p[2], p[3], ENVELOPE_MAGIC);
        return -1;
    }
    if (msg_len > OFF_VERSION && p[OFF_VERSION] != ENVELOPE_VERSION) {
        errmsg_set(err, err_len, "envelope: unsupported version %u (this build reads version %d)",
                   (unsigned)p[OFF_VERSION], ENVELOPE_VERSION);
        return -1;
    }
    if (msg_len < ENVELOPE_FIXED_HEADER_SIZE) {
        errmsg_set(err, err_len, "envelope: message is %zu bytes, shorter than the %d-byte header",
                   msg_len, ENVELOPE_FIXED_HEADER_SIZE);
        return -1;
    }

    wire_t w = {
        .version = p[OFF_VERSION],
        .kind = p[OFF_KIND],
        .market = p[OFF_MARKET],
        .flags = p[OFF_FLAGS],
        .header_len = get_u16(p + OFF_HEADER_LEN),
        .payload_len = get_u32(p + OFF_PAYLOAD_LEN),
        .symbol_len = p[OFF_SYMBOL_LEN],
        .reserved0 = p[OFF_RESERVED0],
        .reserved1 = get_u16(p + OFF_RESERVED1),
        .instance_id = get_u64(p + OFF_INSTANCE_ID),
        .conn_id = get_u32(p + OFF_CONN_ID),
        .http_status = get_u16(p + OFF_HTTP_STATUS),
        .seq = get_u64(p + OFF_SEQ),
        .recv_ts_ns = (int64_t)get_u64(p + OFF_RECV_TS),
        .request_id = get_u64(p + OFF_REQUEST_ID),
        .symbol = p + OFF_SYMBOL,
    };
    if (check_fixed(&w, err, err_len) != 0)
        return -1;
    if (msg_len < w.header_len) {
        errmsg_set(err, err_len, "envelope: message is %zu bytes, shorter than its %zu-byte header",
                   msg_len, w.header_len);
        return -1;
    }
    if (check_symbol(&w, err, err_len) != 0)
        return -1;
    if (msg_len - w.header_len != w.payload_len) {
        errmsg_set(err, err_len, "envelope: payload length %zu but %zu bytes follow the header",
                   w.payload_len, msg_len - w.header_len);
        return -1;
    }

    memset(h, 0, sizeof *h);
    h->version = (uint8_t)w.version;
    h->kind = (envelope_kind_t)w.kind;
    h->market = (market_t)w.market;
    h->flags = (uint8_t)w.flags;
    h->instance_id = w.instance_id;
    h->conn_id = w.conn_id;
    h->seq = w.seq;
    h->recv_ts_ns = w.recv_ts_ns;
    memcpy(h->symbol, w.symbol, w.symbol_len);
    h->symbol[w.symbol_len] = '\0';
    h->request_id = w.request_id;
    h->http_status = w.http_status;
    *payload = p + w.header_len;
    *payload_len = w.payload_len;
    return 0;
}

/* ---- control payloads ---------------------------------------------------------------- */

/* Longest stream name accepted. Binance's longest names ("<pair>_<type>@continuousKline_<i>"
   with a time-zone suffix) are under 64 bytes. */
#define STREAM_NAME_MAX 128
/* frames_dropped is a JSON number; doubles hold integers exactly up to 2^53. */
#define FRAMES_DROPPED_MAX 9007199254740992ull

static bool printable_no_space(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    }
    return true;
}

static bool kind_is_control(envelope_kind_t kind)
{
    return kind == ENVELOPE_CONN_UP || kind == ENVELOPE_CONN_DOWN || kind == ENVELOPE_OVERFLOW;
}

/* The rules for a control payload of `kind`, shared by format and parse. */
static int check_control(envelope_kind_t kind, const envelope_control_t *c, char *err,
                         size_t err_len)
{
    if (!kind_is_control(kind)) {
        errmsg_set(err, err_len, "envelope: kind %s has no control payload",
                   envelope_kind_name(kind));
        return -1;
    }
    if (c->stream_count > 0 && c->streams == NULL) {
        errmsg_set(err, err_len, "envelope: %zu streams but no stream list", c->stream_count);
        return -1;
    }
    for (size_t i = 0; i < c->stream_count; i++) {
        const char *s = c->streams[i];
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > STREAM_NAME_MAX || !printable_no_space(s)) {
            errmsg_set(err, err_len,
                       "envelope: stream %zu is not a stream name (1..%d printable ASCII bytes, "
                       "no space)",
                       i, STREAM_NAME_MAX);
            return -1;
        }
    }
    if (kind == ENVELOPE_CONN_UP) {
        if (c->url == NULL ||
            (strncmp(c->url, "ws://", 5) != 0 && strncmp(c->url, "wss://", 6) != 0) ||
            !printable_no_space(c->url)) {
            errmsg_set(err, err_len, "envelope: CONN_UP needs a ws:// or wss:// url");
            return -1;
        }
    } else if (c->url != NULL) {
        errmsg_set(err, err_len, "envelope: url only belongs to CONN_UP");
        return -1;
    }
    if (kind == ENVELOPE_CONN_DOWN) {
        if (c->reason == NULL || c->reason[0] == '\0') {
            errmsg_set(err, err_len, "envelope: CONN_DOWN needs a nonempty reason");
            return -1;
        }
    } else if (c->reason != NULL) {
        errmsg_set(err, err_len, "envelope: reason only belongs to CONN_DOWN");
        return -1;
    }
    if (kind == ENVELOPE_OVERFLOW) {
        if (c->frames_dropped < 1 || c->frames_dropped > FRAMES_DROPPED_MAX) {
            errmsg_set(err, err_len, "envelope: OVERFLOW frames_dropped %llu not in 1..2^53",
                       (unsigned long long)c->frames_dropped);
            return -1;
        }
    } else if (c->frames_dropped != 0) {
        errmsg_set(err, err_len, "envelope: frames_dropped only belongs to OVERFLOW");
        return -1;
    }
    return 0;
}

char *envelope_control_format(envelope_kind_t kind, const envelope_control_t *ctl, char *err,
                              size_t err_len)
{
    if (ctl == NULL) {
        errmsg_set(err, err_len, "envelope: no control payload to format");
        return NULL;
    }
    if (check_control(kind, ctl, err, err_len) != 0)
        return NULL;

    char *out = NULL;
    cJSON *root = cJSON_CreateObject();
    if (root == NULL)
        goto oom;
    if (kind == ENVELOPE_CONN_UP && cJSON_AddStringToObject(root, "url", ctl->url) == NULL)
        goto oom;
    cJSON *streams = cJSON_AddArrayToObject(root, "streams"); /* owned by root */
    if (streams == NULL)
        goto oom;
    for (size_t i = 0; i < ctl->stream_count; i++) {
        cJSON *s = cJSON_CreateString(ctl->streams[i]);
        if (s == NULL || !cJSON_AddItemToArray(streams, s)) {
            cJSON_Delete(s);
            goto oom;
        }
    }
    if (kind == ENVELOPE_CONN_DOWN && cJSON_AddStringToObject(root, "reason", ctl->reason) == NULL)
        goto oom;
    if (kind == ENVELOPE_OVERFLOW) {
        /* A raw number, so that the digits are exact rather than a double's rendering. */
        char digits[24];
        snprintf(digits, sizeof digits, "%llu", (unsigned long long)ctl->frames_dropped);
        if (cJSON_AddRawToObject(root, "frames_dropped", digits) == NULL)
            goto oom;
    }
    char *printed = cJSON_PrintUnformatted(root);
    if (printed == NULL)
        goto oom;
    /* cJSON may have been given its own allocator; the contract says free(). */
    out = strdup(printed);
    cJSON_free(printed);
    if (out == NULL)
        goto oom;
    cJSON_Delete(root);
    return out;
oom:
    cJSON_Delete(root);
    errmsg_set(err, err_len, "envelope: out of memory formatting a %s payload",
               envelope_kind_name(kind));
    return NULL;
}

void envelope_control_destroy(envelope_control_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    envelope_control_t *self = *self_p;
    for (size_t i = 0; i < self->stream_count; i++)
        free(self->streams[i]);
    free(self->streams);
    free(self->url);
    free(self->reason);
    free(self);
    *self_p = NULL;
}

/* The string value of `key`, copied; NULL with err set when it is missing or not a string. */
static char *dup_string_member(const cJSON *root, const char *key, envelope_kind_t kind, char *err,
                               size_t err_len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!cJSON_IsString(v) || v->valuestring == NULL) {
        errmsg_set(err, err_len, "envelope: %s payload needs a string \"%s\"",
                   envelope_kind_name(kind), key);
        return NULL;
    }
    char *s = strdup(v->valuestring);
    if (s == NULL)
        errmsg_set(err, err_len, "envelope: out of memory");
    return s;
}

envelope_control_t *envelope_control_parse(envelope_kind_t kind, const void *payload,
                                           size_t payload_len, char *err, size_t err_len)
{
    if (!kind_is_control(kind)) {
        errmsg_set(err, err_len, "envelope: kind %s has no control payload",
                   envelope_kind_name(kind));
        return NULL;
    }
    if (payload == NULL && payload_len > 0) {
        errmsg_set(err, err_len, "envelope: payload length %zu but no payload", payload_len);
        return NULL;
    }
    if (payload_len > 0 && memchr(payload, '\0', payload_len) != NULL) {
        errmsg_set(err, err_len, "envelope: %s payload contains a NUL byte",
                   envelope_kind_name(kind));
        return NULL;
    }
    /* A NUL-terminated copy: cJSON then never has a reason to look past the payload. */
    char *text = malloc(payload_len + 1);
    envelope_control_t *c = calloc(1, sizeof *c);
    cJSON *root = NULL;
    if (text == NULL || c == NULL) {
        errmsg_set(err, err_len, "envelope: out of memory");
        goto fail;
    }
    if (payload_len > 0)
        memcpy(text, payload, payload_len);
    text[payload_len] = '\0';
    root = cJSON_ParseWithOpts(text, NULL, 1);
    if (!cJSON_IsObject(root)) {
        errmsg_set(err, err_len, "envelope: %s payload is not a JSON object",
                   envelope_kind_name(kind));
        goto fail;
    }

    const cJSON *streams = cJSON_GetObjectItemCaseSensitive(root, "streams");
    if (!cJSON_IsArray(streams)) {
        errmsg_set(err, err_len, "envelope: %s payload needs an array \"streams\"",
                   envelope_kind_name(kind));
        goto fail;
    }
    size_t n = (size_t)cJSON_GetArraySize(streams);
    if (n > 0) {
        c->streams = calloc(n, sizeof *c->streams);
        if (c->streams == NULL) {
            errmsg_set(err, err_len, "envelope: out of memory");
            goto fail;
        }
    }
    const cJSON *item = streams->child;
    for (size_t i = 0; i < n && item != NULL; i++, item = item->next) {
        if (!cJSON_IsString(item) || item->valuestring == NULL) {
            errmsg_set(err, err_len, "envelope: %s stream %zu is not a string",
                       envelope_kind_name(kind), i);
            goto fail;
        }
        c->streams[i] = strdup(item->valuestring);
        if (c->streams[i] == NULL) {
            errmsg_set(err, err_len, "envelope: out of memory");
            goto fail;
        }
        c->stream_count = i + 1;
    }

    if (kind == ENVELOPE_CONN_UP &&
        (c->url = dup_string_member(root, "url", kind, err, err_len)) == NULL)
        goto fail;
    if (kind == ENVELOPE_CONN_DOWN &&
        (c->reason = dup_string_member(root, "reason", kind, err, err_len)) == NULL)
        goto fail;
    if (kind == ENVELOPE_OVERFLOW) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "frames_dropped");
        double d = cJSON_IsNumber(v) ? v->valuedouble : -1.0;
        if (!(d >= 1.0 && d <= (double)FRAMES_DROPPED_MAX && (double)(uint64_t)d == d)) {
            errmsg_set(err, err_len,
                       "envelope: OVERFLOW payload needs an integer \"frames_dropped\" in 1..2^53");
            goto fail;
        }
        c->frames_dropped = (uint64_t)d;
    }
    if (check_control(kind, c, err, err_len) != 0)
        goto fail;
    cJSON_Delete(root);
    free(text);
    return c;
fail:
    cJSON_Delete(root);
    free(text);
    envelope_control_destroy(&c);
    return NULL;
}
