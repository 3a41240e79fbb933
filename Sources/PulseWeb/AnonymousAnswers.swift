import Foundation
import PulseCore
import PulseStore

/// Holds the anonymous answers given through the links and writes them in shuffled
/// batches of at least the threshold, so that no copy of the database (with its WAL),
/// taken at any moment, shows a new anonymous answer beside fewer than `threshold`
/// others, nor in the order reps answered.
///
/// A round's answers are written once `2 × threshold` are held: all but `threshold` of
/// them, chosen at random; the rest stay held, so that the round's end and a stop can
/// always write at least `threshold`. When the round ends (closed by tick, by `rounds
/// close` or by its closing time) every held answer is written; a round that ends with
/// fewer answers than the threshold keeps none (its reps count as having answered, and
/// the round counts the answers not kept). At a stop (SIGTERM), a round's held answers
/// are written when there are at least `threshold`; under that, nothing about them is
/// written and their reps count as not having answered: their links open the form
/// again. A crash loses what was held the same way, once the lease expires.
public actor AnonymousAnswers {
    let store: any AnswerStore
    let threshold: Int
    let clock: @Sendable () -> Date
    /// This server's lease: held invitations name it, and it expires unless renewed.
    public nonisolated let lease: String
    private var leaseExpires: Date?
    private var held: [Int64: [HeldAnswer]] = [:]
    private let note: @Sendable (String) -> Void

    /// How long a lease runs unrenewed, and how much of it is left when it is renewed.
    public static let leaseLength: TimeInterval = 60
    static let renewWhenLeft: TimeInterval = 45

    public init(store: any AnswerStore, threshold: Int, clock: @escaping @Sendable () -> Date,
                note: @escaping @Sendable (String) -> Void = { _ in }) {
        self.store = store
        self.threshold = max(1, threshold)
        self.clock = clock
        self.note = note
        lease = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// Answers held now, over all rounds.
    public var heldCount: Int { held.values.reduce(0) { $0 + $1.count } }

    /// Each round's threshold: the larger of this server's and the one the round promised.
    private var thresholds: [Int64: Int] = [:]
    private func threshold(of round: Int64) -> Int { max(threshold, thresholds[round] ?? 0) }

    /// Holds an answer: marks its invitation held (nothing of the answer is written) and
    /// writes a batch of the round when enough are held.
    ///
    /// The actor awaits the store, so calls interleave: every change to what is held is
    /// made before or after an await, never across one, and a batch leaves `held` before
    /// it is written (and comes back if the write fails).
    public func hold(_ invitation: Invitation, answers: [String: AnswerValue], now: Date) async throws(PulseError) -> WebAnswerOutcome {
        let round = invitation.round.id
        let k = max(threshold, invitation.round.minGroupSize ?? 0)
        let expires = now.addingTimeInterval(Self.leaseLength)
        let renewing = leaseExpires != nil
        leaseExpires = expires
        let (outcome, alive) = try await store.holdAnonymousAnswer(invitation, lease: lease, expires: expires, promised: k,
                                                                   renewing: renewing, now: now)
        if !alive { dropAll() }
        guard case .stored = outcome else { return outcome }
        thresholds[round] = max(thresholds[round] ?? 0, k)
        let definition = invitation.definition
        held[round, default: []].removeAll { $0.invitationID == invitation.id }
        held[round, default: []].append(HeldAnswer(
            invitationID: invitation.id, roundID: round, keys: invitation.keys, answers: answers,
            morale: definition.morale(of: answers), enps: definition.enpsQuestion.flatMap { answers[$0.id]?.number }))
        if held[round]!.count >= 2 * threshold(of: round) {
            // Acknowledged already (the invitation is held); a failed batch stays held for the next try.
            try? await writeBatch(of: round, keeping: threshold(of: round))
        }
        return outcome
    }

    /// The lease was found gone (let go by another process after it expired): the holds
    /// were released and those reps may answer again, so what this server held is lost,
    /// as in a crash.
    private func dropAll() {
        let lost = heldCount
        held = [:]
        if lost > 0 {
            note("this server's lease had expired and \(lost) held anonymous \(lost == 1 ? "answer was" : "answers were") let go: "
                + "not written; those reps count as not having answered")
        }
    }

    /// Writes all but `keeping` of a round's held answers, chosen at random.
    private func writeBatch(of round: Int64, keeping: Int) async throws(PulseError) {
        let pool = (held[round] ?? []).shuffled()
        let batch = Array(pool.dropLast(keeping))
        guard batch.count >= threshold(of: round) else { return }
        held[round] = Array(pool.suffix(keeping))
        do {
            // None written: the lease was let go (the next renewal finds out and drops
            // everything), or too few of the batch are still held; they wait for more.
            if try await store.writeHeldBatch(batch, lease: lease, threshold: threshold(of: round)) == 0 {
                held[round, default: []] += batch
            }
        } catch {
            held[round, default: []] += batch
            throw error
        }
    }

    private func renewLeaseIfDue(_ now: Date) async throws(PulseError) {
        if let expires = leaseExpires, expires.timeIntervalSince(now) > Self.renewWhenLeft { return }
        let expires = now.addingTimeInterval(Self.leaseLength)
        let renewing = leaseExpires != nil
        leaseExpires = expires
        if try await !store.renewLease(lease, expires: expires, now: now, renewing: renewing) { dropAll() }
    }

    /// Renews the lease and writes what the rounds that ended hold. `serve` calls it every
    /// second; the closing commands wait for it.
    public func tick() async throws(PulseError) {
        let now = clock()
        if leaseExpires != nil || !held.isEmpty { try await renewLeaseIfDue(now) }
        guard !held.isEmpty else { return }
        for (round, state) in try await store.heldRoundStates(Array(held.keys), now: now) where state != .open {
            guard let pool = held.removeValue(forKey: round) else { continue }
            let k = threshold(of: round)
            if state == .gone { continue }
            do {
                if pool.count >= k {
                    _ = try await store.writeHeldBatch(pool, lease: lease, threshold: k)
                } else {
                    try await store.discardHeldAnswers(pool, roundID: round)
                    note("a round ended with \(pool.count) anonymous \(pool.count == 1 ? "answer" : "answers") held, fewer than "
                        + "min_group_size (\(k)): not kept, so that no one's answer can be singled out")
                }
            } catch {
                held[round, default: []] += pool
                throw error
            }
        }
    }

    /// What a stop did with the held answers.
    public struct StopSummary: Sendable, Equatable {
        public var written = 0
        /// Answers under the threshold in their round: not written, their reps not answered.
        public var released = 0
        public init(written: Int = 0, released: Int = 0) { self.written = written; self.released = released }
    }

    /// Writes every round's held answers where there are at least `threshold`, lets go
    /// of the others (their reps count as not having answered), and ends the lease.
    public func stop() async throws(PulseError) -> StopSummary {
        var summary = StopSummary()
        let all = held
        held = [:]
        for (round, pool) in all {
            if pool.count >= threshold(of: round) {
                _ = try await store.writeHeldBatch(pool, lease: lease, threshold: threshold(of: round))
                summary.written += pool.count
            } else {
                try await store.releaseHolds(pool.map(\.invitationID), lease: lease)
                summary.released += pool.count
            }
        }
        if leaseExpires != nil { try await store.endLease(lease) }
        leaseExpires = nil
        return summary
    }
}
