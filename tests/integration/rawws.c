/*
 * rawws.c — the bare TLS WebSocket client; see rawws.h.
 *
 * A non-blocking socket and poll() give every call its timeout: OpenSSL asks to be called again
 * (WANT_READ / WANT_WRITE) and we wait on the socket for at most the time left. Received bytes
 * collect in one buffer; a frame is taken off its front once it is complete.
 */
#include "rawws.h"

#include "now.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX 8192
#define FRAME_MAX (64u << 20)

struct rawws {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    unsigned char *buf; /* received, not yet consumed */
    size_t len, cap;
};

static void say(char *err, size_t len, const char *what)
{
    unsigned long e = ERR_get_error();
    if (e != 0) {
        char ssl_err[200];
        ERR_error_string_n(e, ssl_err, sizeof ssl_err);
        snprintf(err, len, "%s: %s", what, ssl_err);
    } else {
        snprintf(err, len, "%s: %s", what, errno ? strerror(errno) : "failed");
    }
    ERR_clear_error();
}

/* Waits until the socket is ready for what OpenSSL asked; false on timeout. */
static bool wait_for(int fd, int ssl_error, int64_t deadline_ms)
{
    int64_t left = deadline_ms - now_monotonic_ms();
    if (left <= 0)
        return false;
    struct pollfd p = {.fd = fd, .events = ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN};
    return poll(&p, 1, (int)left) > 0;
}

/* Appends what the socket has, waiting until deadline. 1 bytes read, 0 timeout, -1 ended. */
static int read_more(rawws_t *self, int64_t deadline_ms)
{
    if (self->cap - self->len < 16384) {
        size_t cap = self->cap ? self->cap * 2 : 65536;
        unsigned char *p = realloc(self->buf, cap);
        if (p == NULL)
            return -1;
        self->buf = p;
        self->cap = cap;
    }
    for (;;) {
        int n = SSL_read(self->ssl, self->buf + self->len, (int)(self->cap - self->len));
        if (n > 0) {
            self->len += (size_t)n;
            return 1;
        }
        int e = SSL_get_error(self->ssl, n);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            return -1;
        }
        if (!wait_for(self->fd, e, deadline_ms))
            return 0;
    }
}

static int write_all(rawws_t *self, const void *data, size_t len, int64_t deadline_ms)
{
    const unsigned char *p = data;
    while (len > 0) {
        int n = SSL_write(self->ssl, p, (int)len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        int e = SSL_get_error(self->ssl, n);
        if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
            !wait_for(self->fd, e, deadline_ms)) {
            ERR_clear_error();
            return -1;
        }
    }
    return 0;
}

static void consume(rawws_t *self, size_t n)
{
    memmove(self->buf, self->buf + n, self->len - n);
    self->len -= n;
}

static int tcp_connect(const char *host, int port, int64_t deadline_ms, char *err, size_t len)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        snprintf(err, len, "rawws: %s is not an IPv4 address", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        say(err, len, "socket");
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (errno != EINPROGRESS || !wait_for(fd, SSL_ERROR_WANT_WRITE, deadline_ms)) {
            say(err, len, "connect");
            close(fd);
            return -1;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            errno = soerr;
            say(err, len, "connect");
            close(fd);
            return -1;
        }
    }
    return fd;
}

static int tls_start(rawws_t *self, const char *host, const char *ca_file, int64_t deadline_ms,
                     char *err, size_t len)
{
    self->ctx = SSL_CTX_new(TLS_client_method());
    if (self->ctx == NULL || SSL_CTX_load_verify_locations(self->ctx, ca_file, NULL) != 1) {
        say(err, len, "TLS context / CA file");
        return -1;
    }
    SSL_CTX_set_verify(self->ctx, SSL_VERIFY_PEER, NULL);
    self->ssl = SSL_new(self->ctx);
    if (self->ssl == NULL) {
        say(err, len, "SSL_new");
        return -1;
    }
    X509_VERIFY_PARAM *param = SSL_get0_param(self->ssl);
    struct in_addr ip;
    int name_ok = inet_pton(AF_INET, host, &ip) == 1 ? X509_VERIFY_PARAM_set1_ip_asc(param, host)
                                                     : X509_VERIFY_PARAM_set1_host(param, host, 0);
    if (name_ok != 1 || SSL_set_fd(self->ssl, self->fd) != 1) {
        say(err, len, "TLS name check setup");
        return -1;
    }
    for (;;) {
        int rc = SSL_connect(self->ssl);
        if (rc == 1)
            return 0;
        int e = SSL_get_error(self->ssl, rc);
        if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
            !wait_for(self->fd, e, deadline_ms)) {
            say(err, len, "TLS handshake");
            return -1;
        }
    }
}

/* The value of header `name` in the response head (NUL-terminated), or false. */
static bool head_header(const char *head, const char *name, char *out, size_t out_len)
{
    size_t n = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
        const char *p = line + 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            p += n + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            const char *end = strstr(p, "\r\n");
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (len >= out_len)
                len = out_len - 1;
            memcpy(out, p, len);
            out[len] = '\0';
            return true;
        }
    }
    return false;
}

rawws_t *rawws_open(const char *host, int port, const char *path, const char *ca_file,
                    int64_t timeout_ms, rawws_answer_t *answer)
{
    memset(answer, 0, sizeof *answer);
    int64_t deadline = now_monotonic_ms() + timeout_ms;
    rawws_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        snprintf(answer->error, sizeof answer->error, "out of memory");
        return NULL;
    }
    self->fd = tcp_connect(host, port, deadline, answer->error, sizeof answer->error);
    if (self->fd < 0 ||
        tls_start(self, host, ca_file, deadline, answer->error, sizeof answer->error) != 0) {
        rawws_close(&self);
        return NULL;
    }
    unsigned char nonce[16];
    char key[32];
    if (RAND_bytes(nonce, sizeof nonce) != 1) {
        snprintf(answer->error, sizeof answer->error, "no random bytes for the key");
        rawws_close(&self);
        return NULL;
    }
    EVP_EncodeBlock((unsigned char *)key, nonce, sizeof nonce);
    char request[2048];
    int n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     path, host, port, key);
    if (n <= 0 || (size_t)n >= sizeof request ||
        write_all(self, request, (size_t)n, deadline) != 0) {
        snprintf(answer->error, sizeof answer->error, "could not send the upgrade request");
        rawws_close(&self);
        return NULL;
    }
    /* The answer's head; a refused upgrade may close right after it. */
    char *end = NULL;
    for (;;) {
        if (self->len > 0) {
            end = memmem(self->buf, self->len, "\r\n\r\n", 4);
            if (end != NULL || self->len > HEAD_MAX)
                break;
        }
        int rc = read_more(self, deadline);
        if (rc <= 0) {
            snprintf(answer->error, sizeof answer->error, "%s before the answer's head ended",
                     rc == 0 ? "timed out" : "connection ended");
            break;
        }
    }
    if (self->len > 0) {
        char head[HEAD_MAX + 1];
        size_t head_len = end ? (size_t)(end - (char *)self->buf) + 2 : self->len;
        if (head_len > HEAD_MAX)
            head_len = HEAD_MAX;
        memcpy(head, self->buf, head_len);
        head[head_len] = '\0';
        int status = 0;
        if (sscanf(head, "HTTP/1.%*d %d", &status) == 1)
            answer->status = status;
        head_header(head, "Retry-After", answer->retry_after, sizeof answer->retry_after);
        if (end != NULL)
            consume(self, (size_t)(end - (char *)self->buf) + 4);
    }
    if (answer->status != 101 || end == NULL) {
        if (answer->error[0] == '\0')
            snprintf(answer->error, sizeof answer->error, "answered %d", answer->status);
        rawws_close(&self);
        return NULL;
    }
    return self;
}

/* A complete frame at the front of the buffer: 1 with its sizes, 0 not yet, -1 too large. */
static int frame_ready(const rawws_t *self, size_t *header_len, uint64_t *payload_len, bool *masked)
{
    const unsigned char *b = self->buf;
    if (self->len < 2)
        return 0;
    *masked = (b[1] & 0x80) != 0;
    uint64_t len = b[1] & 0x7f;
    size_t h = 2;
    if (len == 126) {
        if (self->len < 4)
            return 0;
        len = ((uint64_t)b[2] << 8) | b[3];
        h = 4;
    } else if (len == 127) {
        if (self->len < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | b[2 + i];
        h = 10;
    }
    if (*masked)
        h += 4;
    *header_len = h;
    *payload_len = len;
    if (len > FRAME_MAX)
        return -1;
    return self->len >= h && self->len - h >= len;
}

int rawws_read(rawws_t *self, int64_t timeout_ms, rawws_frame_t *frame)
{
    memset(frame, 0, sizeof *frame);
    int64_t deadline = now_monotonic_ms() + timeout_ms;
    size_t h;
    uint64_t len;
    bool masked;
    int ready;
    while ((ready = frame_ready(self, &h, &len, &masked)) == 0) {
        int rc = read_more(self, deadline);
        if (rc <= 0)
            return rc;
    }
    if (ready < 0)
        return -1;
    frame->fin = (self->buf[0] & 0x80) != 0;
    frame->opcode = self->buf[0] & 0x0f;
    frame->len = (size_t)len;
    frame->payload = malloc(frame->len + 1);
    if (frame->payload == NULL)
        return -1;
    memcpy(frame->payload, self->buf + h, frame->len);
    if (masked)
        for (size_t i = 0; i < frame->len; i++)
            frame->payload[i] ^= self->buf[h - 4 + i % 4];
    frame->payload[frame->len] = '\0';
    consume(self, h + frame->len);
    return 1;
}

int rawws_send(rawws_t *self, int opcode, const void *payload, size_t len)
{
    if (len > 125 && opcode >= RAWWS_OP_CLOSE)
        return -1;
    unsigned char frame[14 + 65536];
    if (len > 65535)
        return -1;
    size_t h = 0;
    frame[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        frame[h++] = (unsigned char)(0x80 | len);
    } else {
        frame[h++] = 0x80 | 126;
        frame[h++] = (unsigned char)(len >> 8);
        frame[h++] = (unsigned char)len;
    }
    unsigned char mask[4];
    if (RAND_bytes(mask, sizeof mask) != 1)
        return -1;
    memcpy(frame + h, mask, 4);
    h += 4;
    const unsigned char *p = payload;
    for (size_t i = 0; i < len; i++)
        frame[h + i] = p[i] ^ mask[i % 4];
    return write_all(self, frame, h + len, now_monotonic_ms() + 2000);
}

void rawws_frame_free(rawws_frame_t *frame)
{
    if (frame == NULL)
        return;
    free(frame->payload);
    memset(frame, 0, sizeof *frame);
}

void rawws_close(rawws_t **self_p)
{
    rawws_t *self = self_p ? *self_p : NULL;
    if (self == NULL)
        return;
    if (self->ssl != NULL)
        SSL_free(self->ssl);
    if (self->ctx != NULL)
        SSL_CTX_free(self->ctx);
    if (self->fd > 0)
        close(self->fd);
    free(self->buf);
    free(self);
    *self_p = NULL;
}
