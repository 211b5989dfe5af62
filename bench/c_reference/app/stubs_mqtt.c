#include "stubs.h"
OtaMqttStatus_t stub_mqtt_sub( const char * f, uint16_t l, uint8_t q ) { g_sink = f; g_stub_ret = l + q; return ( OtaMqttStatus_t ) g_stub_ret; }
OtaMqttStatus_t stub_mqtt_unsub( const char * f, uint16_t l, uint8_t q ) { g_sink = f; g_stub_ret = l + q; return ( OtaMqttStatus_t ) g_stub_ret; }
OtaMqttStatus_t stub_mqtt_pub( const char * const t, uint16_t tl, const char * m, uint32_t ml, uint8_t q ) { g_sink = t; g_sink = m; g_stub_ret = tl + ml + q; return ( OtaMqttStatus_t ) g_stub_ret; }
