/* SPDX-License-Identifier: MIT */
/*
 * holidays.h - Japanese public holidays computed by the rules of the
 * 国民の祝日に関する法律 (fixed days, Happy Monday days, equinoxes,
 * 振替休日 and 国民の休日), plus a small table of one-off statutory
 * changes (2019 enthronement, 2020/2021 Olympic moves).
 */
#ifndef TSUNAGU_HOLIDAYS_H
#define TSUNAGU_HOLIDAYS_H

#include <stdbool.h>
#include <stdint.h>

/* day is a civil day number (timeutil.h).  On true, *name (if non-NULL)
 * is the holiday's Japanese name, e.g. "元日", "振替休日". */
bool jp_holiday(int64_t day, const char **name);

#endif
