#include "serve_internal.h"
void emu_mb2_serve(emu_conn_t *c) { (void)c; }
