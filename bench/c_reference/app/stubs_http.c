#include "stubs.h"
OtaHttpStatus_t stub_http_init( char * url ) { g_sink = url; return ( OtaHttpStatus_t ) g_stub_ret; }
OtaHttpStatus_t stub_http_request( uint32_t s, uint32_t e ) { g_stub_ret = s + e; return ( OtaHttpStatus_t ) g_stub_ret; }
OtaHttpStatus_t stub_http_deinit( void ) { return ( OtaHttpStatus_t ) g_stub_ret; }
