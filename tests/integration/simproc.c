/*
 * simproc.c — start and stop a real bookcast-sim for a test (see simproc.h).
 *
 * Ports: three consecutive free ports from a random base in 20000…59999, each checked by binding
 * it first; several test programs may run at once under ctest -j, so fixed ports would collide.
 * Readiness: the sim's "sim: seed" log line, written once its listeners are bound. Certificates: sim/make-certs.sh, once per
 * simproc (fast: P-256 keys).
 */
#include "simproc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 30000 /* generous: ctest -j runs sims side by side, under ASan too */
#define STOP_TIMEOUT_MS 5000
#define ARGS_MAX 64

struct simproc {
    pid_t pid;
    int ports[3];
    char dir[256];
    char ca[300];
    bool exited;
    int status;
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool port_free(int port)
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

static int pick_ports(int ports[3])
{
    unsigned seed = (unsigned)getpid() ^ (unsigned)mono_ms();
    for (int attempt = 0; attempt < 200; attempt++) {
        int base = 20000 + (int)(rand_r(&seed) % 40000);
        if (port_free(base) && port_free(base + 1) && port_free(base + 2)) {
            for (int i = 0; i < 3; i++)
                ports[i] = base + i;
            return 0;
        }
    }
    return -1;
}

static int make_certs(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "'%s/sim/make-certs.sh' '%s' >/dev/null", BOOKCAST_SOURCE_DIR, dir);
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

static void remove_dir(const char *dir)
{
    if (getenv("KEEP_TEST_DIRS"))
        return;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "simproc: could not remove %s\n", dir);
}

simproc_t *simproc_start(const char *const *extra)
{
    simproc_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(self->dir, sizeof self->dir, "/tmp/bookcast-simtest.XXXXXX");
    if (!mkdtemp(self->dir)) {
        fprintf(stderr, "simproc: mkdtemp: %s\n", strerror(errno));
        free(self);
        return NULL;
    }
    snprintf(self->ca, sizeof self->ca, "%s/ca.pem", self->dir);
    if (make_certs(self->dir) != 0 || pick_ports(self->ports) != 0) {
        fprintf(stderr, "simproc: no certificate or no free ports\n");
        remove_dir(self->dir);
        free(self);
        return NULL;
    }
    char cert[300], key[300], log[300], p[3][16];
    snprintf(cert, sizeof cert, "%s/server.pem", self->dir);
    snprintf(key, sizeof key, "%s/server.key", self->dir);
    snprintf(log, sizeof log, "%s/sim.log", self->dir);
    const char *argv[ARGS_MAX];
    int n = 0;
    argv[n++] = BOOKCAST_SIM_BIN;
    argv[n++] = "--cert";
    argv[n++] = cert;
    argv[n++] = "--key";
    argv[n++] = key;
    static const char *const port_opts[3] = {"--spot-port", "--usdm-port", "--coinm-port"};
    for (int i = 0; i < 3; i++) {
        snprintf(p[i], sizeof p[i], "%d", self->ports[i]);
        argv[n++] = port_opts[i];
        argv[n++] = p[i];
    }
    for (int i = 0; extra && extra[i] && n < ARGS_MAX - 1; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;

    self->pid = fork();
    if (self->pid < 0) {
        fprintf(stderr, "simproc: fork: %s\n", strerror(errno));
        remove_dir(self->dir);
        free(self);
        return NULL;
    }
    if (self->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        /* A config file in the working directory must not change the sim under test. */
        unsetenv("BOOKCAST_CONFIG");
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    /* bookcast-sim logs "sim: seed …" once every listener it was asked for is bound. */
    long long deadline = mono_ms() + START_TIMEOUT_MS;
    while (simproc_log_count(self, "sim: seed ") == 0) {
        if (!simproc_alive(self) || mono_ms() > deadline) {
            if (self->exited)
                fprintf(stderr, "simproc: bookcast-sim exited at start (%s %d); its log:\n",
                        WIFEXITED(self->status) ? "status" : "signal",
                        WIFEXITED(self->status) ? WEXITSTATUS(self->status)
                                                : WTERMSIG(self->status));
            else
                fprintf(stderr, "simproc: bookcast-sim not ready after %d ms; its log:\n",
                        START_TIMEOUT_MS);
            char cmd[400];
            snprintf(cmd, sizeof cmd, "cat '%s' >&2", log);
            if (system(cmd) != 0)
                fprintf(stderr, "(no log)\n");
            simproc_stop(&self);
            return NULL;
        }
        sleep_ms(20);
    }
    return self;
}

bool simproc_alive(simproc_t *self)
{
    if (self->exited)
        return false;
    int status;
    pid_t r = waitpid(self->pid, &status, WNOHANG);
    if (r == self->pid) {
        self->exited = true;
        self->status = status;
        return false;
    }
    return true;
}

int simproc_stop(simproc_t **self_p)
{
    if (!self_p || !*self_p)
        return 0;
    simproc_t *self = *self_p;
    int rc = -1;
    if (simproc_alive(self)) {
        kill(self->pid, SIGTERM);
        long long deadline = mono_ms() + STOP_TIMEOUT_MS;
        while (simproc_alive(self) && mono_ms() < deadline)
            sleep_ms(10);
        if (simproc_alive(self)) {
            fprintf(stderr, "simproc: bookcast-sim %d ignored SIGTERM; killing it\n",
                    (int)self->pid);
            kill(self->pid, SIGKILL);
            waitpid(self->pid, NULL, 0);
            self->exited = true;
            self->status = -1;
        }
    }
    if (self->status != -1 && WIFEXITED(self->status))
        rc = WEXITSTATUS(self->status);
    remove_dir(self->dir);
    free(self);
    *self_p = NULL;
    return rc;
}

int simproc_port(const simproc_t *self, market_t market)
{
    return market >= MARKET_SPOT && market <= MARKET_COINM ? self->ports[market - 1] : 0;
}

const char *simproc_ca(const simproc_t *self)
{
    return self->ca;
}

const char *simproc_dir(const simproc_t *self)
{
    return self->dir;
}

pid_t simproc_pid(const simproc_t *self)
{
    return self->pid;
}

const char *simproc_url(const simproc_t *self, market_t market, bool http, const char *path,
                        char *buf, size_t len)
{
    snprintf(buf, len, "%s://127.0.0.1:%d%s", http ? "https" : "wss", simproc_port(self, market),
             path);
    return buf;
}

int simproc_log_count(const simproc_t *self, const char *needle)
{
    char path[300];
    snprintf(path, sizeof path, "%s/sim.log", self->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    int count = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            count++;
    fclose(f);
    return count;
}
