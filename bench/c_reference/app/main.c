/* Stub application for measuring the OTA agent's footprint.
 * Build with -DWITH_AGENT to call the whole public API; without it the
 * image holds only the runtime, the stubs and the application buffers. */
#include "stubs.h"
#include "ota_config.h"
#include "ota_config_defaults.h"
#include "ota_private.h"            /* OtaEventMsg_t, OTA_MAX_BLOCK_BITMAP_SIZE */
#include "ota_interface_private.h"  /* OTA_DATA_OVER_HTTP */
#include "ota_appversion32.h"

/* Application buffers, sized as in the AWS demos (ota_demo_core_mqtt.c /
 * ota_demo_core_http.c) with the library's default config. */
#define APP_MAX_FILE_PATH_SIZE      ( 260U )
#define APP_MAX_STREAM_NAME_SIZE    ( 128U )
#define APP_MAX_URL_SIZE            ( 2048U )
#define APP_MAX_AUTH_SCHEME_SIZE    ( 2048U )

static uint8_t updateFilePath[ APP_MAX_FILE_PATH_SIZE ];
static uint8_t certFilePath[ APP_MAX_FILE_PATH_SIZE ];
static uint8_t streamName[ APP_MAX_STREAM_NAME_SIZE ];
static uint8_t decodeMem[ 1U << otaconfigLOG2_FILE_BLOCK_SIZE ];
static uint8_t bitmap[ OTA_MAX_BLOCK_BITMAP_SIZE ];
#if ( configENABLED_DATA_PROTOCOLS & OTA_DATA_OVER_HTTP )
static uint8_t updateUrl[ APP_MAX_URL_SIZE ];
static uint8_t authScheme[ APP_MAX_AUTH_SCHEME_SIZE ];
#endif

static OtaAppBuffer_t otaBuffer =
{
    .pUpdateFilePath    = updateFilePath,
    .updateFilePathsize = sizeof( updateFilePath ),
    .pCertFilePath      = certFilePath,
    .certFilePathSize   = sizeof( certFilePath ),
    .pStreamName        = streamName,
    .streamNameSize     = sizeof( streamName ),
    .pDecodeMemory      = decodeMem,
    .decodeMemorySize   = sizeof( decodeMem ),
    .pFileBitmap        = bitmap,
    .fileBitmapSize     = sizeof( bitmap ),
#if ( configENABLED_DATA_PROTOCOLS & OTA_DATA_OVER_HTTP )
    .pUrl               = updateUrl,
    .urlSize            = sizeof( updateUrl ),
    .pAuthScheme        = authScheme,
    .authSchemeSize     = sizeof( authScheme ),
#endif
};

static OtaInterfaces_t otaInterfaces;

static void fillInterfaces( void )
{
    otaInterfaces.os.event.init = stub_ev_init;
    otaInterfaces.os.event.send = stub_ev_send;
    otaInterfaces.os.event.recv = stub_ev_recv;
    otaInterfaces.os.event.deinit = stub_ev_deinit;
    otaInterfaces.os.event.pEventContext = g_evctx;
    otaInterfaces.os.timer.start = stub_tm_start;
    otaInterfaces.os.timer.stop = stub_tm_stop;
    otaInterfaces.os.timer.delete = stub_tm_delete;
    otaInterfaces.os.mem.malloc = stub_malloc;
    otaInterfaces.os.mem.free = stub_free;
    otaInterfaces.mqtt.subscribe = stub_mqtt_sub;
    otaInterfaces.mqtt.unsubscribe = stub_mqtt_unsub;
    otaInterfaces.mqtt.publish = stub_mqtt_pub;
    otaInterfaces.http.init = stub_http_init;
    otaInterfaces.http.request = stub_http_request;
    otaInterfaces.http.deinit = stub_http_deinit;
    otaInterfaces.pal.abort = stub_pal_abort;
    otaInterfaces.pal.createFile = stub_pal_create;
    otaInterfaces.pal.closeFile = stub_pal_close;
    otaInterfaces.pal.writeBlock = stub_pal_write;
    otaInterfaces.pal.activate = stub_pal_activate;
    otaInterfaces.pal.reset = stub_pal_reset;
    otaInterfaces.pal.setPlatformImageState = stub_pal_setstate;
    otaInterfaces.pal.getPlatformImageState = stub_pal_getstate;
}

int main( void )
{
    static const uint8_t thingName[] = "thing";

    fillInterfaces();

#ifdef WITH_AGENT
    {
        OtaAgentStatistics_t stats;
        OtaEventMsg_t msg = { 0 };

        msg.eventId = ( OtaEvent_t ) g_stub_ret;
        msg.pEventData = ( OtaEventData_t * ) ( uintptr_t ) g_sink;

        g_stub_ret = ( uint32_t ) OTA_Init( &otaBuffer, &otaInterfaces, thingName, stub_app_cb );
        g_stub_ret = ( uint32_t ) OTA_GetState();
        g_stub_ret = ( uint32_t ) OTA_CheckForUpdate();
        g_stub_ret = ( uint32_t ) OTA_Suspend();
        g_stub_ret = ( uint32_t ) OTA_Resume();
        g_stub_ret = ( uint32_t ) OTA_SetImageState( ( OtaImageState_t ) g_stub_ret );
        g_stub_ret = ( uint32_t ) OTA_GetImageState();
        g_stub_ret = ( uint32_t ) OTA_GetStatistics( &stats );
        g_sink = &stats;
        g_stub_ret = ( uint32_t ) OTA_SignalEvent( &msg );
        g_stub_ret = ( uint32_t ) OTA_EventProcess();
        OTA_EventProcessingTask( NULL );
        g_stub_ret = ( uint32_t ) OTA_ActivateNewImage();
        g_stub_ret = ( uint32_t ) OTA_Shutdown( g_stub_ret, ( uint8_t ) g_stub_ret );
    #ifdef WITH_STRERROR
        g_sink = OTA_Err_strerror( ( OtaErr_t ) g_stub_ret );
        g_sink = OTA_JobParse_strerror( ( OtaJobParseErr_t ) g_stub_ret );
        g_sink = OTA_PalStatus_strerror( ( OtaPalMainStatus_t ) g_stub_ret );
        g_sink = OTA_OsStatus_strerror( ( OtaOsStatus_t ) g_stub_ret );
    #endif
    }
#else
    /* Keep the same stubs, buffers and version record without the agent. */
    g_sink = &otaBuffer;
    g_sink = &otaInterfaces;
    g_sink = thingName;
    g_sink = ( const void * ) stub_app_cb;
    g_sink = &appFirmwareVersion;
    g_sink = OTA_JsonFileSignatureKey;
#endif

    for( ; ; )
    {
    }
}
