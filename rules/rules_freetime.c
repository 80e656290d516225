/* SPDX-License-Identifier: MIT */
/*
 * rules_freetime.c - free working minutes, the data behind tie-break 2
 * ("more free working minutes in the next 10 business days").
 *
 * DESIGN: counted on the N business days after today, inside the agency's
 * hours, as time when the agency could attend under its `need` rule, with
 * no travel padding.  With n calendars and need k, the agency cannot
 * attend while at least n-k+1 calendars are busy; that set comes from one
 * counting sweep (ivset_at_least), and each working window subtracts it.
 */
#include "rules.h"

int64_t rules_free_working_minutes(const city_t *city, const agency_t *a,
                                   const ivset_t *const *busy, size_t nbusy,
                                   int64_t now, int days)
{
    const tz_t *tz = city && city->tz ? city->tz : tz_default();
    size_t need = a->need < 1 ? 1 : (size_t)a->need;
    ivset_t blocked;
    ivset_init(&blocked);
    if (nbusy > 0 && need <= nbusy)
        ivset_at_least(&blocked, busy, nbusy, nbusy - need + 1);
    int64_t day = tz_local_day(tz, now, NULL), total = 0;
    bool never = nbusy > 0 && need > nbusy;   /* can never gather `need` staff */
    for (int found = 0, guard = 0; found < days && guard < days * 7 + 60; guard++) {
        day++;
        if (!city_is_business_day(city, a, day))
            continue;
        found++;
        int wd = weekday_of_day(day);
        if (!a->hours.open[wd] || never)
            continue;
        int64_t from = tz_local_to_utc(tz, day, a->hours.start[wd]);
        int64_t to = tz_local_to_utc(tz, day, a->hours.end[wd]);
        ivset_t win;
        ivset_init(&win);
        ivset_copy(&win, &blocked);
        ivset_clip(&win, from, to);
        total += (to - from) - ivset_total(&win);
        ivset_free(&win);
    }
    ivset_free(&blocked);
    return total / 60;
}
