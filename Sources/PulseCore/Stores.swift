import Foundation

/// What the answer pages need from a store: look a link up, take an answer, hold
/// anonymous answers and write them in batches. Async, so that an engine never blocks
/// the caller's thread: the SQLite engine runs its calls on threads of its own, and a
/// network engine awaits its server.
///
/// The rules (when a round is open, what an anonymous answer may carry, batches of at
/// least the threshold) are the same for every engine; the storage contract tests
/// (`AnswerStoreContract`) hold each engine to them.
public protocol AnswerStore: Sendable {
    /// The invitation a personal token belongs to, or `nil` for an unknown token.
    func invitation(token: String) async throws(PulseError) -> Invitation?

    /// The invitation of a token and the answers given through it so far (never any for
    /// an anonymous survey), in one read.
    func invitationAndAnswers(token: String) async throws(PulseError) -> (invitation: Invitation, answers: [String: AnswerValue]?)?

    /// Stores (or replaces) an identified survey's answers, checking that the round is open.
    func submitAnswers(_ invitation: Invitation, answers: [String: AnswerValue], now: Date) async throws(PulseError) -> WebAnswerOutcome

    /// Marks an anonymous answer held by a lease (renewed until `expires`), checking that
    /// the round is open and the invitation neither answered nor held; raises the
    /// round's threshold to `promised`. `leaseAlive` is `false` when the caller's lease
    /// was found let go.
    func holdAnonymousAnswer(_ invitation: Invitation, lease: String, expires: Date, promised: Int, renewing: Bool,
                             now: Date) async throws(PulseError) -> (outcome: WebAnswerOutcome, leaseAlive: Bool)

    /// Writes held answers of one round as one shuffled batch with their answered flags,
    /// only those the lease still holds, and none under the threshold. Returns how many.
    func writeHeldBatch(_ batch: [HeldAnswer], lease: String, threshold: Int) async throws(PulseError) -> Int

    /// Held answers of a round that ended under the threshold: answered, not kept.
    func discardHeldAnswers(_ held: [HeldAnswer], roundID: Int64) async throws(PulseError)

    /// Lets go of holds without writing their answers: those reps count as not answered.
    func releaseHolds(_ invitationIDs: [Int64], lease: String) async throws(PulseError)

    /// Renews a lease; `false` when the caller held it and it was found let go.
    func renewLease(_ id: String, expires: Date, now: Date, renewing: Bool) async throws(PulseError) -> Bool

    /// Ends a lease, letting go of whatever it still holds.
    func endLease(_ id: String) async throws(PulseError)

    /// Whether each round is still open for the answers held for it.
    func heldRoundStates(_ roundIDs: [Int64], now: Date) async throws(PulseError) -> [Int64: HeldRoundState]

    /// Whether the store answers at all (for `/healthz`).
    func checkHealth() async throws(PulseError)
}

/// The roster: reps imported from a checked file, listed, found and (de)activated.
public protocol RosterStore: Sendable {
    /// Upserts the file's reps by email in one transaction (all or nothing): a column
    /// absent from the file leaves that field as it was; deactivated reps stay inactive.
    func importRoster(_ roster: RosterFile, now: Date) async throws(PulseError) -> RosterImportSummary

    /// The reps by team (no team first), then email.
    func reps(includeInactive: Bool, team: String?) async throws(PulseError) -> [Rep]

    /// A rep by email, in any case.
    func rep(email: String) async throws(PulseError) -> Rep?

    /// Deactivates (no more invitations; history stays) or activates a rep; `false` when
    /// it already was. An unknown email is a usage error.
    func setActive(email: String, active: Bool, now: Date) async throws(PulseError) -> Bool
}
