// headscope-gui: the desktop workbench. See gui_app.hpp for the command line.
#include <QApplication>

#include <cstring>
#include <iostream>

#include "gui_app.hpp"

int main(int argc, char** argv) {
    // Pictures and reports need no display: use the offscreen platform when there is none.
    bool headless_request = false;
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--screenshot") == 0 || std::strcmp(argv[i], "--report") == 0 ||
            std::strncmp(argv[i], "--screenshot=", 13) == 0 || std::strncmp(argv[i], "--report=", 9) == 0)
            headless_request = true;
    const bool display = headscope::gui::display_available();
    if (!display) qputenv("QT_QPA_PLATFORM", "offscreen");

    QApplication app(argc, argv);
    QApplication::setOrganizationName("headscope");
    QApplication::setApplicationName("headscope-gui");
    QApplication::setApplicationVersion(HEADSCOPE_VERSION);
    QString error;
    int exit_code = 0;
    auto options = headscope::gui::parse_gui_options(QApplication::arguments(), &error, &exit_code);
    if (!options) {
        (exit_code == 0 ? std::cout : std::cerr) << error.toStdString() << std::endl;
        return exit_code;
    }
    if (!display && !headless_request) {
        std::cout << "headscope-gui: no display (DISPLAY/WAYLAND_DISPLAY unset); running the analyses and writing "
                     "their report instead"
                  << std::endl;
        options->report = "headscope-report.html";
    }
    try {
        return headscope::gui::run_gui(app, *options);
    } catch (const std::exception& e) {
        std::cerr << "headscope-gui: " << e.what() << std::endl;
        return 1;
    }
}
