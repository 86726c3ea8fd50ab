/* common/timefmt.c - ISO-8601 parsing and formatting with hand-written civil-date arithmetic.
 *
 * Invariants:
 *  1. Dates convert through days_from_civil/civil_from_days (proleptic Gregorian, H. Hinnant's
 *     algorithms), exact for every int64 day count used here; nothing reads TZ or the locale.
 *  2. The parser is a single left-to-right pass over s; every accepted byte is checked, and the
 *     whole string must be consumed.
 *  3. Negative microsecond values are split with floor division, so the fraction is always 0-999999.
 * Ownership: nothing here allocates. Threads: stateless. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#endif

#include "timefmt.h"

#include <stdbool.h>
#include <time.h>

#include "utf8.h"

enum {
    TIME_MSG_VALUE_MAX = 64,  /* bytes of the rejected value quoted in the error */
    TIME_FRAC_MAX_DIGITS = 9, /* nanoseconds */
    TIME_USEC_DIGITS = 6,
    TIME_YEAR_MIN = 1,
    TIME_YEAR_MAX = 9999,
    TIME_OFFSET_HOUR_MAX = 23,
};

static const int64_t USEC_PER_SEC = 1000000;
static const int64_t USEC_PER_MIN = 60 * 1000000LL;
static const int64_t USEC_PER_HOUR = 3600 * 1000000LL;
static const int64_t USEC_PER_DAY = 86400 * 1000000LL;

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 for a proleptic Gregorian date (m 1-12, d 1-31). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* Inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n digits at *p into *out and advances *p; false if any is not a digit. */
static bool read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Reads `.f{1,9}` if present; *usec gets the first six digits scaled to microseconds. */
static bool read_fraction(const char **p, int64_t *usec)
{
    *usec = 0;
    if (**p != '.')
        return true;
    (*p)++;
    int n = 0;
    while (is_digit(**p)) {
        if (n < TIME_USEC_DIGITS)
            *usec = *usec * 10 + (**p - '0');
        n++;
        (*p)++;
    }
    if (n < 1 || n > TIME_FRAC_MAX_DIGITS)
        return false;
    for (int i = n; i < TIME_USEC_DIGITS; i++)
        *usec *= 10;
    return true;
}

/* Reads an optional offset and zone id; *off_usec is local minus UTC. Must consume the rest of s. */
static bool read_offset(const char *p, int64_t *off_usec)
{
    *off_usec = 0;
    if (*p == '\0')
        return true;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, hh, mm = 0;
        p++;
        if (!read_digits(&p, 2, &hh) || hh > TIME_OFFSET_HOUR_MAX)
            return false;
        if (*p == ':') {
            p++;
            if (!read_digits(&p, 2, &mm))
                return false;
        } else if (is_digit(*p) && !read_digits(&p, 2, &mm)) {
            return false;
        }
        if (mm > 59)
            return false;
        *off_usec = sign * (hh * USEC_PER_HOUR + mm * USEC_PER_MIN);
    } else {
        return false;
    }
    if (*p == '[') { /* Java ZonedDateTime zone id: printable, non-empty, closed, last */
        const char *start = ++p;
        while (*p > ' ' && *p < 0x7f && *p != '[' && *p != ']')
            p++;
        if (p == start || *p != ']')
            return false;
        p++;
    }
    return *p == '\0';
}

static int reject(const char *s, struct err *e)
{
    if (s == NULL)
        s = "";
    return err_set(e, ERR_INVALID, NULL, "\"%.*s\" is not an ISO-8601 date-time",
                   utf8_prefix(s, TIME_MSG_VALUE_MAX), s);
}

int time_parse_iso8601(const char *s, int64_t *usec_out, struct err *e)
{
    const char *p = s;
    int year, mon, day, hh, mm, ss = 0;
    int64_t frac = 0, off = 0;

    if (s == NULL)
        return reject(s, e);
    if (!read_digits(&p, 4, &year) || *p++ != '-' || !read_digits(&p, 2, &mon) || *p++ != '-' ||
        !read_digits(&p, 2, &day))
        return reject(s, e);
    if (*p != 'T' && *p != 't' && *p != ' ')
        return reject(s, e);
    p++;
    if (!read_digits(&p, 2, &hh) || *p++ != ':' || !read_digits(&p, 2, &mm))
        return reject(s, e);
    if (*p == ':') {
        p++;
        if (!read_digits(&p, 2, &ss) || !read_fraction(&p, &frac))
            return reject(s, e);
    }
    if (!read_offset(p, &off))
        return reject(s, e);
    if (year < TIME_YEAR_MIN || year > TIME_YEAR_MAX || mon < 1 || mon > 12 || day < 1 ||
        day > days_in_month(year, mon) || hh > 23 || mm > 59 || ss > 59)
        return reject(s, e);

    int64_t days = days_from_civil(year, mon, day);
    *usec_out = days * USEC_PER_DAY + hh * USEC_PER_HOUR + mm * USEC_PER_MIN + ss * USEC_PER_SEC + frac - off;
    return 0;
}

/* Writes v as exactly width decimal digits (zero-padded, v < 10^width) and returns the end. */
static char *put_digits(char *p, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

void time_format_iso8601(int64_t usec, char out[TIME_ISO_MAX])
{
    int64_t days = usec / USEC_PER_DAY, rem = usec % USEC_PER_DAY, year, secs;
    int mon, day, year_width = 4;
    char *p = out;

    if (rem < 0) {
        rem += USEC_PER_DAY;
        days--;
    }
    civil_from_days(days, &year, &mon, &day);
    if (year < 0) {
        *p++ = '-';
        year = -year; /* |year| < 300000 for any int64 usec */
    }
    for (int64_t lim = 10000; year >= lim; lim *= 10)
        year_width++;
    p = put_digits(p, year, year_width);
    *p++ = '-';
    p = put_digits(p, mon, 2);
    *p++ = '-';
    p = put_digits(p, day, 2);
    *p++ = 'T';
    secs = rem / USEC_PER_SEC;
    p = put_digits(p, secs / 3600, 2);
    *p++ = ':';
    p = put_digits(p, secs / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, secs % 60, 2);
    *p++ = '.';
    p = put_digits(p, rem % USEC_PER_SEC, TIME_USEC_DIGITS);
    *p++ = 'Z';
    *p = '\0';
}

int64_t time_now_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}
