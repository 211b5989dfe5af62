#include "stubs.h"
OtaPalStatus_t stub_pal_abort( OtaFileContext_t * const f ) { g_sink = f; return g_stub_ret; }
OtaPalStatus_t stub_pal_create( OtaFileContext_t * const f ) { g_sink = f; return g_stub_ret; }
OtaPalStatus_t stub_pal_close( OtaFileContext_t * const f ) { g_sink = f; return g_stub_ret; }
int16_t stub_pal_write( OtaFileContext_t * const f, uint32_t o, uint8_t * const d, uint32_t s ) { g_sink = f; g_sink = d; g_stub_ret = o + s; return ( int16_t ) g_stub_ret; }
OtaPalStatus_t stub_pal_activate( OtaFileContext_t * const f ) { g_sink = f; return g_stub_ret; }
OtaPalStatus_t stub_pal_reset( OtaFileContext_t * const f ) { g_sink = f; return g_stub_ret; }
OtaPalStatus_t stub_pal_setstate( OtaFileContext_t * const f, OtaImageState_t s ) { g_sink = f; g_stub_ret = s; return g_stub_ret; }
OtaPalImageState_t stub_pal_getstate( OtaFileContext_t * const f ) { g_sink = f; return ( OtaPalImageState_t ) g_stub_ret; }
