# capture.cmake: the packet capture (libpcap) and the run's provenance (versions, host,
# clock, file digests), and their unit tests. Included from harness/CMakeLists.txt after
# assay_run and the drivers are defined. Library targets this needs are made here unless
# the including directory can already see them.

if(NOT TARGET PkgConfig::PCAP)
    pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)
endif()
if(NOT TARGET PkgConfig::ARCHIVE)
    pkg_check_modules(ARCHIVE REQUIRED IMPORTED_TARGET libarchive)
endif()
if(NOT TARGET PkgConfig::CURL)
    pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
endif()
if(NOT TARGET PkgConfig::XML2)
    pkg_check_modules(XML2 REQUIRED IMPORTED_TARGET libxml-2.0)
endif()

# The source tree's commit when the build is configured; "unknown" without git.
set(ASSAY_GIT_COMMIT "unknown")
find_package(Git QUIET)
if(GIT_FOUND)
    execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse HEAD
        WORKING_DIRECTORY ${CMAKE_CURRENT_LIST_DIR}
        OUTPUT_VARIABLE _assay_git_head OUTPUT_STRIP_TRAILING_WHITESPACE
        RESULT_VARIABLE _assay_git_rc ERROR_QUIET)
    if(_assay_git_rc EQUAL 0 AND _assay_git_head MATCHES "^[0-9a-f]+$")
        set(ASSAY_GIT_COMMIT "${_assay_git_head}")
    endif()
endif()

set(ASSAY_CAPTURE_DIR ${CMAKE_CURRENT_LIST_DIR})
set(ASSAY_CAPTURE_UNIT ${CMAKE_CURRENT_LIST_DIR}/../tests/unit)

add_library(assay_capture STATIC
    ${ASSAY_CAPTURE_DIR}/capture.c
    ${ASSAY_CAPTURE_DIR}/capture_file.c
    ${ASSAY_CAPTURE_DIR}/provenance.c
    ${ASSAY_CAPTURE_DIR}/provenance_files.c
)
assay_target_defaults(assay_capture)
target_include_directories(assay_capture PUBLIC ${ASSAY_CAPTURE_DIR}/..)
target_compile_definitions(assay_capture PRIVATE ASSAY_GIT_COMMIT="${ASSAY_GIT_COMMIT}")
# provenance.c reads the plan (assay_run) and asks every library for its version.
target_link_libraries(assay_capture PUBLIC assay_core assay_run PkgConfig::PCAP
    PkgConfig::CRYPTO PkgConfig::LUA PkgConfig::MODBUS PkgConfig::COAP PkgConfig::ARCHIVE
    PkgConfig::CURL PkgConfig::XML2 eclipse-paho-mqtt-c::paho-mqtt3cs Threads::Threads)

# Captures its own loopback traffic (root or CAP_NET_RAW; skips otherwise) and reads it
# back with tshark.
assay_add_unit_test(NAME test_capture SOURCES ${ASSAY_CAPTURE_UNIT}/test_capture.c
    LIBS assay_capture TIMEOUT 120)
assay_add_unit_test(NAME test_provenance SOURCES ${ASSAY_CAPTURE_UNIT}/test_provenance.c
    LIBS assay_capture)
# The MQTT TLS probe's key log reaches the capture: tshark decrypts the captured handshake.
assay_add_unit_test(NAME test_capture_keylog SOURCES ${ASSAY_CAPTURE_UNIT}/test_capture_keylog.c
    LIBS assay_capture assay_bind_mqtt assay_test_mqtt_broker TIMEOUT 120)
# The raw path's bytes in the transcript are the bytes in the capture (MQTT against mosquitto).
assay_add_unit_test(NAME test_capture_transcript
    SOURCES ${ASSAY_CAPTURE_UNIT}/test_capture_transcript.c
    LIBS assay_capture assay_bind_mqtt assay_test_mqtt_broker TIMEOUT 120)
