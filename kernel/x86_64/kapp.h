/* kapp.h — boot to the application: the image on vda holds a VM whose
 * threads run at boot. */
#ifndef X86_KAPP_H
#define X86_KAPP_H

/* Opens the image on vda, attaches the VM in its arena, runs every runnable
 * thread to the end and commits the result. Returns 0 after the app ran, or
 * a negative error (no disk, no image, no VM: the reason is printed) so the
 * caller can fall back to the console. */
int kapp_run(void);

#endif
