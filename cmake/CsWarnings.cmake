# cs_build_flags: warnings, feature macros, sanitizers and hardening for every target.
add_library(cs_build_flags INTERFACE)
target_compile_definitions(cs_build_flags INTERFACE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
target_compile_options(cs_build_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wold-style-definition -Wpointer-arith -Wcast-align -Wwrite-strings -Wundef -Wvla
  -Wformat=2 -Wimplicit-fallthrough -Wconversion -Wdouble-promotion
  -Werror=implicit-function-declaration -Werror=return-type
  -fstack-protector-strong)
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  target_compile_options(cs_build_flags INTERFACE
    -Wlogical-op -Wduplicated-cond -Wduplicated-branches -Wjump-misses-init)
elseif(CMAKE_C_COMPILER_ID MATCHES "Clang")
  target_compile_options(cs_build_flags INTERFACE
    -Wshorten-64-to-32 -Wconditional-uninitialized)
endif()
if(CS_WERROR)
  target_compile_options(cs_build_flags INTERFACE -Werror)
endif()
if(CS_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "CS_FUZZ needs clang (CC=clang) for libFuzzer")
  endif()
  # Everything gets the fuzzer's coverage instrumentation; only the fuzz targets link its main.
  target_compile_options(cs_build_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  target_link_options(cs_build_flags INTERFACE -fsanitize=address,undefined)
elseif(CS_SANITIZE)
  target_compile_options(cs_build_flags INTERFACE
    -fsanitize=${CS_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(cs_build_flags INTERFACE -fsanitize=${CS_SANITIZE})
elseif(NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
  target_compile_definitions(cs_build_flags INTERFACE _FORTIFY_SOURCE=2)
endif()
