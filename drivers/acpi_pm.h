/* acpi_pm.h — ACPI fixed-hardware power management, without an AML
 * interpreter: the power button (PM1 event block) and soft-off (S5 through
 * PM1 control). Tables are found by the RSDP scan of the BIOS areas. */
#ifndef DRV_ACPI_PM_H
#define DRV_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

/* Maps len bytes of physical memory for reading, or NULL when that range
 * is not reachable (the caller's direct map decides). */
typedef const void *(*drv_acpi_map_fn)(uint64_t pa, uint64_t len);

struct drv_acpi_pm_info {
	uint16_t pm1a_evt, pm1b_evt;     /* PM1 event blocks (I/O ports)     */
	uint16_t pm1a_cnt, pm1b_cnt;     /* PM1 control blocks               */
	uint8_t pm1_evt_len;             /* status half + enable half        */
	bool has_s5;                     /* \_S5 found in the DSDT           */
	uint8_t s5_typa, s5_typb;        /* its SLP_TYP values               */
	bool fixed_power_button;         /* FADT: the button is fixed hw     */
};

/* Finds the RSDP, the RSDT or XSDT and the FADT (every checksum checked),
 * reads \_S5 from the DSDT, switches the chipset to ACPI mode when it is in
 * legacy mode and enables the power-button event. 0; -ERR_NOENT when the
 * machine has no usable ACPI tables; -ERR_CORRUPT for a bad checksum. */
int drv_acpi_pm_init(drv_acpi_map_fn map);
const struct drv_acpi_pm_info *drv_acpi_pm_info(void);

/* True once per press: the status bit is read and cleared. */
bool drv_acpi_power_button_pressed(void);

/* Enters S5 (soft off). Returns only if the machine did not turn off
 * (-ERR_NOENT: no \_S5 or no ACPI; -ERR_IO: still running). */
int drv_acpi_power_off(void);

#endif
