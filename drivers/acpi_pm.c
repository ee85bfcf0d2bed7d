/* acpi_pm.c — ACPI fixed-hardware power management (ACPI 6.x, chapters 4
 * and 5): finds the FADT through the RSDP and RSDT/XSDT, takes the PM1
 * event and control blocks from it and the \_S5 sleep type from the DSDT's
 * bytecode (a Name(_S5, Package) is simple enough to read without an AML
 * interpreter). Polled: no SCI handler, the status bit is read and cleared. */
#include <stddef.h>
#include <string.h>

#include "acpi_pm.h"
#include "cpu.h"
#include "err.h"

#define SDT_HDR         36u
#define TABLE_MAX       (1u << 20)       /* sanity bound on a table's length */

/* FADT field offsets. */
#define FADT_DSDT       40
#define FADT_SMI_CMD    48
#define FADT_ACPI_EN    52
#define FADT_PM1A_EVT   56
#define FADT_PM1B_EVT   60
#define FADT_PM1A_CNT   64
#define FADT_PM1B_CNT   68
#define FADT_PM1_EVTLEN 88
#define FADT_FLAGS      112
#define FADT_X_DSDT     140
#define FADT_FLAG_PWR_BUTTON (1u << 4)   /* set: a control-method button */

#define PM1_STS_PWRBTN  (1u << 8)
#define PM1_EN_PWRBTN   (1u << 8)
#define PM1_CNT_SCI_EN  (1u << 0)
#define PM1_CNT_SLP_EN  (1u << 13)
#define PM1_CNT_SLP_TYP(t) ((uint16_t)(((t) & 7u) << 10))

static struct drv_acpi_pm_info pm;
static bool pm_ready;

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static bool sum_ok(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s == 0;
}

/* A whole system description table, its checksum verified; NULL if absent
 * or unreachable, *bad set when it is there but corrupt. */
static const uint8_t *map_table(drv_acpi_map_fn map, uint64_t pa, const char *sig, bool *bad)
{
	if (pa == 0)
		return NULL;
	const uint8_t *h = map(pa, SDT_HDR);
	if (h == NULL || memcmp(h, sig, 4) != 0)
		return NULL;
	uint32_t len = rd32(h + 4);
	if (len < SDT_HDR || len > TABLE_MAX) {
		*bad = true;
		return NULL;
	}
	const uint8_t *t = map(pa, len);
	if (t == NULL)
		return NULL;
	if (!sum_ok(t, len)) {
		*bad = true;
		return NULL;
	}
	return t;
}

/* The RSDP in [pa, pa+len) on a 16-byte boundary; *avail: bytes mapped
 * from it on (an ACPI 2+ RSDP is 36 bytes long, version 1 only 20). */
static const uint8_t *scan_rsdp(drv_acpi_map_fn map, uint64_t pa, uint64_t len, uint64_t *avail)
{
	const uint8_t *p = map(pa, len);
	if (p == NULL)
		return NULL;
	for (uint64_t off = 0; off + 20 <= len; off += 16)
		if (memcmp(p + off, "RSD PTR ", 8) == 0 && sum_ok(p + off, 20)) {
			*avail = len - off;
			return p + off;
		}
	return NULL;
}

static const uint8_t *find_rsdp(drv_acpi_map_fn map, uint64_t *avail)
{
	const uint8_t *ebda_seg = map(0x40e, 2);
	const uint8_t *r = NULL;
	if (ebda_seg != NULL) {
		uint64_t ebda = (uint64_t)(ebda_seg[0] | (ebda_seg[1] << 8)) << 4;
		if (ebda >= 0x80000 && ebda < 0xa0000)
			r = scan_rsdp(map, ebda, 1024, avail);
	}
	return r ? r : scan_rsdp(map, 0xe0000, 0x20000, avail);
}

/* The FADT, through the XSDT when the RSDP (revision 2+) names one. */
static const uint8_t *find_fadt(drv_acpi_map_fn map, const uint8_t *rsdp, uint64_t avail,
				bool *bad)
{
	const uint8_t *sdt = NULL;
	unsigned width = 4;
	if (rsdp[15] >= 2 && avail >= 36) {
		if (sum_ok(rsdp, 36)) {
			sdt = map_table(map, rd64(rsdp + 24), "XSDT", bad);
			width = 8;
		}
	}
	if (sdt == NULL) {
		sdt = map_table(map, rd32(rsdp + 16), "RSDT", bad);
		width = 4;
	}
	if (sdt == NULL)
		return NULL;
	uint32_t len = rd32(sdt + 4);
	for (uint32_t off = SDT_HDR; off + width <= len; off += width) {
		uint64_t pa = width == 8 ? rd64(sdt + off) : rd32(sdt + off);
		const uint8_t *t = map_table(map, pa, "FACP", bad);
		if (t != NULL)
			return t;
	}
	return NULL;
}

/* One AML integer constant: ZeroOp, OneOp, BytePrefix, WordPrefix. */
static bool aml_int(const uint8_t **p, const uint8_t *end, uint8_t *v)
{
	const uint8_t *q = *p;
	if (q >= end)
		return false;
	if (q[0] == 0x00 || q[0] == 0x01) {
		*v = q[0];
		*p = q + 1;
		return true;
	}
	if (q[0] == 0x0a && q + 1 < end) {
		*v = q[1];
		*p = q + 2;
		return true;
	}
	if (q[0] == 0x0b && q + 2 < end) {
		*v = q[1];
		*p = q + 3;
		return true;
	}
	return false;
}

/* Name(_S5, Package(n) { SLP_TYPa, SLP_TYPb, ... }) in the DSDT body. */
static void find_s5(const uint8_t *dsdt)
{
	uint32_t len = rd32(dsdt + 4);
	const uint8_t *end = dsdt + len;
	for (const uint8_t *p = dsdt + SDT_HDR; p + 5 < end; p++) {
		if (memcmp(p, "_S5_", 4) != 0 || p[4] != 0x12)
			continue;
		if (!(p[-1] == 0x08 || (p[-1] == '\\' && p[-2] == 0x08)))
			continue;
		const uint8_t *q = p + 5;
		q += 1 + (q[0] >> 6);           /* PkgLength: lead byte + 0..3 more */
		q += 1;                          /* NumElements */
		uint8_t a, b;
		if (q < end && aml_int(&q, end, &a) && aml_int(&q, end, &b)) {
			pm.s5_typa = a;
			pm.s5_typb = b;
			pm.has_s5 = true;
		}
		return;
	}
}

/* Legacy (SMM) mode hands the button to the firmware: ask for ACPI mode. */
static void enter_acpi_mode(uint32_t smi_cmd, uint8_t enable)
{
	if (inw(pm.pm1a_cnt) & PM1_CNT_SCI_EN)
		return;
	if (smi_cmd == 0 || enable == 0 || smi_cmd > 0xffff)
		return;
	outb((uint16_t)smi_cmd, enable);
	for (int i = 0; i < 100000 && !(inw(pm.pm1a_cnt) & PM1_CNT_SCI_EN); i++)
		cpu_pause();
}

int drv_acpi_pm_init(drv_acpi_map_fn map)
{
	bool bad = false;
	uint64_t avail = 0;
	const uint8_t *rsdp = find_rsdp(map, &avail);
	if (rsdp == NULL)
		return -ERR_NOENT;
	const uint8_t *fadt = find_fadt(map, rsdp, avail, &bad);
	if (fadt == NULL)
		return bad ? -ERR_CORRUPT : -ERR_NOENT;
	uint32_t flen = rd32(fadt + 4);
	if (flen < FADT_FLAGS + 4)
		return -ERR_CORRUPT;
	memset(&pm, 0, sizeof pm);
	uint32_t a_evt = rd32(fadt + FADT_PM1A_EVT), a_cnt = rd32(fadt + FADT_PM1A_CNT);
	uint32_t b_evt = rd32(fadt + FADT_PM1B_EVT), b_cnt = rd32(fadt + FADT_PM1B_CNT);
	if (a_evt == 0 || a_evt > 0xffff || a_cnt == 0 || a_cnt > 0xffff ||
	    b_evt > 0xffff || b_cnt > 0xffff || fadt[FADT_PM1_EVTLEN] < 4)
		return -ERR_NOENT;
	pm.pm1a_evt = (uint16_t)a_evt;
	pm.pm1b_evt = (uint16_t)b_evt;
	pm.pm1a_cnt = (uint16_t)a_cnt;
	pm.pm1b_cnt = (uint16_t)b_cnt;
	pm.pm1_evt_len = fadt[FADT_PM1_EVTLEN];
	pm.fixed_power_button = !(rd32(fadt + FADT_FLAGS) & FADT_FLAG_PWR_BUTTON);

	uint64_t dsdt_pa = rd32(fadt + FADT_DSDT);
	if (flen >= FADT_X_DSDT + 8 && rd64(fadt + FADT_X_DSDT) != 0)
		dsdt_pa = rd64(fadt + FADT_X_DSDT);
	const uint8_t *dsdt = map_table(map, dsdt_pa, "DSDT", &bad);
	if (dsdt != NULL)
		find_s5(dsdt);

	enter_acpi_mode(rd32(fadt + FADT_SMI_CMD), fadt[FADT_ACPI_EN]);
	uint16_t en_off = pm.pm1_evt_len / 2;
	/* Clear a stale press, then enable the event (polled: the SCI line
	 * stays masked at the interrupt controller). */
	outw(pm.pm1a_evt, PM1_STS_PWRBTN);
	outw((uint16_t)(pm.pm1a_evt + en_off), (uint16_t)(inw((uint16_t)(pm.pm1a_evt + en_off)) | PM1_EN_PWRBTN));
	if (pm.pm1b_evt) {
		outw(pm.pm1b_evt, PM1_STS_PWRBTN);
		outw((uint16_t)(pm.pm1b_evt + en_off), (uint16_t)(inw((uint16_t)(pm.pm1b_evt + en_off)) | PM1_EN_PWRBTN));
	}
	pm_ready = true;
	return 0;
}

const struct drv_acpi_pm_info *drv_acpi_pm_info(void)
{
	return pm_ready ? &pm : NULL;
}

bool drv_acpi_power_button_pressed(void)
{
	if (!pm_ready)
		return false;
	bool pressed = false;
	if (inw(pm.pm1a_evt) & PM1_STS_PWRBTN) {
		outw(pm.pm1a_evt, PM1_STS_PWRBTN);        /* write 1 to clear */
		pressed = true;
	}
	if (pm.pm1b_evt && (inw(pm.pm1b_evt) & PM1_STS_PWRBTN)) {
		outw(pm.pm1b_evt, PM1_STS_PWRBTN);
		pressed = true;
	}
	return pressed;
}

int drv_acpi_power_off(void)
{
	if (!pm_ready || !pm.has_s5)
		return -ERR_NOENT;
	uint16_t keep = inw(pm.pm1a_cnt) & PM1_CNT_SCI_EN;
	outw(pm.pm1a_cnt, (uint16_t)(keep | PM1_CNT_SLP_TYP(pm.s5_typa) | PM1_CNT_SLP_EN));
	if (pm.pm1b_cnt)
		outw(pm.pm1b_cnt, (uint16_t)(keep | PM1_CNT_SLP_TYP(pm.s5_typb) | PM1_CNT_SLP_EN));
	for (int i = 0; i < 1000000; i++)
		cpu_pause();
	return -ERR_IO;
}
