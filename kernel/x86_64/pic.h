/* pic.h — the legacy 8259 pair: remapped to vectors 32..47, all lines masked
 * until a driver unmasks its own. */
#ifndef X86_PIC_H
#define X86_PIC_H

#include <stdbool.h>

void pic_init(void);
void pic_unmask(unsigned irq);
void pic_eoi(unsigned irq);
/* True if irq is a spurious IRQ 7/15 (already acknowledged as needed). */
bool pic_spurious(unsigned irq);
/* True if irq is raised but not yet serviced (IRR bit). */
bool pic_pending(unsigned irq);

#endif
