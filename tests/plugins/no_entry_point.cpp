// A shared library that is not a headscope plugin: it exports a function, but no
// headscope_plugin_info entry point.
extern "C" __attribute__((visibility("default"))) int some_other_library_function() { return 42; }
