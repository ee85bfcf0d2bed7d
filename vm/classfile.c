/* classfile.c — reads the class-file format of classfile.h into its parsed
 * form: checksum and version first, then every length and index checked
 * against the bytes that remain, then each method's code verified. Nothing
 * here touches the VM region. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "classfile.h"

uint32_t vm_crc32(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= b[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
	}
	return ~c;
}

struct rd {
	const uint8_t *p, *end;
	char *err;
	size_t errlen;
	int bad;
};

static void rd_fail(struct rd *r, const char *what)
{
	if (!r->bad)
		snprintf(r->err, r->errlen, "truncated class file reading %s", what);
	r->bad = 1;
	r->p = r->end;
}

static uint64_t rd_n(struct rd *r, unsigned n, const char *what)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		rd_fail(r, what);
		return 0;
	}
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}
#define U8(r, w)  ((uint8_t)rd_n(r, 1, w))
#define U16(r, w) ((uint16_t)rd_n(r, 2, w))
#define U32(r, w) ((uint32_t)rd_n(r, 4, w))

static const uint8_t *rd_bytes(struct rd *r, size_t n, const char *what)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		rd_fail(r, what);
		return NULL;
	}
	const uint8_t *s = r->p;
	r->p += n;
	return s;
}

/* Allocation bounded by what the file can describe: n items each taking at
 * least `min_bytes` of input, so a lying count cannot ask for huge memory. */
static void *rd_alloc(struct rd *r, size_t n, size_t size, size_t min_bytes)
{
	if (r->bad)
		return NULL;
	if (n * min_bytes > (size_t)(r->end - r->p)) {
		rd_fail(r, "a count larger than the file");
		return NULL;
	}
	void *p = calloc(n ? n : 1, size);
	if (!p) {
		snprintf(r->err, r->errlen, "out of memory");
		r->bad = 2;
	}
	return p;
}

static int check_k(struct vm_cf *cf, uint16_t i, int tag, char *err, size_t n,
		   const char *what)
{
	if (i >= cf->nconst || cf->k[i].tag != tag) {
		snprintf(err, n, "%s: constant %u is not a %s", what, i,
			 tag == VM_CT_STRING ? "string" : "class");
		return -ERR_CORRUPT;
	}
	return 0;
}

static int parse_consts(struct rd *r, struct vm_cf *cf)
{
	cf->nconst = U16(r, "constant count");
	if (cf->nconst > VM_CF_MAX_CONST) {
		snprintf(r->err, r->errlen, "too many constants");
		return -ERR_CORRUPT;
	}
	cf->k = rd_alloc(r, cf->nconst, sizeof *cf->k, 3);
	for (unsigned i = 0; i < cf->nconst && !r->bad; i++) {
		struct vm_cf_const *k = &cf->k[i];
		k->tag = U8(r, "constant tag");
		switch (k->tag) {
		case VM_CT_STRING:
			k->len = U32(r, "string length");
			k->str = rd_bytes(r, k->len, "string bytes");
			break;
		case VM_CT_LONG: case VM_CT_DOUBLE:
			k->l = (int64_t)rd_n(r, 8, "number constant");
			break;
		case VM_CT_CLASS:
			k->a = U16(r, "class name");
			break;
		case VM_CT_FIELD:
			k->a = U16(r, "field class");
			k->b = U16(r, "field name");
			break;
		case VM_CT_METHOD:
			k->a = U16(r, "method class");
			k->b = U16(r, "method name");
			k->nargs = U8(r, "method nargs");
			k->nret = U8(r, "method nret");
			break;
		case VM_CT_NATIVE:
			k->a = U16(r, "native name");
			k->nargs = U8(r, "native nargs");
			k->nret = U8(r, "native nret");
			break;
		default:
			if (!r->bad)
				snprintf(r->err, r->errlen, "constant %u: unknown tag %u", i, k->tag);
			return -ERR_CORRUPT;
		}
	}
	if (r->bad)
		return r->bad == 2 ? -ERR_NOMEM : -ERR_CORRUPT;
	/* Cross-references, now that every constant is known. */
	for (unsigned i = 0; i < cf->nconst; i++) {
		struct vm_cf_const *k = &cf->k[i];
		int rc = 0;
		if (k->tag == VM_CT_CLASS || k->tag == VM_CT_NATIVE)
			rc = check_k(cf, k->a, VM_CT_STRING, r->err, r->errlen, "class/native constant");
		if (k->tag == VM_CT_FIELD || k->tag == VM_CT_METHOD) {
			rc = check_k(cf, k->a, VM_CT_CLASS, r->err, r->errlen, "member constant");
			if (!rc)
				rc = check_k(cf, k->b, VM_CT_STRING, r->err, r->errlen, "member constant");
		}
		if (!rc && (k->tag == VM_CT_METHOD || k->tag == VM_CT_NATIVE) &&
		    k->nret > 1) {
			snprintf(r->err, r->errlen, "constant %u: nret must be 0 or 1", i);
			rc = -ERR_CORRUPT;
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_method(struct rd *r, struct vm_cf *cf, struct vm_cf_method *m)
{
	m->name = U16(r, "method name");
	m->flags = U16(r, "method flags");
	m->nargs = U8(r, "method nargs");
	m->nret = U8(r, "method nret");
	m->nlocals = U16(r, "method nlocals");
	m->max_stack = U16(r, "method max_stack");
	m->code_len = U32(r, "code length");
	m->code = rd_bytes(r, m->code_len, "code");
	m->nhandlers = U16(r, "handler count");
	m->handlers = rd_alloc(r, m->nhandlers, sizeof *m->handlers, 14);
	for (unsigned i = 0; i < m->nhandlers && !r->bad; i++) {
		m->handlers[i].start = U32(r, "handler");
		m->handlers[i].end = U32(r, "handler");
		m->handlers[i].target = U32(r, "handler");
		m->handlers[i].class_k = U16(r, "handler");
	}
	if (r->bad)
		return r->bad == 2 ? -ERR_NOMEM : -ERR_CORRUPT;
	int rc = check_k(cf, m->name, VM_CT_STRING, r->err, r->errlen, "method name");
	if (rc)
		return rc;
	const char *nm = (const char *)cf->k[m->name].str;
	unsigned nl = cf->k[m->name].len;
	if (m->flags & ~VM_MF_MASK || m->nret > 1 || m->nlocals < m->nargs ||
	    m->max_stack == 0xffff || (!(m->flags & VM_MF_STATIC) && m->nargs == 0)) {
		snprintf(r->err, r->errlen, "method %.*s: bad flags, nret, nargs or nlocals",
			 (int)nl, nm);
		return -ERR_CORRUPT;
	}
	if (m->flags & VM_MF_ABSTRACT) {
		if (m->code_len || m->nhandlers) {
			snprintf(r->err, r->errlen, "abstract method %.*s has code", (int)nl, nm);
			return -ERR_CORRUPT;
		}
		return 0;
	}
	char why[160];
	uint16_t ms = m->max_stack;
	rc = vm_verify_code(cf, m, &ms, why, sizeof why);
	if (rc)
		snprintf(r->err, r->errlen, "method %.*s: %s", (int)nl, nm, why);
	return rc;
}

static int parse_class(struct rd *r, struct vm_cf *cf, struct vm_cf_class *c)
{
	c->name = U16(r, "class name");
	c->super = U16(r, "superclass");
	c->flags = U16(r, "class flags");
	c->nifaces = U16(r, "interface count");
	c->ifaces = rd_alloc(r, c->nifaces, sizeof *c->ifaces, 2);
	for (unsigned i = 0; i < c->nifaces && !r->bad; i++)
		c->ifaces[i] = U16(r, "interface");
	c->nfields = U16(r, "field count");
	c->fields = rd_alloc(r, c->nfields, sizeof *c->fields, 4);
	c->field_flags = rd_alloc(r, c->nfields, sizeof *c->field_flags, 4);
	for (unsigned i = 0; i < c->nfields && !r->bad; i++) {
		c->fields[i] = U16(r, "field");
		c->field_flags[i] = U16(r, "field");
	}
	c->nmethods = U16(r, "method count");
	c->methods = rd_alloc(r, c->nmethods, sizeof *c->methods, 16);
	if (r->bad)
		return r->bad == 2 ? -ERR_NOMEM : -ERR_CORRUPT;
	int rc = check_k(cf, c->name, VM_CT_STRING, r->err, r->errlen, "class name");
	if (!rc && c->super != VM_CF_NONE)
		rc = check_k(cf, c->super, VM_CT_CLASS, r->err, r->errlen, "superclass");
	for (unsigned i = 0; !rc && i < c->nifaces; i++)
		rc = check_k(cf, c->ifaces[i], VM_CT_CLASS, r->err, r->errlen, "interface");
	for (unsigned i = 0; !rc && i < c->nfields; i++) {
		rc = check_k(cf, c->fields[i], VM_CT_STRING, r->err, r->errlen, "field name");
		if (!rc && (c->field_flags[i] & ~VM_FIELD_STATIC)) {
			snprintf(r->err, r->errlen, "field %u: unknown flags", i);
			rc = -ERR_CORRUPT;
		}
	}
	if (!rc && (c->flags & ~VM_CF_MASK)) {
		snprintf(r->err, r->errlen, "class: unknown flags");
		rc = -ERR_CORRUPT;
	}
	for (unsigned i = 0; !rc && i < c->nmethods; i++)
		rc = parse_method(r, cf, &c->methods[i]);
	return rc;
}

int vm_cf_parse(const void *file, size_t len, struct vm_cf *cf, char *err, size_t errlen)
{
	memset(cf, 0, sizeof *cf);
	const uint8_t *f = file;
	if (len < VM_CF_HDR || memcmp(f, VM_CF_MAGIC, 4) != 0) {
		snprintf(err, errlen, "not a Phantom class file (bad magic)");
		return -ERR_CORRUPT;
	}
	struct rd r = { f + 4, f + VM_CF_HDR, err, errlen, 0 };
	uint16_t version = U16(&r, "header");
	uint16_t flags = U16(&r, "header");
	uint32_t body = U32(&r, "header");
	uint32_t crc = U32(&r, "header");
	if (version != VM_CF_VERSION) {
		snprintf(err, errlen, "class file version %u, this VM reads %u", version, VM_CF_VERSION);
		return -ERR_VERSION;
	}
	if (flags != 0 || body != len - VM_CF_HDR) {
		snprintf(err, errlen, "class file length %zu does not match its header", len);
		return -ERR_CORRUPT;
	}
	if (vm_crc32(f + VM_CF_HDR, body) != crc) {
		snprintf(err, errlen, "class file checksum mismatch");
		return -ERR_CORRUPT;
	}
	r.p = f + VM_CF_HDR;
	r.end = f + len;
	int rc = parse_consts(&r, cf);
	if (!rc) {
		cf->nclasses = U16(&r, "class count");
		cf->classes = rd_alloc(&r, cf->nclasses, sizeof *cf->classes, 12);
		if (r.bad)
			rc = r.bad == 2 ? -ERR_NOMEM : -ERR_CORRUPT;
	}
	for (unsigned i = 0; !rc && i < cf->nclasses; i++)
		rc = parse_class(&r, cf, &cf->classes[i]);
	if (!rc && r.p != r.end) {
		snprintf(err, errlen, "%zu stray bytes after the last class", (size_t)(r.end - r.p));
		rc = -ERR_CORRUPT;
	}
	if (rc)
		vm_cf_free(cf);
	return rc;
}

void vm_cf_free(struct vm_cf *cf)
{
	for (unsigned i = 0; cf->classes && i < cf->nclasses; i++) {
		struct vm_cf_class *c = &cf->classes[i];
		free(c->ifaces);
		free(c->fields);
		free(c->field_flags);
		for (unsigned j = 0; c->methods && j < c->nmethods; j++)
			free(c->methods[j].handlers);
		free(c->methods);
	}
	free(cf->classes);
	free(cf->k);
	memset(cf, 0, sizeof *cf);
}
