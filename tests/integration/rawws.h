/*
 * rawws.h — a bare TLS WebSocket client that shows the frames libwebsockets hides.
 *
 * libwebsockets answers pings itself and reports a refused upgrade as a status code only, so a
 * test built on tc_ws cannot see whether the server pings at all, or which headers came with a
 * refused handshake. This client does no more than RFC 6455 requires of a client: the upgrade
 * request, frames read one at a time (control frames included, nothing answered automatically)
 * and masked frames written on request. Blocking calls with a timeout each; one connection per
 * handle; TLS verified against a CA file, as everywhere in these tests.
 */
#ifndef BOOKCAST_RAWWS_H
#define BOOKCAST_RAWWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAWWS_OP_TEXT 0x1
#define RAWWS_OP_BINARY 0x2
#define RAWWS_OP_CLOSE 0x8
#define RAWWS_OP_PING 0x9
#define RAWWS_OP_PONG 0xA

typedef struct rawws rawws_t;

/* What the server answered to the upgrade request. */
typedef struct {
    int status;           /* HTTP status of the answer (101 when upgraded), 0 when none */
    char retry_after[32]; /* the Retry-After header, "" when absent */
    char error[256];      /* why, when no 101 came */
} rawws_answer_t;

/* Connects to host:port over TLS (certificate verified against ca_file, name or IP checked),
   sends the upgrade request for `path` and reads the answer, all within timeout_ms. Returns the
   connection when the answer was 101; NULL otherwise (*answer says what came). */
rawws_t *rawws_open(const char *host, int port, const char *path, const char *ca_file,
                    int64_t timeout_ms, rawws_answer_t *answer);

typedef struct {
    int opcode; /* RAWWS_OP_* */
    bool fin;
    unsigned char *payload; /* malloc'd (NUL-terminated for convenience), len bytes */
    size_t len;
} rawws_frame_t;

/* Reads the next frame, waiting at most timeout_ms. Returns 1 with *frame filled (free with
   rawws_frame_free), 0 on timeout, -1 when the connection ended or broke. */
int rawws_read(rawws_t *self, int64_t timeout_ms, rawws_frame_t *frame);

/* Writes one masked frame (control payloads must be <= 125 bytes). 0, or -1 on failure. */
int rawws_send(rawws_t *self, int opcode, const void *payload, size_t len);

void rawws_frame_free(rawws_frame_t *frame);

/* Closes the socket (no close frame) and frees. NULL-safe; sets *self_p to NULL. */
void rawws_close(rawws_t **self_p);

#endif
