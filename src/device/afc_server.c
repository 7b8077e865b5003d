#include "serve_internal.h"
void emu_afc_serve(emu_conn_t *c) { (void)c; }
