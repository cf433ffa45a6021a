/*
 * outbox.c — the bounded frame queue (see outbox.h). A singly linked FIFO of frames, each one
 * allocation holding its bytes; the set of streams that lost frames is a small array searched
 * linearly (a loss touches a handful of streams, and it is the rare path).
 */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>

typedef struct frame_t {
    struct frame_t *next;
    size_t len;
    unsigned char data[];
} frame_t;

struct outbox_t {
    frame_t *head, *tail;
    size_t frames, bytes, max_bytes;
    uint64_t dropped_total, sent_total, send_errors;
    uint64_t dropped_since_take;
    char **lost;
    size_t lost_count, lost_cap;
};

outbox_t *outbox_new(size_t max_bytes)
{
    outbox_t *self = calloc(1, sizeof *self);
    if (self)
        self->max_bytes = max_bytes;
    return self;
}

void outbox_destroy(outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    outbox_t *self = *self_p;
    for (frame_t *f = self->head, *next; f; f = next) {
        next = f->next;
        free(f);
    }
    outbox_free_streams(self->lost, self->lost_count);
    free(self);
    *self_p = NULL;
}

static void note_stream(outbox_t *self, const char *stream)
{
    if (!stream)
        return;
    for (size_t i = 0; i < self->lost_count; i++)
        if (strcmp(self->lost[i], stream) == 0)
            return;
    if (self->lost_count == self->lost_cap) {
        size_t cap = self->lost_cap ? self->lost_cap * 2 : 8;
        char **grown = realloc(self->lost, cap * sizeof *grown);
        if (!grown)
            return;
        self->lost = grown;
        self->lost_cap = cap;
    }
    char *copy = strdup(stream);
    if (copy)
        self->lost[self->lost_count++] = copy;
}

static void note_loss(outbox_t *self, const char *stream)
{
    self->dropped_total++;
    self->dropped_since_take++;
    note_stream(self, stream);
}

void outbox_note_loss(outbox_t *self, const char *const *streams, size_t count)
{
    self->dropped_total++;
    self->dropped_since_take++;
    for (size_t i = 0; i < count; i++)
        note_stream(self, streams[i]);
}

static frame_t *frame_new(const void *data, size_t len)
{
    frame_t *f = malloc(sizeof *f + len);
    if (!f)
        return NULL;
    f->next = NULL;
    f->len = len;
    if (len)
        memcpy(f->data, data, len);
    return f;
}

static void append(outbox_t *self, frame_t *f)
{
    if (self->tail)
        self->tail->next = f;
    else
        self->head = f;
    self->tail = f;
    self->frames++;
    self->bytes += f->len;
}

int outbox_push(outbox_t *self, const void *data, size_t len, const char *stream)
{
    /* While losses are waiting to be reported, new frames of any stream are dropped too until
       the queue has drained to half: a consumer must not see data after a hole it has not been
       told about, and the half-way mark stops a queue at its bound from flapping. */
    bool full = self->frames > 0 && self->bytes + len > self->max_bytes;
    frame_t *f = full || self->dropped_since_take ? NULL : frame_new(data, len);
    if (!f) {
        note_loss(self, stream);
        return -1;
    }
    append(self, f);
    return 0;
}

int outbox_push_always(outbox_t *self, const void *data, size_t len)
{
    frame_t *f = frame_new(data, len);
    if (!f)
        return -1;
    append(self, f);
    return 0;
}

size_t outbox_flush(outbox_t *self, outbox_send_fn send, void *arg)
{
    size_t sent = 0;
    while (self->head) {
        frame_t *f = self->head;
        int rc = send(arg, f->data, f->len);
        if (rc == 1)
            break;
        if (rc == 0) {
            sent++;
            self->sent_total++;
        } else {
            self->send_errors++;
            note_loss(self, NULL);
        }
        self->head = f->next;
        if (!self->head)
            self->tail = NULL;
        self->frames--;
        self->bytes -= f->len;
        free(f);
    }
    return sent;
}

bool outbox_losses_pending(const outbox_t *self)
{
    return self->dropped_since_take > 0 && self->bytes <= self->max_bytes / 2;
}

void outbox_take_losses(outbox_t *self, char ***streams, size_t *count, uint64_t *frames_dropped)
{
    *streams = self->lost;
    *count = self->lost_count;
    *frames_dropped = self->dropped_since_take;
    self->lost = NULL;
    self->lost_count = self->lost_cap = 0;
    self->dropped_since_take = 0;
}

void outbox_free_streams(char **streams, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(streams[i]);
    free(streams);
}

size_t outbox_frames(const outbox_t *self)
{
    return self->frames;
}

size_t outbox_bytes(const outbox_t *self)
{
    return self->bytes;
}

uint64_t outbox_dropped(const outbox_t *self)
{
    return self->dropped_total;
}

uint64_t outbox_sent(const outbox_t *self)
{
    return self->sent_total;
}

uint64_t outbox_send_errors(const outbox_t *self)
{
    return self->send_errors;
}
