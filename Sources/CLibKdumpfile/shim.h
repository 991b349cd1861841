#include <libkdumpfile/kdumpfile.h>
