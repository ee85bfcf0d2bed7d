/* power.c — power button and power-off for the kernel, over drivers/acpi_pm:
 * a kernel thread polls the button (10 times a second) and hands one press
 * to its watcher; power_off() enters S5. The tables are read through the
 * direct map, which covers the first GiB and all RAM. */
#include <stddef.h>

#include "acpi_pm.h"
#include "console.h"
#include "err.h"
#include "kthread.h"
#include "memlayout.h"
#include "pmm.h"
#include "power.h"
#include "trap.h"

#define POWER_POLL_NS   100000000ul
#define BOOT_DMAP_TOP   (1ul << 30)

static bool power_ok;
static void (*button_fn)(void *);
static void *button_arg;

static const void *dmap_read(uint64_t pa, uint64_t len)
{
	uint64_t top = pmm_top() > BOOT_DMAP_TOP ? pmm_top() : BOOT_DMAP_TOP;
	if (pa > top || len > top - pa)
		return NULL;
	return phys_to_virt(pa);
}

int power_init(void)
{
	int rc = drv_acpi_pm_init(dmap_read);
	if (rc < 0) {
		kprintf("power: no ACPI power management (%s)\n", err_str(rc));
		return rc;
	}
	const struct drv_acpi_pm_info *i = drv_acpi_pm_info();
	kprintf("power: ACPI PM1 events at 0x%x, control at 0x%x, %s power button, S5 %s\n",
		i->pm1a_evt, i->pm1a_cnt, i->fixed_power_button ? "fixed" : "control-method",
		i->has_s5 ? "found" : "missing");
	power_ok = true;
	return 0;
}

static void button_thread(void *arg)
{
	(void)arg;
	while (!drv_acpi_power_button_pressed())
		kthread_sleep_ns(POWER_POLL_NS);
	button_fn(button_arg);
}

int power_watch_button(void (*fn)(void *), void *arg)
{
	if (!power_ok)
		return -ERR_NOENT;
	button_fn = fn;
	button_arg = arg;
	struct kthread *t;
	return kthread_create(&t, button_thread, NULL, "power-button");
}

void power_off(void)
{
	if (power_ok) {
		int rc = drv_acpi_power_off();
		kprintf("power: ACPI power-off failed (%s)\n", err_str(rc));
	}
	kexit(KEXIT_PASS);
}
