// The engine thread runs one job at a time in submission order, a newer request of a tag
// replaces a queued older one, results come back on the GUI thread, cancel stops a job, and a
// failing job leaves the thread working.
#include <QThread>

#include <atomic>
#include <mutex>
#include <vector>

#include "engine_state.hpp"
#include "engine_thread.hpp"
#include "gui_test_support.hpp"

using namespace headscope::gui;
using headscope::gui::test::wait_until;

namespace {
// Records jobFinished on the GUI thread (a queued connection, as the app's receivers get it).
struct FinishedRecorder : QObject {
    struct Entry {
        QString tag;
        bool cancelled;
        QString error;
    };
    explicit FinishedRecorder(EngineThread& thread) {
        connect(&thread, &EngineThread::jobFinished, this,
                [this](const QString& tag, bool cancelled, const QString& error) { entries.push_back({tag, cancelled, error}); });
    }
    std::vector<Entry> entries;
};
}  // namespace

class EngineThreadTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void serialises_jobs_and_replaces_queued_requests() {
        EngineThread thread;
        thread.start();
        std::mutex mutex;
        std::vector<QString> order;
        std::atomic<int> running{0};
        std::atomic<int> overlaps{0};
        std::atomic<bool> release{false};
        std::atomic<bool> first_started{false};
        auto job = [&](const QString& name, bool block) {
            return [&, name, block](EngineState&, JobControl&) {
                if (++running != 1) ++overlaps;
                if (block) {
                    first_started = true;
                    while (!release) QThread::msleep(2);
                }
                QThread::msleep(5);
                {
                    std::lock_guard<std::mutex> lock(mutex);
                    order.push_back(name);
                }
                --running;
            };
        };
        thread.submit("blocker", job("blocker", true));
        QVERIFY(wait_until([&] { return first_started.load(); }, 10000));
        // While the blocker runs: x1 and y queue; x2 replaces the queued x1 in place.
        thread.submit("x", job("x1", false));
        thread.submit("y", job("y", false));
        thread.submit("x", job("x2", false));
        QCOMPARE(thread.queued(), 2);
        QCOMPARE(thread.running_tag(), QString("blocker"));
        QVERIFY(!thread.idle());
        release = true;
        QVERIFY(wait_until([&] { return thread.idle(); }, 10000));
        const std::vector<QString> expected{"blocker", "x2", "y"};
        QCOMPARE(order, expected);
        QCOMPARE(overlaps.load(), 0);
    }

    void delivers_results_on_the_gui_thread() {
        EngineThread thread;
        thread.start();
        QThread* engine_thread = nullptr;
        QThread* delivered_on = nullptr;
        QObject receiver;
        thread.submit("work", [&](EngineState&, JobControl&) {
            engine_thread = QThread::currentThread();
            thread.deliver(&receiver, [&] { delivered_on = QThread::currentThread(); });
        });
        QVERIFY(wait_until([&] { return delivered_on != nullptr; }, 10000));
        QCOMPARE(delivered_on, QThread::currentThread());
        QVERIFY(engine_thread != QThread::currentThread());
        QVERIFY(wait_until([&] { return thread.idle(); }, 10000));
    }

    void cancel_stops_the_running_job_and_drops_queued_ones() {
        EngineThread thread;
        FinishedRecorder finished(thread);
        thread.start();
        std::atomic<bool> started{false};
        std::atomic<bool> queued_ran{false};
        thread.submit("analysis:slow", [&](EngineState&, JobControl& control) {
            started = true;
            for (int i = 0; i < 20000; ++i) {
                control.update(i / 20000.0, "working");
                control.check();  // throws Cancelled once cancelled
                QThread::msleep(1);
            }
        });
        thread.submit("analysis:next", [&](EngineState&, JobControl&) { queued_ran = true; });
        QVERIFY(wait_until([&] { return started.load(); }, 10000));
        thread.drop_queued("analysis:");
        thread.cancel_running();
        QVERIFY(wait_until([&] { return thread.idle(); }, 10000));
        QVERIFY(wait_until([&] { return finished.entries.size() >= 1; }, 10000));
        QTest::qWait(50);
        QCOMPARE(finished.entries.size(), size_t{1});
        QCOMPARE(finished.entries[0].tag, QString("analysis:slow"));
        QCOMPARE(finished.entries[0].cancelled, true);
        QVERIFY(!queued_ran);
    }

    void a_failing_job_reports_its_error_and_the_thread_goes_on() {
        EngineThread thread;
        FinishedRecorder finished(thread);
        thread.start();
        std::atomic<bool> after{false};
        thread.submit("bad", [](EngineState&, JobControl&) { throw headscope::UsageError("broken on purpose"); });
        thread.submit("good", [&](EngineState&, JobControl&) { after = true; });
        QVERIFY(wait_until([&] { return after.load() && finished.entries.size() == 2; }, 10000));
        QCOMPARE(finished.entries[0].error, QString("broken on purpose"));
        QCOMPARE(finished.entries[0].cancelled, false);
        QCOMPARE(finished.entries[1].error, QString());
    }
};

HEADSCOPE_GUI_TEST_MAIN(EngineThreadTest)
#include "test_engine_thread.moc"
