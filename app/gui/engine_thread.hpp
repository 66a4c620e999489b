// The engine thread: the one thread that runs LibTorch (RenderDoc's ReplayManager is the
// model). The GUI thread submits jobs tagged by kind; a job submitted while another of the same
// tag is still queued replaces it in place (so a slider dragged across ten values re-runs the
// model once or twice, not ten times). Jobs run one at a time, in order; each gets a JobControl
// (a Progress) whose cancelled() turns true when the user cancels. Results go back to the GUI
// thread through deliver(), which queues a call on a receiver living there.
#pragma once

#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "headscope/sdk/analysis.hpp"

namespace headscope::gui {

struct EngineState;
class EngineThread;

// Progress and cancellation for one job; passed to analyses as their Progress.
class JobControl : public Progress {
public:
    JobControl(EngineThread& thread, QString tag, std::shared_ptr<std::atomic<bool>> cancel_flag);
    void update(double fraction, const std::string& message) override;
    bool cancelled() const override { return cancel_flag_->load(); }
    const QString& tag() const { return tag_; }
    // Throws Cancelled when cancelled() is true.
    void check() const;

private:
    EngineThread& thread_;
    QString tag_;
    std::shared_ptr<std::atomic<bool>> cancel_flag_;
    int64_t last_update_ms_ = -1000;
};

class EngineThread : public QThread {
    Q_OBJECT
public:
    using Work = std::function<void(EngineState& state, JobControl& control)>;
    using StateFactory = std::function<std::unique_ptr<EngineState>()>;

    // make_state runs on the engine thread when it starts (so everything the state owns is born
    // there); a null factory gives jobs a default-constructed EngineState.
    explicit EngineThread(StateFactory make_state = {}, QObject* parent = nullptr);
    ~EngineThread() override;  // stops: cancels the running job, drops queued ones, joins

    // Queues work; returns the job's id. A queued (not yet started) job with the same tag is
    // replaced in place by this one.
    uint64_t submit(const QString& tag, Work work);
    // Asks the running job to stop when its tag starts with `prefix` (empty: any job).
    void cancel_running(const QString& prefix = {});
    // Drops queued jobs whose tag starts with `prefix` (empty: every queued job).
    void drop_queued(const QString& prefix = {});
    void stop();

    // True when nothing is queued, nothing runs, and every deliver()ed call has run.
    bool idle() const;
    int queued() const;
    QString running_tag() const;

    // From a job: call fn on the receiver's thread (queued). Dropped if receiver is destroyed.
    void deliver(QObject* receiver, std::function<void()> fn);

Q_SIGNALS:
    void jobStarted(const QString& tag);
    // error is empty on success; cancelled is true when the job stopped on a cancel.
    void jobFinished(const QString& tag, bool cancelled, const QString& error);
    void progressChanged(const QString& tag, double fraction, const QString& message);
    void becameIdle();

protected:
    void run() override;

private:
    struct Job {
        uint64_t id = 0;
        QString tag;
        Work work;
    };
    friend class JobControl;

    StateFactory make_state_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    bool running_ = false;
    QString running_tag_;
    std::shared_ptr<std::atomic<bool>> running_cancel_;
    uint64_t next_id_ = 1;
    std::atomic<int> pending_deliveries_{0};
};

}  // namespace headscope::gui
