/* assert.h — kernel libc: a failed assert prints through the console hook
 * and calls the abort hook (klibc.h). NDEBUG turns it off, as usual.
 * Deliberately re-includable, as the standard requires. */
#undef assert
#ifdef NDEBUG
#define assert(x) ((void)0)
#else
void klibc_assert_fail(const char *expr, const char *file, int line,
		       const char *func) __attribute__((noreturn));
#define assert(x) \
	((x) ? (void)0 : klibc_assert_fail(#x, __FILE__, __LINE__, __func__))
#endif
#ifndef static_assert
#define static_assert _Static_assert
#endif
