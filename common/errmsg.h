/*
 * errmsg.h — the caller's error buffer, filled the one way every bookcast module fills it.
 *
 * Functions that can fail take `char *err, size_t err_len` and leave a reason a person can act
 * on ("framefile: record at byte 4096: length 0"). err may be NULL or err_len 0 when the caller
 * does not want the reason; the text is cut to fit and always NUL-terminated.
 */
#ifndef BOOKCAST_ERRMSG_H
#define BOOKCAST_ERRMSG_H

#include <stddef.h>

/* printf-style into err (err_len bytes); nothing when err is NULL or err_len is 0. */
void errmsg_set(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
