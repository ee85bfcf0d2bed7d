/* kapp.h — boot to the application: the node runtime on the image on vda
 * (a blank disk becomes an image holding the default app). */
#ifndef X86_KAPP_H
#define X86_KAPP_H

/* Boots the node on vda and runs its VM threads, snapshotting every
 * snapshot_ms; returns only when every thread has ended (after committing
 * the final state and releasing its output) or on an error (no disk, not an
 * image, no VM: the reason is printed), so the caller can fall back to the
 * console. The default app never ends: power off (kill QEMU) to stop it. */
int kapp_run(void);

#endif
