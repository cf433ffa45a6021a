/*
 * test_framefile.c — files of length-prefixed frames: round trips, concatenation, every way a
 * file can be damaged (each refused with the offset of the record), and write errors that are
 * reported instead of lost.
 *
 * Each test works in its own temporary directory, removed at the end.
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

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envelope.h"
#include "framefile.h"

typedef struct {
    char dir[64];
    char path[128];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_framefile.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/frames", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* A valid WS_TEXT frame of seq `seq` whose payload is payload_len bytes derived from seq, so
   that frames differ in content as well as in length. Caller frees *out. */
static size_t make_frame(uint64_t seq, size_t payload_len, uint8_t **out)
{
    envelope_header_t h;
    envelope_header_init(&h, ENVELOPE_WS_TEXT, MARKET_SPOT);
    h.instance_id = 7;
    h.conn_id = 1;
    h.seq = seq;
    h.recv_ts_ns = 1723161253937085768ll + (int64_t)seq;
    uint8_t *payload = malloc(payload_len + 1);
    assert_non_null(payload);
    for (size_t i = 0; i < payload_len; i++)
        payload[i] = (uint8_t)('a' + (seq + i) % 26);
    size_t size = envelope_encoded_size(&h, payload_len);
    *out = malloc(size);
    assert_non_null(*out);
    char err[256];
    size_t n = envelope_encode(&h, payload, payload_len, *out, size, err, sizeof err);
    if (n != size)
        fail_msg("encode: %s", err);
    free(payload);
    return n;
}

static void write_file(const char *path, const void *bytes, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    if (len > 0)
        assert_int_equal(fwrite(bytes, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* The whole file at path; *len its size. Caller frees. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long size = ftell(fp);
    assert_true(size >= 0);
    rewind(fp);
    uint8_t *bytes = malloc((size_t)size + 1);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    *len = (size_t)size;
    return bytes;
}

/* Writes frames of seq first..first+count-1 with the sizes sizes[i] to path. */
static void write_frames(const char *path, bool append, uint64_t first, const size_t *sizes,
                         size_t count)
{
    char err[512];
    framefile_writer_t *w = framefile_writer_open(path, append, err, sizeof err);
    if (w == NULL)
        fail_msg("open: %s", err);
    for (size_t i = 0; i < count; i++) {
        uint8_t *frame;
        size_t len = make_frame(first + i, sizes[i], &frame);
        if (framefile_writer_write(w, frame, len, err, sizeof err) != 0)
            fail_msg("write: %s", err);
        free(frame);
    }
    if (framefile_writer_flush(w, err, sizeof err) != 0)
        fail_msg("flush: %s", err);
    framefile_writer_destroy(&w);
    assert_null(w);
}

/* Reads path to its end and checks that it holds the frames of seq first.. with sizes[]. */
static void expect_frames(const char *path, uint64_t first, const size_t *sizes, size_t count)
{
    char err[512];
    framefile_reader_t *r = framefile_reader_open(path, err, sizeof err);
    if (r == NULL)
        fail_msg("open: %s", err);
    uint64_t offset = 0;
    for (size_t i = 0; i < count; i++) {
        const void *frame;
        size_t len;
        int rc = framefile_reader_next(r, &frame, &len, err, sizeof err);
        if (rc != 1)
            fail_msg("record %zu: rc %d: %s", i, rc, err);
        assert_int_equal(framefile_reader_offset(r), offset);
        uint8_t *expected;
        size_t expected_len = make_frame(first + i, sizes[i], &expected);
        assert_int_equal(len, expected_len);
        assert_memory_equal(frame, expected, len);
        free(expected);

        envelope_header_t h;
        const void *payload;
        size_t payload_len;
        assert_int_equal(envelope_decode(frame, len, &h, &payload, &payload_len, err, sizeof err),
                         0);
        assert_int_equal(h.seq, first + i);
        assert_int_equal(payload_len, sizes[i]);
        offset += FRAMEFILE_LENGTH_SIZE + len;
    }
    const void *frame;
    size_t len;
    assert_int_equal(framefile_reader_next(r, &frame, &len, err, sizeof err), 0);
    assert_int_equal(framefile_reader_offset(r), offset);
    /* The end stays the end. */
    assert_int_equal(framefile_reader_next(r, &frame, &len, err, sizeof err), 0);
    framefile_reader_destroy(&r);
    assert_null(r);
}

/* Opens path and expects the record after `good` valid ones to fail with a reason naming
   offset and containing `what`. */
static void expect_failure_at(const char *path, size_t good, uint64_t offset, const char *what)
{
    char err[512];
    framefile_reader_t *r = framefile_reader_open(path, err, sizeof err);
    if (r == NULL)
        fail_msg("open: %s", err);
    const void *frame;
    size_t len;
    for (size_t i = 0; i < good; i++)
        assert_int_equal(framefile_reader_next(r, &frame, &len, err, sizeof err), 1);
    err[0] = '\0';
    assert_int_equal(framefile_reader_next(r, &frame, &len, err, sizeof err), -1);
    char at[64];
    snprintf(at, sizeof at, "record at byte offset %llu: ", (unsigned long long)offset);
    if (strstr(err, at) == NULL || strstr(err, what) == NULL || strstr(err, path) == NULL)
        fail_msg("reason \"%s\" lacks \"%s\", \"%s\" or the path", err, at, what);
    assert_int_equal(framefile_reader_offset(r), offset);
    /* The records after a damaged one cannot be found: the reader keeps failing. */
    char again[512];
    assert_int_equal(framefile_reader_next(r, &frame, &len, again, sizeof again), -1);
    assert_string_equal(again, err);
    framefile_reader_destroy(&r);
}

static void round_trip_of_many_frames_of_varied_sizes(void **state)
{
    fixture_t *f = *state;
    enum { COUNT = 600 };
    size_t sizes[COUNT];
    for (size_t i = 0; i < COUNT; i++)
        sizes[i] = (i * 7919) % 3000; /* 0..2999 in a scrambled order, some empty payloads */
    /* Around and beyond the writer's 64 KiB buffer, which such records bypass. */
    sizes[100] = 64 * 1024 - 4 - 56;
    sizes[101] = 64 * 1024 - 56;
    sizes[102] = 64 * 1024;
    sizes[300] = 1024 * 1024;
    sizes[301] = 1;
    sizes[599] = 200 * 1024;
    write_frames(f->path, false, 1, sizes, COUNT);
    expect_frames(f->path, 1, sizes, COUNT);
}

static void largest_frame_round_trips(void **state)
{
    fixture_t *f = *state;
    size_t len = FRAMEFILE_MAX_FRAME;
    uint8_t *frame = malloc(len);
    assert_non_null(frame);
    for (size_t i = 0; i < len; i++)
        frame[i] = (uint8_t)(i * 31);
    char err[512];
    framefile_writer_t *w = framefile_writer_open(f->path, false, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(framefile_writer_write(w, frame, len, err, sizeof err), 0);
    framefile_writer_destroy(&w);

    framefile_reader_t *r = framefile_reader_open(f->path, err, sizeof err);
    assert_non_null(r);
    const void *got;
    size_t got_len;
    assert_int_equal(framefile_reader_next(r, &got, &got_len, err, sizeof err), 1);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, frame, len);
    assert_int_equal(framefile_reader_next(r, &got, &got_len, err, sizeof err), 0);
    framefile_reader_destroy(&r);
    free(frame);
}

static void concatenated_files_read_as_one(void **state)
{
    fixture_t *f = *state;
    const size_t sizes[] = {10, 0, 5000, 300, 70000};
    char first[160], second[160];
    snprintf(first, sizeof first, "%s/day1", f->dir);
    snprintf(second, sizeof second, "%s/day2", f->dir);
    write_frames(first, false, 1, sizes, 3);
    write_frames(second, false, 4, sizes + 3, 2);

    size_t len1, len2;
    uint8_t *b1 = read_file(first, &len1);
    uint8_t *b2 = read_file(second, &len2);
    uint8_t *both = malloc(len1 + len2);
    assert_non_null(both);
    memcpy(both, b1, len1);
    memcpy(both + len1, b2, len2);
    write_file(f->path, both, len1 + len2); /* cat day1 day2 > frames */
    expect_frames(f->path, 1, sizes, 5);

    /* Appending with the writer makes the same file. */
    write_frames(first, true, 4, sizes + 3, 2);
    size_t appended_len;
    uint8_t *appended = read_file(first, &appended_len);
    assert_int_equal(appended_len, len1 + len2);
    assert_memory_equal(appended, both, appended_len);
    free(appended);
    free(both);
    free(b1);
    free(b2);
}

static void empty_file_is_a_clean_end(void **state)
{
    fixture_t *f = *state;
    write_file(f->path, "", 0);
    expect_frames(f->path, 1, NULL, 0);
}

static void writer_without_records_leaves_an_empty_file(void **state)
{
    fixture_t *f = *state;
    write_file(f->path, "stale", 5);
    char err[512];
    framefile_writer_t *w = framefile_writer_open(f->path, false, err, sizeof err);
    assert_non_null(w);
    framefile_writer_destroy(&w);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_size, 0);
}

/* Two good records, then `tail` bytes of damage; the failing record is at the offset after
   the two good ones. */
static uint64_t two_records_then(const char *path, const uint8_t *tail, size_t tail_len)
{
    const size_t sizes[] = {100, 200};
    write_frames(path, false, 1, sizes, 2);
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    bytes = realloc(bytes, len + tail_len);
    assert_non_null(bytes);
    memcpy(bytes + len, tail, tail_len);
    write_file(path, bytes, len + tail_len);
    free(bytes);
    return len;
}

static void truncated_length_refused(void **state)
{
    fixture_t *f = *state;
    const uint8_t tail[] = {0x10, 0x00};
    uint64_t at = two_records_then(f->path, tail, sizeof tail);
    expect_failure_at(f->path, 2, at, "truncated length: 2 of 4 bytes");
}

static void truncated_body_refused(void **state)
{
    fixture_t *f = *state;
    uint8_t *frame;
    size_t len = make_frame(3, 50, &frame);
    uint8_t tail[4 + 200];
    tail[0] = (uint8_t)len;
    tail[1] = tail[2] = tail[3] = 0;
    memcpy(tail + 4, frame, len - 1); /* one byte short */
    free(frame);
    uint64_t at = two_records_then(f->path, tail, 4 + len - 1);
    char what[128];
    snprintf(what, sizeof what, "truncated frame: length %zu but only %zu bytes", len, len - 1);
    expect_failure_at(f->path, 2, at, what);
}

static void zero_length_refused(void **state)
{
    fixture_t *f = *state;
    const uint8_t tail[] = {0, 0, 0, 0, 'B', 'K', 'C', 'F'};
    uint64_t at = two_records_then(f->path, tail, sizeof tail);
    expect_failure_at(f->path, 2, at, "length 0");
}

static void oversized_length_refused(void **state)
{
    fixture_t *f = *state;
    uint32_t n = FRAMEFILE_MAX_FRAME + 1;
    const uint8_t tail[] = {
        (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24), 'B', 'K', 'C', 'F'};
    uint64_t at = two_records_then(f->path, tail, sizeof tail);
    char what[128];
    snprintf(what, sizeof what, "length %u exceeds the largest frame, %u bytes", (unsigned)n,
             (unsigned)FRAMEFILE_MAX_FRAME);
    expect_failure_at(f->path, 2, at, what);

    /* Text is not a frame file: "BKCF" read as a length is about 1.1e9. */
    write_file(f->path, "BKCF\x01\x01", 6);
    expect_failure_at(f->path, 0, 0, "exceeds the largest frame");
}

static void open_names_what_is_wrong(void **state)
{
    fixture_t *f = *state;
    char err[512] = "";
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no-such-file", f->dir);
    assert_null(framefile_reader_open(missing, err, sizeof err));
    assert_non_null(strstr(err, missing));
    assert_non_null(strstr(err, strerror(ENOENT)));

    assert_null(framefile_reader_open(f->dir, err, sizeof err));
    assert_non_null(strstr(err, "is a directory"));

    char nodir[160];
    snprintf(nodir, sizeof nodir, "%s/no-such-dir/frames", f->dir);
    assert_null(framefile_writer_open(nodir, false, err, sizeof err));
    assert_non_null(strstr(err, nodir));
    assert_non_null(strstr(err, strerror(ENOENT)));

    assert_null(framefile_reader_open("", err, sizeof err));
    assert_null(framefile_writer_open(NULL, false, err, sizeof err));
}

static void writer_refuses_bad_lengths(void **state)
{
    fixture_t *f = *state;
    char err[512];
    framefile_writer_t *w = framefile_writer_open(f->path, false, err, sizeof err);
    assert_non_null(w);
    const uint8_t byte = 1;
    assert_int_equal(framefile_writer_write(w, &byte, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "0 bytes"));
    /* Refused on the length alone, before a byte of the frame is read. */
    assert_int_equal(framefile_writer_write(w, &byte, FRAMEFILE_MAX_FRAME + 1, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "a record holds 1.."));
    assert_int_equal(framefile_writer_write(w, NULL, 10, err, sizeof err), -1);
    /* Nothing was written, and the writer still works. */
    const size_t sizes[] = {3};
    uint8_t *frame;
    size_t len = make_frame(1, sizes[0], &frame);
    assert_int_equal(framefile_writer_write(w, frame, len, err, sizeof err), 0);
    free(frame);
    framefile_writer_destroy(&w);
    expect_frames(f->path, 1, sizes, 1);
}

static void write_to_full_disk_reported(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    char err[512] = "";
    framefile_writer_t *w = framefile_writer_open("/dev/full", false, err, sizeof err);
    if (w == NULL)
        fail_msg("open /dev/full: %s", err);
    uint8_t *frame;
    size_t len = make_frame(1, 100, &frame);
    /* Buffered: the disk is not touched yet. */
    assert_int_equal(framefile_writer_write(w, frame, len, err, sizeof err), 0);
    assert_int_equal(framefile_writer_flush(w, err, sizeof err), -1);
    if (strstr(err, strerror(ENOSPC)) == NULL || strstr(err, "/dev/full") == NULL ||
        strstr(err, "the disk is full") == NULL)
        fail_msg("reason \"%s\" does not name the file and ENOSPC", err);
    /* The file is incomplete: later writes fail with the first reason. */
    char again[512];
    assert_int_equal(framefile_writer_write(w, frame, len, again, sizeof again), -1);
    assert_string_equal(again, err);
    assert_int_equal(framefile_writer_flush(w, again, sizeof again), -1);
    assert_string_equal(again, err);
    framefile_writer_destroy(&w);
    free(frame);

    /* A record larger than the buffer goes straight to the file and fails in the write. */
    w = framefile_writer_open("/dev/full", true, err, sizeof err);
    assert_non_null(w);
    len = make_frame(1, 100 * 1024, &frame);
    assert_int_equal(framefile_writer_write(w, frame, len, err, sizeof err), -1);
    assert_non_null(strstr(err, strerror(ENOSPC)));
    framefile_writer_destroy(&w);
    free(frame);
}

/* docs/frames.md, "Frame files": the dumped record is what the writer writes for that frame. */
static void documented_record_matches_writer(void **state)
{
#ifndef BOOKCAST_SOURCE_DIR
    (void)state;
    skip();
#else
    fixture_t *f = *state;
    size_t doc_len;
    uint8_t *doc = read_file(BOOKCAST_SOURCE_DIR "/docs/frames.md", &doc_len);
    doc[doc_len] = '\0';
    uint8_t dumped[256];
    size_t dumped_len =
        docdump_read((const char *)doc, "framefile-dump", "ws_text_record", dumped, sizeof dumped);
    free(doc);

    static const char payload[] = "{\"result\":null,\"id\":1}";
    envelope_header_t h;
    envelope_header_init(&h, ENVELOPE_WS_TEXT, MARKET_USDM);
    h.instance_id = 0x5f3a9c0e12d4b871ull;
    h.conn_id = 3;
    h.seq = 2;
    h.recv_ts_ns = 1767225600004000000ll;
    uint8_t frame[128];
    char err[512];
    size_t len =
        envelope_encode(&h, payload, strlen(payload), frame, sizeof frame, err, sizeof err);
    assert_int_equal(len, 78);
    framefile_writer_t *w = framefile_writer_open(f->path, false, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(framefile_writer_write(w, frame, len, err, sizeof err), 0);
    framefile_writer_destroy(&w);

    size_t written_len;
    uint8_t *written = read_file(f->path, &written_len);
    assert_int_equal(written_len, dumped_len);
    assert_memory_equal(written, dumped, dumped_len);
    free(written);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trip_of_many_frames_of_varied_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(largest_frame_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(concatenated_files_read_as_one, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_file_is_a_clean_end, setup, teardown),
        cmocka_unit_test_setup_teardown(writer_without_records_leaves_an_empty_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(truncated_length_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_body_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(zero_length_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_length_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(open_names_what_is_wrong, setup, teardown),
        cmocka_unit_test_setup_teardown(writer_refuses_bad_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(write_to_full_disk_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(documented_record_matches_writer, setup, teardown),
    };
    return cmocka_run_group_tests_name("framefile", tests, NULL, NULL);
}
