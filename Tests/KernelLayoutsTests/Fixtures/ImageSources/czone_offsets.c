// Host program printing the true offsets of czone.c's struct c_zone (offsetof), for the tests.
#include <stddef.h>
#include <stdio.h>
#include "czone.c"
#define P(m) printf("%s %zu\n", #m, offsetof(struct c_zone, m))
int main(void) {
    printf("sizeof %zu\n", sizeof(struct c_zone));
    P(name); P(free); P(lists); P(flags); P(order); P(state); P(head);
    printf("enum C_FREE %d\nenum C_USED %d\nenum C_GONE %d\n", C_FREE, C_USED, C_GONE);
    return 0;
}
