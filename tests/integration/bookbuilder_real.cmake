# ---- integration.bookbuilder_real: real Binance captures through the bookbuilder ---------------
# The hftbacktest and cryptofeed captures in tests/data/binance-real-data, converted into frame
# files (capture.c, compiled in) and run through the builder in process (real_run.c, with an
# independent book in real_book.c); then `bookcast-bookbuilder --replay` twice on each, compared
# byte for byte. Fails, rather than skips, when the data directory is missing, and its replay
# test fails when the program is not part of the build.
add_executable(test_bookbuilder_real test_bookbuilder_real.c real_run.c real_book.c capture.c)
target_link_libraries(test_bookbuilder_real PRIVATE bookcast_bookbuilder bookcast_common
                      PkgConfig::CMOCKA PkgConfig::CJSON)
target_compile_definitions(test_bookbuilder_real PRIVATE
                           BOOKCAST_REAL_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data/binance-real-data")
if(TARGET bookcast-bookbuilder)
  target_compile_definitions(test_bookbuilder_real PRIVATE
                             BOOKCAST_BOOKBUILDER_BIN="$<TARGET_FILE:bookcast-bookbuilder>")
  add_dependencies(test_bookbuilder_real bookcast-bookbuilder)
else()
  target_compile_definitions(test_bookbuilder_real PRIVATE BOOKCAST_BOOKBUILDER_BIN="")
endif()
set_target_properties(test_bookbuilder_real PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                      ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME integration.bookbuilder_real COMMAND test_bookbuilder_real)
set_tests_properties(integration.bookbuilder_real PROPERTIES TIMEOUT 300)
