// What the Embedded Swift runtime needs once a class exists (FixtureNode), never called:
// the fixture image is read, not run.
typedef unsigned long size_t;
int posix_memalign(void **out, size_t alignment, size_t size) { (void)alignment; (void)size; *out = 0; return 12; }
void free(void *p) { (void)p; }
