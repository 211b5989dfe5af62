/* Minimal application config: library defaults plus both data protocols.
 * configENABLED_DATA_PROTOCOLS is the library's option name (the defaults
 * enable OTA_DATA_OVER_MQTT only); primary protocol stays MQTT (default). */
#ifndef OTA_CONFIG_H_
#define OTA_CONFIG_H_
#define configENABLED_DATA_PROTOCOLS    ( OTA_DATA_OVER_MQTT | OTA_DATA_OVER_HTTP )
#endif
