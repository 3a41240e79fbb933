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
/// 'sent' with the server's reply soon after, in a group commit of its connection's
/// latest outcomes (at most `batchSize`, none held longer than about `batchInterval`
/// plus one send). The only way a message goes out twice is a kill between the server's
/// acceptance and that record: one batch per connection at most, and on a slow server
/// (a send longer than the interval) one message. It is then resent with the same Message-ID.
public struct Dispatcher: Sendable {
    public var store: any OutboxStore
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

    /// How long a claim lasts: a worker that dies leaves its messages due again after it.
    public var lease: TimeInterval = 300

    /// A connection records its outcomes in one transaction once it has this many...
    public var batchSize = 32
    /// ...or before a send would leave the oldest of them unrecorded for longer than this.
    public var batchInterval: TimeInterval = 0.005
    /// Each transaction of outcomes, as it is recorded (for tests and benchmarks).
    public var recorded: (@Sendable (Int) -> Void)?

    public init(store: any OutboxStore, transport: any MailTransport, connections: Int = 4, ratePerMinute: Int = 0,
                maxAttempts: Int = 5, retryBase: TimeInterval = 2, progress: (@Sendable (Int) -> Void)? = nil,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.clock = clock
        self.store = store; self.transport = transport; self.connections = max(1, connections)
        self.ratePerMinute = max(0, ratePerMinute); self.maxAttempts = max(1, maxAttempts); self.retryBase = retryBase
        self.progress = progress
    }

    /// The same on the SQLite engine.
    public init(database: AppDatabase, transport: any MailTransport, connections: Int = 4, ratePerMinute: Int = 0,
                maxAttempts: Int = 5, retryBase: TimeInterval = 2, progress: (@Sendable (Int) -> Void)? = nil,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.init(store: SQLiteAnswerStore(database), transport: transport, connections: connections, ratePerMinute: ratePerMinute,
                  maxAttempts: maxAttempts, retryBase: retryBase, progress: progress, clock: clock)
    }

    /// How many messages one claim takes: enough for every lane, and, under a rate limit,
    /// no more than can go out well within the lease.
    var claimSize: Int {
        let full = 200 * connections
        guard ratePerMinute > 0 else { return full }
        return max(connections, min(full, Int(Double(ratePerMinute) * lease / 60 / 2)))
    }

    /// Sends everything due, waiting for retries that fall due within `maxWait` seconds.
    /// The SMTP sessions (blocking libcurl calls) run on threads of their own, never on
    /// Swift's cooperative pool.
    public func run(maxWait: TimeInterval) async throws(PulseError) -> DispatchReport {
        try await run(maxWait: maxWait, moreComing: { false })
    }

    /// Sends what `queue` puts in the outbox while it is still queueing (a large round, a
    /// chunk at a time), then everything due as `run(maxWait:)` does.
    /// - Returns: what was sent, and the error that stopped the queueing, if one did (what
    ///   it had queued by then is sent all the same).
    public func run(maxWait: TimeInterval, alongside queue: @escaping @Sendable () async throws(PulseError) -> Void)
        async throws(PulseError) -> (report: DispatchReport, queueing: PulseError?) {
        let done = DoneFlag()
        let producer = Task { () -> PulseError? in
            defer { done.set() }
            do throws(PulseError) { try await queue() } catch { return error }
            return nil
        }
        var report: DispatchReport
        do {
            report = try await run(maxWait: maxWait, moreComing: { !done.isSet })
        } catch {
            _ = await producer.value
            throw error
        }
        let queueing = await producer.value
        // A run that stopped early (the server refused) leaves what was queued after it.
        if report.fatal != nil { report.pending = (try await store.outboxCounts())["queued", default: 0] }
        return (report, queueing)
    }

    /// - Parameter moreComing: whether messages may still be queued by someone else; it is
    ///   asked before each claim, so a claim after it says no sees all of them.
    func run(maxWait: TimeInterval, moreComing: @Sendable () -> Bool) async throws(PulseError) -> DispatchReport {
        let deadline = Date().addingTimeInterval(maxWait)
        let state = SharedState(limiter: RateLimiter(perMinute: ratePerMinute))
        var sessions: [any MailSession] = []
        // While someone else is still queueing, an empty claim is tried again after a
        // wait that doubles up to 32 ms: a chunk takes tens of milliseconds to render.
        var idle = 1
        while true {
            let producing = state.fatal == nil && moreComing()
            let batch = try await store.claimDueMessages(limit: claimSize, now: clock(), lease: lease)
            if batch.isEmpty {
                if producing {
                    try? await Task.sleep(for: .milliseconds(idle))
                    idle = min(32, idle * 2)
                    continue
                }
                guard state.fatal == nil, let next = try await store.nextDueTime() else { break }
                let wait = next.timeIntervalSince(clock())
                guard wait <= deadline.timeIntervalSinceNow else { break }
                try? await Task.sleep(for: .seconds(max(0.05, wait)))
                continue
            }
            idle = 1
            let workers = min(connections, batch.count)
            while sessions.count < workers { sessions.append(try transport.makeSession()) }
            let queue = WorkQueue(batch)
            let interval = Duration.milliseconds(Int64((batchInterval * 1000).rounded()))
            // Each session is used by one lane (thread) only.
            nonisolated(unsafe) let lanes = sessions
            // One thread of its own per connection: a lane blocks in libcurl and while its
            // outcome is recorded, and must hold neither a thread of Swift's pool nor one
            // of Dispatch's global queues (the SQLite engine's queue runs on those).
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let group = DispatchGroup()
                for lane in 0..<workers {
                    group.enter()
                    let thread = Thread {
                        let session = lanes[lane]
                        var pending = PendingOutcomes()
                        var lastSend: Duration = .zero
                        while state.fatal == nil, let message = queue.next() {
                            // Recorded now if waiting for this lane's slot under the rate
                            // limit, then for a send as long as the last one, would keep the
                            // oldest outcome unrecorded past the interval.
                            let slot = state.limiter.reserve()
                            if pending.isDue(within: interval, after: lastSend + slot.wait) { flush(&pending, state: state) }
                            slot.sleep()
                            let start = ContinuousClock.now
                            let outcome = session.send(message)
                            lastSend = ContinuousClock.now - start
                            pending.add(judge(outcome, for: message, state: state))
                            if pending.count >= batchSize { flush(&pending, state: state) }
                        }
                        flush(&pending, state: state)
                        group.leave()
                    }
                    thread.name = "pulse-smtp-\(lane)"
                    thread.start()
                }
                group.notify(queue: .global()) { done.resume() }
            }
            // Messages claimed but not tried because sending stopped go back as they were.
            let untried = queue.remaining()
            try await store.recordOutcomes(untried.map {
                .retry(id: $0.id, error: state.fatal ?? "not tried", at: clock(), countAttempt: false)
            })
            if state.fatal != nil { break }
        }
        var report = state.report
        report.fatal = state.fatal
        report.pending = (try await store.outboxCounts())["queued", default: 0]
        return report
    }

    /// Waits, on a lane's thread, for what the store does asynchronously.
    private func wait(_ body: @escaping @Sendable (any OutboxStore) async throws(PulseError) -> Void) throws(PulseError) {
        let store = self.store
        let box = Outcome()
        let done = DispatchSemaphore(value: 0)
        Task {
            do throws(PulseError) { try await body(store) } catch { box.error = error }
            done.signal()
        }
        done.wait()
        if let e = box.error { throw e }
    }

    final class Outcome: @unchecked Sendable { var error: PulseError? }

    /// What the outbox records of one attempt, and what it counts as; a server that is
    /// unavailable or refuses the run stops it.
    private func judge(_ outcome: SendOutcome, for message: QueuedMessage, state: SharedState) -> (MessageOutcome, Tally) {
        switch outcome {
        case let .accepted(reply):
            return (.sent(id: message.id, reply: reply, at: clock()), .sent)
        case let .transient(reason):
            if message.attempts >= maxAttempts {
                return (.failed(id: message.id, error: "gave up after \(message.attempts) attempts: \(reason)"), .failed)
            }
            let wait = retryBase * pow(2, Double(message.attempts - 1)) * Double.random(in: 0.5...1.5)
            return (.retry(id: message.id, error: reason, at: clock().addingTimeInterval(wait), countAttempt: true), .retried)
        case let .permanent(reason):
            return (.failed(id: message.id, error: reason), .failed)
        case let .fatal(reason), let .unavailable(reason):
            // Not the message's fault: it goes back with the attempt not counted.
            state.stop(reason)
            return (.retry(id: message.id, error: reason, at: clock(), countAttempt: false), .none)
        }
    }

    /// Records a lane's pending outcomes in one transaction, then counts them.
    private func flush(_ pending: inout PendingOutcomes, state: SharedState) {
        guard !pending.outcomes.isEmpty else { return }
        let outcomes = pending.outcomes, tallies = pending.tallies
        pending = PendingOutcomes()
        do {
            try wait { s throws(PulseError) in try await s.recordOutcomes(outcomes) }
        } catch {
            state.stop("cannot record the outcome of a message: \(error)")
            return
        }
        recorded?(outcomes.count)
        var sent = 0
        state.update { report in
            for tally in tallies {
                switch tally {
                case .sent: report.sent += 1
                case .retried: report.retried += 1
                case .failed: report.failed += 1
                case .none: break
                }
            }
            sent = report.sent
        }
        if tallies.contains(.sent) { progress?(sent) }
    }
}

/// What an outcome counts as in the run's report.
enum Tally: Sendable { case sent, retried, failed, none }

/// The outcomes one lane has had and not yet recorded, and since when.
struct PendingOutcomes {
    private(set) var outcomes: [MessageOutcome] = []
    private(set) var tallies: [Tally] = []
    private var oldest: ContinuousClock.Instant?

    var count: Int { outcomes.count }

    mutating func add(_ judged: (MessageOutcome, Tally)) {
        if oldest == nil { oldest = .now }
        outcomes.append(judged.0)
        tallies.append(judged.1)
    }

    /// Whether the oldest outcome would wait past `interval` if the next send took as
    /// long as the last one.
    func isDue(within interval: Duration, after lastSend: Duration) -> Bool {
        guard let oldest else { return false }
        return (ContinuousClock.now - oldest) + lastSend >= interval
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

/// Set once, when the queueing beside a dispatch run has ended.
final class DoneFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    var isSet: Bool { lock.withLock { done } }
    func set() { lock.withLock { done = true } }
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
    private var nextSlot: ContinuousClock.Instant?

    init(perMinute: Int) { interval = perMinute > 0 ? 60 / Double(perMinute) : 0 }

    /// A lane's turn: when it may send.
    struct Slot {
        let at: ContinuousClock.Instant
        /// How long from now until then.
        var wait: Duration { max(.zero, at - .now) }
        func sleep() {
            let w = wait
            guard w > .zero else { return }
            Thread.sleep(forTimeInterval: Double(w.components.seconds) + Double(w.components.attoseconds) / 1e18)
        }
    }

    /// Takes the next free slot (now, when there is no limit).
    func reserve() -> Slot {
        guard interval > 0 else { return Slot(at: .now) }
        return lock.withLock {
            let now = ContinuousClock.now
            let slot = max(now, nextSlot ?? now)
            nextSlot = slot.advanced(by: .nanoseconds(Int64(interval * 1e9)))
            return Slot(at: slot)
        }
    }
}
