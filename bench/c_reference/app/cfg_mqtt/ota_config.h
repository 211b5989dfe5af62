/* Minimal application config: library defaults (ota_config_defaults.h),
 * i.e. control over MQTT, data over MQTT only. */
#ifndef OTA_CONFIG_H_
#define OTA_CONFIG_H_
#endif
