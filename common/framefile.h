/*
 * framefile.h — files of envelope frames: what a recording writes and `bookcast-bookbuilder
 * --replay FILE` reads.
 *
 * A frame file is a sequence of records, each a 4-byte little-endian length N followed by N bytes
 * that are exactly one envelope frame (docs/frames.md, "Frame files"). There is no file header,
 * so files concatenate: `cat day1 day2 > both` is a valid frame file.
 *
 * This module only delimits records. It does not decode the frames: a reader hands back the
 * bytes of each record, and the caller runs envelope_decode on them, exactly as it would on a
 * ZeroMQ message. Errors come back as a reason in the caller's buffer, "framefile: <file>: …",
 * naming the byte offset of the record concerned.
 */
#ifndef BOOKCAST_FRAMEFILE_H
#define BOOKCAST_FRAMEFILE_H

#include "envelope.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of the length that precedes every frame in a file. */
#define FRAMEFILE_LENGTH_SIZE 4

/* The largest frame a record may hold: the longest header plus the largest payload. */
#define FRAMEFILE_MAX_FRAME (ENVELOPE_MAX_HEADER_SIZE + ENVELOPE_MAX_PAYLOAD)

typedef struct framefile_reader framefile_reader_t;
typedef struct framefile_writer framefile_writer_t;

/* Opens path for reading records ("-" reads stdin, which is then not closed). Returns the
   reader, or NULL with the reason in err (missing file, permission, a directory). */
framefile_reader_t *framefile_reader_open(const char *path, char *err, size_t err_len);

/* Reads the next record. Returns 1 with *frame and *len set to the frame's bytes (owned by the
   reader, valid until the next call or destroy); 0 at a clean end of file (after the last
   complete record); -1 with the reason in err, naming the record's byte offset, for a truncated
   record, a length of 0 or above FRAMEFILE_MAX_FRAME, or a read error. After -1 every further
   call returns -1 with the same reason: the records after a damaged one cannot be delimited. */
int framefile_reader_next(framefile_reader_t *self, const void **frame, size_t *len, char *err,
                          size_t err_len);

/* Byte offset in the file of the record the last framefile_reader_next returned or failed on;
   after a clean end, the length of the file; 0 before the first call. For error messages about
   a frame (the one envelope_decode refused is at this offset). */
uint64_t framefile_reader_offset(const framefile_reader_t *self);

/* Closes the file (not stdin) and frees the reader; sets *self_p to NULL. NULL-safe. */
void framefile_reader_destroy(framefile_reader_t **self_p);

/* Opens path for writing records: truncated or created (mode 0666 less the umask), or, with
   append, added to the end of an existing file ("-" writes stdout, which is then not closed).
   Returns the writer, or NULL with the reason in err. */
framefile_writer_t *framefile_writer_open(const char *path, bool append, char *err, size_t err_len);

/* Adds one record holding the len bytes at frame (borrowed; copied or written before the call
   returns). Writes are buffered: a record may reach the file only at a later write, flush or
   destroy. Returns 0, or -1 with the reason in err: a length outside 1..FRAMEFILE_MAX_FRAME
   (nothing is written, the writer stays usable), or a failed write (a full disk, an I/O
   error). After a failed write the file is incomplete and every further write and flush
   returns -1 with that first reason. */
int framefile_writer_write(framefile_writer_t *self, const void *frame, size_t len, char *err,
                           size_t err_len);

/* Hands every buffered record to the operating system (write(2); no fsync). Returns 0, or -1
   with the reason in err. Call it before destroy to learn whether everything was written. */
int framefile_writer_flush(framefile_writer_t *self, char *err, size_t err_len);

/* Flushes, closes the file (not stdout) and frees the writer; sets *self_p to NULL. A failure
   to flush or close can only be logged here. NULL-safe. */
void framefile_writer_destroy(framefile_writer_t **self_p);

#endif
