# hostile.cmake: hostile devices (a product that attacks the tool testing it),
# the hostile bench's end-to-end test and the fuzz targets of the device-reply
# parsers. Included at the end of harness/tests/CMakeLists.txt.

set(ASSAY_HOSTILE_FIXTURES ${CMAKE_SOURCE_DIR}/fixtures)

# The hostile device lives with the other fixtures (benchd and the bench scripts
# look for programs in <build>/fixtures).
add_executable(hostile-device ${ASSAY_HOSTILE_FIXTURES}/hostile-device.c
    ${ASSAY_HOSTILE_FIXTURES}/hostile/modbus.c ${ASSAY_HOSTILE_FIXTURES}/hostile/mqtt.c
    ${ASSAY_HOSTILE_FIXTURES}/hostile/coap.c ${ASSAY_HOSTILE_FIXTURES}/fixture-util.c)
assay_target_defaults(hostile-device)
target_include_directories(hostile-device PRIVATE ${ASSAY_HOSTILE_FIXTURES})
set_target_properties(hostile-device PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fixtures)

# Fuzz corpora of the device-reply parsers, replayed with the ordinary compiler
# (replay_main.c): Modbus identification / server id, and MQTT packets read on
# the raw path. scripts/fuzz runs the libFuzzer builds.
set(ASSAY_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
add_executable(modbus_ident_corpus_replay ${ASSAY_FUZZ_DIR}/fuzz_modbus_ident.c
    ${ASSAY_FUZZ_DIR}/replay_main.c)
assay_target_defaults(modbus_ident_corpus_replay)
target_link_libraries(modbus_ident_corpus_replay PRIVATE assay_drv_modbus)
add_test(NAME modbus_ident_corpus_replay
    COMMAND modbus_ident_corpus_replay ${ASSAY_FUZZ_DIR}/modbus_ident_corpus)

add_executable(mqtt_raw_corpus_replay ${ASSAY_FUZZ_DIR}/fuzz_mqtt_raw.c
    ${ASSAY_FUZZ_DIR}/replay_main.c)
assay_target_defaults(mqtt_raw_corpus_replay)
target_link_libraries(mqtt_raw_corpus_replay PRIVATE assay_drv_mqtt)
add_test(NAME mqtt_raw_corpus_replay
    COMMAND mqtt_raw_corpus_replay ${ASSAY_FUZZ_DIR}/mqtt_raw_corpus)
set_tests_properties(modbus_ident_corpus_replay mqtt_raw_corpus_replay PROPERTIES TIMEOUT 60)

# The hostile bench end to end: no crash, no ERROR, deadlines held, the
# well-behaved device unaffected, report.html inert, worker memory per device.
add_test(NAME e2e_hostile COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/test_e2e_hostile.sh
    ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} ${ASSAY_SANITIZE})
set_tests_properties(e2e_hostile PROPERTIES TIMEOUT 900)
