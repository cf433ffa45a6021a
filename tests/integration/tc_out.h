/*
 * tc_out.h — where bookcast-testclient writes its result lines: a file or stdout, one line per
 * event, flushed at once so a test that reads the file while the client runs sees every line.
 *
 * Payloads are written exactly as received. The one exception keeps the format line-based: a
 * newline inside a payload is written as the two characters "\n" and counted, so the caller can
 * say on stderr that it happened (the sim never sends one; a test that sees the count knows).
 */
#ifndef BOOKCAST_TC_OUT_H
#define BOOKCAST_TC_OUT_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    FILE *file;                /* stdout or the --out file */
    bool owns_file;            /* close it in tc_out_close */
    bool write_failed;         /* a write or flush failed (reported once on stderr) */
    uint64_t newlines_escaped; /* payload newlines written as "\n" */
} tc_out_t;

/* Opens `path` for writing (truncating it), or stdout when `path` is NULL or "-". Returns 0, or
   -1 with the reason on stderr. */
int tc_out_open(tc_out_t *out, const char *path);

/* Flushes and closes the file (not stdout). Returns 0, or -1 when any write failed. */
int tc_out_close(tc_out_t *out);

/* Writes one line built from `fmt` (no trailing newline in fmt) and flushes it. */
void tc_out_line(tc_out_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes "<head> <payload>\n": head as given (e.g. "1700000000000000000 text"), payload's `len`
   bytes as they are, newlines escaped; flushes. */
void tc_out_payload(tc_out_t *out, const char *head, const char *payload, size_t len);

#endif
