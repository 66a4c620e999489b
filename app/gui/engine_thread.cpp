#include "engine_thread.hpp"

#include <ATen/Parallel.h>

#include <QDateTime>
#include <algorithm>
#include <thread>
#include <QMetaObject>

#include "engine_state.hpp"
#include "headscope/threads.hpp"

namespace headscope::gui {

JobControl::JobControl(EngineThread& thread, QString tag, std::shared_ptr<std::atomic<bool>> cancel_flag)
    : thread_(thread), tag_(std::move(tag)), cancel_flag_(std::move(cancel_flag)) {}

void JobControl::update(double fraction, const std::string& message) {
    // At most ~20 updates a second reach the GUI; the last one (fraction 1) always does.
    const int64_t now = QDateTime::currentMSecsSinceEpoch();
    if (fraction < 1.0 && now - last_update_ms_ < 50) return;
    last_update_ms_ = now;
    Q_EMIT thread_.progressChanged(tag_, fraction, QString::fromStdString(message));
}

void JobControl::check() const {
    if (cancelled()) throw Cancelled();
}

EngineThread::EngineThread(StateFactory make_state, QObject* parent)
    : QThread(parent), make_state_(std::move(make_state)) {
    setObjectName("headscope-engine");
}

EngineThread::~EngineThread() { stop(); }

uint64_t EngineThread::submit(const QString& tag, Work work) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t id = next_id_++;
    for (Job& job : queue_) {
        if (job.tag == tag) {  // replace the queued older request in place
            job.id = id;
            job.work = std::move(work);
            return id;
        }
    }
    queue_.push_back(Job{id, tag, std::move(work)});
    wake_.notify_one();
    return id;
}

void EngineThread::cancel_running(const QString& prefix) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (running_ && running_cancel_ && running_tag_.startsWith(prefix)) running_cancel_->store(true);
}

void EngineThread::drop_queued(const QString& prefix) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = queue_.begin(); it != queue_.end();) {
        if (it->tag.startsWith(prefix))
            it = queue_.erase(it);
        else
            ++it;
    }
}

void EngineThread::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        queue_.clear();
        if (running_cancel_) running_cancel_->store(true);
        wake_.notify_all();
    }
    if (isRunning()) wait();
}

bool EngineThread::idle() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.empty() && !running_ && pending_deliveries_.load() == 0;
}

int EngineThread::queued() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(queue_.size());
}

QString EngineThread::running_tag() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return running_ ? running_tag_ : QString();
}

void EngineThread::deliver(QObject* receiver, std::function<void()> fn) {
    if (!receiver) return;
    ++pending_deliveries_;
    QPointer<QObject> guard(receiver);
    const bool queued = QMetaObject::invokeMethod(
        receiver,
        [this, guard, fn = std::move(fn)]() {
            if (guard) fn();
            --pending_deliveries_;
        },
        Qt::QueuedConnection);
    if (!queued) --pending_deliveries_;
}

void EngineThread::run() {
    // The engine is the only thread doing tensor work: it uses the CPUs this process may use
    // (an intervention re-run at 2,048 tokens is ~1.8x faster on 2 cores), fewer while other
    // processes keep them busy (headscope/threads.hpp).
    configure_threads();
    std::unique_ptr<EngineState> state;
    try {
        state = make_state_ ? make_state_() : std::make_unique<EngineState>();
    } catch (const std::exception& e) {
        Q_EMIT jobFinished("start", false, QString::fromStdString(e.what()));
        state = std::make_unique<EngineState>();
    }
    for (;;) {
        Job job;
        std::shared_ptr<std::atomic<bool>> cancel_flag = std::make_shared<std::atomic<bool>>(false);
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) break;
            job = std::move(queue_.front());
            queue_.pop_front();
            running_ = true;
            running_tag_ = job.tag;
            running_cancel_ = cancel_flag;
        }
        Q_EMIT jobStarted(job.tag);
        JobControl control(*this, job.tag, cancel_flag);
        QString error;
        bool cancelled = false;
        try {
            job.work(*state, control);
        } catch (const Cancelled&) {
            cancelled = true;
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
            if (error.isEmpty()) error = "unknown error";
        } catch (...) {
            error = "a non-standard exception";
        }
        if (cancel_flag->load() && error.isEmpty()) cancelled = true;
        bool now_idle = false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            running_ = false;
            running_tag_.clear();
            running_cancel_.reset();
            now_idle = queue_.empty();
        }
        Q_EMIT jobFinished(job.tag, cancelled, error);
        if (now_idle) Q_EMIT becameIdle();
    }
    state.reset();  // the model and its tensors die on this thread
}

}  // namespace headscope::gui
