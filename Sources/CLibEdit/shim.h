// Debian's libedit (libedit-dev): line editing, history and completion through its
// readline-compatible interface.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <editline/readline.h>

// Setters and getters for libedit's globals: Swift 6 refuses to touch imported mutable
// C globals directly (they are shared mutable state); the console uses them on one thread.
static inline void kmem_editline_setup(const char *name, rl_completion_func_t *complete) {
    rl_readline_name = name;
    // libedit's own signal handlers re-raise with kill(0, sig): the whole process group (the
    // shell that started kmemscope too). kmemscope's handlers take the signals instead.
    rl_catch_signals = 0;
    rl_attempted_completion_function = complete;
}
static inline void kmem_editline_completion_over(void) { rl_attempted_completion_over = 1; }
static inline const char *kmem_editline_line_buffer(void) { return rl_line_buffer; }
