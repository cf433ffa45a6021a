/*
 * testproc.c — start, watch and stop a test's child program (see testproc.h).
 *
 * Readiness is a line in the child's log rather than a probe of its sockets: every bookcast
 * program logs one once it is ready for what the test does next, and the log is a file, so
 * waiting for it is a bounded poll without a connection to clean up. A child that has exited is
 * reaped by whichever call first notices (testproc_alive), and its status kept, so that a pid is
 * never signalled after it could have been reused.
 *
 * The log is read with the shell's grep and tail for the report: it is a test's failure output,
 * not a path whose speed or dependencies matter.
 */
#include "testproc.h"

#include "now.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 10
#define TERMINATE_POLL_MS 2
#define DESTROY_WAIT_MS 5000
#define REPORT_WARNINGS_MAX 60
#define REPORT_LAST_LINES 25
#define LINE_MAX_BYTES_FOR_SCAN 17000 /* a log line is at most LOG_LINE_MAX (16 KiB) */

extern char **environ;

struct testproc {
    testproc_opts_t opts;
    char *dir;
    char *log;
    pid_t pid;       /* 0 until started */
    bool exited;     /* reaped; status holds how */
    int status;      /* waitpid status once exited */
    bool killed;     /* it had to be SIGKILLed */
    bool terminated; /* testproc_terminate ran */
    int64_t took_ms;
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs a shell command made like printf. Returns system()'s result, or -1 when the command
   did not fit. */
static int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int shell(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof cmd)
        return -1;
    return system(cmd);
}

static void remove_dir(const char *dir)
{
    if (getenv("KEEP_TEST_DIRS")) {
        fprintf(stderr, "testproc: kept %s\n", dir);
        return;
    }
    if (shell("rm -rf '%s'", dir) != 0)
        fprintf(stderr, "testproc: could not remove %s\n", dir);
}

/* The parent's environment without the entries starting with `drop` (a NULL-terminated copy of
   the pointers; the strings stay the environment's). */
static char **environment_without(const char *drop)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = calloc(n + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t drop_len = drop ? strlen(drop) : 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!drop || strncmp(environ[i], drop, drop_len) != 0)
            env[k++] = environ[i];
    env[k] = NULL;
    return env;
}

char *testproc_make_dir(const char *prefix)
{
    size_t len = strlen(prefix) + sizeof ".XXXXXX";
    char *dir = malloc(len);
    if (!dir)
        return NULL;
    snprintf(dir, len, "%s.XXXXXX", prefix);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "testproc: mkdtemp %s: %s\n", dir, strerror(errno));
        free(dir);
        return NULL;
    }
    return dir;
}

testproc_t *testproc_new(const testproc_opts_t *opts, char *dir)
{
    testproc_t *self = calloc(1, sizeof *self);
    if (!self) {
        fprintf(stderr, "testproc: out of memory\n");
        remove_dir(dir);
        free(dir);
        return NULL;
    }
    self->opts = *opts;
    self->dir = dir;
    size_t len = strlen(dir) + 1 + strlen(opts->log_name) + 1;
    self->log = malloc(len);
    if (!self->log) {
        fprintf(stderr, "testproc: out of memory\n");
        testproc_destroy(&self);
        return NULL;
    }
    snprintf(self->log, len, "%s/%s", dir, opts->log_name);
    return self;
}

int testproc_start(testproc_t *self, const char *const *argv)
{
    if (self->pid != 0) {
        fprintf(stderr, "testproc: %s was started already\n", self->opts.program);
        return -1;
    }
    char **env = environment_without(self->opts.env_drop);
    if (!env) {
        fprintf(stderr, "testproc: out of memory\n");
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "testproc: fork for %s: %s\n", self->opts.program, strerror(errno));
        free(env);
        return -1;
    }
    if (pid == 0) {
        int fd = open(self->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        if (self->opts.run_in_dir && chdir(self->dir) != 0)
            _exit(126);
        execve(argv[0], (char *const *)argv, env);
        _exit(127);
    }
    free(env);
    self->pid = pid;
    return 0;
}

bool testproc_alive(testproc_t *self)
{
    if (self->pid <= 0 || self->exited)
        return false;
    int status;
    if (waitpid(self->pid, &status, WNOHANG) == self->pid) {
        self->exited = true;
        self->status = status;
        return false;
    }
    return true;
}

int testproc_log_count(const testproc_t *self, const char *needle)
{
    FILE *f = fopen(self->log, "r");
    if (!f)
        return 0;
    char line[LINE_MAX_BYTES_FOR_SCAN];
    int count = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            count++;
    fclose(f);
    return count;
}

bool testproc_wait_log(testproc_t *self, const char *needle, int n, int64_t timeout_ms)
{
    int64_t deadline = now_monotonic_ms() + timeout_ms;
    for (;;) {
        /* Asked before counting: when it had exited already, the count below is final. */
        bool alive = testproc_alive(self);
        if (testproc_log_count(self, needle) >= n)
            return true;
        if (!alive || now_monotonic_ms() >= deadline)
            return false;
        sleep_ms(POLL_MS);
    }
}

bool testproc_wait_ready(testproc_t *self, const char *line, int64_t timeout_ms)
{
    if (testproc_wait_log(self, line, 1, timeout_ms))
        return true;
    if (testproc_alive(self))
        fprintf(stderr, "testproc: %s did not start (no \"%s\" line after %lld ms)\n",
                self->opts.program, line, (long long)timeout_ms);
    else
        fprintf(stderr, "testproc: %s did not start (it exited)\n", self->opts.program);
    return false;
}

static int exit_code(const testproc_t *self)
{
    if (self->pid <= 0 || self->killed || !self->exited || !WIFEXITED(self->status))
        return -1;
    return WEXITSTATUS(self->status);
}

int testproc_terminate(testproc_t *self, int64_t wait_ms, int64_t *took_ms)
{
    if (!self->terminated) {
        self->terminated = true;
        int64_t start = now_monotonic_ms();
        if (testproc_alive(self)) {
            kill(self->pid, SIGTERM);
            int64_t deadline = start + wait_ms;
            while (testproc_alive(self) && now_monotonic_ms() < deadline)
                sleep_ms(TERMINATE_POLL_MS);
            if (testproc_alive(self)) {
                fprintf(stderr, "testproc: %s %d still runs %lld ms after SIGTERM; killing it\n",
                        self->opts.program, (int)self->pid, (long long)wait_ms);
                kill(self->pid, SIGKILL);
                waitpid(self->pid, &self->status, 0);
                self->exited = true;
                self->killed = true;
            }
        }
        self->took_ms = now_monotonic_ms() - start;
        if (self->exited && !self->killed && WIFSIGNALED(self->status))
            fprintf(stderr, "testproc: %s died by signal %d\n", self->opts.program,
                    WTERMSIG(self->status));
    }
    if (took_ms)
        *took_ms = self->took_ms;
    return exit_code(self);
}

void testproc_report(testproc_t *self)
{
    if (self->pid <= 0)
        return;
    if (self->terminated)
        fprintf(stderr, "testproc: %s %d ended with %d after %lld ms\n", self->opts.program,
                (int)self->pid, exit_code(self), (long long)self->took_ms);
    fprintf(stderr, "---- the log of %s (%s): warnings, errors, sanitizer ----\n",
            self->opts.program, self->log);
    if (shell("grep -v '^[0-9TZ:.-]* INFO ' '%s' | head -n %d >&2", self->log,
              REPORT_WARNINGS_MAX) != 0)
        fprintf(stderr, "(none)\n");
    fprintf(stderr, "---- its last lines ----\n");
    testproc_dump_log(self, REPORT_LAST_LINES);
    fprintf(stderr, "----\n");
}

void testproc_destroy(testproc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    testproc_t *self = *self_p;
    if (testproc_alive(self))
        testproc_terminate(self, DESTROY_WAIT_MS, NULL);
    remove_dir(self->dir);
    free(self->dir);
    free(self->log);
    free(self);
    *self_p = NULL;
}

int testproc_signal(testproc_t *self, int sig)
{
    if (!testproc_alive(self))
        return -1;
    return kill(self->pid, sig) == 0 ? 0 : -1;
}

pid_t testproc_pid(const testproc_t *self)
{
    return self->pid;
}

const char *testproc_dir(const testproc_t *self)
{
    return self->dir;
}

void testproc_dump_log(const testproc_t *self, int lines)
{
    if (shell("tail -n %d '%s' >&2", lines, self->log) != 0)
        fprintf(stderr, "(no log)\n");
}

bool testproc_port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}
