#ifndef STUBS_H
#define STUBS_H
#include "ota.h"
/* Values the optimiser cannot know. */
extern volatile uint32_t g_stub_ret;
extern const volatile void * volatile g_sink;
extern OtaEventContext_t * const g_evctx;
/* OS */
OtaOsStatus_t stub_ev_init( OtaEventContext_t * p );
OtaOsStatus_t stub_ev_send( OtaEventContext_t * p, const void * m, unsigned int t );
OtaOsStatus_t stub_ev_recv( OtaEventContext_t * p, void * m, uint32_t t );
OtaOsStatus_t stub_ev_deinit( OtaEventContext_t * p );
OtaOsStatus_t stub_tm_start( OtaTimerId_t id, const char * const n, const uint32_t t, OtaTimerCallback_t cb );
OtaOsStatus_t stub_tm_stop( OtaTimerId_t id );
OtaOsStatus_t stub_tm_delete( OtaTimerId_t id );
void * stub_malloc( size_t s );
void stub_free( void * p );
/* MQTT */
OtaMqttStatus_t stub_mqtt_sub( const char * f, uint16_t l, uint8_t q );
OtaMqttStatus_t stub_mqtt_unsub( const char * f, uint16_t l, uint8_t q );
OtaMqttStatus_t stub_mqtt_pub( const char * const t, uint16_t tl, const char * m, uint32_t ml, uint8_t q );
/* HTTP */
OtaHttpStatus_t stub_http_init( char * url );
OtaHttpStatus_t stub_http_request( uint32_t s, uint32_t e );
OtaHttpStatus_t stub_http_deinit( void );
/* PAL */
OtaPalStatus_t stub_pal_abort( OtaFileContext_t * const f );
OtaPalStatus_t stub_pal_create( OtaFileContext_t * const f );
OtaPalStatus_t stub_pal_close( OtaFileContext_t * const f );
int16_t stub_pal_write( OtaFileContext_t * const f, uint32_t o, uint8_t * const d, uint32_t s );
OtaPalStatus_t stub_pal_activate( OtaFileContext_t * const f );
OtaPalStatus_t stub_pal_reset( OtaFileContext_t * const f );
OtaPalStatus_t stub_pal_setstate( OtaFileContext_t * const f, OtaImageState_t s );
OtaPalImageState_t stub_pal_getstate( OtaFileContext_t * const f );
/* App callback */
void stub_app_cb( OtaJobEvent_t e, void * d );
#endif
