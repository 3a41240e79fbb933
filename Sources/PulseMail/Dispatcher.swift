import Foundation
import PulseCore
import PulseStore

/// What a dispatch run did.
public struct DispatchReport: Sendable, Equatable {
    public var sent = 0
    public var retried = 0
    public var failed = 0
    /// Left queued for a later run (due after the run's deadline).
    public var pending = 0
    /// Why sending stopped, when a person has to fix something.
    public var fatal: String?
}

/// Sends what the outbox holds: each message is marked 'sending' before it goes, and
/// 'sent' with the server's reply right after, so the only way a message goes out twice
/// is a kill between the server's acceptance and that record (one message per
/// connection at most); it is then resent with the same Message-ID.
public struct Dispatcher: Sendable {
    public var database: AppDatabase
    public var transport: any MailTransport
    public var connections: Int
    /// Messages per minute at most (0: no limit).
    public var ratePerMinute: Int
    public var maxAttempts: Int
    /// The first retry waits this long, each next one twice as long, ± 50% jitter.
    public var retryBase: TimeInterval
    public var progress: (@Sendable (Int) -> Void)?
    /// The clock the outbox's times are read and written with (a pinned `PULSE_NOW`
    /// runs on from where it was pinned); waiting is in real time.
    public var clock: @Sendable () -> Date

    public init(database: AppDatabase, transport: any MailTransport, connections: Int = 4, ratePerMinute: Int = 0,
                maxAttempts: Int = 5, retryBase: TimeInterval = 2, progress: (@Sendable (Int) -> Void)? = nil,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.clock = clock
        self.database = database; self.transport = transport; self.connections = max(1, connections)
        self.ratePerMinute = max(0, ratePerMinute); self.maxAttempts = max(1, maxAttempts); self.retryBase = retryBase
        self.progress = progress
    }

    /// Sends everything due, waiting for retries that fall due within `maxWait` seconds.
    public func run(maxWait: TimeInterval) throws(PulseError) -> DispatchReport {
        let deadline = Date().addingTimeInterval(maxWait)
        let state = SharedState(limiter: RateLimiter(perMinute: ratePerMinute))
        var sessions: [any MailSession] = []
        while true {
            let batch = try database.claimDueMessages(limit: 200 * connections, now: clock())
            if batch.isEmpty {
                guard state.fatal == nil, let next = try database.nextDueTime() else { break }
                let wait = next.timeIntervalSince(clock())
                guard wait <= deadline.timeIntervalSinceNow else { break }
                Thread.sleep(forTimeInterval: max(0.05, wait))
                continue
            }
            let workers = min(connections, batch.count)
            while sessions.count < workers { sessions.append(try transport.makeSession()) }
            let queue = WorkQueue(batch)
            // Each session is used by one lane (thread) only.
            nonisolated(unsafe) let lanes = sessions
            DispatchQueue.concurrentPerform(iterations: workers) { lane in
                let session = lanes[lane]
                while state.fatal == nil, let message = queue.next() {
                    state.limiter.acquire()
                    let outcome = session.send(message)
                    record(outcome, for: message, state: state)
                }
            }
            // Messages claimed but not tried because sending stopped go back as they were.
            for message in queue.remaining() {
                try database.markRetry(message.id, error: state.fatal ?? "not tried", at: clock(), countAttempt: false)
            }
            if state.fatal != nil { break }
        }
        var report = state.report
        report.fatal = state.fatal
        report.pending = (try database.outboxCounts())["queued", default: 0]
        return report
    }

    private func record(_ outcome: SendOutcome, for message: QueuedMessage, state: SharedState) {
        do {
            switch outcome {
            case let .accepted(reply):
                try database.markSent(message.id, reply: reply, now: clock())
                let n = state.update { $0.sent += 1; return $0.sent }
                progress?(n)
            case let .transient(reason):
                if message.attempts >= maxAttempts {
                    try database.markFailed(message.id, error: "gave up after \(message.attempts) attempts: \(reason)")
                    state.update { $0.failed += 1 }
                } else {
                    let wait = retryBase * pow(2, Double(message.attempts - 1)) * Double.random(in: 0.5...1.5)
                    try database.markRetry(message.id, error: reason, at: clock().addingTimeInterval(wait))
                    state.update { $0.retried += 1 }
                }
            case let .permanent(reason):
                try database.markFailed(message.id, error: reason)
                state.update { $0.failed += 1 }
            case let .fatal(reason), let .unavailable(reason):
                // Not the message's fault: it goes back with the attempt not counted.
                try database.markRetry(message.id, error: reason, at: clock(), countAttempt: false)
                state.stop(reason)
            }
        } catch {
            state.stop("cannot record the outcome of a message: \(error)")
        }
    }
}

/// Counters and the stop flag the worker threads share.
final class SharedState: @unchecked Sendable {
    private let lock = NSLock()
    private var _report = DispatchReport()
    private var _fatal: String?
    let limiter: RateLimiter

    init(limiter: RateLimiter) { self.limiter = limiter }

    var report: DispatchReport { lock.withLock { _report } }
    var fatal: String? { lock.withLock { _fatal } }

    @discardableResult
    func update<T>(_ body: (inout DispatchReport) -> T) -> T { lock.withLock { body(&_report) } }

    func stop(_ reason: String) { lock.withLock { if _fatal == nil { _fatal = reason } } }
}

/// Hands the messages of a batch out to the workers, one at a time.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [QueuedMessage]
    private var index = 0

    init(_ items: [QueuedMessage]) { self.items = items }

    func next() -> QueuedMessage? {
        lock.withLock {
            guard index < items.count else { return nil }
            defer { index += 1 }
            return items[index]
        }
    }

    func remaining() -> [QueuedMessage] { lock.withLock { Array(items[index...]) } }
}

/// Spaces messages evenly to stay under a per-minute rate.
final class RateLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private let interval: TimeInterval
    private var nextSlot = Date.distantPast

    init(perMinute: Int) { interval = perMinute > 0 ? 60 / Double(perMinute) : 0 }

    func acquire() {
        guard interval > 0 else { return }
        let wait: TimeInterval = lock.withLock {
            let now = Date()
            let slot = max(now, nextSlot)
            nextSlot = slot.addingTimeInterval(interval)
            return slot.timeIntervalSince(now)
        }
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
    }
}
