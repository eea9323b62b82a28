# surface.cmake: the attack-surface scan (TCP connect scan and CoAP UDP ping),
# the t.surface Lua binding and their unit test. Included by
# harness/drivers/CMakeLists.txt. rawtcp comes from modbus.cmake.

add_library(assay_drv_tcpscan STATIC ${CMAKE_CURRENT_LIST_DIR}/tcpscan.c)
assay_target_defaults(assay_drv_tcpscan)
target_include_directories(assay_drv_tcpscan PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(assay_drv_tcpscan PUBLIC assay_core assay_drv_rawtcp)

add_library(assay_bind_surface STATIC ${CMAKE_CURRENT_LIST_DIR}/../lua/bind_surface.c)
assay_target_defaults(assay_bind_surface)
target_include_directories(assay_bind_surface PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(assay_bind_surface PUBLIC assay_drv_tcpscan PkgConfig::LUA assay_bind_util)

assay_add_unit_test(NAME test_tcpscan
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/../tests/unit/test_tcpscan.c
    LIBS assay_bind_surface Threads::Threads)

# surface.tcp-scan's judge against scans written by hand.
find_program(ASSAY_LUA54 NAMES lua5.4 lua54)
if(ASSAY_LUA54)
    add_test(NAME surface_testcase_judges
        COMMAND ${ASSAY_LUA54} ${CMAKE_SOURCE_DIR}/profiles/testcases/surface/tests/judges.lua
                ${CMAKE_SOURCE_DIR}/profiles)
    set_tests_properties(surface_testcase_judges PROPERTIES TIMEOUT 30)
endif()
