import Foundation
import PulseCore

/// Writes the answers of identified surveys in group commits: a POST that arrives while
/// a transaction is being written waits for it, then goes with every other POST that
/// arrived meanwhile, in one transaction (at most `maxBatch`). Under a light load each
/// answer is its own transaction, written at once; under a heavy one the database does
/// one commit for many. A POST is answered only once its transaction has committed, so
/// "acknowledged means stored" holds as it did with one transaction each.
///
/// A batch that fails is tried again one answer at a time, so that one answer the
/// database refuses (its rep erased meanwhile, say) does not fail the others.
public final class IdentifiedAnswers: @unchecked Sendable {
    typealias Waiter = CheckedContinuation<Result<WebAnswerOutcome, PulseError>, Never>

    private let lock = NSLock()
    private var pending: [(submission: AnswerSubmission, waiter: Waiter)] = []
    private var writing = false
    private let store: any AnswerStore
    let maxBatch: Int

    public init(store: any AnswerStore, maxBatch: Int = 64) {
        self.store = store
        self.maxBatch = max(1, maxBatch)
    }

    /// How many answers wait for the transaction in flight (tests watch it).
    var waiting: Int { lock.withLock { pending.count } }

    /// Stores one answer, with whatever others are waiting; returns once it is committed.
    public func submit(_ submission: AnswerSubmission) async throws(PulseError) -> WebAnswerOutcome {
        let result = await withCheckedContinuation { (waiter: Waiter) in
            let lead = lock.withLock { () -> Bool in
                pending.append((submission, waiter))
                if writing { return false }
                writing = true
                return true
            }
            if lead { Task { await self.drain() } }
        }
        return try result.get()
    }

    /// Writes what waits, batch after batch, until nothing does.
    private func drain() async {
        while true {
            let batch = lock.withLock { () -> [(submission: AnswerSubmission, waiter: Waiter)] in
                let b = Array(pending.prefix(maxBatch))
                pending.removeFirst(b.count)
                if b.isEmpty { writing = false }
                return b
            }
            if batch.isEmpty { return }
            do {
                let outcomes = try await store.submitAnswers(batch.map(\.submission))
                guard outcomes.count == batch.count else {
                    for item in batch { item.waiter.resume(returning: .failure(.runtime("the store gave \(outcomes.count) outcomes for \(batch.count) answers"))) }
                    continue
                }
                for (item, outcome) in zip(batch, outcomes) { item.waiter.resume(returning: .success(outcome)) }
            } catch {
                guard batch.count > 1 else {
                    batch[0].waiter.resume(returning: .failure(error))
                    continue
                }
                for item in batch {
                    do {
                        let outcome = try await store.submitAnswers([item.submission])[0]
                        item.waiter.resume(returning: .success(outcome))
                    } catch {
                        item.waiter.resume(returning: .failure(error))
                    }
                }
            }
        }
    }
}
