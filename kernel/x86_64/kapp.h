/* kapp.h — boot to the application: the node runtime on the image on vda
 * (a blank disk becomes an image holding the default app). */
#ifndef X86_KAPP_H
#define X86_KAPP_H

#include <stdbool.h>

/* Boots the node on vda and runs its VM threads, snapshotting every
 * snapshot_ms; returns when every thread has ended or the power button was
 * pressed (*stopped set; either way after committing the final state and
 * releasing its output), or on an error (no disk, not an image, no VM: the
 * reason is printed), so the caller can fall back to the console. Cutting
 * the power instead (killing QEMU) loses only what was not yet committed. */
int kapp_run(bool *stopped);

#endif
