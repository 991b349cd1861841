/* The page allocator's types as Linux 6.1 declares them for x86_64 (abridged: the members
 * kmemscope reads, at their offsets, with anonymous structs and unions where Linux has them).
 * LinuxTypesTests compiles this twice — for x86_64 with DWARF and for the BPF target, which
 * emits BTF — and checks that the Linux profile learns the same layout from both. */
struct list_head { struct list_head *next, *prev; };
typedef struct { int counter; } atomic_t;
typedef struct { long counter; } atomic_long_t;

struct page {
    unsigned long flags;
    union {
        struct {
            union {
                struct list_head lru;
                struct { void *__filler; unsigned int mlock_count; };
                struct list_head buddy_list;
                struct list_head pcp_list;
            };
            void *mapping;
            unsigned long index;
            unsigned long private;
        };
        struct { unsigned long compound_head; };
    };
    union { atomic_t _mapcount; unsigned int page_type; };
    atomic_t _refcount;
    unsigned long memcg_data;
};

enum pageflags {
    PG_locked, PG_referenced, PG_uptodate, PG_dirty, PG_lru, PG_active, PG_workingset, PG_waiters,
    PG_error, PG_slab, PG_owner_priv_1, PG_arch_1, PG_reserved, PG_private, PG_private_2, PG_writeback,
    PG_head, PG_mappedtodisk, PG_reclaim, PG_swapbacked, PG_unevictable, PG_mlocked, PG_uncached,
    PG_hwpoison, PG_young, PG_idle, PG_arch_2, __NR_PAGEFLAGS,
    PG_readahead = PG_reclaim, PG_checked = PG_owner_priv_1,
};

enum migratetype {
    MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_PCPTYPES,
    MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES, MIGRATE_ISOLATE, MIGRATE_TYPES
};

enum zone_stat_item {
    NR_FREE_PAGES, NR_ZONE_LRU_BASE, NR_ZONE_INACTIVE_ANON = NR_ZONE_LRU_BASE, NR_ZONE_ACTIVE_ANON,
    NR_ZONE_INACTIVE_FILE, NR_ZONE_ACTIVE_FILE, NR_ZONE_UNEVICTABLE, NR_ZONE_WRITE_PENDING,
    NR_MLOCK, NR_BOUNCE, NR_ZSPAGES, NR_FREE_CMA_PAGES, NR_VM_ZONE_STAT_ITEMS
};

struct free_area { struct list_head free_list[MIGRATE_TYPES]; unsigned long nr_free; };

struct per_cpu_pages {
    int lock;
    int count;
    int high;
    int batch;
    short free_factor;
    short expire;
    struct list_head lists[14];
};

struct zone {
    unsigned long _watermark[4];
    unsigned long watermark_boost;
    unsigned long nr_reserved_highatomic;
    long lowmem_reserve[5];
    int node;
    void *zone_pgdat;
    struct per_cpu_pages *per_cpu_pageset;
    void *per_cpu_zonestats;
    int pageset_high;
    int pageset_batch;
    unsigned long *pageblock_flags;
    unsigned long zone_start_pfn;
    atomic_long_t managed_pages;
    unsigned long spanned_pages;
    unsigned long present_pages;
    unsigned long present_early_pages;
    unsigned long cma_pages;
    const char *name;
    unsigned long nr_isolate_pageblock;
    int initialized;
    struct free_area free_area[11];
    unsigned long flags;
    int lock;
    atomic_long_t vm_stat[NR_VM_ZONE_STAT_ITEMS];
};

struct pglist_data {
    struct zone node_zones[5];
    int nr_zones;
    unsigned long node_start_pfn;
};

struct pglist_data *node_data[64];
struct page example_page;
enum pageflags example_flag;
enum migratetype example_migratetype;
enum zone_stat_item example_stat;
struct per_cpu_pages example_pcp;
