/* asm.c — the assembler: a line parser that collects classes, fields,
 * methods, instructions, labels and handlers, then an encoder that lays out
 * each method, resolves labels and constants, computes max_stack with the
 * VM's own verifier, and writes the class file. Every error names the file
 * and line. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "../../vm/classfile.h"
#include "../../vm/internal.h"

struct ins { int line, op; char *a, *b; uint32_t off; };
struct label { char *name; int ins; int line; };
struct catch_ { int line; char *cls, *from, *to, *target; };
struct method {
	int line;
	char *name;
	unsigned flags, nargs, nret;
	int nlocals, max_stack;
	struct ins *ins; int nins;
	struct label *labels; int nlabels;
	struct catch_ *catches; int ncatches;
};
struct klass {
	int line;
	char *name, *super;
	unsigned flags;
	char **ifaces; int nifaces;
	char **fields; unsigned *fflags; int nfields;
	struct method *methods; int nmethods;
};

struct pasm {
	const char *path;
	char *err; size_t errlen;
	int failed;
	struct klass *classes; int nclasses;
	struct vm_cf_const *k; int nk;
	uint8_t *buf; size_t n, cap;
};

#define GROW(arr, cnt) ((arr) = realloc((arr), sizeof *(arr) * (size_t)((cnt) + 1)), \
	memset(&(arr)[cnt], 0, sizeof *(arr)), &(arr)[(cnt)++])

static int fail(struct pasm *A, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct pasm *A, int line, const char *fmt, ...)
{
	if (A->failed++)
		return -1;
	int k = snprintf(A->err, A->errlen, "%s:%d: ", A->path, line);
	va_list ap;
	va_start(ap, fmt);
	if (k > 0 && (size_t)k < A->errlen)
		vsnprintf(A->err + k, A->errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- tokens ---- */

/* Next token of line at *p: a quoted string (kept with its quotes) or a run
 * of non-blank characters; commas separate like blanks. NULL at the end. */
static char *token(char **p)
{
	char *s = *p;
	while (*s == ' ' || *s == '\t' || *s == ',')
		s++;
	if (!*s || *s == ';')
		return NULL;
	char *t = s;
	if (*s == '"') {
		for (s++; *s && *s != '"'; s++)
			if (*s == '\\' && s[1])
				s++;
		if (*s == '"')
			s++;
	} else {
		while (*s && *s != ' ' && *s != '\t' && *s != ',' && *s != ';')
			s++;
	}
	char *r = strndup(t, (size_t)(s - t));
	*p = s;
	return r;
}

static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (errno || *end || end == s || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* ---- constants ---- */

static int add_k(struct pasm *A, struct vm_cf_const *c)
{
	for (int i = 0; i < A->nk; i++) {
		struct vm_cf_const *k = &A->k[i];
		if (k->tag == c->tag && k->a == c->a && k->b == c->b && k->l == c->l &&
		    k->nargs == c->nargs && k->nret == c->nret && k->len == c->len &&
		    (!c->len || memcmp(k->str, c->str, c->len) == 0)) {
			if (c->str)
				free((void *)c->str);
			return i;
		}
	}
	if (A->nk >= (int)VM_CF_MAX_CONST)
		return -1;
	*GROW(A->k, A->nk) = *c;
	return A->nk - 1;
}

static int k_string(struct pasm *A, const char *s, size_t n)
{
	char *copy = malloc(n + 1);
	memcpy(copy, s, n);
	struct vm_cf_const c = { .tag = VM_CT_STRING, .len = (uint32_t)n, .str = (uint8_t *)copy };
	return add_k(A, &c);
}

static int k_class(struct pasm *A, const char *name)
{
	struct vm_cf_const c = { .tag = VM_CT_CLASS, .a = (uint16_t)k_string(A, name, strlen(name)) };
	return add_k(A, &c);
}

/* A quoted literal with \n \t \\ \" \xHH escapes. */
static int k_quoted(struct pasm *A, int line, const char *q)
{
	size_t n = strlen(q);
	if (n < 2 || q[n - 1] != '"')
		return fail(A, line, "unterminated string %s", q);
	char *s = malloc(n);
	size_t o = 0;
	for (size_t i = 1; i < n - 1; i++) {
		char c = q[i];
		if (c == '\\') {
			c = q[++i];
			if (c == 'n') c = '\n';
			else if (c == 't') c = '\t';
			else if (c == 'x' && isxdigit((unsigned char)q[i + 1]) && isxdigit((unsigned char)q[i + 2])) {
				char hex[3] = { q[i + 1], q[i + 2], 0 };
				c = (char)strtol(hex, NULL, 16);
				i += 2;
			} else if (c != '\\' && c != '"') {
				free(s);
				return fail(A, line, "unknown escape \\%c in a string", c);
			}
		}
		s[o++] = c;
	}
	int k = k_string(A, s, o);
	free(s);
	return k;
}

static struct klass *find_class(struct pasm *A, const char *name, size_t len)
{
	for (int i = 0; i < A->nclasses; i++)
		if (strlen(A->classes[i].name) == len && !strncmp(A->classes[i].name, name, len))
			return &A->classes[i];
	return NULL;
}

/* The constant for an instruction's K operand, by opcode. */
static int k_operand(struct pasm *A, const struct ins *in)
{
	const char *a = in->a;
	struct vm_cf_const c = { 0 };
	switch (in->op) {
	case VM_OP_LDC: {
		if (a[0] == '"')
			return k_quoted(A, in->line, a);
		size_t n = strlen(a);
		long long v;
		if (n > 1 && a[n - 1] == 'L') {
			char *num = strndup(a, n - 1);
			int bad = parse_int(num, INT64_MIN, INT64_MAX, &v);
			free(num);
			if (bad)
				return fail(A, in->line, "bad long constant %s", a);
			c.tag = VM_CT_LONG;
			c.l = v;
			return add_k(A, &c);
		}
		char *end;
		double d = strtod(a, &end);
		if (*end || end == a)
			return fail(A, in->line, "ldc wants \"string\", 123L or a double, not %s", a);
		c.tag = VM_CT_DOUBLE;
		memcpy(&c.l, &d, sizeof d);
		return add_k(A, &c);
	}
	case VM_OP_NEW: case VM_OP_INSTANCEOF: case VM_OP_CHECKCAST:
		return k_class(A, a);
	case VM_OP_INVOKENATIVE: {
		int id = vm_native_lookup(a, strlen(a));
		if (id < 0)
			return fail(A, in->line, "unknown native %s", a);
		c.tag = VM_CT_NATIVE;
		c.a = (uint16_t)k_string(A, a, strlen(a));
		c.nargs = vm_native_get((unsigned)id)->nargs;
		c.nret = vm_native_get((unsigned)id)->nret;
		return add_k(A, &c);
	}
	default: break;
	}
	/* Members: Class.member */
	const char *dot = strrchr(a, '.');
	if (!dot || dot == a || !dot[1])
		return fail(A, in->line, "%s wants Class.member, not %s", vm_opinfo[in->op].mnemonic, a);
	char *cls = strndup(a, (size_t)(dot - a));
	c.a = (uint16_t)k_class(A, cls);
	c.b = (uint16_t)k_string(A, dot + 1, strlen(dot + 1));
	if (in->op == VM_OP_GETFIELD || in->op == VM_OP_PUTFIELD ||
	    in->op == VM_OP_GETSTATIC || in->op == VM_OP_PUTSTATIC) {
		free(cls);
		c.tag = VM_CT_FIELD;
		return add_k(A, &c);
	}
	c.tag = VM_CT_METHOD;
	if (in->b) {
		/* "nargs/nret" given explicitly */
		unsigned na, nr;
		if (sscanf(in->b, "%u/%u", &na, &nr) != 2 || na > 255 || nr > 1) {
			free(cls);
			return fail(A, in->line, "call signature must be NARGS/NRET, not %s", in->b);
		}
		c.nargs = (uint8_t)na;
		c.nret = (uint8_t)nr;
	} else {
		/* Look for the method in this file's class and its superclasses. */
		struct method *found = NULL;
		for (struct klass *k = find_class(A, cls, strlen(cls)); k && !found;
		     k = k->super ? find_class(A, k->super, strlen(k->super)) : NULL)
			for (int i = 0; i < k->nmethods && !found; i++)
				if (!strcmp(k->methods[i].name, dot + 1))
					found = &k->methods[i];
		if (!found) {
			free(cls);
			return fail(A, in->line, "method %s is not in this file: write %s NARGS/NRET", a, a);
		}
		c.nargs = (uint8_t)found->nargs;
		c.nret = (uint8_t)found->nret;
	}
	free(cls);
	return add_k(A, &c);
}

/* ---- pass 1: lines ---- */

static struct klass *cur_class(struct pasm *A) { return A->nclasses ? &A->classes[A->nclasses - 1] : NULL; }

static void directive(struct pasm *A, int line, char *d, char *rest, struct method **m)
{
	struct klass *k = cur_class(A);
	char *t;
	if (!strcmp(d, ".class")) {
		if (*m) { fail(A, line, ".class inside a method (missing .end)"); return; }
		k = GROW(A->classes, A->nclasses);
		k->line = line;
		while ((t = token(&rest))) {
			if (!strcmp(t, "interface")) { k->flags |= VM_CF_INTERFACE | VM_CF_ABSTRACT; free(t); }
			else if (!strcmp(t, "abstract")) { k->flags |= VM_CF_ABSTRACT; free(t); }
			else if (!strcmp(t, "extends")) { free(t); k->super = token(&rest); if (!k->super) fail(A, line, "extends what?"); }
			else if (!strcmp(t, "implements")) {
				free(t);
				while ((t = token(&rest)))
					*GROW(k->ifaces, k->nifaces) = t;
			} else if (!k->name) k->name = t;
			else { fail(A, line, "unexpected %s after the class name", t); free(t); }
		}
		if (!k->name)
			fail(A, line, ".class needs a name");
		else if (find_class(A, k->name, strlen(k->name)) != k)
			fail(A, line, "class %s defined twice", k->name);
		return;
	}
	if (!k) { fail(A, line, "%s before any .class", d); return; }
	if (!strcmp(d, ".field") || !strcmp(d, ".static")) {
		if (*m) { fail(A, line, "%s inside a method", d); return; }
		while ((t = token(&rest))) {
			*GROW(k->fields, k->nfields) = t;
			k->fflags = realloc(k->fflags, sizeof *k->fflags * (size_t)k->nfields);
			k->fflags[k->nfields - 1] = d[1] == 's' ? VM_FIELD_STATIC : 0;
		}
		return;
	}
	if (!strcmp(d, ".method")) {
		if (*m) { fail(A, line, ".method inside a method (missing .end)"); return; }
		*m = GROW(k->methods, k->nmethods);
		(*m)->line = line;
		(*m)->nlocals = (*m)->max_stack = -1;
		int nums = 0;
		while ((t = token(&rest))) {
			long long v;
			if (!strcmp(t, "static")) (*m)->flags |= VM_MF_STATIC;
			else if (!strcmp(t, "abstract")) (*m)->flags |= VM_MF_ABSTRACT;
			else if (!(*m)->name) { (*m)->name = t; continue; }
			else if (nums < 2 && !parse_int(t, 0, nums ? 1 : 255, &v)) {
				if (nums++) (*m)->nret = (unsigned)v; else (*m)->nargs = (unsigned)v;
			} else fail(A, line, "unexpected %s in .method (want [static] name NARGS NRET)", t);
			free(t);
		}
		if (!(*m)->name || nums != 2)
			fail(A, line, ".method wants [static] [abstract] name NARGS NRET");
		else if (!((*m)->flags & VM_MF_STATIC) && (*m)->nargs == 0)
			fail(A, line, "an instance method takes at least its receiver (NARGS >= 1)");
		return;
	}
	if (!*m) { fail(A, line, "%s outside a method", d); return; }
	if (!strcmp(d, ".locals") || !strcmp(d, ".stack")) {
		long long v;
		t = token(&rest);
		if (!t || parse_int(t, 0, 0xfffe, &v))
			fail(A, line, "%s wants a number from 0 to 65534", d);
		else if (d[1] == 'l') (*m)->nlocals = (int)v;
		else (*m)->max_stack = (int)v;
		free(t);
		return;
	}
	if (!strcmp(d, ".catch")) {
		struct catch_ *c = GROW((*m)->catches, (*m)->ncatches);
		c->line = line;
		c->cls = token(&rest);
		c->from = token(&rest);
		c->to = token(&rest);
		c->target = token(&rest);
		if (!c->target)
			fail(A, line, ".catch wants CLASS|* FROM TO HANDLER (labels)");
		return;
	}
	if (!strcmp(d, ".end")) {
		*m = NULL;
		return;
	}
	fail(A, line, "unknown directive %s", d);
}

static void parse_line(struct pasm *A, int line, char *s, struct method **m)
{
	char *t = token(&s);
	if (!t)
		return;
	if (t[0] == '.') {
		directive(A, line, t, s, m);
		free(t);
		return;
	}
	if (!*m) {
		fail(A, line, "%s outside a method", t);
		free(t);
		return;
	}
	size_t n = strlen(t);
	if (t[n - 1] == ':') {
		t[n - 1] = 0;
		for (int i = 0; i < (*m)->nlabels; i++)
			if (!strcmp((*m)->labels[i].name, t))
				fail(A, line, "label %s defined twice (first on line %d)", t, (*m)->labels[i].line);
		struct label *l = GROW((*m)->labels, (*m)->nlabels);
		l->name = t;
		l->ins = (*m)->nins;
		l->line = line;
		parse_line(A, line, s, m);     /* an instruction may follow */
		return;
	}
	int op = vm_op_lookup(t);
	if (op < 0) {
		fail(A, line, "unknown instruction %s", t);
		free(t);
		return;
	}
	free(t);
	struct ins *in = GROW((*m)->ins, (*m)->nins);
	in->line = line;
	in->op = op;
	in->a = token(&s);
	in->b = token(&s);
	const struct vm_opinfo *oi = &vm_opinfo[op];
	int want = (oi->a != VM_OPD_N) + (oi->b != VM_OPD_N);
	int have = (in->a != NULL) + (in->b != NULL);
	bool call = oi->a == VM_OPD_K && op >= VM_OP_INVOKESTATIC && op <= VM_OP_INVOKEINTERFACE;
	char *extra = token(&s);
	if (extra || (have != want && !(call && have == 2)))
		fail(A, line, "%s takes %d operand%s", oi->mnemonic, want, want == 1 ? "" : "s");
	free(extra);
}

/* ---- pass 2: encoding ---- */

static void emit(struct pasm *A, uint64_t v, unsigned n)
{
	if (A->n + n > A->cap) {
		A->cap = (A->cap + n) * 2;
		A->buf = realloc(A->buf, A->cap);
	}
	for (unsigned i = 0; i < n; i++)
		A->buf[A->n++] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0;
}

static int label_off(struct pasm *A, struct method *m, int line, const char *name, uint32_t *off)
{
	for (int i = 0; i < m->nlabels; i++)
		if (!strcmp(m->labels[i].name, name)) {
			int j = m->labels[i].ins;
			*off = j < m->nins ? m->ins[j].off : (m->nins ? m->ins[m->nins - 1].off +
				1 + vm_opd_size(vm_opinfo[m->ins[m->nins - 1].op].a) +
				vm_opd_size(vm_opinfo[m->ins[m->nins - 1].op].b) : 0);
			return 0;
		}
	return fail(A, line, "no label %s in method %s", name, m->name);
}

struct encoded {
	struct vm_cf_method cm;
	uint8_t *code;
};

static int encode_method(struct pasm *A, struct method *m, struct encoded *e)
{
	uint32_t off = 0;
	for (int i = 0; i < m->nins; i++) {
		m->ins[i].off = off;
		const struct vm_opinfo *oi = &vm_opinfo[m->ins[i].op];
		off += 1 + vm_opd_size(oi->a) + vm_opd_size(oi->b);
	}
	uint8_t *code = calloc(off ? off : 1, 1);
	e->code = code;
	for (int i = 0; i < m->nins; i++) {
		struct ins *in = &m->ins[i];
		const struct vm_opinfo *oi = &vm_opinfo[in->op];
		uint8_t *p = code + in->off;
		*p++ = (uint8_t)in->op;
		for (int j = 0; j < 2; j++) {
			unsigned kind = j ? oi->b : oi->a;
			const char *s = j ? in->b : in->a;
			long long v = 0;
			uint32_t t;
			if (kind == VM_OPD_N)
				break;
			if (kind == VM_OPD_L && parse_int(s, 0, 0xffff, &v))
				return fail(A, in->line, "bad local index %s", s);
			if (kind == VM_OPD_I && parse_int(s, INT32_MIN, UINT32_MAX, &v))
				return fail(A, in->line, "bad 32-bit integer %s", s);
			if (kind == VM_OPD_K && (v = k_operand(A, in)) < 0)
				return -1;
			if (kind == VM_OPD_B) {
				if (label_off(A, m, in->line, s, &t))
					return -1;
				v = (long long)t - in->off;
			}
			unsigned sz = vm_opd_size(kind);
			for (unsigned b = 0; b < sz; b++)
				*p++ = (uint8_t)((uint64_t)v >> (8 * b));
		}
	}
	struct vm_cf_method *cm = &e->cm;
	cm->flags = (uint16_t)m->flags;
	cm->nargs = (uint8_t)m->nargs;
	cm->nret = (uint8_t)m->nret;
	cm->nlocals = (uint16_t)(m->nlocals < 0 ? (int)m->nargs : m->nlocals);
	if (cm->nlocals < cm->nargs)
		return fail(A, m->line, "method %s: .locals %u is fewer than its %u arguments",
			    m->name, cm->nlocals, cm->nargs);
	cm->code = code;
	cm->code_len = off;
	cm->name = (uint16_t)k_string(A, m->name, strlen(m->name));
	cm->nhandlers = (uint16_t)m->ncatches;
	cm->handlers = calloc((size_t)m->ncatches + 1, sizeof *cm->handlers);
	for (int i = 0; i < m->ncatches; i++) {
		struct catch_ *c = &m->catches[i];
		struct vm_handler *h = &cm->handlers[i];
		if (label_off(A, m, c->line, c->from, &h->start) || label_off(A, m, c->line, c->to, &h->end) ||
		    label_off(A, m, c->line, c->target, &h->target))
			return -1;
		h->class_k = !strcmp(c->cls, "*") ? VM_ANY_CLASS : (uint32_t)k_class(A, c->cls);
	}
	if (m->flags & VM_MF_ABSTRACT) {
		if (m->nins)
			return fail(A, m->line, "abstract method %s has instructions", m->name);
		cm->max_stack = 0;
		return 0;
	}
	if (!m->nins)
		return fail(A, m->line, "method %s has no instructions", m->name);
	/* The VM's verifier checks the code and computes max_stack. */
	struct vm_cf cf = { .nconst = (uint16_t)A->nk, .k = A->k };
	char why[200];
	uint16_t ms = m->max_stack < 0 ? 0xffff : (uint16_t)m->max_stack;
	if (vm_verify_code(&cf, cm, &ms, why, sizeof why)) {
		unsigned pc;
		int line = m->line;
		if (sscanf(why, "pc %u", &pc) == 1)
			for (int i = 0; i < m->nins; i++)
				if (m->ins[i].off == pc)
					line = m->ins[i].line;
		return fail(A, line, "method %s: %s", m->name, why);
	}
	cm->max_stack = ms;
	return 0;
}

static void write_file(struct pasm *A, struct encoded **enc)
{
	emit(A, A->nk, 2);
	for (int i = 0; i < A->nk; i++) {
		struct vm_cf_const *k = &A->k[i];
		emit(A, k->tag, 1);
		switch (k->tag) {
		case VM_CT_STRING:
			emit(A, k->len, 4);
			for (uint32_t j = 0; j < k->len; j++)
				emit(A, k->str[j], 1);
			break;
		case VM_CT_LONG: case VM_CT_DOUBLE: emit(A, (uint64_t)k->l, 8); break;
		case VM_CT_CLASS: emit(A, k->a, 2); break;
		case VM_CT_FIELD: emit(A, k->a, 2); emit(A, k->b, 2); break;
		case VM_CT_METHOD: emit(A, k->a, 2); emit(A, k->b, 2); emit(A, k->nargs, 1); emit(A, k->nret, 1); break;
		case VM_CT_NATIVE: emit(A, k->a, 2); emit(A, k->nargs, 1); emit(A, k->nret, 1); break;
		}
	}
	emit(A, (uint64_t)A->nclasses, 2);
	for (int i = 0; i < A->nclasses; i++) {
		struct klass *c = &A->classes[i];
		emit(A, (uint64_t)k_string(A, c->name, strlen(c->name)), 2);
		emit(A, c->super ? (uint64_t)k_class(A, c->super) : VM_CF_NONE, 2);
		emit(A, c->flags, 2);
		emit(A, (uint64_t)c->nifaces, 2);
		for (int j = 0; j < c->nifaces; j++)
			emit(A, (uint64_t)k_class(A, c->ifaces[j]), 2);
		emit(A, (uint64_t)c->nfields, 2);
		for (int j = 0; j < c->nfields; j++) {
			emit(A, (uint64_t)k_string(A, c->fields[j], strlen(c->fields[j])), 2);
			emit(A, c->fflags[j], 2);
		}
		emit(A, (uint64_t)c->nmethods, 2);
		for (int j = 0; j < c->nmethods; j++) {
			struct vm_cf_method *cm = &enc[i][j].cm;
			emit(A, cm->name, 2);
			emit(A, cm->flags, 2);
			emit(A, cm->nargs, 1);
			emit(A, cm->nret, 1);
			emit(A, cm->nlocals, 2);
			emit(A, cm->max_stack, 2);
			emit(A, cm->code_len, 4);
			for (uint32_t b = 0; b < cm->code_len; b++)
				emit(A, cm->code[b], 1);
			emit(A, cm->nhandlers, 2);
			for (unsigned h = 0; h < cm->nhandlers; h++) {
				emit(A, cm->handlers[h].start, 4);
				emit(A, cm->handlers[h].end, 4);
				emit(A, cm->handlers[h].target, 4);
				emit(A, cm->handlers[h].class_k, 2);
			}
		}
	}
}

static void free_all(struct pasm *A, struct encoded **enc)
{
	for (int i = 0; i < A->nclasses; i++) {
		struct klass *c = &A->classes[i];
		for (int j = 0; j < c->nmethods; j++) {
			struct method *m = &c->methods[j];
			for (int x = 0; x < m->nins; x++) { free(m->ins[x].a); free(m->ins[x].b); }
			for (int x = 0; x < m->nlabels; x++) free(m->labels[x].name);
			for (int x = 0; x < m->ncatches; x++) {
				free(m->catches[x].cls); free(m->catches[x].from);
				free(m->catches[x].to); free(m->catches[x].target);
			}
			free(m->ins); free(m->labels); free(m->catches); free(m->name);
			if (enc && enc[i]) { free(enc[i][j].code); free(enc[i][j].cm.handlers); }
		}
		if (enc)
			free(enc[i]);
		for (int j = 0; j < c->nifaces; j++) free(c->ifaces[j]);
		for (int j = 0; j < c->nfields; j++) free(c->fields[j]);
		free(c->ifaces); free(c->fields); free(c->fflags); free(c->methods);
		free(c->name); free(c->super);
	}
	free(enc);
	free(A->classes);
	for (int i = 0; i < A->nk; i++)
		free((void *)A->k[i].str);
	free(A->k);
}

int pasm_assemble(const char *path, const char *text, size_t len,
		  uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
	struct pasm A = { .path = path, .err = err, .errlen = errlen };
	struct method *m = NULL;
	int line = 0;
	err[0] = 0;
	for (size_t pos = 0; pos < len && !A.failed;) {
		size_t e = pos;
		while (e < len && text[e] != '\n')
			e++;
		char *l = strndup(text + pos, e - pos);
		line++;
		if (strchr(l, '\r'))
			*strchr(l, '\r') = 0;
		parse_line(&A, line, l, &m);
		free(l);
		pos = e + 1;
	}
	if (!A.failed && m)
		fail(&A, line, "method %s has no .end", m->name);
	if (!A.failed && !A.nclasses)
		fail(&A, line ? line : 1, "no .class in the file");
	/* Class-level constants first, so write_file only finds existing ones. */
	for (int i = 0; i < A.nclasses && !A.failed; i++) {
		struct klass *c = &A.classes[i];
		k_string(&A, c->name, strlen(c->name));
		if (c->super)
			k_class(&A, c->super);
		for (int j = 0; j < c->nifaces; j++)
			k_class(&A, c->ifaces[j]);
		for (int j = 0; j < c->nfields; j++)
			k_string(&A, c->fields[j], strlen(c->fields[j]));
	}
	struct encoded **enc = calloc((size_t)A.nclasses + 1, sizeof *enc);
	for (int i = 0; i < A.nclasses && !A.failed; i++) {
		enc[i] = calloc((size_t)A.classes[i].nmethods + 1, sizeof **enc);
		for (int j = 0; j < A.classes[i].nmethods && !A.failed; j++)
			encode_method(&A, &A.classes[i].methods[j], &enc[i][j]);
	}
	if (!A.failed) {
		emit(&A, 0, VM_CF_HDR);
		write_file(&A, enc);
		if (A.nk > (int)VM_CF_MAX_CONST)
			fail(&A, line, "too many constants");
	}
	free_all(&A, enc);
	if (A.failed) {
		free(A.buf);
		return -1;
	}
	uint32_t body = (uint32_t)(A.n - VM_CF_HDR);
	uint32_t crc = vm_crc32(A.buf + VM_CF_HDR, body);
	memcpy(A.buf, VM_CF_MAGIC, 4);
	uint8_t *h = A.buf + 4;
	h[0] = VM_CF_VERSION & 0xff; h[1] = VM_CF_VERSION >> 8; h[2] = h[3] = 0;
	for (int i = 0; i < 4; i++) {
		h[4 + i] = (uint8_t)(body >> (8 * i));
		h[8 + i] = (uint8_t)(crc >> (8 * i));
	}
	*out = A.buf;
	*outlen = A.n;
	return 0;
}
