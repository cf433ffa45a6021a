/*
 * backoff.c — exponential backoff with jitter (see backoff.h). The doubling is done by shifts
 * and stops at the cap before it can overflow; the jitter comes from splitmix64, which is
 * enough to spread reconnects and keeps runs reproducible for tests.
 */
#include "backoff.h"

static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void backoff_init(backoff_t *self, const backoff_policy_t *policy, uint64_t seed)
{
    self->policy = *policy;
    if (self->policy.base_ms < 1)
        self->policy.base_ms = 1;
    if (self->policy.max_ms < self->policy.base_ms)
        self->policy.max_ms = self->policy.base_ms;
    if (self->policy.jitter_pct > 100)
        self->policy.jitter_pct = 100;
    self->failures = 0;
    self->rng = seed;
}

int64_t backoff_next_ms(backoff_t *self)
{
    const backoff_policy_t *p = &self->policy;
    if (self->failures < UINT32_MAX)
        self->failures++;
    if (p->max_attempts && self->failures >= p->max_attempts)
        return -1;
    int64_t delay = p->base_ms;
    for (uint32_t i = 1; i < self->failures && delay < p->max_ms; i++)
        delay = delay > p->max_ms / 2 ? p->max_ms : delay * 2;
    if (delay > p->max_ms)
        delay = p->max_ms;
    if (p->jitter_pct) {
        int64_t spread = delay * (int64_t)p->jitter_pct / 100;
        if (spread > 0) {
            int64_t offset = (int64_t)(next_random(&self->rng) % (uint64_t)(2 * spread + 1));
            delay += offset - spread;
        }
    }
    return delay < 1 ? 1 : delay;
}

void backoff_reset(backoff_t *self)
{
    self->failures = 0;
}
