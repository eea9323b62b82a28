# report.cmake: the HTML, JUnit and CSV renderings of run.json, their tests,
# and the man page. Included from harness/CMakeLists.txt after assay_report;
# paths are relative to this file so it works from any including directory.
set(ASSAY_REPORT_DIR ${CMAKE_CURRENT_LIST_DIR})
set(ASSAY_REPORT_TESTS ${CMAKE_CURRENT_LIST_DIR}/../tests)

target_sources(assay_report PRIVATE
    ${ASSAY_REPORT_DIR}/html_escape.c
    ${ASSAY_REPORT_DIR}/report_file.c
    ${ASSAY_REPORT_DIR}/html.c
    ${ASSAY_REPORT_DIR}/html_device.c
    ${ASSAY_REPORT_DIR}/html_evidence.c
    ${ASSAY_REPORT_DIR}/junit.c
    ${ASSAY_REPORT_DIR}/csv.c
)

if(NOT TARGET PkgConfig::XML2)
    pkg_check_modules(XML2 REQUIRED IMPORTED_TARGET libxml-2.0)
endif()

# Renders report.html, junit.xml and verdicts.csv for a run directory (tests only).
add_executable(assay_render_report ${ASSAY_REPORT_TESTS}/report/render_report.c)
assay_target_defaults(assay_render_report)
target_link_libraries(assay_render_report PRIVATE assay_report assay_core)

# The man page.
install(FILES ${ASSAY_REPORT_DIR}/../../docs/assay.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# Tests: static HTML checks, JUnit XML, CSV, and the DOM in headless Chromium.
add_library(assay_html_checks STATIC ${ASSAY_REPORT_TESTS}/report/html_checks.c)
assay_target_defaults(assay_html_checks)
target_link_libraries(assay_html_checks PUBLIC assay_core PkgConfig::XML2)

assay_add_unit_test(NAME test_report_html SOURCES ${ASSAY_REPORT_TESTS}/unit/test_report_html.c
    LIBS assay_report assay_html_checks assay_core PkgConfig::XML2)
assay_add_unit_test(NAME test_report_dom SOURCES ${ASSAY_REPORT_TESTS}/report/test_report_dom.c
    LIBS assay_report assay_html_checks assay_core PkgConfig::XML2 TIMEOUT 150)
assay_add_unit_test(NAME test_report_junit SOURCES ${ASSAY_REPORT_TESTS}/unit/test_report_junit.c
    LIBS assay_report assay_core PkgConfig::XML2)
assay_add_unit_test(NAME test_report_csv SOURCES ${ASSAY_REPORT_TESTS}/unit/test_report_csv.c
    LIBS assay_report assay_core)
