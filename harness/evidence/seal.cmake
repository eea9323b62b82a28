# seal.cmake: the evidence seal (manifest, Ed25519 signature, reproducible archive, verify)
# and its tests. Included from harness/CMakeLists.txt after assay_core is defined. The
# libarchive target is made here unless the including directory can already see one.

if(NOT TARGET PkgConfig::ARCHIVE)
    pkg_check_modules(ARCHIVE REQUIRED IMPORTED_TARGET libarchive)
endif()

add_library(assay_seal STATIC
    ${CMAKE_CURRENT_LIST_DIR}/manifest.c
    ${CMAKE_CURRENT_LIST_DIR}/sign.c
    ${CMAKE_CURRENT_LIST_DIR}/archive.c
    ${CMAKE_CURRENT_LIST_DIR}/verify.c
    ${CMAKE_CURRENT_LIST_DIR}/seal.c
)
assay_target_defaults(assay_seal)
target_link_libraries(assay_seal PUBLIC assay_core PkgConfig::CRYPTO PkgConfig::ARCHIVE)

set(ASSAY_SEAL_TESTS ${CMAKE_CURRENT_LIST_DIR}/../tests/unit)
assay_add_unit_test(NAME test_seal
    SOURCES ${ASSAY_SEAL_TESTS}/test_seal.c ${ASSAY_SEAL_TESTS}/test_seal_util.c
    LIBS assay_seal)
assay_add_unit_test(NAME test_seal_archive
    SOURCES ${ASSAY_SEAL_TESTS}/test_seal_archive.c ${ASSAY_SEAL_TESTS}/test_seal_util.c
    LIBS assay_seal PkgConfig::ARCHIVE)
# The verify and keygen subcommands, called as functions (no assay binary needed).
assay_add_unit_test(NAME test_seal_cli
    SOURCES ${ASSAY_SEAL_TESTS}/test_seal_cli.c ${ASSAY_SEAL_TESTS}/test_seal_util.c
        ${CMAKE_CURRENT_LIST_DIR}/../cli/cmd_verify.c ${CMAKE_CURRENT_LIST_DIR}/../cli/cmd_keygen.c
        ${CMAKE_CURRENT_LIST_DIR}/../cli/common.c
    LIBS assay_seal)
