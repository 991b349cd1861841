// The C side of the fixture image: a C struct with arrays, pointers and an enum.
struct c_list { struct c_list *next, *prev; };
enum c_state { C_FREE = 1, C_USED = 5, C_GONE = -2 };
struct c_zone {
    char name[12];
    unsigned long free;
    struct c_list lists[3];
    unsigned short flags;
    unsigned char order;
    enum c_state state;
    const struct c_list *head;
};
struct c_zone c_zones[2];
int c_touch(void) { return c_zones[0].order + c_zones[1].flags; }
