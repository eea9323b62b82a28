# documents.cmake: the documentary drivers (the HTML reader on libxml2, the
# RFC 9116 security.txt parser, the page fetcher on libcurl), the t.documents
# Lua binding, their unit tests, the fuzz-corpus replays and (with clang) the
# libFuzzer targets. Included by harness/drivers/CMakeLists.txt.

pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(XML2 REQUIRED IMPORTED_TARGET libxml-2.0)

set(ASSAY_DOC_TESTS ${CMAKE_CURRENT_LIST_DIR}/../tests)

# Pure parsers: no network, no clock.
add_library(assay_docparse STATIC
    ${CMAKE_CURRENT_LIST_DIR}/page.c
    ${CMAKE_CURRENT_LIST_DIR}/securitytxt.c)
assay_target_defaults(assay_docparse)
target_include_directories(assay_docparse PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(assay_docparse PUBLIC assay_core PkgConfig::XML2)

add_library(assay_drv_http STATIC ${CMAKE_CURRENT_LIST_DIR}/http.c)
assay_target_defaults(assay_drv_http)
target_include_directories(assay_drv_http PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(assay_drv_http PUBLIC assay_core PkgConfig::CURL)

add_library(assay_bind_documents STATIC ${CMAKE_CURRENT_LIST_DIR}/../lua/bind_documents.c)
assay_target_defaults(assay_bind_documents)
target_include_directories(assay_bind_documents PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
target_link_libraries(assay_bind_documents PUBLIC assay_docparse assay_drv_http PkgConfig::LUA assay_bind_util
    PkgConfig::JANSSON PkgConfig::CRYPTO)

assay_add_unit_test(NAME test_page SOURCES ${ASSAY_DOC_TESTS}/unit/test_page.c
    LIBS assay_docparse)
assay_add_unit_test(NAME test_securitytxt SOURCES ${ASSAY_DOC_TESTS}/unit/test_securitytxt.c
    LIBS assay_docparse)
assay_add_unit_test(NAME test_http SOURCES ${ASSAY_DOC_TESTS}/unit/test_http.c
    LIBS assay_bind_documents Threads::Threads)

foreach(_f page securitytxt)
    add_executable(${_f}_corpus_replay ${ASSAY_DOC_TESTS}/fuzz/fuzz_${_f}.c
        ${ASSAY_DOC_TESTS}/fuzz/replay_main.c)
    assay_target_defaults(${_f}_corpus_replay)
    target_link_libraries(${_f}_corpus_replay PRIVATE assay_docparse)
    add_test(NAME ${_f}_corpus_replay
        COMMAND ${_f}_corpus_replay ${ASSAY_DOC_TESTS}/fuzz/${_f}_corpus)
    set_tests_properties(${_f}_corpus_replay PROPERTIES TIMEOUT 60)
    if(CMAKE_C_COMPILER_ID STREQUAL "Clang")
        add_executable(fuzz_${_f} ${ASSAY_DOC_TESTS}/fuzz/fuzz_${_f}.c
            ${CMAKE_CURRENT_LIST_DIR}/${_f}.c ${CMAKE_CURRENT_LIST_DIR}/../core/error.c)
        target_include_directories(fuzz_${_f} PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
        target_link_libraries(fuzz_${_f} PRIVATE PkgConfig::XML2)
        target_compile_options(fuzz_${_f} PRIVATE -fsanitize=fuzzer,address,undefined)
        target_link_options(fuzz_${_f} PRIVATE -fsanitize=fuzzer,address,undefined)
    endif()
endforeach()

# The documentary test cases' judges against crafted observations and dossiers.
find_program(ASSAY_LUA54 NAMES lua5.4 lua54)
if(ASSAY_LUA54)
    add_test(NAME documents_testcase_judges
        COMMAND ${ASSAY_LUA54} ${CMAKE_SOURCE_DIR}/profiles/testcases/documents/tests/judges.lua
                ${CMAKE_SOURCE_DIR}/profiles)
    set_tests_properties(documents_testcase_judges PROPERTIES TIMEOUT 30)
endif()
