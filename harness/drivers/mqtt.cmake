# mqtt.cmake: the MQTT driver (paho sync client, raw MQTT frames over TCP, the
# TLS probe on OpenSSL), the t.mqtt Lua binding and their unit tests.
# Included by harness/drivers/CMakeLists.txt (after modbus.cmake, which
# defines assay_drv_rawtcp).

set(ASSAY_MQTT_HARNESS ${CMAKE_CURRENT_LIST_DIR}/..)
set(ASSAY_MQTT_UNIT ${ASSAY_MQTT_HARNESS}/tests/unit)

add_library(assay_drv_mqtt STATIC
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_client.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_raw.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_frame.c
    ${CMAKE_CURRENT_LIST_DIR}/tlsprobe.c)
assay_target_defaults(assay_drv_mqtt)
target_include_directories(assay_drv_mqtt PUBLIC ${ASSAY_MQTT_HARNESS})
target_link_libraries(assay_drv_mqtt PUBLIC assay_core assay_drv_rawtcp
    eclipse-paho-mqtt-c::paho-mqtt3cs PkgConfig::CRYPTO)

add_library(assay_bind_mqtt STATIC ${ASSAY_MQTT_HARNESS}/lua/bind_mqtt.c)
assay_target_defaults(assay_bind_mqtt)
target_link_libraries(assay_bind_mqtt PUBLIC assay_drv_mqtt PkgConfig::LUA)

# Unit tests. The test broker (a real mosquitto on a free port, with certs
# made by the openssl command line) is shared.
add_library(assay_test_mqtt_broker STATIC ${ASSAY_MQTT_UNIT}/test_mqtt_broker.c)
assay_target_defaults(assay_test_mqtt_broker)
target_link_libraries(assay_test_mqtt_broker PUBLIC assay_core)

assay_add_unit_test(NAME test_mqtt_frame SOURCES ${ASSAY_MQTT_UNIT}/test_mqtt_frame.c
    LIBS assay_drv_mqtt)
assay_add_unit_test(NAME test_mqtt SOURCES ${ASSAY_MQTT_UNIT}/test_mqtt.c
    LIBS assay_drv_mqtt assay_test_mqtt_broker)
assay_add_unit_test(NAME test_mqtt_raw SOURCES ${ASSAY_MQTT_UNIT}/test_mqtt_raw.c
    LIBS assay_drv_mqtt assay_test_mqtt_broker)
assay_add_unit_test(NAME test_tlsprobe SOURCES ${ASSAY_MQTT_UNIT}/test_tlsprobe.c
    LIBS assay_drv_mqtt assay_test_mqtt_broker)
assay_add_unit_test(NAME test_mqtt_bind SOURCES ${ASSAY_MQTT_UNIT}/test_mqtt_bind.c
    LIBS assay_bind_mqtt assay_test_mqtt_broker)
