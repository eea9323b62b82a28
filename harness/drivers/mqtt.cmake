# mqtt.cmake: the MQTT driver (paho sync client, raw MQTT frames over TCP, the
# TLS probe on OpenSSL), the t.mqtt Lua binding and their unit tests.
# Included by harness/drivers/CMakeLists.txt (after modbus.cmake, which
# defines assay_drv_rawtcp).

set(ASSAY_MQTT_HARNESS ${CMAKE_CURRENT_LIST_DIR}/..)
set(ASSAY_MQTT_UNIT ${ASSAY_MQTT_HARNESS}/tests/unit)

add_library(assay_drv_mqtt STATIC
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_client.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_raw.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_log.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_conn.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_session.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_collect.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_frame.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_props.c
    ${CMAKE_CURRENT_LIST_DIR}/tlsprobe.c)
assay_target_defaults(assay_drv_mqtt)
target_include_directories(assay_drv_mqtt PUBLIC ${ASSAY_MQTT_HARNESS})
target_link_libraries(assay_drv_mqtt PUBLIC assay_core assay_drv_rawtcp
    eclipse-paho-mqtt-c::paho-mqtt3cs PkgConfig::CRYPTO)

add_library(assay_bind_mqtt STATIC ${ASSAY_MQTT_HARNESS}/lua/bind_mqtt.c)
assay_target_defaults(assay_bind_mqtt)
target_link_libraries(assay_bind_mqtt PUBLIC assay_drv_mqtt PkgConfig::LUA assay_bind_util)

# Unit tests. The test broker (a real mosquitto on a free port, with certs
# made by the openssl command line) is shared.
add_library(assay_test_mqtt_broker STATIC ${ASSAY_MQTT_UNIT}/test_mqtt_broker.c)
assay_target_defaults(assay_test_mqtt_broker)
target_link_libraries(assay_test_mqtt_broker PUBLIC assay_core)

assay_add_unit_test(NAME test_mqtt_frame SOURCES ${ASSAY_MQTT_UNIT}/test_mqtt_frame.c
    LIBS assay_drv_mqtt)
assay_add_unit_test(NAME test_mqtt SOURCES ${ASSAY_MQTT_UNIT}/test_mqtt.c
    LIBS assay_drv_mqtt assay_test_mqtt_broker)
assay_add_unit_test(NAME test_mqtt5 SOURCES ${ASSAY_MQTT_UNIT}/test_mqtt5.c
    LIBS assay_drv_mqtt assay_test_mqtt_broker)
assay_add_unit_test(NAME test_mqtt_raw SOURCES ${ASSAY_MQTT_UNIT}/test_mqtt_raw.c
    LIBS assay_drv_mqtt assay_test_mqtt_broker)
assay_add_unit_test(NAME test_mqtt_tls_hostile SOURCES ${ASSAY_MQTT_UNIT}/test_mqtt_tls_hostile.c
    LIBS assay_drv_mqtt)
assay_add_unit_test(NAME test_tlsprobe SOURCES ${ASSAY_MQTT_UNIT}/test_tlsprobe.c
    LIBS assay_drv_mqtt assay_test_mqtt_broker)
assay_add_unit_test(NAME test_mqtt_bind SOURCES ${ASSAY_MQTT_UNIT}/test_mqtt_bind.c
    LIBS assay_bind_mqtt assay_test_mqtt_broker)

# Calibration: every MQTT broker device of the demo bench (ids mqtt-*, not the
# mqttc-* client devices) gets its verdicts in fixtures/expected/demo.yaml
# (test_e2e_demo is defined in harness/tests).
add_test(NAME e2e_demo_mqtt
    COMMAND test_e2e_demo --all-covered --devices mqtt- -p etsi-en-303-645 -p uk-psti)
set_tests_properties(e2e_demo_mqtt PROPERTIES TIMEOUT 300)

# The MQTT broker test cases' judges against observations written by hand:
# every verdict each judge can give, including those no demo personality shows.
find_program(ASSAY_LUA54 NAMES lua5.4 lua54)
if(ASSAY_LUA54)
    add_test(NAME mqtt_testcase_judges
        COMMAND ${ASSAY_LUA54} ${CMAKE_SOURCE_DIR}/profiles/testcases/mqtt/tests/judges.lua
                ${CMAKE_SOURCE_DIR}/profiles)
    set_tests_properties(mqtt_testcase_judges PROPERTIES TIMEOUT 30)
endif()

# The MQTT test cases against the hostile brokers that flood a subscription and
# declare a 256 MB CONNACK (fixtures/hostile): bounded, each with a verdict and a
# reason, never stopped by the memory watchdog.
add_test(NAME e2e_mqtt_hostile
    COMMAND bash ${ASSAY_MQTT_HARNESS}/tests/e2e/test_e2e_mqtt_hostile.sh
            ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(e2e_mqtt_hostile PROPERTIES TIMEOUT 300)
