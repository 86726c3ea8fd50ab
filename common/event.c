/* common/event.c - names of the event model's enums, and the event's identity (its hash).
 *
 * Invariants: see event.h. Nothing here allocates. */
#include "event.h"

#include <openssl/evp.h>

#include "err.h"

const char *ol_kind_name(enum ol_kind k)
{
    static const char *const names[] = {"RUN_EVENT", "DATASET_EVENT", "JOB_EVENT"};
    return names[k];
}

const char *run_state_name(enum run_state s)
{
    static const char *const names[] = {"RUNNING", "COMPLETED", "FAILED", "ABORTED"};
    return names[s];
}

bool run_state_is_terminal(enum run_state s)
{
    return s != RUN_STATE_RUNNING;
}

int ol_event_hash(struct ol_event *ev, struct err *e)
{
    unsigned int len = 0;

    if (EVP_Digest(ev->body, ev->body_len, ev->hash, &len, EVP_sha256(), NULL) != 1 || len != sizeof ev->hash)
        return err_set(e, ERR_INTERNAL, NULL, "cannot compute the SHA-256 of an event (libcrypto failed)");
    return 0;
}
