/*
 * envelope.h — the frame every bookcast collector sends and every bookbuilder reads.
 *
 * One ZeroMQ message is one frame: a versioned little-endian binary header, then the payload
 * exactly as it was received (a WebSocket text frame, a REST depth body) or, for the control
 * kinds, a small JSON object. The recorder stores frames unchanged and the bookbuilder replays
 * them from a file, so a frame describes itself completely. docs/frames.md is the byte-level
 * contract; this header is the C view of it.
 *
 * Encoding and decoding apply the same validation: a header that envelope_encode accepts is
 * one that envelope_decode accepts, and the other way round. All functions are pure, allocate
 * nothing (except the control-payload helpers at the end) and are thread-safe.
 */
#ifndef BOOKCAST_ENVELOPE_H
#define BOOKCAST_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define ENVELOPE_MAGIC "BKCF"                      /* the first 4 bytes of every frame */
#define ENVELOPE_VERSION 1                         /* the only version this code writes and reads */
#define ENVELOPE_FIXED_HEADER_SIZE 56              /* header bytes before the symbol */
#define ENVELOPE_SYMBOL_MAX 32                     /* longest symbol, in bytes */
#define ENVELOPE_MAX_PAYLOAD (16u * 1024u * 1024u) /* largest payload, in bytes (16 MiB) */

/* The header's fixed part plus the longest symbol: no header is larger. */
#define ENVELOPE_MAX_HEADER_SIZE (ENVELOPE_FIXED_HEADER_SIZE + ENVELOPE_SYMBOL_MAX)

/* Connection id of the frames that belong to no WebSocket connection (SNAPSHOT,
   SNAPSHOT_ERROR, OVERFLOW). They are numbered in one sequence per collector instance. */
#define ENVELOPE_CONN_NONE 0u

/* flags: the frame arrived on a replacement connection while the connection it replaces was
   still open, so the same exchange event may arrive twice. Only on WS_TEXT. */
#define ENVELOPE_FLAG_OVERLAP 0x01u
#define ENVELOPE_FLAGS_KNOWN ENVELOPE_FLAG_OVERLAP

typedef enum {
    ENVELOPE_WS_TEXT = 1,        /* one WebSocket text frame, as received */
    ENVELOPE_SNAPSHOT = 2,       /* the body of a REST depth snapshot (HTTP 2xx) */
    ENVELOPE_SNAPSHOT_ERROR = 3, /* a failed snapshot request: HTTP body, or a reason if status 0 */
    ENVELOPE_CONN_UP = 4,        /* a WebSocket connection opened; JSON payload, see below */
    ENVELOPE_CONN_DOWN = 5,      /* a WebSocket connection ended; JSON payload */
    ENVELOPE_OVERFLOW = 6,       /* the collector dropped frames; JSON payload */
} envelope_kind_t;

typedef enum {
    MARKET_SPOT = 1,
    MARKET_USDM = 2,
    MARKET_COINM = 3,
} market_t;

typedef struct {
    uint8_t version;      /* ENVELOPE_VERSION */
    envelope_kind_t kind; /* ENVELOPE_WS_TEXT … ENVELOPE_OVERFLOW */
    market_t market;      /* MARKET_* */
    uint8_t flags;        /* ENVELOPE_FLAG_* */
    uint64_t instance_id; /* random and nonzero, drawn once per collector start */
    uint32_t conn_id;     /* WebSocket connection (>= 1), or ENVELOPE_CONN_NONE */
    uint64_t seq;         /* per (instance_id, conn_id), from 1, no gaps when nothing is lost */
    int64_t recv_ts_ns;   /* receive time, ns since the Unix epoch, > 0 */
    char symbol[ENVELOPE_SYMBOL_MAX + 1]; /* SNAPSHOT*: "BTCUSDT", [A-Z0-9_]{1,32}; else "" */
    uint64_t request_id;  /* SNAPSHOT*: the collector's id of the request, >= 1; else 0 */
    uint16_t http_status; /* SNAPSHOT: 200..299; SNAPSHOT_ERROR: 0 or 100..599; else 0 */
} envelope_header_t;

/* Zeroes *h and sets version, kind and market: the start of every header a collector fills. */
void envelope_header_init(envelope_header_t *h, envelope_kind_t kind, market_t market);

/* Size of the frame envelope_encode would write for h and a payload of payload_len bytes.
   Returns 0 when payload_len exceeds ENVELOPE_MAX_PAYLOAD. Does not validate h otherwise. */
size_t envelope_encoded_size(const envelope_header_t *h, size_t payload_len);

/* Validates h and writes header + payload into buf (caller-owned, buf_len bytes; payload is
   borrowed, may be NULL when payload_len is 0, and may overlap buf). Returns the bytes written,
   or 0 with a reason in err (when err is not NULL) if h is invalid or buf is too small. */
size_t envelope_encode(const envelope_header_t *h, const void *payload, size_t payload_len,
                       void *buf, size_t buf_len, char *err, size_t err_len);

/* Decodes and fully validates the msg_len bytes at msg (borrowed). Returns 0, fills *h and
   points *payload at the payload inside msg (valid as long as msg is; not NUL-terminated).
   Returns -1 with a reason in err ("envelope: unknown kind 9") and leaves *h, *payload and
   *payload_len untouched when the frame is malformed. */
int envelope_decode(const void *msg, size_t msg_len, envelope_header_t *h, const void **payload,
                    size_t *payload_len, char *err, size_t err_len);

/* "WS_TEXT", "SNAPSHOT", … ; "unknown" for a value outside the enum. Never NULL. */
const char *envelope_kind_name(envelope_kind_t kind);

/* "spot", "usdm", "coinm"; "unknown" for a value outside the enum. Never NULL. */
const char *market_name(market_t market);

/* Parses "spot", "usdm", "coinm" (exact, lower case). Returns 0, or -1 and leaves *market. */
int market_parse(const char *name, market_t *market);

/*
 * Control payloads (docs/frames.md, "Control payloads"). UTF-8 JSON objects:
 *   CONN_UP    {"url":"wss://…","streams":["btcusdt@depth@100ms", …]}
 *   CONN_DOWN  {"streams":[…],"reason":"…"}
 *   OVERFLOW   {"streams":[…],"frames_dropped":N}
 * "streams" are the Binance stream names concerned (those subscribed on the connection, or
 * those whose frames were dropped). Keys not listed here are ignored by the parser, so a new
 * optional key does not need a new envelope version.
 */
typedef struct {
    char *url;      /* CONN_UP: the URL connected to; NULL for the other kinds */
    char **streams; /* stream_count stream names */
    size_t stream_count;
    char *reason;            /* CONN_DOWN: why the connection ended; NULL for the other kinds */
    uint64_t frames_dropped; /* OVERFLOW: frames lost, >= 1; 0 for the other kinds */
} envelope_control_t;

/* Builds the JSON payload of a CONN_UP, CONN_DOWN or OVERFLOW frame from ctl (borrowed).
   Returns a NUL-terminated string the caller frees with free(), or NULL with a reason in err
   when ctl does not satisfy the rules for kind (or on allocation failure). */
char *envelope_control_format(envelope_kind_t kind, const envelope_control_t *ctl, char *err,
                              size_t err_len);

/* Parses and validates the payload of a CONN_UP, CONN_DOWN or OVERFLOW frame (borrowed).
   Returns a new envelope_control_t the caller releases with envelope_control_destroy, or NULL
   with a reason in err. */
envelope_control_t *envelope_control_parse(envelope_kind_t kind, const void *payload,
                                           size_t payload_len, char *err, size_t err_len);

/* Frees *self_p and everything it owns, and sets *self_p to NULL. NULL-safe. */
void envelope_control_destroy(envelope_control_t **self_p);

#endif
