# labbroker.cmake: the lab's own MQTT broker for MQTT client devices (mosquitto
# started per test case, its recording plugin, certificates), the CONNACK-3
# refuser, the t.labbroker Lua binding, their unit tests and the calibration of
# the MQTT client devices. Included by harness/drivers/CMakeLists.txt after
# mqtt.cmake (assay_drv_mqtt, assay_bind_mqtt).

set(ASSAY_LB_HARNESS ${CMAKE_CURRENT_LIST_DIR}/..)
set(ASSAY_LB_UNIT ${ASSAY_LB_HARNESS}/tests/unit)

# The recording plugin, loaded into Debian's mosquitto (not built with
# sanitizers): warnings only, no sanitizer flags.
add_library(labbroker_plugin MODULE ${CMAKE_CURRENT_LIST_DIR}/labbroker_plugin.c)
set_target_properties(labbroker_plugin PROPERTIES PREFIX "")
target_compile_options(labbroker_plugin PRIVATE -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow
    -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wwrite-strings
    $<$<BOOL:${ASSAY_WERROR}>:-Werror>)
target_compile_definitions(labbroker_plugin PRIVATE _POSIX_C_SOURCE=200809L)

add_library(assay_drv_labbroker STATIC
    ${CMAKE_CURRENT_LIST_DIR}/labbroker.c
    ${CMAKE_CURRENT_LIST_DIR}/labbroker_record.c
    ${CMAKE_CURRENT_LIST_DIR}/labbroker_certs.c
    ${CMAKE_CURRENT_LIST_DIR}/mqtt_refuser.c)
assay_target_defaults(assay_drv_labbroker)
target_include_directories(assay_drv_labbroker PUBLIC ${ASSAY_LB_HARNESS})
target_compile_definitions(assay_drv_labbroker PRIVATE
    ASSAY_LABBROKER_PLUGIN="$<TARGET_FILE:labbroker_plugin>")
target_link_libraries(assay_drv_labbroker PUBLIC assay_core assay_drv_mqtt PkgConfig::CRYPTO)
add_dependencies(assay_drv_labbroker labbroker_plugin)

if(EXISTS ${ASSAY_LB_HARNESS}/lua/bind_labbroker.c)
    add_library(assay_bind_labbroker STATIC ${ASSAY_LB_HARNESS}/lua/bind_labbroker.c)
    assay_target_defaults(assay_bind_labbroker)
    target_link_libraries(assay_bind_labbroker PUBLIC assay_drv_labbroker PkgConfig::LUA assay_bind_util)
endif()

# Unit tests: real mosquitto processes; certificates from the openssl command line.
foreach(_t test_labbroker test_labbroker_refuser)
    if(EXISTS ${ASSAY_LB_UNIT}/${_t}.c)
        assay_add_unit_test(NAME ${_t} SOURCES ${ASSAY_LB_UNIT}/${_t}.c
            LIBS assay_drv_labbroker assay_test_mqtt_broker TIMEOUT 120)
    endif()
endforeach()
if(TARGET assay_bind_labbroker AND EXISTS ${ASSAY_LB_UNIT}/test_labbroker_bind.c)
    assay_add_unit_test(NAME test_labbroker_bind SOURCES ${ASSAY_LB_UNIT}/test_labbroker_bind.c
        LIBS assay_bind_labbroker assay_test_mqtt_broker TIMEOUT 120)
endif()

# Calibration of the MQTT client devices against fixtures/expected/demo.yaml
# (test_e2e_demo is defined in harness/tests; it runs only the mqttc- devices).
# A client device may first have to wait out the end of its back-off (up to
# 72 s, see testcases/mqtt/client_1_session.lua); measured: 41 s.
add_test(NAME e2e_demo_mqtt_client
    COMMAND test_e2e_demo --all-covered --devices mqttc- -p etsi-en-303-645 -p uk-psti)
set_tests_properties(e2e_demo_mqtt_client PROPERTIES TIMEOUT 300)
