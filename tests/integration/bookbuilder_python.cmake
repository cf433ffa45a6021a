# ---- the bookbuilder from Python: the Clone example and a slow subscriber -----------------------
# python/test_clone.py starts the real bookcast-sim, collectors and bookbuilder on free loopback
# ports and drives the data bus and snapshot service as a Python program does:
#   integration.bookbuilder_python_clone  docs/examples/clone_subscriber.py, joining late, ends
#                                         with exactly the snapshot service's book and seq
#   integration.bookbuilder_python_slow   a subscriber that stops reading sees seq gaps; one that
#                                         keeps reading sees none; the bookbuilder carries on
# Debian's interpreter, because python3-zmq (scripts/deps.sh) is a Debian package: the python3
# first on PATH may be another installation without it. The test fails, rather than skips, when
# zmq cannot be imported.
set(BOOKCAST_TEST_PYTHON /usr/bin/python3 CACHE FILEPATH
    "Python 3 with the zmq module, for the Python integration tests")
set(BOOKCAST_PYTHON_TEST_ARGS
    --sim $<TARGET_FILE:bookcast-sim>
    --collector $<TARGET_FILE:bookcast-collector>
    --bookbuilder $<TARGET_FILE:bookcast-bookbuilder>
    --source ${PROJECT_SOURCE_DIR})
foreach(scenario clone slow)
  add_test(NAME integration.bookbuilder_python_${scenario}
           COMMAND ${BOOKCAST_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/python/test_clone.py
                   ${scenario} ${BOOKCAST_PYTHON_TEST_ARGS})
  set_tests_properties(integration.bookbuilder_python_${scenario} PROPERTIES TIMEOUT 180)
endforeach()
