# coap.cmake: the CoAP driver (libcoap), the RFC 6690 link-format parser, the
# t.coap Lua binding, their unit tests, the fuzz-corpus replay and (with clang)
# the libFuzzer target. Included by harness/drivers/CMakeLists.txt.

set(ASSAY_COAP_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/../tests)

# The link-format parser is pure and has no libcoap dependency.
add_library(assay_linkformat STATIC ${CMAKE_CURRENT_SOURCE_DIR}/linkformat.c)
assay_target_defaults(assay_linkformat)
target_include_directories(assay_linkformat PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/..)
target_link_libraries(assay_linkformat PUBLIC assay_core)

assay_add_unit_test(NAME test_linkformat
    SOURCES ${ASSAY_COAP_TESTS}/unit/test_linkformat.c
    LIBS assay_linkformat)

# Replays the fuzz corpus through the parser with the ordinary compiler, so
# every input the fuzzer ever found interesting stays in the default test run.
add_executable(linkformat_corpus_replay
    ${ASSAY_COAP_TESTS}/fuzz/fuzz_linkformat.c
    ${ASSAY_COAP_TESTS}/fuzz/replay_main.c)
assay_target_defaults(linkformat_corpus_replay)
target_link_libraries(linkformat_corpus_replay PRIVATE assay_linkformat)
add_test(NAME linkformat_corpus_replay
    COMMAND linkformat_corpus_replay ${ASSAY_COAP_TESTS}/fuzz/linkformat_corpus)
set_tests_properties(linkformat_corpus_replay PROPERTIES TIMEOUT 60)

# The driver: libcoap requests, DTLS probes and the raw UDP path.
add_library(assay_drv_coap STATIC
    ${CMAKE_CURRENT_SOURCE_DIR}/coap_cert.c
    ${CMAKE_CURRENT_SOURCE_DIR}/coap_client.c
    ${CMAKE_CURRENT_SOURCE_DIR}/coap_dtls.c
    ${CMAKE_CURRENT_SOURCE_DIR}/coap_pdu.c
    ${CMAKE_CURRENT_SOURCE_DIR}/coap_pool.c
    ${CMAKE_CURRENT_SOURCE_DIR}/coap_raw.c)
assay_target_defaults(assay_drv_coap)
target_include_directories(assay_drv_coap PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/..)
target_link_libraries(assay_drv_coap PUBLIC assay_core assay_linkformat PkgConfig::COAP PkgConfig::CRYPTO
    PRIVATE Threads::Threads)

assay_add_unit_test(NAME test_coap
    SOURCES ${ASSAY_COAP_TESTS}/unit/test_coap.c ${ASSAY_COAP_TESTS}/unit/test_coap_server.c
    LIBS assay_drv_coap)

assay_add_unit_test(NAME test_coap_pool
    SOURCES ${ASSAY_COAP_TESTS}/unit/test_coap_pool.c ${ASSAY_COAP_TESTS}/unit/test_coap_server.c
    LIBS assay_drv_coap Threads::Threads)

# The t.coap Lua binding.
add_library(assay_bind_coap STATIC ${CMAKE_CURRENT_SOURCE_DIR}/../lua/bind_coap.c)
assay_target_defaults(assay_bind_coap)
target_include_directories(assay_bind_coap PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/..)
target_link_libraries(assay_bind_coap PUBLIC assay_drv_coap PkgConfig::LUA assay_bind_util)

assay_add_unit_test(NAME test_coap_bind
    SOURCES ${ASSAY_COAP_TESTS}/unit/test_coap_bind.c ${ASSAY_COAP_TESTS}/unit/test_coap_server.c
    LIBS assay_bind_coap)

# The DTLS certificate probe and its binding, against servers with a test PKI.
assay_add_unit_test(NAME test_coap_pki
    SOURCES ${ASSAY_COAP_TESTS}/unit/test_coap_pki.c ${ASSAY_COAP_TESTS}/unit/test_coap_server.c
            ${ASSAY_COAP_TESTS}/unit/test_coap_certs.c
    LIBS assay_bind_coap PkgConfig::CRYPTO)

# The libFuzzer target, when the compiler is clang (scripts/fuzz builds it with any toolchain).
if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
    add_executable(fuzz_linkformat ${ASSAY_COAP_TESTS}/fuzz/fuzz_linkformat.c
        ${CMAKE_CURRENT_SOURCE_DIR}/linkformat.c ${CMAKE_CURRENT_SOURCE_DIR}/../core/error.c)
    target_include_directories(fuzz_linkformat PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/..)
    target_compile_options(fuzz_linkformat PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(fuzz_linkformat PRIVATE -fsanitize=fuzzer,address,undefined)
endif()

# Calibration: every CoAP device of the demo bench gets its verdicts in
# fixtures/expected/demo.yaml (test_e2e_demo is defined in harness/tests).
add_test(NAME e2e_demo_coap
    COMMAND test_e2e_demo --all-covered --devices coap- -p etsi-en-303-645 -p uk-psti)
set_tests_properties(e2e_demo_coap PROPERTIES TIMEOUT 300)

# The CoAP test cases' judges against observations written by hand: every
# verdict each judge can give, including FAILs no demo personality shows.
find_program(ASSAY_LUA54 NAMES lua5.4 lua54)
if(ASSAY_LUA54)
    add_test(NAME coap_testcase_judges
        COMMAND ${ASSAY_LUA54} ${CMAKE_SOURCE_DIR}/profiles/testcases/coap/tests/judges.lua
                ${CMAKE_SOURCE_DIR}/profiles)
    set_tests_properties(coap_testcase_judges PROPERTIES TIMEOUT 30)
endif()
