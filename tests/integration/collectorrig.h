/*
 * collectorrig.h — the setup most collector tests share: a real bookcast-sim, a fake
 * bookbuilder (fakebb.h) and a real spot bookcast-collector (collectorproc.h) pointed at both,
 * started in a cmocka test and stopped, by pid, in its teardown.
 */
#ifndef BOOKCAST_COLLECTORRIG_H
#define BOOKCAST_COLLECTORRIG_H

#include "collectorproc.h"
#include "fakebb.h"
#include "simproc.h"

typedef struct {
    simproc_t *sim;
    fakebb_t *bb;
    collectorproc_t *col;
} rig_t;

/* Starts the sim with sim_args, the fake bookbuilder, and a spot collector with the extra
   "key=value" assignments `sets`; *state owns the rig. Fails the test when one does not start. */
rig_t *rig_start(void **state, const char *const *sim_args, const char *const *sets);

/* The teardown: stops the collector, reports the fake bookbuilder's findings, stops the sim. */
int rig_stop(void **state);

/* Fails the test when a frame was malformed or a sequence had a gap. */
void rig_assert_clean(rig_t *r);

#endif
