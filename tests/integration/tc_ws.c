/*
 * tc_ws.c — one client WebSocket; see tc_ws.h.
 *
 * libwebsockets hands a message over in pieces: a frame larger than the protocol's rx buffer
 * arrives in several CLIENT_RECEIVE calls, and a fragmented message in several frames.
 * lws_is_final_fragment() is true on the last piece of the last frame, so the pieces are
 * appended until then and the message is delivered whole. Control frames never interleave here:
 * lws answers pings itself and reports a close frame separately.
 */
#include "tc_ws.h"

#include "log.h"

#include <stdlib.h>
#include <string.h>

typedef struct send_item {
    struct send_item *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes of room for lws's frame header, then the message */
} send_item_t;

struct tc_ws {
    tc_conn_t conn; /* first: the net hands us back a tc_conn_t */
    const tc_ws_events_t *events;
    void *arg;
    bool opened;
    bool ended;
    bool close_requested;
    int close_code;
    /* the message being reassembled */
    bool in_message;
    bool message_binary;
    bool message_discarded; /* too large: its pieces are dropped, the connection is closing */
    char *message;
    size_t message_len;
    size_t message_cap;
    /* text messages waiting for a writeable callback */
    send_item_t *send_head;
    send_item_t *send_tail;
    size_t send_count;
};

/* Copies an lws reason string (may lack a NUL, may hold newlines) into a one-line text. */
static void copy_reason(char *dst, size_t dst_len, const void *in, size_t len)
{
    size_t n = 0;
    const char *src = in;
    for (size_t i = 0; src != NULL && i < len && src[i] != '\0' && n + 1 < dst_len; i++)
        dst[n++] = (src[i] == '\n' || src[i] == '\r' || src[i] == '\t') ? ' ' : src[i];
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
    if (n == 0)
        snprintf(dst, dst_len, "no reason given");
}

static bool reporting(const tc_ws_t *self)
{
    return !tc_net_closing(self->conn.net);
}

static void report_error(tc_ws_t *self, int http_status, const char *text)
{
    if (self->ended)
        return;
    self->ended = true;
    if (reporting(self))
        self->events->on_error(self->arg, self, tc_net_recv_ns(), http_status, text);
}

static void report_closed(tc_ws_t *self)
{
    if (self->ended)
        return;
    self->ended = true;
    if (reporting(self))
        self->events->on_closed(self->arg, self, tc_net_recv_ns());
}

/* Appends one received piece to the message being reassembled. Returns -1 when the message
   would exceed TC_WS_MAX_MESSAGE or memory runs out. */
static int append_piece(tc_ws_t *self, const void *in, size_t len)
{
    if (self->message_len + len > TC_WS_MAX_MESSAGE) {
        log_error("a WebSocket message exceeds %u bytes; dropping it and closing with 1009",
                  TC_WS_MAX_MESSAGE);
        return -1;
    }
    if (self->message_len + len + 1 > self->message_cap) {
        size_t cap = self->message_cap ? self->message_cap : 4096;
        while (cap < self->message_len + len + 1)
            cap *= 2;
        char *grown = realloc(self->message, cap);
        if (grown == NULL) {
            log_error("out of memory reassembling a %zu-byte message", self->message_len + len);
            return -1;
        }
        self->message = grown;
        self->message_cap = cap;
    }
    if (len > 0)
        memcpy(self->message + self->message_len, in, len);
    self->message_len += len;
    self->message[self->message_len] = '\0';
    return 0;
}

/* Returning -1 from CLIENT_RECEIVE while lws still holds buffered input makes lws 4.1 spin in
   its forced-service loop, so a message too large to keep is not refused there: its pieces are
   dropped and the connection is closed from the next writeable callback, with 1009. */
static int on_receive(tc_ws_t *self, struct lws *wsi, const void *in, size_t len)
{
    if (!self->in_message) {
        self->in_message = true;
        self->message_binary = lws_frame_is_binary(wsi) != 0;
        self->message_len = 0;
        self->message_discarded = false;
    }
    if (!self->message_discarded && append_piece(self, in, len) != 0) {
        self->message_discarded = true;
        tc_ws_close(self, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
    }
    if (!lws_is_final_fragment(wsi))
        return 0;
    self->in_message = false;
    if (self->message_discarded || !reporting(self))
        return 0;
    int64_t recv_ns = tc_net_recv_ns();
    if (self->message_binary)
        self->events->on_binary(self->arg, self, recv_ns, self->message_len);
    else
        self->events->on_text(self->arg, self, recv_ns, self->message, self->message_len);
    return 0;
}

static int on_writeable(tc_ws_t *self, struct lws *wsi)
{
    if (self->close_requested) {
        lws_close_reason(wsi, (enum lws_close_status)self->close_code, NULL, 0);
        return -1;
    }
    send_item_t *item = self->send_head;
    if (item == NULL)
        return 0;
    self->send_head = item->next;
    if (self->send_head == NULL)
        self->send_tail = NULL;
    self->send_count--;
    int written = lws_write(wsi, item->buf + LWS_PRE, item->len, LWS_WRITE_TEXT);
    size_t len = item->len;
    free(item);
    if (written < (int)len) {
        log_error("lws_write of a %zu-byte text message failed", len);
        return -1;
    }
    if (self->send_head != NULL)
        lws_callback_on_writable(wsi);
    return 0;
}

static void on_peer_close(tc_ws_t *self, const unsigned char *in, size_t len)
{
    int code = LWS_CLOSE_STATUS_NO_STATUS; /* 1005: the frame carried no code */
    const char *reason = "";
    size_t reason_len = 0;
    if (in != NULL && len >= 2) {
        code = (in[0] << 8) | in[1];
        reason = (const char *)in + 2;
        reason_len = len - 2;
    }
    if (reporting(self))
        self->events->on_peer_close(self->arg, self, tc_net_recv_ns(), code, reason, reason_len);
}

static int ws_on_lws(tc_conn_t *conn, struct lws *wsi, enum lws_callback_reasons reason, void *in,
                     size_t len)
{
    tc_ws_t *self = (tc_ws_t *)conn;
    char text[512];
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        copy_reason(text, sizeof text, in, len);
        const char *lws_error = tc_net_take_lws_error();
        if (lws_error[0] != '\0') {
            size_t used = strlen(text);
            snprintf(text + used, sizeof text - used, " (%s)", lws_error);
        }
        int http_status = (int)lws_http_client_http_response(wsi);
        char retry_after[32];
        if (http_status > 0 &&
            lws_hdr_copy(wsi, retry_after, sizeof retry_after, WSI_TOKEN_HTTP_RETRY_AFTER) > 0) {
            size_t used = strlen(text);
            snprintf(text + used, sizeof text - used, " (retry-after %s)", retry_after);
        }
        report_error(self, http_status, text);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        self->opened = true;
        if (reporting(self))
            self->events->on_open(self->arg, self, tc_net_recv_ns());
        if (self->send_head != NULL || self->close_requested)
            lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return on_receive(self, wsi, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writeable(self, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        on_peer_close(self, in, len);
        return 0; /* lws echoes the close frame, then the socket ends: CLIENT_CLOSED */
    case LWS_CALLBACK_CLIENT_CLOSED:
        report_closed(self);
        return 0;
    case LWS_CALLBACK_WSI_DESTROY:
        /* The last word on this wsi: whatever lws did not report otherwise ends here. */
        if (self->opened)
            report_closed(self);
        else
            report_error(self, 0, "connection ended before it opened");
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, NULL, in, len);
    }
}

static void ws_free(tc_conn_t *conn)
{
    tc_ws_t *self = (tc_ws_t *)conn;
    while (self->send_head != NULL) {
        send_item_t *next = self->send_head->next;
        free(self->send_head);
        self->send_head = next;
    }
    free(self->message);
    free(self);
}

tc_ws_t *tc_ws_open(tc_net_t *net, const tc_url_t *url, const tc_ws_events_t *events, void *arg)
{
    tc_ws_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        log_error("out of memory opening a WebSocket");
        return NULL;
    }
    self->conn.on_lws = ws_on_lws;
    self->conn.free_fn = ws_free;
    self->events = events;
    self->arg = arg;
    if (tc_net_connect(net, &self->conn, url, NULL) != 0)
        report_error(self, 0, "libwebsockets could not start the connection");
    return self;
}

int tc_ws_send_text(tc_ws_t *self, const char *text, size_t len)
{
    if (self->ended)
        return -1;
    send_item_t *item = malloc(sizeof *item + LWS_PRE + len);
    if (item == NULL) {
        log_error("out of memory queueing a %zu-byte message", len);
        return -1;
    }
    item->next = NULL;
    item->len = len;
    memcpy(item->buf + LWS_PRE, text, len);
    if (self->send_tail != NULL)
        self->send_tail->next = item;
    else
        self->send_head = item;
    self->send_tail = item;
    self->send_count++;
    if (self->opened && self->conn.wsi != NULL)
        lws_callback_on_writable(self->conn.wsi);
    return 0;
}

void tc_ws_close(tc_ws_t *self, int code)
{
    if (self->ended || self->conn.wsi == NULL)
        return;
    if (!self->opened) {
        lws_set_timeout(self->conn.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
        return;
    }
    self->close_requested = true;
    self->close_code = code;
    lws_callback_on_writable(self->conn.wsi);
}

bool tc_ws_is_open(const tc_ws_t *self)
{
    return self->opened && !self->ended;
}

bool tc_ws_has_ended(const tc_ws_t *self)
{
    return self->ended;
}

size_t tc_ws_pending_sends(const tc_ws_t *self)
{
    return self->send_count;
}
