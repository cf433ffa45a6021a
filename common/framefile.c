/*
 * framefile.c — reading and writing files of length-prefixed envelope frames.
 *
 * Why a length prefix. A frame already says how long it is (header_len + payload_len), so a file
 * could be a bare concatenation of frames. But then a reader would have to understand the
 * envelope header to find the next frame, and a frame of a future version, or a corrupted one,
 * would make every later frame unreadable. With the 4-byte length in front, delimiting needs no
 * knowledge of the envelope: a reader hands each record to envelope_decode, and a frame that
 * fails to decode is reported and skipped while the records after it are still found. What a
 * length prefix cannot survive is a damaged length; the reader stops there and says where.
 *
 * Why no file header. A header (magic, version) would make `cat day1 day2` an invalid file, and
 * concatenation is the natural way to join recordings. The frames carry their own magic and
 * version, which is where a reader learns what it is looking at.
 *
 * Why the bounds 1..FRAMEFILE_MAX_FRAME. No valid frame is empty or larger than the longest
 * header plus the largest payload, and the bound keeps a garbage length (a file that is not a
 * frame file, a torn write) from making the reader allocate gigabytes before it notices.
 *
 * Reader: stdio, because records are read whole into one growing buffer and stdio already
 * batches the small reads of the length fields. Writer: its own buffer and write(2), because the
 * point of a writer's error path is to say exactly what failed (ENOSPC, EIO) and when; with
 * stdio the error of a buffered fwrite surfaces later with less to go on. Records that do not fit
 * the buffer are written directly rather than copied.
 */
#include "framefile.h"
#include "errmsg.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Big enough that recording a stream of small frames costs one write(2) per many frames, small
   enough to lose little if the process is killed. */
#define WRITER_BUFFER_SIZE (64u * 1024u)

/* Longest reason kept for a failed reader or writer, repeated on every later call. */
#define REASON_MAX 1024

_Static_assert(FRAMEFILE_MAX_FRAME <= UINT32_MAX, "a record length is a uint32");

struct framefile_reader {
    FILE *fp;
    bool is_stdin;
    char *name;              /* the path, or "stdin", for messages */
    uint8_t *buf;            /* the current frame */
    size_t cap;              /* bytes allocated at buf */
    uint64_t offset;         /* bytes consumed so far */
    uint64_t record_offset;  /* where the record last returned (or failed on) starts */
    bool failed;             /* a record could not be delimited; reason says why */
    char reason[REASON_MAX]; /* the first failure, repeated on later calls */
};

struct framefile_writer {
    int fd;
    bool is_stdout;
    char *name;              /* the path, or "stdout", for messages */
    uint8_t *buf;            /* WRITER_BUFFER_SIZE bytes of records not yet written */
    size_t used;             /* bytes in buf */
    uint64_t written;        /* bytes this writer has handed to the operating system */
    bool failed;             /* a write failed: the file is incomplete */
    char reason[REASON_MAX]; /* the first failure, repeated on later calls */
};

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- reader ------------------------------------------------------------------------------- */

framefile_reader_t *framefile_reader_open(const char *path, char *err, size_t err_len)
{
    if (path == NULL || path[0] == '\0') {
        errmsg_set(err, err_len, "framefile: no file to read (empty path)");
        return NULL;
    }
    framefile_reader_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        errmsg_set(err, err_len, "framefile: %s: out of memory", path);
        return NULL;
    }
    self->is_stdin = strcmp(path, "-") == 0;
    self->name = strdup(self->is_stdin ? "stdin" : path);
    if (self->name == NULL) {
        errmsg_set(err, err_len, "framefile: %s: out of memory", path);
        goto fail;
    }
    if (self->is_stdin) {
        self->fp = stdin;
    } else {
        self->fp = fopen(path, "rb");
        if (self->fp == NULL) {
            errmsg_set(err, err_len, "framefile: cannot open %s for reading: %s", path,
                       strerror(errno));
            goto fail;
        }
    }
    /* fopen opens a directory, and only the first read fails; say so where the path is given. */
    struct stat st;
    if (fstat(fileno(self->fp), &st) != 0) {
        errmsg_set(err, err_len, "framefile: cannot stat %s: %s", self->name, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        errmsg_set(err, err_len, "framefile: %s is a directory, not a frame file", self->name);
        goto fail;
    }
    return self;
fail:
    framefile_reader_destroy(&self);
    return NULL;
}

/* Marks the reader failed with a reason naming the current record, and copies it to err. */
static int reader_fail(framefile_reader_t *self, char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int reader_fail(framefile_reader_t *self, char *err, size_t err_len, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(self->reason, sizeof self->reason,
             "framefile: %s: record at byte offset %" PRIu64 ": %s", self->name,
             self->record_offset, what);
    self->failed = true;
    errmsg_set(err, err_len, "%s", self->reason);
    return -1;
}

int framefile_reader_next(framefile_reader_t *self, const void **frame, size_t *len, char *err,
                          size_t err_len)
{
    if (self == NULL || frame == NULL || len == NULL) {
        errmsg_set(err, err_len, "framefile: NULL argument to framefile_reader_next");
        return -1;
    }
    if (self->failed) {
        errmsg_set(err, err_len, "%s", self->reason);
        return -1;
    }
    self->record_offset = self->offset;

    uint8_t prefix[FRAMEFILE_LENGTH_SIZE];
    size_t got = fread(prefix, 1, sizeof prefix, self->fp);
    self->offset += got;
    if (got < sizeof prefix) {
        if (ferror(self->fp))
            return reader_fail(self, err, err_len, "read error: %s", strerror(errno));
        if (got == 0)
            return 0;
        return reader_fail(self, err, err_len,
                           "truncated length: %zu of %d bytes before the end of the file", got,
                           FRAMEFILE_LENGTH_SIZE);
    }
    uint32_t n = get_u32(prefix);
    if (n == 0)
        return reader_fail(self, err, err_len,
                           "length 0 (a record holds one frame of at least 1 byte; the file is "
                           "damaged or not a frame file)");
    if (n > FRAMEFILE_MAX_FRAME)
        return reader_fail(self, err, err_len,
                           "length %" PRIu32 " exceeds the largest frame, %u bytes (the file is "
                           "damaged or not a frame file)",
                           n, (unsigned)FRAMEFILE_MAX_FRAME);

    if (n > self->cap) {
        uint8_t *bigger = realloc(self->buf, n);
        if (bigger == NULL)
            return reader_fail(self, err, err_len, "out of memory for a %" PRIu32 "-byte frame", n);
        self->buf = bigger;
        self->cap = n;
    }
    got = fread(self->buf, 1, n, self->fp);
    self->offset += got;
    if (got < n) {
        if (ferror(self->fp))
            return reader_fail(self, err, err_len, "read error: %s", strerror(errno));
        return reader_fail(self, err, err_len,
                           "truncated frame: length %" PRIu32
                           " but only %zu bytes before the end of the file",
                           n, got);
    }
    *frame = self->buf;
    *len = n;
    return 1;
}

uint64_t framefile_reader_offset(const framefile_reader_t *self)
{
    return self ? self->record_offset : 0;
}

void framefile_reader_destroy(framefile_reader_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    framefile_reader_t *self = *self_p;
    /* Read-only: a failing fclose loses nothing. */
    if (self->fp != NULL && !self->is_stdin)
        (void)fclose(self->fp);
    free(self->buf);
    free(self->name);
    free(self);
    *self_p = NULL;
}

/* ---- writer ------------------------------------------------------------------------------- */

framefile_writer_t *framefile_writer_open(const char *path, bool append, char *err, size_t err_len)
{
    if (path == NULL || path[0] == '\0') {
        errmsg_set(err, err_len, "framefile: no file to write (empty path)");
        return NULL;
    }
    framefile_writer_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        errmsg_set(err, err_len, "framefile: %s: out of memory", path);
        return NULL;
    }
    self->fd = -1;
    self->is_stdout = strcmp(path, "-") == 0;
    self->name = strdup(self->is_stdout ? "stdout" : path);
    self->buf = malloc(WRITER_BUFFER_SIZE);
    if (self->name == NULL || self->buf == NULL) {
        errmsg_set(err, err_len, "framefile: %s: out of memory", path);
        goto fail;
    }
    if (self->is_stdout) {
        self->fd = STDOUT_FILENO;
    } else {
        int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
        self->fd = open(path, flags, 0666);
        if (self->fd < 0) {
            errmsg_set(err, err_len, "framefile: cannot open %s for writing: %s", path,
                       strerror(errno));
            goto fail;
        }
    }
    return self;
fail:
    free(self->buf);
    free(self->name);
    free(self);
    return NULL;
}

/* Writes all n bytes at p, across short writes and signals. Returns 0, or -1 with the writer
   marked failed. */
static int write_all(framefile_writer_t *self, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(self->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            const char *hint = e == ENOSPC   ? " (the disk is full: free space or write elsewhere)"
                               : e == EDQUOT ? " (disk quota exceeded)"
                               : e == EPIPE  ? " (the reader of the pipe has gone)"
                                             : "";
            snprintf(self->reason, sizeof self->reason,
                     "framefile: %s: write failed after %" PRIu64 " bytes: %s%s; the file is "
                     "incomplete",
                     self->name, self->written, strerror(e), hint);
            self->failed = true;
            return -1;
        }
        self->written += (uint64_t)w;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int writer_flush_buffer(framefile_writer_t *self)
{
    if (self->used == 0)
        return 0;
    int rc = write_all(self, self->buf, self->used);
    self->used = 0; /* after a failure they cannot be placed correctly any more */
    return rc;
}

int framefile_writer_write(framefile_writer_t *self, const void *frame, size_t len, char *err,
                           size_t err_len)
{
    if (self == NULL) {
        errmsg_set(err, err_len, "framefile: no writer");
        return -1;
    }
    if (self->failed) {
        errmsg_set(err, err_len, "%s", self->reason);
        return -1;
    }
    if (len == 0 || len > FRAMEFILE_MAX_FRAME || frame == NULL) {
        errmsg_set(
            err, err_len, "framefile: %s: refusing a %s of %zu bytes (a record holds 1..%u bytes)",
            self->name, frame == NULL ? "NULL frame" : "frame", len, (unsigned)FRAMEFILE_MAX_FRAME);
        return -1;
    }
    uint8_t prefix[FRAMEFILE_LENGTH_SIZE];
    put_u32(prefix, (uint32_t)len);
    size_t record = sizeof prefix + len;

    if (record > WRITER_BUFFER_SIZE - self->used && writer_flush_buffer(self) != 0)
        goto failed;
    if (record <= WRITER_BUFFER_SIZE - self->used) {
        memcpy(self->buf + self->used, prefix, sizeof prefix);
        memcpy(self->buf + self->used + sizeof prefix, frame, len);
        self->used += record;
        return 0;
    }
    /* Larger than the whole buffer (which is empty now): straight to the file. */
    if (write_all(self, prefix, sizeof prefix) != 0 || write_all(self, frame, len) != 0)
        goto failed;
    return 0;
failed:
    errmsg_set(err, err_len, "%s", self->reason);
    return -1;
}

int framefile_writer_flush(framefile_writer_t *self, char *err, size_t err_len)
{
    if (self == NULL) {
        errmsg_set(err, err_len, "framefile: no writer");
        return -1;
    }
    if (self->failed || writer_flush_buffer(self) != 0) {
        errmsg_set(err, err_len, "%s", self->reason);
        return -1;
    }
    return 0;
}

void framefile_writer_destroy(framefile_writer_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    framefile_writer_t *self = *self_p;
    if (!self->failed && self->used > 0 && writer_flush_buffer(self) != 0)
        log_error("%s", self->reason);
    if (!self->is_stdout && self->fd >= 0 && close(self->fd) != 0)
        log_error("framefile: %s: close failed: %s; the last records may not have been stored",
                  self->name, strerror(errno));
    free(self->buf);
    free(self->name);
    free(self);
    *self_p = NULL;
}
