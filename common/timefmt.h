/* common/timefmt.h - ISO-8601 date-times to and from microseconds since the Unix epoch (UTC).
 *
 * Invariants:
 *  1. Pure arithmetic: no timegm/mktime, no locale, no TZ; results never depend on the environment.
 *  2. time_format_iso8601(time_parse_iso8601(x)) is the canonical UTC form of x, and
 *     time_parse_iso8601(time_format_iso8601(t)) == t for every t in years 0001-9999.
 *  3. Parsing never allocates; a rejected value leaves *usec_out untouched.
 * Threads: every function here is stateless and safe from any thread. */
#ifndef LINEAGED_TIMEFMT_H
#define LINEAGED_TIMEFMT_H

#include <stdint.h>

#include "err.h"

/* Enough for any int64 microsecond value: INT64_MIN is "-290308-12-21T19:59:05.224192Z" (30 chars). */
enum { TIME_ISO_MAX = 40 };

/* Parses `YYYY-MM-DD(T|t| )HH:MM[:SS[.f{1,9}]][offset[ [zone] ]]` into microseconds since
 * 1970-01-01T00:00:00Z. offset is Z, z, +HH:MM, -HH:MM, +HHMM, -HHMM, +HH or -HH; none means UTC.
 * A bracketed Java zone id ("[Europe/London]") is accepted only after an explicit offset and ignored.
 * Fraction digits beyond microseconds are truncated. Years 0001-9999; Feb 29 only in leap years.
 * Returns 0 and sets *usec_out, or returns -1 with e set to ERR_INVALID (the value, cut at 64
 * bytes, is quoted in e->msg; e->where is ""). s may be NULL (rejected). */
int time_parse_iso8601(const char *s, int64_t *usec_out, struct err *e);

/* Writes `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always six fraction digits, UTC). Works for any int64,
 * including times before 1970 (years outside 0000-9999 get a sign or more digits). Cannot fail. */
void time_format_iso8601(int64_t usec, char out[TIME_ISO_MAX]);

/* Wall-clock time (CLOCK_REALTIME) in microseconds since the epoch. Cannot fail. */
int64_t time_now_usec(void);

#endif
