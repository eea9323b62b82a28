# modbus.cmake: the Modbus/TCP driver, the raw TCP client, the t.modbus Lua
# binding and their unit tests. Included by drivers/CMakeLists.txt.

set(ASSAY_HARNESS_DIR ${CMAKE_CURRENT_LIST_DIR}/..)

# A small TCP client with deadlines and byte caps, for any driver's raw path.
add_library(assay_drv_rawtcp STATIC ${CMAKE_CURRENT_LIST_DIR}/rawtcp.c)
assay_target_defaults(assay_drv_rawtcp)
target_link_libraries(assay_drv_rawtcp PUBLIC assay_core)

add_library(assay_drv_modbus STATIC
    ${CMAKE_CURRENT_LIST_DIR}/modbus.c
    ${CMAKE_CURRENT_LIST_DIR}/modbus_frame.c
    ${CMAKE_CURRENT_LIST_DIR}/modbus_parse.c
)
assay_target_defaults(assay_drv_modbus)
target_link_libraries(assay_drv_modbus PUBLIC assay_core assay_drv_rawtcp PkgConfig::MODBUS
    Threads::Threads)

add_library(assay_bind_modbus STATIC ${ASSAY_HARNESS_DIR}/lua/bind_modbus.c)
assay_target_defaults(assay_bind_modbus)
target_link_libraries(assay_bind_modbus PUBLIC assay_drv_modbus PkgConfig::LUA)

# Unit tests. The test server (a libmodbus server in a thread) is shared.
set(ASSAY_UNIT_DIR ${ASSAY_HARNESS_DIR}/tests/unit)
add_library(assay_test_modbus_server STATIC ${ASSAY_UNIT_DIR}/test_modbus_server.c)
assay_target_defaults(assay_test_modbus_server)
target_link_libraries(assay_test_modbus_server PUBLIC assay_core PkgConfig::MODBUS Threads::Threads)

assay_add_unit_test(NAME test_rawtcp SOURCES ${ASSAY_UNIT_DIR}/test_rawtcp.c
    LIBS assay_drv_rawtcp assay_test_modbus_server)
assay_add_unit_test(NAME test_modbus SOURCES ${ASSAY_UNIT_DIR}/test_modbus.c
    LIBS assay_drv_modbus assay_test_modbus_server)
assay_add_unit_test(NAME test_modbus_parse SOURCES ${ASSAY_UNIT_DIR}/test_modbus_parse.c
    LIBS assay_drv_modbus)
assay_add_unit_test(NAME test_modbus_bind SOURCES ${ASSAY_UNIT_DIR}/test_modbus_bind.c
    LIBS assay_bind_modbus assay_test_modbus_server)

# Calibration of the Modbus/TCP test cases against the demo bench's Modbus devices
# (fixtures/expected/demo.yaml). The target is defined in harness/tests.
add_test(NAME e2e_demo_modbus COMMAND test_e2e_demo --all-covered --devices modbus- -p etsi-en-303-645
    -p uk-psti)
set_tests_properties(e2e_demo_modbus PROPERTIES TIMEOUT 300)

# The judges of profiles/testcases/modbus on crafted observations (every verdict they can give).
assay_add_unit_test(NAME test_modbus_testcases SOURCES ${ASSAY_UNIT_DIR}/test_modbus_testcases.c
    LIBS assay_lua)
