# ---- the live pipeline against the sim: bookcast-sim + three bookcast-collectors + bookcast-bookbuilder
# Included from CMakeLists.txt. Two cmocka programs, each starting the real processes on free
# loopback ports (pipeline.c, bookbuilderproc.c, collectorproc.c):
#   integration.bookbuilder_live  short behaviours, each well under a minute;
#   integration.bookbuilder_soak  five minutes of combined faults on all three markets, every
#                                 book checked against the sim's truth every ~2 s
#                                 (BOOKCAST_SOAK_S shortens it for a local run).
if(TARGET bookcast-bookbuilder)
  foreach(name test_bookbuilder_live test_bookbuilder_soak)
    add_executable(${name} ${name}.c pipeline.c bookbuilderproc.c collectorproc.c)
    target_link_libraries(${name} PRIVATE bookcast_testclient_lib bookcast_common PkgConfig::CMOCKA
                          PkgConfig::CZMQ PkgConfig::ZMQ PkgConfig::LWS PkgConfig::OPENSSL
                          PkgConfig::CJSON Threads::Threads)
    target_compile_definitions(${name} PRIVATE BOOKCAST_SIM_BIN="$<TARGET_FILE:bookcast-sim>"
                               BOOKCAST_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                               BOOKCAST_COLLECTOR_BIN="$<TARGET_FILE:bookcast-collector>"
                               BOOKCAST_BOOKBUILDER_BIN="$<TARGET_FILE:bookcast-bookbuilder>")
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    add_dependencies(${name} bookcast-sim bookcast-collector bookcast-bookbuilder)
  endforeach()

  add_test(NAME integration.bookbuilder_live COMMAND test_bookbuilder_live)
  set_tests_properties(integration.bookbuilder_live PROPERTIES TIMEOUT 180)
  # ctest runs the full length: the environment variable is for local runs only.
  add_test(NAME integration.bookbuilder_soak COMMAND ${CMAKE_COMMAND} -E env --unset=BOOKCAST_SOAK_S
                                                     $<TARGET_FILE:test_bookbuilder_soak>)
  set_tests_properties(integration.bookbuilder_soak PROPERTIES TIMEOUT 600)
endif()
