/* object.h — the layout of everything the VM keeps in its region: the object
 * header shared by every heap block, the built-in object kinds (class,
 * method, string, array, box, thread) and the root header at the region's
 * start from which all VM state is found. Internal to vm/.
 *
 * Every heap block starts with a two-word header:
 *
 *   word 0  +--------------------------------------------------------------+
 *           | struct vm_class *cls      (NULL: this block is free)         |
 *   word 1  +-------------------------------+----------------------+------+
 *           | words: u32 block size in      | nrefs: 28 bits       |flags |
 *           | 8-byte words, header included | leading value words  | 4 b  |
 *           +-------------------------------+----------------------+------+
 *           (flags: a free block's discard state, heap.c; in an object,
 *           only `stack`)
 *   word 2… nrefs value words (fields, array elements, a class's or method's
 *           reference members), then raw bytes the collector never reads.
 *
 * Invariant: the nrefs words after the header always hold valid vm_values
 * (immediates, null, or the address of a live block's header). That single
 * rule is the whole contract between the object kinds and the collector;
 * only a thread's stack is special (scanned up to its sp, see heap.c).
 * A free block: cls == NULL, words, and word 2 = next free block.
 *
 * The collector's colours are not in the header but in a side bitmap at
 * the region's end (two bits per 16-byte granule, see heap.c): marking
 * then writes one bitmap page per 64 heap pages instead of every live
 * object, so a collection does not make every live page dirty for the
 * next snapshot. */
#ifndef PHANTOM_VM_OBJECT_H
#define PHANTOM_VM_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

struct vm_class;

struct vm_obj {
	struct vm_class *cls;
	uint32_t words;
	uint32_t nrefs : 28;
	/* Free blocks only (heap.c, discard passes): */
	uint32_t discarded : 1;        /* its whole pages after the header went
	                                * to the discard hook                 */
	uint32_t aged : 1;             /* seen free by the last discard pass  */
	uint32_t carved : 1;           /* the allocator cut it since then     */
	/* Objects only: */
	uint32_t stack : 1;            /* a thread's stack: only its thread's
	                                * sp says which slots are live       */
};

#define VM_OBJ_MIN_WORDS 3u            /* room for a free block's next link */
#define VM_NREFS_MAX     ((1u << 28) - 1)

/* Kinds of object, fixed per class (a class's instances all share one). */
enum vm_kind {
	VM_K_INSTANCE, /* user objects: nrefs = field count                   */
	VM_K_ARRAY,    /* values: nrefs = length                              */
	VM_K_STRING,   /* immutable bytes                                     */
	VM_K_LONG,     /* boxed int64 outside the 63-bit immediate range      */
	VM_K_DOUBLE,   /* boxed binary64                                      */
	VM_K_BYTES,    /* raw bytes: code, exception tables                   */
	VM_K_CLASS,
	VM_K_METHOD,
	VM_K_FIELDREF,
	VM_K_THREAD,
	VM_K_INT,      /* the class of immediates; never allocated            */
	VM_K_HANDLE,   /* struct vm_handle: a native resource                 */
};

/* Values-only array; length = h.nrefs. */
struct vm_array {
	struct vm_obj h;
	vm_value data[];
};

struct vm_string {
	struct vm_obj h;
	uint32_t len;
	uint32_t hash;                 /* FNV-1a of the bytes, 0 until needed */
	char bytes[];                  /* len bytes, then a NUL               */
};

struct vm_bytes {
	struct vm_obj h;
	uint64_t len;
	uint8_t b[];
};

struct vm_box {
	struct vm_obj h;
	union { int64_t l; double d; } u;
};

/* Class flags */
#define VM_CF_INTERFACE 1u
#define VM_CF_ABSTRACT  2u
#define VM_CF_BUILTIN   4u
#define VM_CF_MASK      3u             /* flags a class file may set        */

struct vm_class {
	struct vm_obj h;
	/* references (nrefs = 9) */
	struct vm_class *super;
	struct vm_string *name;
	struct vm_array *methods;      /* struct vm_method *, declared here   */
	struct vm_array *vtable;       /* struct vm_method *, by vindex       */
	struct vm_array *field_names;  /* vm_string *, inherited ones first   */
	struct vm_array *static_names; /* vm_string *                         */
	struct vm_array *statics;      /* values                              */
	struct vm_array *cpool;        /* resolved constants of its file      */
	struct vm_array *interfaces;   /* struct vm_class *                   */
	/* raw */
	uint32_t kind;                 /* enum vm_kind of the instances       */
	uint32_t flags;
	uint32_t nfields;              /* instance fields, inherited included */
	uint32_t pad;
};
#define VM_CLASS_NREFS 9u

/* Method flags */
#define VM_MF_STATIC   1u
#define VM_MF_ABSTRACT 2u
#define VM_MF_MASK     3u

/* One exception-table entry: [start, end) covers pcs, class is a constant
 * index (VM_ANY_CLASS catches everything: finally). */
struct vm_handler {
	uint32_t start, end, target, class_k;
};
#define VM_ANY_CLASS 0xffffu

struct vm_method {
	struct vm_obj h;
	/* references (nrefs = 4) */
	struct vm_class *owner;
	struct vm_string *name;
	struct vm_bytes *code;
	struct vm_bytes *handlers;     /* struct vm_handler[nhandlers]        */
	/* raw */
	uint16_t nargs;                /* receiver included                   */
	uint16_t nret;                 /* 0 or 1                              */
	uint16_t nlocals;              /* >= nargs                            */
	uint16_t max_stack;
	uint32_t flags;
	uint32_t vindex;               /* vtable slot; UINT32_MAX if static   */
	uint32_t nhandlers;
	uint32_t pad;
};
#define VM_METHOD_NREFS 4u

struct vm_fieldref {
	struct vm_obj h;
	struct vm_class *cls;          /* declaring class (statics live there) */
	uint64_t index;                /* slot in instance or in cls->statics  */
	uint64_t is_static;
};
#define VM_FIELDREF_NREFS 1u

/* A VM thread. Its frames and operand stacks live in `stack`:
 *
 *   fp ->  locals[0..nlocals)          args are locals[0..nargs)
 *          saved caller method   (ref)
 *          saved caller pc       (int)
 *          saved caller fp       (int)
 *          operand stack ...      <- sp (next free slot)
 *
 * pc is the offset of the next instruction in method->code. After a
 * safepoint these fields are exact, so a restored region resumes here. */
#define VM_FRAME_INFO 3u

/* States. A SLEEPING thread becomes RUNNABLE when plat_wall_ns() reaches
 * wake_ns (wall clock, so a restored sleeper wakes at the right time). A
 * BLOCKED thread waits for `block` on `blocker`; I/O-blocked ones are also
 * re-polled once wake_ns passes (see sched.c). Blocked or sleeping threads
 * always stand on the instruction that blocked them (MONITORENTER or an
 * INVOKENATIVE) and simply re-execute it when made RUNNABLE; `phase` is the
 * in-progress native's own state machine (0 = not started). */
enum vm_thread_state { VM_TS_RUNNABLE, VM_TS_DONE, VM_TS_FAILED, VM_TS_SLEEPING, VM_TS_BLOCKED };
enum vm_block { VM_BK_NONE, VM_BK_MONITOR, VM_BK_WAIT, VM_BK_JOIN, VM_BK_CONSOLE, VM_BK_SOCKET };

struct vm_thread {
	struct vm_obj h;
	/* references (nrefs = 6) */
	struct vm_method *method;      /* current method, NULL when finished  */
	vm_value exception;            /* uncaught exception when FAILED      */
	vm_value result;               /* entry method's result when DONE     */
	struct vm_thread *next;        /* all threads, from root->threads     */
	struct vm_array *stack;        /* scanned only below sp               */
	vm_value blocker;              /* monitor object / joined thread      */
	/* raw */
	uint64_t pc, fp, sp;
	uint32_t state, id;
	uint64_t wake_ns;              /* SLEEPING: wall-clock wake time      */
	uint64_t wait_count;           /* Object.wait: monitor count to restore */
	uint32_t block;                /* enum vm_block while BLOCKED         */
	uint32_t phase;                /* the blocking native's progress      */
	uint32_t flags;                /* VM_TF_*                             */
	uint32_t pad2;
};
/* Started by thread.start: when it ends it leaves root->threads (whoever
 * holds the Thread object can still join it); host-started threads stay
 * listed so vm_thread_result can find them by id. Every ended thread
 * drops its stack. */
#define VM_TF_VM_STARTED 1u
#define VM_THREAD_NREFS 6u
#define VM_THREAD_STACK_REF 4u         /* the member the collector treats specially */

/* A native resource (socket) as the VM sees it: an index into the C-side
 * table of the boot that created it. gen != root->boot_gen means that boot
 * is gone: a connection is dead, a listener is reopened on `port`. */
enum vm_handle_kind { VM_HK_LISTENER = 1, VM_HK_CONN = 2 };
struct vm_handle {
	struct vm_obj h;
	uint32_t slot, gen;
	uint32_t kind, port;
	uint32_t closed, pad;
};

/* Built-in classes, created when a region is formatted. */
#define VM_BUILTINS(X)                                              \
	X(OBJECT, "Object", INSTANCE, NONE)                         \
	X(INT, "Int", INT, OBJECT)                                  \
	X(LONG, "Long", LONG, OBJECT)                               \
	X(DOUBLE, "Double", DOUBLE, OBJECT)                         \
	X(STRING, "String", STRING, OBJECT)                         \
	X(ARRAY, "Array", ARRAY, OBJECT)                            \
	X(BYTES, "Bytes", BYTES, OBJECT)                            \
	X(CLASS, "Class", CLASS, OBJECT)                            \
	X(METHOD, "Method", METHOD, OBJECT)                         \
	X(FIELDREF, "FieldRef", FIELDREF, OBJECT)                   \
	X(THREAD, "Thread", THREAD, OBJECT)                         \
	X(THROWABLE, "Throwable", INSTANCE, OBJECT)                 \
	X(NPE, "NullPointerException", INSTANCE, THROWABLE)         \
	X(ARITH, "ArithmeticException", INSTANCE, THROWABLE)        \
	X(AIOOBE, "ArrayIndexOutOfBoundsException", INSTANCE, THROWABLE) \
	X(NEGSIZE, "NegativeArraySizeException", INSTANCE, THROWABLE) \
	X(CCE, "ClassCastException", INSTANCE, THROWABLE)           \
	X(SOE, "StackOverflowError", INSTANCE, THROWABLE)           \
	X(AME, "AbstractMethodError", INSTANCE, THROWABLE)          \
	X(OOM, "OutOfMemoryError", INSTANCE, THROWABLE)             \
	X(IOE, "IOException", INSTANCE, THROWABLE)                  \
	X(IMSE, "IllegalMonitorStateException", INSTANCE, THROWABLE) \
	X(IAE, "IllegalArgumentException", INSTANCE, THROWABLE)     \
	X(SOCKET, "Socket", HANDLE, OBJECT)

enum vm_builtin {
#define VM_BI_ENUM_(id, name, kind, super) VM_BI_##id,
	VM_BUILTINS(VM_BI_ENUM_)
#undef VM_BI_ENUM_
	VM_BI_COUNT
};

#define VM_SMALL_LISTS 64u             /* exact-size free lists, in words   */
#define VM_TMP_ROOTS   8u
#define VM_GC_GRAY     512u            /* the marker's gray stack, in the root */

/* The root header at the region's first byte. Everything reachable from it
 * is the VM's whole state; nothing in C memory is needed to resume. */
#define VM_ROOT_MAGIC   0x544f4f524d485050ull   /* "PPHMROOT" */
#define VM_ROOT_VERSION 7u

struct vm_root {
	uint64_t magic;
	uint32_t version;
	uint32_t root_size;            /* sizeof(struct vm_root), a layout check */
	uint64_t region_size;
	/* allocator (heap.c) */
	uint64_t heap_lo, heap_hi, bump;
	uint64_t free_small[VM_SMALL_LISTS]; /* lists by exact word count     */
	uint64_t free_large;           /* blocks of >= VM_SMALL_LISTS words  */
	uint64_t live_words;           /* after the last collection          */
	uint64_t alloc_words;          /* allocated since then               */
	uint64_t gc_count;
	uint32_t gc_inhibit;           /* > 0 while the loader builds classes */
	uint32_t gc_stress;            /* collect at every allocation (tests) */
	/* roots, scanned by the collector */
	vm_value tmp[VM_TMP_ROOTS];    /* values held across an allocation   */
	struct vm_array *classes;      /* struct vm_class *, nclasses used   */
	uint64_t nclasses;
	struct vm_class *builtin[VM_BI_COUNT];
	struct vm_thread *threads;
	vm_value oom;                  /* preallocated OutOfMemoryError      */
	uint64_t next_thread_id;
	/* version 2: monitors, the root directory, boots */
	struct vm_array *monitors;     /* triples (obj, owner thread, count)  */
	uint64_t nmonitors;            /* triples in use                      */
	struct vm_array *dir;          /* open-addressed (name, obj) pairs    */
	uint64_t ndir;                 /* names in dir                        */
	uint64_t boot_gen;             /* +1 at every vm_attach               */
	uint64_t rr_next;              /* id the scheduler resumes from       */
	/* incremental marking (heap.c) */
	uint32_t gc_marking;           /* a cycle is marking                  */
	uint32_t gc_incr_stress;       /* a cycle always on, tiny steps (tests) */
	uint64_t gc_scan;              /* marking cursor: next block to look at */
	uint64_t gc_gray_lo;           /* lowest gray block below gc_scan, or ~0 */
	uint32_t gc_sweeping;          /* marking done, sweeping [heap_lo, gc_sweep_end) */
	uint32_t gc_full;              /* this cycle's sweep rebuilds the lists */
	uint64_t gc_sweep_at;          /* sweep cursor (a block boundary)     */
	uint64_t gc_sweep_end;         /* bump when the sweep began           */
	uint64_t gc_sweep_run;         /* words of the free run ending at the cursor */
	uint64_t gc_sweep_live;        /* live words swept so far             */
	uint64_t gc_ngray;             /* entries in gc_gray                  */
	uint64_t gc_gray[VM_GC_GRAY];  /* gray blocks to scan first (a hint)  */
	/* version 3: colours in a side bitmap (heap.c) */
	uint64_t gc_bits;              /* address of the bitmap, = heap_hi    */
	uint64_t gc_bits_words;        /* its length in u64 words             */
	/* version 5: free memory handed back to the host (heap.c) */
	uint64_t bump_peak;            /* highest bump since the last discard pass */
	uint64_t heap_clean;           /* pages from here to heap_hi: discarded
	                                * or never used (page aligned)        */
	uint64_t discard_pass_ns;      /* wall clock of the last discard pass */
	uint32_t gc_sweep_pass;        /* this sweep is a discard pass        */
	uint32_t gc_sweep_run_aged;    /* the run holds only aged free blocks */
	/* version 6: what idle collection looks at (vm_gc_idle) */
	uint64_t gc_sweep_unhanded;    /* free blocks with whole pages, not handed
	                                * over, met or made by this sweep     */
	uint64_t free_unhanded;        /* the same, as the last sweep ended   */
	uint64_t gc_cycle_words;       /* allocated while this cycle runs     */
	uint64_t last_cycle_words;     /* ... while the last one ran (it could
	                                * not free them)                      */
	/* version 7: the nursery (young.c), empty whenever the host runs */
	uint64_t young_lo, young_hi;   /* its pages, after the bitmap         */
	uint64_t young_top;            /* next young object; young_lo: empty  */
	uint64_t young_end;            /* where this round of allocation stops
	                                * (<= young_hi: bounds survivors)     */
	uint64_t young_rem;            /* remembered slots, (object, slot)
	                                * pairs from here up to young_hi      */
	uint32_t young_overflow;       /* the remembered set ran out of room:
	                                * the next collection walks the heap  */
	uint32_t young_walks;          /* collections that walked the heap    */
	uint64_t young_count;          /* minor collections                   */
	uint64_t young_promoted;       /* words promoted, in total            */
};

#endif
