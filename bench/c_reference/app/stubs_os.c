#include "stubs.h"
OtaOsStatus_t stub_ev_init( OtaEventContext_t * p ) { g_sink = p; return ( OtaOsStatus_t ) g_stub_ret; }
OtaOsStatus_t stub_ev_send( OtaEventContext_t * p, const void * m, unsigned int t ) { g_sink = p; g_sink = m; g_stub_ret = t; return ( OtaOsStatus_t ) g_stub_ret; }
OtaOsStatus_t stub_ev_recv( OtaEventContext_t * p, void * m, uint32_t t ) { g_sink = p; g_sink = m; g_stub_ret = t; return ( OtaOsStatus_t ) g_stub_ret; }
OtaOsStatus_t stub_ev_deinit( OtaEventContext_t * p ) { g_sink = p; return ( OtaOsStatus_t ) g_stub_ret; }
OtaOsStatus_t stub_tm_start( OtaTimerId_t id, const char * const n, const uint32_t t, OtaTimerCallback_t cb ) { g_stub_ret = id; g_sink = n; g_stub_ret = t; g_sink = ( const void * ) cb; return ( OtaOsStatus_t ) g_stub_ret; }
OtaOsStatus_t stub_tm_stop( OtaTimerId_t id ) { g_stub_ret = id; return ( OtaOsStatus_t ) g_stub_ret; }
OtaOsStatus_t stub_tm_delete( OtaTimerId_t id ) { g_stub_ret = id; return ( OtaOsStatus_t ) g_stub_ret; }
void * stub_malloc( size_t s ) { g_stub_ret = s; return ( void * ) ( uintptr_t ) g_sink; }
void stub_free( void * p ) { g_sink = p; }
