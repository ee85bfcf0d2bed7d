/* err.h — the one table of error codes used across Phantom: the platform
 * boundary, the portable core and the tools. Functions return 0 on success or a
 * negative code (-ERR_IO); err_str() gives the message. Add codes here only. */
#ifndef PHANTOM_ERR_H
#define PHANTOM_ERR_H

/* X(name, message) */
#define ERR_TABLE(X)                                                   \
	X(OK,          "success")                                      \
	X(NOMEM,       "out of memory")                                \
	X(INVAL,       "invalid argument")                             \
	X(IO,          "input/output error")                           \
	X(NOENT,       "no such file or device")                       \
	X(EXIST,       "already exists")                               \
	X(TIMEDOUT,    "timed out")                                    \
	X(AGAIN,       "try again")                                    \
	X(NOTSUP,      "not supported on this platform")               \
	X(NONET,       "no network")                                   \
	X(CONNREFUSED, "connection refused")                           \
	X(CLOSED,      "connection closed")                            \
	X(ADDRINUSE,   "address in use")                               \
	X(RANGE,       "out of range")                                 \
	X(CORRUPT,     "data is corrupt (checksum or format mismatch)") \
	X(VERSION,     "incompatible format version")                  \
	X(BUSY,        "resource busy")                                \
	X(NOSPC,       "no space left on device")

enum err_code {
#define ERR_ENUM_(name, msg) ERR_##name,
	ERR_TABLE(ERR_ENUM_)
#undef ERR_ENUM_
	ERR_COUNT_
};

/* Message for a code; accepts either sign. Never NULL. */
const char *err_str(int code);

#endif
