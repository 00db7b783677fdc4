# run_consumer.cmake — configures, builds and runs one consumer project (cmake -P).
# MODE=subdirectory: add_subdirectory(GITFLEET_SOURCE_DIR).
# MODE=package: installs GITFLEET_BUILD_DIR into WORK_DIR/prefix, then find_package(gitfleet).

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE status)
    if(NOT status EQUAL 0)
        message(FATAL_ERROR "failed (${status}): ${ARGN}")
    endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(build "${WORK_DIR}/build")
set(configure "${CMAKE_COMMAND}" -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
              -DCMAKE_BUILD_TYPE=Release)

if(MODE STREQUAL "subdirectory")
    run(${configure} -S "${CONSUMER_DIR}/subdirectory" -B "${build}"
        -DGITFLEET_SOURCE_DIR=${GITFLEET_SOURCE_DIR} -DGITFLEET_RUST_LIB=${GITFLEET_RUST_LIB})
elseif(MODE STREQUAL "package")
    set(prefix "${WORK_DIR}/prefix")
    run("${CMAKE_COMMAND}" --install "${GITFLEET_BUILD_DIR}" --prefix "${prefix}")
    if(NOT EXISTS "${prefix}/include/gitfleet.hpp")
        message(FATAL_ERROR "the install has no gitfleet.hpp")
    endif()
    run(${configure} -S "${CONSUMER_DIR}/package" -B "${build}" -DCMAKE_PREFIX_PATH=${prefix})
else()
    message(FATAL_ERROR "MODE must be subdirectory or package")
endif()
run("${CMAKE_COMMAND}" --build "${build}")
run("${build}/consumer")
