# hostile.cmake: hostile devices (a product that attacks the tool testing it),
# the hostile bench's end-to-end test and the fuzz targets of the device-reply
# parsers. Included at the end of harness/tests/CMakeLists.txt.

set(ASSAY_HOSTILE_FIXTURES ${CMAKE_SOURCE_DIR}/fixtures)

# The hostile device lives with the other fixtures (benchd and the bench scripts
# look for programs in <build>/fixtures).
add_executable(hostile-device ${ASSAY_HOSTILE_FIXTURES}/hostile-device.c
    ${ASSAY_HOSTILE_FIXTURES}/hostile/modbus.c ${ASSAY_HOSTILE_FIXTURES}/hostile/mqtt.c
    ${ASSAY_HOSTILE_FIXTURES}/hostile/coap.c)
assay_target_defaults(hostile-device)
target_include_directories(hostile-device PRIVATE ${ASSAY_HOSTILE_FIXTURES})
set_target_properties(hostile-device PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fixtures)
