/*
 * test_envelope.c — the frame format: round trips, the exact byte layout of docs/frames.md,
 * and every malformed frame refused with its reason.
 *
 * Messages under test are copied into heap buffers of exactly their length, so that a decoder
 * reading one byte too far is caught by AddressSanitizer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "docdump.h"

#include "envelope.h"

/* Offsets from the table in docs/frames.md. Written out here, not taken from envelope.c, so
   that a change of layout fails these tests. */
#define O_MAGIC 0
#define O_VERSION 4
#define O_KIND 5
#define O_HEADER_LEN 6
#define O_PAYLOAD_LEN 8
#define O_MARKET 12
#define O_FLAGS 13
#define O_SYMBOL_LEN 14
#define O_RESERVED0 15
#define O_INSTANCE_ID 16
#define O_CONN_ID 24
#define O_HTTP_STATUS 28
#define O_RESERVED1 30
#define O_SEQ 32
#define O_RECV_TS 40
#define O_REQUEST_ID 48
#define O_SYMBOL 56

static const char DEPTH_TEXT[] =
    "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1767225600120,"
    "\"T\":1767225600118,\"s\":\"BTCUSDT\",\"U\":9120467512,\"u\":9120467530,\"pu\":9120467509,"
    "\"b\":[[\"87412.10\",\"0.532\"]],\"a\":[[\"87412.20\",\"1.204\"]]}}";

static const char SNAPSHOT_BODY[] =
    "{\"lastUpdateId\":9120467509,\"E\":1767225600101,\"T\":1767225600099,"
    "\"bids\":[[\"87412.10\",\"0.410\"]],\"asks\":[[\"87412.20\",\"1.204\"]]}";

/* A valid header of each kind, with distinct nonzero values in every field it may carry. */
static envelope_header_t valid_header(envelope_kind_t kind)
{
    envelope_header_t h;
    envelope_header_init(&h, kind, MARKET_USDM);
    h.instance_id = 0x5f3a9c0e12d4b871ull;
    h.conn_id = 3;
    h.seq = 42;
    h.recv_ts_ns = 1767225600123456789ll;
    switch (kind) {
    case ENVELOPE_SNAPSHOT:
        h.conn_id = ENVELOPE_CONN_NONE;
        strcpy(h.symbol, "BTCUSDT");
        h.request_id = 77;
        h.http_status = 200;
        break;
    case ENVELOPE_SNAPSHOT_ERROR:
        h.conn_id = ENVELOPE_CONN_NONE;
        strcpy(h.symbol, "BTCUSD_PERP");
        h.request_id = 78;
        h.http_status = 429;
        break;
    case ENVELOPE_CONN_UP:
        h.seq = 1;
        break;
    case ENVELOPE_OVERFLOW:
        h.conn_id = ENVELOPE_CONN_NONE;
        break;
    default:
        break;
    }
    return h;
}

typedef struct {
    uint8_t *bytes;
    size_t len;
} frame_t;

/* Encodes into a buffer of exactly the frame's size; the test owns frame.bytes. */
static frame_t encode_frame(const envelope_header_t *h, const void *payload, size_t payload_len)
{
    char err[256] = "";
    frame_t f = {NULL, envelope_encoded_size(h, payload_len)};
    assert_true(f.len >= ENVELOPE_FIXED_HEADER_SIZE + payload_len);
    f.bytes = malloc(f.len);
    assert_non_null(f.bytes);
    size_t n = envelope_encode(h, payload, payload_len, f.bytes, f.len, err, sizeof err);
    if (n == 0)
        fail_msg("encode refused a valid header: %s", err);
    assert_int_equal(n, f.len);
    return f;
}

static frame_t valid_frame(envelope_kind_t kind)
{
    envelope_header_t h = valid_header(kind);
    return encode_frame(&h, DEPTH_TEXT, strlen(DEPTH_TEXT));
}

static void poke16(frame_t *f, size_t off, uint16_t v)
{
    for (int i = 0; i < 2; i++)
        f->bytes[off + i] = (uint8_t)(v >> (8 * i));
}

static void poke32(frame_t *f, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        f->bytes[off + i] = (uint8_t)(v >> (8 * i));
}

static void poke64(frame_t *f, size_t off, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        f->bytes[off + i] = (uint8_t)(v >> (8 * i));
}

/* Decodes msg[0..len) from an exact-size heap copy and asserts it is refused with a reason
   containing `reason`, leaving the outputs untouched. */
static void assert_decode_fails(const uint8_t *msg, size_t len, const char *reason)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    if (len > 0)
        memcpy(copy, msg, len);

    envelope_header_t h, before;
    memset(&h, 0xa5, sizeof h);
    before = h;
    static const char sentinel = 0;
    const void *payload = &sentinel;
    size_t payload_len = 12345;
    char err[256] = "";

    int rc = envelope_decode(copy, len, &h, &payload, &payload_len, err, sizeof err);
    if (rc != -1)
        fail_msg("a %zu-byte message was accepted; expected \"%s\"", len, reason);
    if (strstr(err, reason) == NULL)
        fail_msg("reason \"%s\" does not contain \"%s\"", err, reason);
    assert_memory_equal(&h, &before, sizeof h);
    assert_ptr_equal(payload, &sentinel);
    assert_int_equal(payload_len, 12345);
    free(copy);
}

static void assert_frame_fails(const frame_t *f, const char *reason)
{
    assert_decode_fails(f->bytes, f->len, reason);
}

/* Asserts that encode refuses h with a reason containing `reason` and writes nothing. */
static void assert_encode_fails(const envelope_header_t *h, const void *payload, size_t payload_len,
                                const char *reason)
{
    uint8_t buf[ENVELOPE_MAX_HEADER_SIZE + 512];
    memset(buf, 0x5a, sizeof buf);
    char err[256] = "";
    size_t n = envelope_encode(h, payload, payload_len, buf, sizeof buf, err, sizeof err);
    if (n != 0)
        fail_msg("encode accepted a header it should refuse (\"%s\")", reason);
    if (strstr(err, reason) == NULL)
        fail_msg("reason \"%s\" does not contain \"%s\"", err, reason);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0x5a);
}

static void assert_round_trip(const envelope_header_t *h, const void *payload, size_t payload_len)
{
    frame_t f = encode_frame(h, payload, payload_len);
    envelope_header_t got;
    const void *got_payload = NULL;
    size_t got_len = 0;
    char err[256] = "";
    if (envelope_decode(f.bytes, f.len, &got, &got_payload, &got_len, err, sizeof err) != 0)
        fail_msg("decode refused what encode wrote: %s", err);

    assert_int_equal(got.version, ENVELOPE_VERSION);
    assert_int_equal(got.kind, h->kind);
    assert_int_equal(got.market, h->market);
    assert_int_equal(got.flags, h->flags);
    assert_true(got.instance_id == h->instance_id);
    assert_int_equal(got.conn_id, h->conn_id);
    assert_true(got.seq == h->seq);
    assert_true(got.recv_ts_ns == h->recv_ts_ns);
    assert_string_equal(got.symbol, h->symbol);
    assert_true(got.request_id == h->request_id);
    assert_int_equal(got.http_status, h->http_status);

    assert_int_equal(got_len, payload_len);
    assert_ptr_equal(got_payload, f.bytes + f.len - payload_len);
    if (payload_len > 0)
        assert_memory_equal(got_payload, payload, payload_len);
    free(f.bytes);
}

/* ---- round trips ---------------------------------------------------------------------- */

static void ws_text_round_trips(void **state)
{
    (void)state;
    envelope_header_t h = valid_header(ENVELOPE_WS_TEXT);
    assert_round_trip(&h, DEPTH_TEXT, strlen(DEPTH_TEXT));
}

static void ws_text_with_overlap_flag_round_trips(void **state)
{
    (void)state;
    envelope_header_t h = valid_header(ENVELOPE_WS_TEXT);
    h.flags = ENVELOPE_FLAG_OVERLAP;
    assert_round_trip(&h, DEPTH_TEXT, strlen(DEPTH_TEXT));
}

static void snapshot_round_trips(void **state)
{
    (void)state;
    envelope_header_t h = valid_header(ENVELOPE_SNAPSHOT);
    assert_round_trip(&h, SNAPSHOT_BODY, strlen(SNAPSHOT_BODY));
}

static void snapshot_error_with_http_status_round_trips(void **state)
{
    (void)state;
    static const char body[] = "{\"code\":-1003,\"msg\":\"Too many requests.\"}";
    envelope_header_t h = valid_header(ENVELOPE_SNAPSHOT_ERROR);
    assert_round_trip(&h, body, strlen(body));
}

static void snapshot_error_without_http_response_round_trips(void **state)
{
    (void)state;
    static const char reason[] = "connect to fapi.binance.com:443: Connection refused";
    envelope_header_t h = valid_header(ENVELOPE_SNAPSHOT_ERROR);
    h.http_status = 0;
    assert_round_trip(&h, reason, strlen(reason));
}

static void conn_up_round_trips(void **state)
{
    (void)state;
    static const char json[] = "{\"url\":\"wss://fstream.binance.com/public/stream?streams="
                               "btcusdt@depth@100ms\",\"streams\":[\"btcusdt@depth@100ms\"]}";
    envelope_header_t h = valid_header(ENVELOPE_CONN_UP);
    assert_round_trip(&h, json, strlen(json));
}

static void conn_down_round_trips(void **state)
{
    (void)state;
    static const char json[] = "{\"streams\":[\"btcusdt@depth@100ms\"],\"reason\":\"closed\"}";
    envelope_header_t h = valid_header(ENVELOPE_CONN_DOWN);
    h.seq = 981234;
    assert_round_trip(&h, json, strlen(json));
}

static void overflow_round_trips(void **state)
{
    (void)state;
    static const char json[] = "{\"streams\":[\"btcusdt@depth@100ms\"],\"frames_dropped\":17}";
    envelope_header_t h = valid_header(ENVELOPE_OVERFLOW);
    assert_round_trip(&h, json, strlen(json));
}

static void every_market_round_trips(void **state)
{
    (void)state;
    static const market_t markets[] = {MARKET_SPOT, MARKET_USDM, MARKET_COINM};
    for (size_t i = 0; i < 3; i++) {
        envelope_header_t h = valid_header(ENVELOPE_WS_TEXT);
        h.market = markets[i];
        assert_round_trip(&h, DEPTH_TEXT, strlen(DEPTH_TEXT));
    }
}

static void extreme_field_values_round_trip(void **state)
{
    (void)state;
    envelope_header_t h = valid_header(ENVELOPE_SNAPSHOT);
    h.instance_id = UINT64_MAX;
    h.seq = UINT64_MAX;
    h.recv_ts_ns = INT64_MAX;
    h.request_id = UINT64_MAX;
    h.http_status = 299;
    strcpy(h.symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_01289"); /* 32 bytes */
    assert_int_equal(strlen(h.symbol), ENVELOPE_SYMBOL_MAX);
    assert_round_trip(&h, SNAPSHOT_BODY, strlen(SNAPSHOT_BODY));

    envelope_header_t w = valid_header(ENVELOPE_WS_TEXT);
    w.conn_id = UINT32_MAX;
    w.recv_ts_ns = 1;
    w.seq = 1;
    assert_round_trip(&w, DEPTH_TEXT, strlen(DEPTH_TEXT));
}

static void snapshot_error_status_boundaries_round_trip(void **state)
{
    (void)state;
    static const uint16_t ok[] = {100, 200, 418, 599};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        envelope_header_t h = valid_header(ENVELOPE_SNAPSHOT_ERROR);
        h.http_status = ok[i];
        assert_round_trip(&h, "", 0);
    }
}

static void zero_length_payload_round_trips(void **state)
{
    (void)state;
    envelope_header_t h = valid_header(ENVELOPE_WS_TEXT);
    assert_int_equal(envelope_encoded_size(&h, 0), ENVELOPE_FIXED_HEADER_SIZE);
    assert_round_trip(&h, NULL, 0);
    envelope_header_t s = valid_header(ENVELOPE_SNAPSHOT);
    assert_round_trip(&s, "", 0);
}

static void maximum_payload_accepted(void **state)
{
    (void)state;
    size_t len = ENVELOPE_MAX_PAYLOAD;
    uint8_t *payload = malloc(len);
    assert_non_null(payload);
    for (size_t i = 0; i < len; i++)
        payload[i] = (uint8_t)(i * 31u + 7u);
    envelope_header_t h = valid_header(ENVELOPE_SNAPSHOT);
    assert_round_trip(&h, payload, len);
    free(payload);
}

static void payload_one_byte_over_maximum_refused_by_encode(void **state)
{
    (void)state;
    size_t len = (size_t)ENVELOPE_MAX_PAYLOAD + 1;
    uint8_t *payload = calloc(1, len);
    uint8_t *buf = malloc(len + ENVELOPE_MAX_HEADER_SIZE);
    assert_non_null(payload);
    assert_non_null(buf);
    envelope_header_t h = valid_header(ENVELOPE_SNAPSHOT);
    assert_int_equal(envelope_encoded_size(&h, len), 0);
    char err[256] = "";
    assert_int_equal(
        envelope_encode(&h, payload, len, buf, len + ENVELOPE_MAX_HEADER_SIZE, err, sizeof err), 0);
    assert_non_null(strstr(err, "payload length 16777217 exceeds the maximum 16777216"));
    free(buf);
    free(payload);
}

static void payload_length_over_maximum_refused_by_decode(void **state)
{
    (void)state;
    /* The declared length is refused before the decoder looks for the bytes. */
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    poke32(&f, O_PAYLOAD_LEN, ENVELOPE_MAX_PAYLOAD + 1);
    assert_frame_fails(&f, "payload length 16777217 exceeds the maximum 16777216");
    poke32(&f, O_PAYLOAD_LEN, UINT32_MAX);
    assert_frame_fails(&f, "payload length 4294967295 exceeds the maximum");
    free(f.bytes);
}

static void encoded_size_counts_header_symbol_and_payload(void **state)
{
    (void)state;
    envelope_header_t h = valid_header(ENVELOPE_SNAPSHOT);
    assert_int_equal(envelope_encoded_size(&h, 100), 56 + 7 + 100);
    envelope_header_t w = valid_header(ENVELOPE_WS_TEXT);
    assert_int_equal(envelope_encoded_size(&w, 100), 56 + 100);
}

/* The frame of the worked example in docs/frames.md, byte for byte. */
static void layout_matches_documented_example(void **state)
{
    (void)state;
    static const uint8_t expected_header[56] = {
        'B',  'K',  'C',  'F',                          /* magic */
        0x01,                                           /* version */
        0x01,                                           /* kind WS_TEXT */
        0x38, 0x00,                                     /* header_len 56 */
        0xd1, 0x00, 0x00, 0x00,                         /* payload_len 209 */
        0x02,                                           /* market USDM */
        0x00,                                           /* flags */
        0x00,                                           /* symbol_len */
        0x00,                                           /* reserved */
        0x71, 0xb8, 0xd4, 0x12, 0x0e, 0x9c, 0x3a, 0x5f, /* instance_id 0x5f3a9c0e12d4b871 */
        0x03, 0x00, 0x00, 0x00,                         /* conn_id 3 */
        0x00, 0x00,                                     /* http_status */
        0x00, 0x00,                                     /* reserved */
        0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* seq 42 */
        0x15, 0xcd, 0x55, 0xf5, 0x51, 0x72, 0x86, 0x18, /* recv_ts_ns 1767225600123456789 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* request_id */
    };
    assert_int_equal(strlen(DEPTH_TEXT), 209);
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    assert_int_equal(f.len, 56 + 209);
    assert_memory_equal(f.bytes, expected_header, sizeof expected_header);
    assert_memory_equal(f.bytes + 56, DEPTH_TEXT, 209);
    free(f.bytes);
}

static void symbol_follows_fixed_header_unterminated(void **state)
{
    (void)state;
    envelope_header_t h = valid_header(ENVELOPE_SNAPSHOT);
    frame_t f = encode_frame(&h, "{}", 2);
    assert_int_equal(f.len, 56 + 7 + 2);
    assert_int_equal(f.bytes[O_SYMBOL_LEN], 7);
    assert_int_equal(f.bytes[O_HEADER_LEN], 63);
    assert_int_equal(f.bytes[O_HEADER_LEN + 1], 0);
    assert_memory_equal(f.bytes + O_SYMBOL, "BTCUSDT{}", 9);
    assert_int_equal(f.bytes[O_HTTP_STATUS], 200);
    assert_int_equal(f.bytes[O_REQUEST_ID], 77);
    free(f.bytes);
}

/* Every header decode accepts is one encode reproduces byte for byte: a single byte of the
   header set to each of its 256 values either is refused or survives a re-encode. */
static void decode_and_encode_agree_on_every_header_byte_value(void **state)
{
    (void)state;
    static const envelope_kind_t kinds[] = {ENVELOPE_WS_TEXT,        ENVELOPE_SNAPSHOT,
                                            ENVELOPE_SNAPSHOT_ERROR, ENVELOPE_CONN_UP,
                                            ENVELOPE_CONN_DOWN,      ENVELOPE_OVERFLOW};
    size_t accepted = 0, refused = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        frame_t f = valid_frame(kinds[k]);
        uint8_t *copy = malloc(f.len);
        uint8_t *again = malloc(f.len);
        assert_non_null(copy);
        assert_non_null(again);
        size_t header_len = f.len - strlen(DEPTH_TEXT);
        for (size_t off = 0; off < header_len; off++) {
            for (unsigned v = 0; v < 256; v++) {
                memcpy(copy, f.bytes, f.len);
                copy[off] = (uint8_t)v;
                envelope_header_t h;
                const void *payload;
                size_t payload_len;
                char err[256] = "";
                if (envelope_decode(copy, f.len, &h, &payload, &payload_len, err, sizeof err)) {
                    assert_true(strncmp(err, "envelope: ", 10) == 0);
                    refused++;
                    continue;
                }
                accepted++;
                size_t n = envelope_encode(&h, payload, payload_len, again, f.len, err, sizeof err);
                if (n != f.len)
                    fail_msg("kind %s byte %zu = 0x%02x decoded but does not re-encode: %s",
                             envelope_kind_name(kinds[k]), off, v, err);
                assert_memory_equal(again, copy, f.len);
            }
        }
        free(again);
        free(copy);
        free(f.bytes);
    }
    assert_true(accepted > 0);
    assert_true(refused > 0);
}

/* The two dumps in docs/frames.md, "Worked example", are what the encoder writes. */
static void documented_hex_dumps_match_encoder(void **state)
{
    (void)state;
#ifndef BOOKCAST_SOURCE_DIR
    skip();
#else
    FILE *fp = fopen(BOOKCAST_SOURCE_DIR "/docs/frames.md", "rb");
    assert_non_null(fp);
    static char doc[256 * 1024];
    size_t doc_len = fread(doc, 1, sizeof doc - 1, fp);
    assert_true(doc_len > 0 && doc_len < sizeof doc - 1);
    doc[doc_len] = '\0';
    fclose(fp);

    uint8_t dumped[1024];
    frame_t f = valid_frame(ENVELOPE_WS_TEXT); /* the header of the first example */
    size_t n = docdump_read((const char *)doc, "frame-dump", "ws_text", dumped, sizeof dumped);
    assert_int_equal(n, f.len);
    assert_memory_equal(dumped, f.bytes, n);
    free(f.bytes);

    static const char reason[] = "connect to api.binance.com:443: Connection refused";
    envelope_header_t h;
    envelope_header_init(&h, ENVELOPE_SNAPSHOT_ERROR, MARKET_SPOT);
    h.instance_id = 0x5f3a9c0e12d4b871ull;
    h.conn_id = ENVELOPE_CONN_NONE;
    h.seq = 7;
    h.recv_ts_ns = 1767225601500000000ll;
    strcpy(h.symbol, "BTCUSDT");
    h.request_id = 12;
    h.http_status = 0;
    f = encode_frame(&h, reason, strlen(reason));
    n = docdump_read((const char *)doc, "frame-dump", "snapshot_error", dumped, sizeof dumped);
    assert_int_equal(n, f.len);
    assert_memory_equal(dumped, f.bytes, n);
    free(f.bytes);
#endif
}

/* ---- truncation and framing ----------------------------------------------------------- */

static void every_truncation_refused(void **state)
{
    (void)state;
    envelope_header_t h = valid_header(ENVELOPE_SNAPSHOT);
    frame_t f = encode_frame(&h, SNAPSHOT_BODY, strlen(SNAPSHOT_BODY));
    size_t header_len = 56 + strlen("BTCUSDT");
    for (size_t len = 0; len < f.len; len++) {
        char reason[128];
        if (len < 56)
            snprintf(reason, sizeof reason, "message is %zu bytes, shorter than the 56-byte header",
                     len);
        else if (len < header_len)
            snprintf(reason, sizeof reason, "message is %zu bytes, shorter than its 63-byte header",
                     len);
        else
            snprintf(reason, sizeof reason, "payload length %zu but %zu bytes follow the header",
                     strlen(SNAPSHOT_BODY), len - header_len);
        assert_decode_fails(f.bytes, len, reason);
    }
    free(f.bytes);
}

static void null_message_refused(void **state)
{
    (void)state;
    envelope_header_t h;
    const void *payload;
    size_t payload_len;
    char err[256] = "";
    assert_int_equal(envelope_decode(NULL, 0, &h, &payload, &payload_len, err, sizeof err), -1);
    assert_non_null(strstr(err, "message is 0 bytes"));
    assert_int_equal(envelope_decode(NULL, 10, &h, &payload, &payload_len, err, sizeof err), -1);
    assert_non_null(strstr(err, "NULL argument"));
}

static void trailing_garbage_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    uint8_t *longer = malloc(f.len + 1);
    assert_non_null(longer);
    memcpy(longer, f.bytes, f.len);
    longer[f.len] = '\n';
    assert_decode_fails(longer, f.len + 1, "payload length 209 but 210 bytes follow the header");
    free(longer);
    free(f.bytes);
}

static void payload_shorter_than_declared_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    poke32(&f, O_PAYLOAD_LEN, 210);
    assert_frame_fails(&f, "payload length 210 but 209 bytes follow the header");
    free(f.bytes);
}

static void payload_longer_than_declared_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    poke32(&f, O_PAYLOAD_LEN, 40);
    assert_frame_fails(&f, "payload length 40 but 209 bytes follow the header");
    poke32(&f, O_PAYLOAD_LEN, 0);
    assert_frame_fails(&f, "payload length 0 but 209 bytes follow the header");
    free(f.bytes);
}

/* ---- each field corrupted in turn ----------------------------------------------------- */

static void bad_magic_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    f.bytes[O_MAGIC + 3] = 'G';
    assert_frame_fails(&f, "bad magic 42 4b 43 47");
    memcpy(f.bytes, "bkcf", 4);
    assert_frame_fails(&f, "bad magic");
    /* A message that is not a frame at all, even a short one, is named as such. */
    assert_decode_fails((const uint8_t *)"{\"e\":1}", 7, "bad magic");
    free(f.bytes);
}

static void unsupported_version_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    f.bytes[O_VERSION] = 2;
    assert_frame_fails(&f, "unsupported version 2");
    f.bytes[O_VERSION] = 0;
    assert_frame_fails(&f, "unsupported version 0");
    f.bytes[O_VERSION] = 255;
    assert_frame_fails(&f, "unsupported version 255");
    free(f.bytes);
}

static void newer_version_named_even_when_shorter_than_our_header(void **state)
{
    (void)state;
    assert_decode_fails((const uint8_t *)"BKCF\x02", 5, "unsupported version 2");
    assert_decode_fails((const uint8_t *)"BKCF\x01", 5, "shorter than the 56-byte header");
}

static void unknown_kind_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    f.bytes[O_KIND] = 0;
    assert_frame_fails(&f, "envelope: unknown kind 0");
    f.bytes[O_KIND] = 7;
    assert_frame_fails(&f, "envelope: unknown kind 7");
    f.bytes[O_KIND] = 9;
    assert_frame_fails(&f, "envelope: unknown kind 9");
    f.bytes[O_KIND] = 255;
    assert_frame_fails(&f, "envelope: unknown kind 255");
    free(f.bytes);
}

static void unknown_market_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    f.bytes[O_MARKET] = 0;
    assert_frame_fails(&f, "unknown market 0");
    f.bytes[O_MARKET] = 4;
    assert_frame_fails(&f, "unknown market 4");
    free(f.bytes);
}

static void unknown_flag_bits_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    f.bytes[O_FLAGS] = 0x02;
    assert_frame_fails(&f, "unknown flag bits 0x02");
    f.bytes[O_FLAGS] = 0x81;
    assert_frame_fails(&f, "unknown flag bits 0x80");
    free(f.bytes);
}

static void overlap_flag_on_non_ws_kind_refused(void **state)
{
    (void)state;
    static const envelope_kind_t kinds[] = {ENVELOPE_SNAPSHOT, ENVELOPE_SNAPSHOT_ERROR,
                                            ENVELOPE_CONN_UP, ENVELOPE_CONN_DOWN,
                                            ENVELOPE_OVERFLOW};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        frame_t f = valid_frame(kinds[i]);
        f.bytes[O_FLAGS] = ENVELOPE_FLAG_OVERLAP;
        char reason[64];
        snprintf(reason, sizeof reason, "flag OVERLAP on kind %s", envelope_kind_name(kinds[i]));
        assert_frame_fails(&f, reason);
        free(f.bytes);
    }
}

static void nonzero_reserved_bytes_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    f.bytes[O_RESERVED0] = 1;
    assert_frame_fails(&f, "reserved byte at offset 15 is 0x01");
    f.bytes[O_RESERVED0] = 0;
    f.bytes[O_RESERVED1] = 0x80;
    assert_frame_fails(&f, "reserved bytes at offset 30 are 0x0080");
    f.bytes[O_RESERVED1] = 0;
    f.bytes[O_RESERVED1 + 1] = 0x01;
    assert_frame_fails(&f, "reserved bytes at offset 30 are 0x0100");
    free(f.bytes);
}

static void inconsistent_header_length_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_SNAPSHOT);
    poke16(&f, O_HEADER_LEN, 64);
    assert_frame_fails(&f, "header length 64 but symbol length 7 makes it 63");
    poke16(&f, O_HEADER_LEN, 62);
    assert_frame_fails(&f, "header length 62 but symbol length 7 makes it 63");
    poke16(&f, O_HEADER_LEN, 0);
    assert_frame_fails(&f, "header length 0 but symbol length 7 makes it 63");
    poke16(&f, O_HEADER_LEN, 0xffff);
    assert_frame_fails(&f, "header length 65535 but");
    free(f.bytes);
}

static void symbol_length_over_maximum_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_SNAPSHOT);
    f.bytes[O_SYMBOL_LEN] = 33;
    poke16(&f, O_HEADER_LEN, 56 + 33);
    assert_frame_fails(&f, "symbol length 33 exceeds 32");
    f.bytes[O_SYMBOL_LEN] = 255;
    assert_frame_fails(&f, "symbol length 255 exceeds 32");
    free(f.bytes);
}

static void symbol_with_bad_characters_refused(void **state)
{
    (void)state;
    static const struct {
        uint8_t byte;
        const char *reason;
    } bad[] = {
        {'b', "symbol byte 0x62 at index 3"},  {'-', "symbol byte 0x2d at index 3"},
        {' ', "symbol byte 0x20 at index 3"},  {'\0', "symbol byte 0x00 at index 3"},
        {0xc3, "symbol byte 0xc3 at index 3"}, {'/', "symbol byte 0x2f at index 3"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame_t f = valid_frame(ENVELOPE_SNAPSHOT);
        f.bytes[O_SYMBOL + 3] = bad[i].byte;
        assert_frame_fails(&f, bad[i].reason);
        free(f.bytes);
    }
}

static void symbol_on_non_snapshot_kind_refused(void **state)
{
    (void)state;
    /* A SNAPSHOT frame relabelled OVERFLOW: same connection id 0, but a symbol it must not have. */
    frame_t f = valid_frame(ENVELOPE_SNAPSHOT);
    f.bytes[O_KIND] = ENVELOPE_OVERFLOW;
    assert_frame_fails(&f, "kind OVERFLOW must not carry a symbol (length 7)");
    free(f.bytes);
}

static void snapshot_without_symbol_refused(void **state)
{
    (void)state;
    /* An OVERFLOW frame relabelled SNAPSHOT: everything else a snapshot needs is missing too,
       and the symbol is reported first. */
    frame_t f = valid_frame(ENVELOPE_OVERFLOW);
    f.bytes[O_KIND] = ENVELOPE_SNAPSHOT;
    assert_frame_fails(&f, "kind SNAPSHOT needs a symbol");
    f.bytes[O_KIND] = ENVELOPE_SNAPSHOT_ERROR;
    assert_frame_fails(&f, "kind SNAPSHOT_ERROR needs a symbol");
    free(f.bytes);
}

static void request_id_on_non_snapshot_kind_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    poke64(&f, O_REQUEST_ID, 5);
    assert_frame_fails(&f, "kind WS_TEXT must not carry a request id (got 5)");
    free(f.bytes);
}

static void snapshot_without_request_id_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_SNAPSHOT);
    poke64(&f, O_REQUEST_ID, 0);
    assert_frame_fails(&f, "kind SNAPSHOT needs a request id");
    free(f.bytes);
}

static void http_status_on_non_snapshot_kind_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_CONN_DOWN);
    poke16(&f, O_HTTP_STATUS, 200);
    assert_frame_fails(&f, "kind CONN_DOWN must not carry an HTTP status (got 200)");
    free(f.bytes);
}

static void snapshot_status_outside_2xx_refused(void **state)
{
    (void)state;
    static const uint16_t bad[] = {0, 199, 300, 404, 65535};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame_t f = valid_frame(ENVELOPE_SNAPSHOT);
        poke16(&f, O_HTTP_STATUS, bad[i]);
        char reason[96];
        snprintf(reason, sizeof reason, "HTTP status %u out of range 200..299 for SNAPSHOT",
                 (unsigned)bad[i]);
        assert_frame_fails(&f, reason);
        free(f.bytes);
    }
}

static void snapshot_error_status_out_of_range_refused(void **state)
{
    (void)state;
    static const uint16_t bad[] = {1, 99, 600, 999, 65535};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        frame_t f = valid_frame(ENVELOPE_SNAPSHOT_ERROR);
        poke16(&f, O_HTTP_STATUS, bad[i]);
        char reason[96];
        snprintf(reason, sizeof reason,
                 "HTTP status %u out of range (0 or 100..599) for SNAPSHOT_ERROR",
                 (unsigned)bad[i]);
        assert_frame_fails(&f, reason);
        free(f.bytes);
    }
}

static void snapshot_error_without_response_or_reason_refused(void **state)
{
    (void)state;
    envelope_header_t h = valid_header(ENVELOPE_SNAPSHOT_ERROR);
    h.http_status = 429;
    frame_t f = encode_frame(&h, NULL, 0); /* an HTTP error with an empty body is fine */
    poke16(&f, O_HTTP_STATUS, 0);
    assert_frame_fails(&f, "SNAPSHOT_ERROR with status 0 needs a reason as payload");
    free(f.bytes);
}

static void zero_instance_id_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    poke64(&f, O_INSTANCE_ID, 0);
    assert_frame_fails(&f, "instance id 0");
    free(f.bytes);
}

static void connection_frame_without_connection_id_refused(void **state)
{
    (void)state;
    static const envelope_kind_t kinds[] = {ENVELOPE_WS_TEXT, ENVELOPE_CONN_UP, ENVELOPE_CONN_DOWN};
    for (size_t i = 0; i < 3; i++) {
        frame_t f = valid_frame(kinds[i]);
        poke32(&f, O_CONN_ID, 0);
        char reason[96];
        snprintf(reason, sizeof reason, "kind %s needs a connection id >= 1",
                 envelope_kind_name(kinds[i]));
        assert_frame_fails(&f, reason);
        free(f.bytes);
    }
}

static void connectionless_frame_with_connection_id_refused(void **state)
{
    (void)state;
    static const envelope_kind_t kinds[] = {ENVELOPE_SNAPSHOT, ENVELOPE_SNAPSHOT_ERROR,
                                            ENVELOPE_OVERFLOW};
    for (size_t i = 0; i < 3; i++) {
        frame_t f = valid_frame(kinds[i]);
        poke32(&f, O_CONN_ID, 5);
        char reason[96];
        snprintf(reason, sizeof reason, "kind %s must have connection id 0, not 5",
                 envelope_kind_name(kinds[i]));
        assert_frame_fails(&f, reason);
        free(f.bytes);
    }
}

static void sequence_zero_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    poke64(&f, O_SEQ, 0);
    assert_frame_fails(&f, "sequence 0 (sequences start at 1)");
    free(f.bytes);
}

static void conn_up_not_first_of_its_connection_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_CONN_UP);
    poke64(&f, O_SEQ, 2);
    assert_frame_fails(&f, "CONN_UP with sequence 2, must be 1");
    free(f.bytes);
}

static void receive_time_not_after_epoch_refused(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    poke64(&f, O_RECV_TS, 0);
    assert_frame_fails(&f, "receive time 0 ns is not after the epoch");
    poke64(&f, O_RECV_TS, (uint64_t)-1);
    assert_frame_fails(&f, "receive time -1 ns is not after the epoch");
    poke64(&f, O_RECV_TS, (uint64_t)INT64_MIN);
    assert_frame_fails(&f, "receive time -9223372036854775808 ns");
    free(f.bytes);
}

/* ---- encode refuses what decode would refuse ------------------------------------------ */

static void encode_refuses_invalid_headers(void **state)
{
    (void)state;
    const size_t n = strlen(DEPTH_TEXT);
    envelope_header_t h;

#define REFUSED(kind, mutation, reason)                                                            \
    do {                                                                                           \
        h = valid_header(kind);                                                                    \
        mutation;                                                                                  \
        assert_encode_fails(&h, DEPTH_TEXT, n, reason);                                            \
    } while (0)

    REFUSED(ENVELOPE_WS_TEXT, h.version = 0, "unsupported version 0");
    REFUSED(ENVELOPE_WS_TEXT, h.version = 2, "unsupported version 2");
    REFUSED(ENVELOPE_WS_TEXT, h.kind = (envelope_kind_t)0, "unknown kind 0");
    REFUSED(ENVELOPE_WS_TEXT, h.kind = (envelope_kind_t)7, "unknown kind 7");
    REFUSED(ENVELOPE_WS_TEXT, h.kind = (envelope_kind_t)257, "unknown kind 257");
    REFUSED(ENVELOPE_WS_TEXT, h.market = (market_t)0, "unknown market 0");
    REFUSED(ENVELOPE_WS_TEXT, h.market = (market_t)260, "unknown market 260");
    REFUSED(ENVELOPE_WS_TEXT, h.flags = 0x04, "unknown flag bits 0x04");
    REFUSED(ENVELOPE_CONN_DOWN, h.flags = ENVELOPE_FLAG_OVERLAP, "flag OVERLAP on kind CONN_DOWN");
    REFUSED(ENVELOPE_WS_TEXT, h.instance_id = 0, "instance id 0");
    REFUSED(ENVELOPE_WS_TEXT, h.conn_id = 0, "kind WS_TEXT needs a connection id >= 1");
    REFUSED(ENVELOPE_OVERFLOW, h.conn_id = 2, "kind OVERFLOW must have connection id 0, not 2");
    REFUSED(ENVELOPE_WS_TEXT, h.seq = 0, "sequence 0");
    REFUSED(ENVELOPE_CONN_UP, h.seq = 3, "CONN_UP with sequence 3, must be 1");
    REFUSED(ENVELOPE_WS_TEXT, h.recv_ts_ns = 0, "receive time 0 ns");
    REFUSED(ENVELOPE_WS_TEXT, h.recv_ts_ns = -5, "receive time -5 ns");
    REFUSED(ENVELOPE_WS_TEXT, strcpy(h.symbol, "BTCUSDT"), "kind WS_TEXT must not carry a symbol");
    REFUSED(ENVELOPE_WS_TEXT, h.request_id = 9, "kind WS_TEXT must not carry a request id");
    REFUSED(ENVELOPE_CONN_UP, h.http_status = 101, "kind CONN_UP must not carry an HTTP status");
    REFUSED(ENVELOPE_SNAPSHOT, h.symbol[0] = '\0', "kind SNAPSHOT needs a symbol");
    REFUSED(ENVELOPE_SNAPSHOT, strcpy(h.symbol, "btcusdt"), "symbol byte 0x62 at index 0");
    REFUSED(ENVELOPE_SNAPSHOT, strcpy(h.symbol, "BTC-USDT"), "symbol byte 0x2d at index 3");
    REFUSED(ENVELOPE_SNAPSHOT, memset(h.symbol, 'A', sizeof h.symbol),
            "symbol length 33 exceeds 32");
    REFUSED(ENVELOPE_SNAPSHOT, h.request_id = 0, "kind SNAPSHOT needs a request id");
    REFUSED(ENVELOPE_SNAPSHOT, h.http_status = 304, "HTTP status 304 out of range 200..299");
    REFUSED(ENVELOPE_SNAPSHOT_ERROR, h.http_status = 600,
            "HTTP status 600 out of range (0 or 100..599)");
#undef REFUSED

    h = valid_header(ENVELOPE_SNAPSHOT_ERROR);
    h.http_status = 0;
    assert_encode_fails(&h, NULL, 0, "SNAPSHOT_ERROR with status 0 needs a reason");
    h = valid_header(ENVELOPE_WS_TEXT);
    assert_encode_fails(&h, DEPTH_TEXT, (size_t)ENVELOPE_MAX_PAYLOAD + 1,
                        "exceeds the maximum 16777216");
}

static void encode_refuses_buffer_too_small(void **state)
{
    (void)state;
    envelope_header_t h = valid_header(ENVELOPE_WS_TEXT);
    size_t need = envelope_encoded_size(&h, strlen(DEPTH_TEXT));
    uint8_t *buf = malloc(need - 1);
    assert_non_null(buf);
    char err[256] = "";
    assert_int_equal(
        envelope_encode(&h, DEPTH_TEXT, strlen(DEPTH_TEXT), buf, need - 1, err, sizeof err), 0);
    assert_non_null(strstr(err, "buffer of 264 bytes, the frame needs 265"));
    free(buf);
}

static void encode_refuses_missing_payload(void **state)
{
    (void)state;
    envelope_header_t h = valid_header(ENVELOPE_WS_TEXT);
    assert_encode_fails(&h, NULL, 10, "payload length 10 but no payload");
}

static void encode_accepts_payload_already_inside_buffer(void **state)
{
    (void)state;
    envelope_header_t h = valid_header(ENVELOPE_WS_TEXT);
    size_t n = strlen(DEPTH_TEXT);
    uint8_t *buf = malloc(56 + n);
    assert_non_null(buf);
    memcpy(buf, DEPTH_TEXT, n); /* at the start: the header will be written over it */
    assert_int_equal(envelope_encode(&h, buf, n, buf, 56 + n, NULL, 0), 56 + n);
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    assert_memory_equal(buf, f.bytes, f.len);
    free(f.bytes);
    free(buf);
}

static void reasons_are_optional_and_truncated_safely(void **state)
{
    (void)state;
    frame_t f = valid_frame(ENVELOPE_WS_TEXT);
    f.bytes[O_KIND] = 9;
    envelope_header_t h;
    const void *payload;
    size_t payload_len;
    assert_int_equal(envelope_decode(f.bytes, f.len, &h, &payload, &payload_len, NULL, 0), -1);
    char small[12];
    assert_int_equal(
        envelope_decode(f.bytes, f.len, &h, &payload, &payload_len, small, sizeof small), -1);
    assert_string_equal(small, "envelope: u");
    free(f.bytes);
}

/* ---- names ---------------------------------------------------------------------------- */

static void kind_names(void **state)
{
    (void)state;
    assert_string_equal(envelope_kind_name(ENVELOPE_WS_TEXT), "WS_TEXT");
    assert_string_equal(envelope_kind_name(ENVELOPE_SNAPSHOT), "SNAPSHOT");
    assert_string_equal(envelope_kind_name(ENVELOPE_SNAPSHOT_ERROR), "SNAPSHOT_ERROR");
    assert_string_equal(envelope_kind_name(ENVELOPE_CONN_UP), "CONN_UP");
    assert_string_equal(envelope_kind_name(ENVELOPE_CONN_DOWN), "CONN_DOWN");
    assert_string_equal(envelope_kind_name(ENVELOPE_OVERFLOW), "OVERFLOW");
    assert_string_equal(envelope_kind_name((envelope_kind_t)0), "unknown");
    assert_string_equal(envelope_kind_name((envelope_kind_t)7), "unknown");
}

static void market_names_parse_back(void **state)
{
    (void)state;
    static const market_t all[] = {MARKET_SPOT, MARKET_USDM, MARKET_COINM};
    static const char *names[] = {"spot", "usdm", "coinm"};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(market_name(all[i]), names[i]);
        market_t m = (market_t)0;
        assert_int_equal(market_parse(names[i], &m), 0);
        assert_int_equal(m, all[i]);
    }
    assert_string_equal(market_name((market_t)0), "unknown");
    market_t m = MARKET_SPOT;
    assert_int_equal(market_parse("SPOT", &m), -1);
    assert_int_equal(market_parse("usdm ", &m), -1);
    assert_int_equal(market_parse("", &m), -1);
    assert_int_equal(market_parse(NULL, &m), -1);
    assert_int_equal(m, MARKET_SPOT);
}

/* ---- control payloads ----------------------------------------------------------------- */

static char *streams2[] = {"btcusdt@depth@100ms", "ethusdt@depth@100ms"};

static void conn_up_payload_formats_and_parses(void **state)
{
    (void)state;
    envelope_control_t in = {
        .url = "wss://fstream.binance.com/public/stream?streams=btcusdt@depth@100ms/"
               "ethusdt@depth@100ms",
        .streams = streams2,
        .stream_count = 2,
    };
    char err[256] = "";
    char *json = envelope_control_format(ENVELOPE_CONN_UP, &in, err, sizeof err);
    assert_non_null(json);
    assert_string_equal(json, "{\"url\":\"wss://fstream.binance.com/public/stream?streams="
                              "btcusdt@depth@100ms/ethusdt@depth@100ms\",\"streams\":["
                              "\"btcusdt@depth@100ms\",\"ethusdt@depth@100ms\"]}");
    envelope_control_t *out =
        envelope_control_parse(ENVELOPE_CONN_UP, json, strlen(json), err, sizeof err);
    assert_non_null(out);
    assert_string_equal(out->url, in.url);
    assert_int_equal(out->stream_count, 2);
    assert_string_equal(out->streams[0], streams2[0]);
    assert_string_equal(out->streams[1], streams2[1]);
    assert_null(out->reason);
    assert_int_equal(out->frames_dropped, 0);
    envelope_control_destroy(&out);
    assert_null(out);
    free(json);
}

static void conn_down_payload_formats_and_parses(void **state)
{
    (void)state;
    envelope_control_t in = {
        .streams = streams2, .stream_count = 2, .reason = "close 1008 \"Too many requests\""};
    char err[256] = "";
    char *json = envelope_control_format(ENVELOPE_CONN_DOWN, &in, err, sizeof err);
    assert_non_null(json);
    assert_string_equal(json, "{\"streams\":[\"btcusdt@depth@100ms\",\"ethusdt@depth@100ms\"],"
                              "\"reason\":\"close 1008 \\\"Too many requests\\\"\"}");
    envelope_control_t *out =
        envelope_control_parse(ENVELOPE_CONN_DOWN, json, strlen(json), err, sizeof err);
    assert_non_null(out);
    assert_null(out->url);
    assert_string_equal(out->reason, in.reason);
    assert_int_equal(out->stream_count, 2);
    envelope_control_destroy(&out);
    free(json);
}

static void overflow_payload_formats_and_parses(void **state)
{
    (void)state;
    envelope_control_t in = {
        .streams = streams2, .stream_count = 1, .frames_dropped = 9007199254740992ull};
    char err[256] = "";
    char *json = envelope_control_format(ENVELOPE_OVERFLOW, &in, err, sizeof err);
    assert_non_null(json);
    assert_string_equal(
        json, "{\"streams\":[\"btcusdt@depth@100ms\"],\"frames_dropped\":9007199254740992}");
    envelope_control_t *out =
        envelope_control_parse(ENVELOPE_OVERFLOW, json, strlen(json), err, sizeof err);
    assert_non_null(out);
    assert_true(out->frames_dropped == 9007199254740992ull);
    assert_int_equal(out->stream_count, 1);
    envelope_control_destroy(&out);
    free(json);
}

static void control_payload_with_no_streams_accepted(void **state)
{
    (void)state;
    envelope_control_t in = {.url = "ws://127.0.0.1:9443/ws"};
    char err[256] = "";
    char *json = envelope_control_format(ENVELOPE_CONN_UP, &in, err, sizeof err);
    assert_non_null(json);
    assert_string_equal(json, "{\"url\":\"ws://127.0.0.1:9443/ws\",\"streams\":[]}");
    envelope_control_t *out =
        envelope_control_parse(ENVELOPE_CONN_UP, json, strlen(json), err, sizeof err);
    assert_non_null(out);
    assert_int_equal(out->stream_count, 0);
    envelope_control_destroy(&out);
    free(json);
}

static void control_parse_ignores_unknown_keys(void **state)
{
    (void)state;
    static const char json[] =
        " {\"streams\":[\"a@depth\"],\"reason\":\"eof\",\"url\":\"x\",\"close_code\":1006} ";
    char err[256] = "";
    envelope_control_t *out =
        envelope_control_parse(ENVELOPE_CONN_DOWN, json, strlen(json), err, sizeof err);
    if (out == NULL)
        fail_msg("refused: %s", err);
    assert_null(out->url); /* url belongs to CONN_UP; here it is just an unknown key */
    assert_string_equal(out->reason, "eof");
    envelope_control_destroy(&out);
}

static void assert_control_parse_fails(envelope_kind_t kind, const char *json, size_t len,
                                       const char *reason)
{
    char *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    memcpy(copy, json, len);
    char err[256] = "";
    envelope_control_t *c = envelope_control_parse(kind, copy, len, err, sizeof err);
    if (c != NULL)
        fail_msg("%s payload %.*s accepted", envelope_kind_name(kind), (int)len, json);
    if (strstr(err, reason) == NULL)
        fail_msg("reason \"%s\" does not contain \"%s\"", err, reason);
    free(copy);
}

static void malformed_control_payloads_refused(void **state)
{
    (void)state;
#define BAD(kind, text, reason) assert_control_parse_fails(kind, text, strlen(text), reason)
    BAD(ENVELOPE_CONN_UP, "", "not a JSON object");
    BAD(ENVELOPE_CONN_UP, "[]", "not a JSON object");
    BAD(ENVELOPE_CONN_UP, "{\"url\":\"wss://h/ws\",\"streams\":[]", "not a JSON object");
    BAD(ENVELOPE_CONN_UP, "{\"url\":\"wss://h/ws\",\"streams\":[]}x", "not a JSON object");
    BAD(ENVELOPE_CONN_UP, "{\"url\":\"wss://h/ws\"}", "needs an array \"streams\"");
    BAD(ENVELOPE_CONN_UP, "{\"url\":\"wss://h/ws\",\"streams\":\"a@depth\"}",
        "needs an array \"streams\"");
    BAD(ENVELOPE_CONN_UP, "{\"url\":\"wss://h/ws\",\"streams\":[1]}", "stream 0 is not a string");
    BAD(ENVELOPE_CONN_UP, "{\"url\":\"wss://h/ws\",\"streams\":[\"a@depth\",\"b@depth\",null]}",
        "stream 2 is not a string");
    BAD(ENVELOPE_CONN_UP, "{\"url\":\"wss://h/ws\",\"streams\":[\"a\",\"\"]}",
        "stream 1 is not a stream name");
    BAD(ENVELOPE_CONN_UP, "{\"url\":\"wss://h/ws\",\"streams\":[\"a b\"]}",
        "stream 0 is not a stream name");
    BAD(ENVELOPE_CONN_UP, "{\"streams\":[]}", "needs a string \"url\"");
    BAD(ENVELOPE_CONN_UP, "{\"url\":7,\"streams\":[]}", "needs a string \"url\"");
    BAD(ENVELOPE_CONN_UP, "{\"url\":\"https://h/\",\"streams\":[]}", "needs a ws:// or wss:// url");
    BAD(ENVELOPE_CONN_DOWN, "{\"streams\":[]}", "needs a string \"reason\"");
    BAD(ENVELOPE_CONN_DOWN, "{\"streams\":[],\"reason\":\"\"}", "needs a nonempty reason");
    BAD(ENVELOPE_OVERFLOW, "{\"streams\":[]}", "integer \"frames_dropped\"");
    BAD(ENVELOPE_OVERFLOW, "{\"streams\":[],\"frames_dropped\":0}", "integer \"frames_dropped\"");
    BAD(ENVELOPE_OVERFLOW, "{\"streams\":[],\"frames_dropped\":-3}", "integer \"frames_dropped\"");
    BAD(ENVELOPE_OVERFLOW, "{\"streams\":[],\"frames_dropped\":2.5}", "integer \"frames_dropped\"");
    BAD(ENVELOPE_OVERFLOW, "{\"streams\":[],\"frames_dropped\":\"4\"}",
        "integer \"frames_dropped\"");
    BAD(ENVELOPE_OVERFLOW, "{\"streams\":[],\"frames_dropped\":1e300}",
        "integer \"frames_dropped\"");
    BAD(ENVELOPE_WS_TEXT, "{\"streams\":[]}", "kind WS_TEXT has no control payload");
    BAD(ENVELOPE_SNAPSHOT, "{\"streams\":[]}", "kind SNAPSHOT has no control payload");
#undef BAD
    static const char with_nul[] = "{\"streams\":[],\"reason\":\"x\"}\0";
    assert_control_parse_fails(ENVELOPE_CONN_DOWN, with_nul, sizeof with_nul - 1,
                               "contains a NUL byte");
}

static void control_format_refuses_fields_of_other_kinds(void **state)
{
    (void)state;
    char err[256] = "";
    char *bad_stream[] = {"btcusdt@depth", NULL};
    envelope_control_t c;

#define REFUSED(kind, reason, ...)                                                                 \
    do {                                                                                           \
        c = (envelope_control_t){__VA_ARGS__};                                                     \
        err[0] = '\0';                                                                             \
        assert_null(envelope_control_format(kind, &c, err, sizeof err));                           \
        if (strstr(err, reason) == NULL)                                                           \
            fail_msg("reason \"%s\" does not contain \"%s\"", err, reason);                        \
    } while (0)

    REFUSED(ENVELOPE_CONN_UP, "CONN_UP needs a ws:// or wss:// url", .url = NULL);
    REFUSED(ENVELOPE_CONN_UP, "CONN_UP needs a ws:// or wss:// url", .url = "wss://h/a b");
    REFUSED(ENVELOPE_CONN_UP, "reason only belongs to CONN_DOWN", .url = "wss://h/ws",
            .reason = "x");
    REFUSED(ENVELOPE_CONN_DOWN, "url only belongs to CONN_UP", .reason = "x", .url = "wss://h/ws");
    REFUSED(ENVELOPE_CONN_DOWN, "frames_dropped only belongs to OVERFLOW", .reason = "x",
            .frames_dropped = 2);
    REFUSED(ENVELOPE_CONN_DOWN, "CONN_DOWN needs a nonempty reason", .reason = "");
    REFUSED(ENVELOPE_OVERFLOW, "OVERFLOW frames_dropped 0 not in 1..2^53", .frames_dropped = 0);
    REFUSED(ENVELOPE_OVERFLOW, "frames_dropped 9007199254740993 not in 1..2^53",
            .frames_dropped = 9007199254740993ull);
    REFUSED(ENVELOPE_OVERFLOW, "stream 1 is not a stream name", .frames_dropped = 1,
            .streams = bad_stream, .stream_count = 2);
    REFUSED(ENVELOPE_OVERFLOW, "2 streams but no stream list", .frames_dropped = 1,
            .stream_count = 2);
    REFUSED(ENVELOPE_SNAPSHOT_ERROR, "has no control payload", .frames_dropped = 1);
#undef REFUSED
    assert_null(envelope_control_format(ENVELOPE_OVERFLOW, NULL, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ws_text_round_trips),
        cmocka_unit_test(ws_text_with_overlap_flag_round_trips),
        cmocka_unit_test(snapshot_round_trips),
        cmocka_unit_test(snapshot_error_with_http_status_round_trips),
        cmocka_unit_test(snapshot_error_without_http_response_round_trips),
        cmocka_unit_test(conn_up_round_trips),
        cmocka_unit_test(conn_down_round_trips),
        cmocka_unit_test(overflow_round_trips),
        cmocka_unit_test(every_market_round_trips),
        cmocka_unit_test(extreme_field_values_round_trip),
        cmocka_unit_test(snapshot_error_status_boundaries_round_trip),
        cmocka_unit_test(zero_length_payload_round_trips),
        cmocka_unit_test(maximum_payload_accepted),
        cmocka_unit_test(payload_one_byte_over_maximum_refused_by_encode),
        cmocka_unit_test(payload_length_over_maximum_refused_by_decode),
        cmocka_unit_test(encoded_size_counts_header_symbol_and_payload),
        cmocka_unit_test(layout_matches_documented_example),
        cmocka_unit_test(documented_hex_dumps_match_encoder),
        cmocka_unit_test(symbol_follows_fixed_header_unterminated),
        cmocka_unit_test(decode_and_encode_agree_on_every_header_byte_value),
        cmocka_unit_test(every_truncation_refused),
        cmocka_unit_test(null_message_refused),
        cmocka_unit_test(trailing_garbage_refused),
        cmocka_unit_test(payload_shorter_than_declared_refused),
        cmocka_unit_test(payload_longer_than_declared_refused),
        cmocka_unit_test(bad_magic_refused),
        cmocka_unit_test(unsupported_version_refused),
        cmocka_unit_test(newer_version_named_even_when_shorter_than_our_header),
        cmocka_unit_test(unknown_kind_refused),
        cmocka_unit_test(unknown_market_refused),
        cmocka_unit_test(unknown_flag_bits_refused),
        cmocka_unit_test(overlap_flag_on_non_ws_kind_refused),
        cmocka_unit_test(nonzero_reserved_bytes_refused),
        cmocka_unit_test(inconsistent_header_length_refused),
        cmocka_unit_test(symbol_length_over_maximum_refused),
        cmocka_unit_test(symbol_with_bad_characters_refused),
        cmocka_unit_test(symbol_on_non_snapshot_kind_refused),
        cmocka_unit_test(snapshot_without_symbol_refused),
        cmocka_unit_test(request_id_on_non_snapshot_kind_refused),
        cmocka_unit_test(snapshot_without_request_id_refused),
        cmocka_unit_test(http_status_on_non_snapshot_kind_refused),
        cmocka_unit_test(snapshot_status_outside_2xx_refused),
        cmocka_unit_test(snapshot_error_status_out_of_range_refused),
        cmocka_unit_test(snapshot_error_without_response_or_reason_refused),
        cmocka_unit_test(zero_instance_id_refused),
        cmocka_unit_test(connection_frame_without_connection_id_refused),
        cmocka_unit_test(connectionless_frame_with_connection_id_refused),
        cmocka_unit_test(sequence_zero_refused),
        cmocka_unit_test(conn_up_not_first_of_its_connection_refused),
        cmocka_unit_test(receive_time_not_after_epoch_refused),
        cmocka_unit_test(encode_refuses_invalid_headers),
        cmocka_unit_test(encode_refuses_buffer_too_small),
        cmocka_unit_test(encode_refuses_missing_payload),
        cmocka_unit_test(encode_accepts_payload_already_inside_buffer),
        cmocka_unit_test(reasons_are_optional_and_truncated_safely),
        cmocka_unit_test(kind_names),
        cmocka_unit_test(market_names_parse_back),
        cmocka_unit_test(conn_up_payload_formats_and_parses),
        cmocka_unit_test(conn_down_payload_formats_and_parses),
        cmocka_unit_test(overflow_payload_formats_and_parses),
        cmocka_unit_test(control_payload_with_no_streams_accepted),
        cmocka_unit_test(control_parse_ignores_unknown_keys),
        cmocka_unit_test(malformed_control_payloads_refused),
        cmocka_unit_test(control_format_refuses_fields_of_other_kinds),
    };
    return cmocka_run_group_tests_name("envelope", tests, NULL, NULL);
}
