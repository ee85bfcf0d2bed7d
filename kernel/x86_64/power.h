/* power.h — the machine's power switch as the kernel sees it: the power
 * button (ACPI) as a request to stop, and turning the machine off. */
#ifndef X86_POWER_H
#define X86_POWER_H

/* Reads the ACPI tables and arms the power button. 0, or a negative error
 * when the machine has no usable ACPI (the button then does nothing). */
int power_init(void);

/* Starts a kernel thread that calls fn(arg) once, on the first press of the
 * power button. -ERR_NOENT without ACPI. */
int power_watch_button(void (*fn)(void *), void *arg);

/* Turns the machine off (ACPI S5); where that fails, ends through the debug
 * exit device (QEMU) or halts. */
void power_off(void) __attribute__((noreturn));

#endif
