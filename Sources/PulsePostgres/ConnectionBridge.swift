import Dispatch
import Foundation
import PostgresNIO
import PulseCore

/// Runs rules written as synchronous code (the imports' checks, which every engine
/// shares) on a thread of their own, and hands each database call they make to the task
/// that holds the transaction's connection, one at a time: the rules' thread waits for
/// each answer, blocking a thread of its own, never one of Swift's cooperative pool.
final class ConnectionBridge: @unchecked Sendable {
    final class Job: @unchecked Sendable {
        let work: (PostgresConnection) async throws -> Any
        private var result: Result<Any, PulseError>?
        private let done = DispatchSemaphore(value: 0)
        init(_ work: @escaping (PostgresConnection) async throws -> Any) { self.work = work }
        func finish(_ r: Result<Any, PulseError>) { result = r; done.signal() }
        func wait() -> Result<Any, PulseError> { done.wait(); return result! }
    }

    private let jobs: AsyncStream<Job>
    private let feed: AsyncStream<Job>.Continuation

    private init() { (jobs, feed) = AsyncStream.makeStream() }

    /// From the rules' thread: runs `work` on the transaction's connection and waits for it.
    func call<T>(_ work: @escaping (PostgresConnection) async throws -> T) throws(PulseError) -> T {
        let job = Job { c in try await work(c) }
        feed.yield(job)
        switch job.wait() {
        case let .success(value): return value as! T
        case let .failure(error): throw error
        }
    }

    /// Runs `body` on a new thread and its calls on `c`, until it returns; what it returned
    /// or threw. A call that fails is thrown to the body, which ends the import (the
    /// transaction is aborted by then, and rolled back by its owner).
    static func run<T>(on c: PostgresConnection, _ body: @escaping @Sendable (ConnectionBridge) throws(PulseError) -> T) async throws(PulseError) -> T {
        let bridge = ConnectionBridge()
        let outcome = Outcome<T>()
        let thread = Thread {
            outcome.set(Result { () throws(PulseError) in try body(bridge) })
            bridge.feed.finish()
        }
        thread.stackSize = 4 << 20
        thread.start()
        for await job in bridge.jobs {
            do {
                job.finish(.success(try await job.work(c)))
            } catch let e as PulseError {
                job.finish(.failure(e))
            } catch {
                job.finish(.failure(.runtime("PostgreSQL: \(String(reflecting: error).prefix(300))")))
            }
        }
        return try outcome.get()
    }

    private final class Outcome<T>: @unchecked Sendable {
        private let lock = NSLock()
        private var result: Result<T, PulseError>?
        func set(_ r: Result<T, PulseError>) { lock.withLock { result = r } }
        func get() throws(PulseError) -> T {
            guard let r = lock.withLock({ result }) else { throw .runtime("the import's thread ended without a result") }
            return try r.get()
        }
    }
}
