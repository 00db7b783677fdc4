// sanitizer_options.cpp — default options of the sanitizers for the test programs, so that a
// test binary run by hand behaves as under ctest. Compiled into the tests only; empty in a
// build without sanitizers. The options can still be overridden with *SAN_OPTIONS.

#if defined(__SANITIZE_ADDRESS__)
extern "C" const char *__asan_default_options() {
    // Leaks are errors; the library is built without instrumentation, so stack traces through
    // it are best effort.
    return "detect_leaks=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1";
}
extern "C" const char *__ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }
#endif

#if defined(__SANITIZE_THREAD__)
extern "C" const char *__tsan_default_options() {
#ifdef GITFLEET_TSAN_SUPPRESSIONS
    return "halt_on_error=1:second_deadlock_stack=1:suppressions=" GITFLEET_TSAN_SUPPRESSIONS;
#else
    return "halt_on_error=1:second_deadlock_stack=1";
#endif
}
#endif
