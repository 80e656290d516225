#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""gen_city.py N BASE_URL [PREFIX] - an agencies.json with N ics calendars,
60 per agency (a municipality's worth), each at BASE_URL/<id>.ics.

Used by `make bench-scale` (tests/bench/bench_scale.sh) to import 10k and
100k feeds into tsunagud; the ids are deterministic so runs compare.
"""
import json
import sys

PER_AGENCY = 60


def main():
    n, base = int(sys.argv[1]), sys.argv[2].rstrip("/")
    prefix = sys.argv[3] if len(sys.argv) > 3 else "f"
    agencies = []
    for a in range((n + PER_AGENCY - 1) // PER_AGENCY):
        cals = [{"id": "%s%d" % (prefix, i), "kind": "ics", "url": "%s/%s%d.ics" % (base, prefix, i)}
                for i in range(a * PER_AGENCY, min(n, (a + 1) * PER_AGENCY))]
        agencies.append({"id": "%s-ag%d" % (prefix, a), "name": "機関%d" % a,
                         "email": "ag%d@example.org" % a, "calendars": cals})
    json.dump({"city": "規模試験市", "timezone": "Asia/Tokyo", "agencies": agencies},
              sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
