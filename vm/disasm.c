/* disasm.c — class file to readable text: constants, classes, fields and
 * each method's instructions with resolved operand names, in the syntax
 * phantom-asm reads (so a listing can be re-assembled by hand). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "classfile.h"
#include "internal.h"

struct out { char *p; size_t cap, n; };

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	if (o->n + 1 >= o->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->n = o->n + (size_t)k < o->cap ? o->n + (size_t)k : o->cap - 1;
}

static void put_str(struct out *o, const struct vm_cf *cf, uint16_t i)
{
	put(o, "%.*s", (int)cf->k[i].len, (const char *)cf->k[i].str);
}

static void put_const(struct out *o, const struct vm_cf *cf, uint16_t i)
{
	const struct vm_cf_const *k = &cf->k[i];
	switch (k->tag) {
	case VM_CT_STRING:
		put(o, "\"");
		for (uint32_t j = 0; j < k->len; j++) {
			uint8_t c = k->str[j];
			if (c == '"' || c == '\\')
				put(o, "\\%c", c);
			else if (c == '\n')
				put(o, "\\n");
			else if (c < 32 || c > 126)
				put(o, "\\x%02x", c);
			else
				put(o, "%c", c);
		}
		put(o, "\"");
		break;
	case VM_CT_LONG: put(o, "%lldL", (long long)k->l); break;
	case VM_CT_DOUBLE: put(o, "double:0x%016llx", (unsigned long long)k->l); break;
	case VM_CT_CLASS: put_str(o, cf, k->a); break;
	case VM_CT_FIELD:
		put_str(o, cf, cf->k[k->a].a);
		put(o, ".");
		put_str(o, cf, k->b);
		break;
	case VM_CT_METHOD:
		put_str(o, cf, cf->k[k->a].a);
		put(o, ".");
		put_str(o, cf, k->b);
		put(o, " %u %u", k->nargs, k->nret);
		break;
	case VM_CT_NATIVE: put_str(o, cf, k->a); break;
	}
}

static void put_method(struct out *o, const struct vm_cf *cf, const struct vm_cf_method *m)
{
	put(o, ".method %s%s", m->flags & VM_MF_STATIC ? "static " : "",
	    m->flags & VM_MF_ABSTRACT ? "abstract " : "");
	put_str(o, cf, m->name);
	put(o, " %u %u\n.locals %u\n.stack %u\n", m->nargs, m->nret, m->nlocals, m->max_stack);
	for (uint32_t pc = 0; pc < m->code_len;) {
		const struct vm_opinfo *oi = &vm_opinfo[m->code[pc]];
		put(o, "%6u  %s", pc, oi->mnemonic);
		const uint8_t *p = m->code + pc + 1;
		for (int j = 0; j < 2; j++) {
			unsigned kind = j ? oi->b : oi->a;
			int32_t v4 = (int32_t)(p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24);
			uint16_t v2 = (uint16_t)(p[0] | p[1] << 8);
			if (kind == VM_OPD_L)
				put(o, " %u", v2);
			else if (kind == VM_OPD_I)
				put(o, " %d", v4);
			else if (kind == VM_OPD_B)
				put(o, " @%lld", (long long)pc + v4);
			else if (kind == VM_OPD_K) {
				put(o, " ");
				put_const(o, cf, v2);
			}
			p += vm_opd_size(kind);
		}
		put(o, "\n");
		pc += 1 + vm_opd_size(oi->a) + vm_opd_size(oi->b);
	}
	for (unsigned i = 0; i < m->nhandlers; i++) {
		const struct vm_handler *h = &m->handlers[i];
		put(o, ".catch ");
		if (h->class_k == VM_ANY_CLASS)
			put(o, "*");
		else
			put_const(o, cf, h->class_k);
		put(o, " @%u @%u @%u\n", h->start, h->end, h->target);
	}
	put(o, ".end\n");
}

int vm_disasm(const void *file, size_t len, char *buf, size_t cap)
{
	struct vm_cf cf;
	struct out o = { buf, cap, 0 };
	if (cap == 0)
		return -ERR_INVAL;
	buf[0] = 0;
	int rc = vm_cf_parse(file, len, &cf, buf, cap);
	if (rc)
		return rc;
	for (unsigned i = 0; i < cf.nclasses; i++) {
		const struct vm_cf_class *c = &cf.classes[i];
		put(&o, ".class %s", c->flags & VM_CF_INTERFACE ? "interface " : "");
		put_str(&o, &cf, c->name);
		if (c->super != VM_CF_NONE) {
			put(&o, " extends ");
			put_const(&o, &cf, c->super);
		}
		for (unsigned j = 0; j < c->nifaces; j++) {
			put(&o, j ? ", " : " implements ");
			put_const(&o, &cf, c->ifaces[j]);
		}
		put(&o, "\n");
		for (unsigned j = 0; j < c->nfields; j++) {
			put(&o, c->field_flags[j] & VM_FIELD_STATIC ? ".static " : ".field ");
			put_str(&o, &cf, c->fields[j]);
			put(&o, "\n");
		}
		for (unsigned j = 0; j < c->nmethods; j++)
			put_method(&o, &cf, &c->methods[j]);
	}
	vm_cf_free(&cf);
	return 0;
}
