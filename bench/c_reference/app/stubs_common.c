#include "stubs.h"
#include "ota_appversion32.h"
volatile uint32_t g_stub_ret;
const volatile void * volatile g_sink;
static uint32_t s_evctx_storage[ 4 ];
OtaEventContext_t * const g_evctx = ( OtaEventContext_t * ) s_evctx_storage;
/* Application-supplied firmware version the agent links against. */
const AppVersion32_t appFirmwareVersion = { .u.x = { .major = 1, .minor = 0, .build = 0 } };
void stub_app_cb( OtaJobEvent_t e, void * d ) { g_sink = d; g_stub_ret = ( uint32_t ) e; }
/* Application/PAL-supplied job-document key for the file signature (as the
 * AWS PAL ports define it). */
const char OTA_JsonFileSignatureKey[ OTA_FILE_SIG_KEY_STR_MAX_LENGTH ] = "sig-sha256-ecdsa";
