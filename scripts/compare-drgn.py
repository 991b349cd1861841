# drgn's side of scripts/compare-crash-drgn.sh: the numbers of /proc/buddyinfo, zoneinfo's
# free pages and /proc/slabinfo's counts, from a vmcore, through drgn's helpers and the kernel's
# own structures (as mm/vmstat.c and mm/slub.c compute them). Run as
#   drgn -c CORE -s VMLINUX scripts/compare-drgn.py buddyinfo|zoneinfo|slabinfo
import sys
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.slab import for_each_slab_cache

view = sys.argv[1]
pgdat = prog["node_data"][0]
nr_zones = int(prog["MAX_NR_ZONES"]) if "MAX_NR_ZONES" in prog else len(pgdat.node_zones)
if view == "buddyinfo":
    for zone in pgdat.node_zones:
        if not zone.present_pages:
            continue
        counts = [int(area.nr_free) for area in zone.free_area]
        print("Node 0, zone %8s " % zone.name.string_().decode() + "".join("%7d" % c for c in counts))
elif view == "zoneinfo":
    free = prog.constant("NR_FREE_PAGES")
    for zone in pgdat.node_zones:
        print("zone %s free %d managed %d spanned %d present %d" % (
            zone.name.string_().decode(), zone.vm_stat[free].counter, zone.managed_pages.counter,
            zone.spanned_pages, zone.present_pages))
elif view == "slabinfo":
    nodes = int(prog["nr_node_ids"])
    for s in for_each_slab_cache(prog):
        nr_objs = nr_free = nr_slabs = 0
        for i in range(nodes):
            n = s.node[i]
            if not n:
                continue
            nr_slabs += n.nr_slabs.counter
            nr_objs += n.total_objects.counter
            for slab in list_for_each_entry("struct slab", n.partial.address_of_(), "slab_list"):
                nr_free += slab.objects - slab.inuse
        print("%s %d %d %d" % (s.name.string_().decode(), nr_objs - nr_free, nr_objs, s.size))
